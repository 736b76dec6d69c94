"""Print a check's verdict: the text report the command line shows, and JSON."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from typing import Any

from derive import words
from derive.check.gradebook import Gradebook, Score, Submission
from derive.check.results import BatchResult, CheckResult, Reason
from derive.words import word_for

NOTATION = words.NOTATION  # explained once, at the end of a report that uses it


def format_check_text(result: CheckResult) -> str:
    """Return the report the command line prints for one answer.

    >>> from derive.check.grade import check
    >>> from derive.graph import load_network
    >>> print(format_check_text(check(load_network("simple"), "dL/dW4 = dL/dO2*dO2/dW4")))
    dL/dW4 (simple): matches, 1 path
    """
    what = f"d{result.of}/d{result.wrt} ({result.network})"
    paths = f", {result.path_count} path{'s' * (result.path_count != 1)}"
    if result.match:
        notes = "".join(f"\n  {n}" for n in result.notes)
        return f"{what}: matches{paths if result.mode == 'expansion' else ''}{notes}"
    lines = [f"{what}: does not match"]
    lines += [f"  - {r.message}" for r in result.reasons]
    lines += [f"  {n}" for n in result.notes]
    lhs = f"d{result.of}/d{result.wrt} = " if result.mode == "expansion" else ""
    lines.append(f"  expected: {lhs}{result.expected}")
    lines.append(f"  read as:  {lhs}{result.answer}")
    if result.mode != "concrete":
        lines.append(f"  {NOTATION}")
    return "\n".join(lines)


def check_to_json(result: CheckResult) -> dict[str, Any]:
    """Return one answer's verdict as a JSON-ready dict."""
    return {
        "network": result.network,
        "of": result.of,
        "wrt": result.wrt,
        "match": result.match,
        "verdict": "match" if result.match else "mismatch",
        "mode": result.mode,
        "reasons": [_reason_json(r) for r in result.reasons],
        "notes": list(result.notes),
        "expected": result.expected,
        "answer": result.answer,
        "text": result.text,
        "path_count": result.path_count,
    }


def _reason_json(reason: Reason) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": reason.kind, "message": reason.message}
    if reason.path is not None:
        out["path"] = list(reason.path)
    return out


def format_batch_text(batch: BatchResult) -> str:
    """Return the table (line, derivative, verdict, reason) and summary for a file."""
    rows = [("line", "derivative", "verdict", "reason")]
    rows += [
        (
            str(r.line),
            r.derivative or ("-" if r.verdict == "warning" else "?"),
            r.verdict.replace("_", " "),
            r.reason,
        )
        for r in batch.lines
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[3]]).rstrip()
        for row in rows
    ]
    lines.append(summary_line(batch.summary))
    return "\n".join(lines)


def summary_line(counts: dict[str, int]) -> str:
    """Return the last line of a file's report, e.g. ``1 answer: 1 matches, 0 do not match, ...``.

    >>> summary_line({"total": 2, "match": 1, "mismatch": 1, "unreadable": 0})
    '2 answers: 1 matches, 1 does not match, 0 unreadable'
    """
    n = counts["total"]
    parts = [
        f"{counts['match']} {word_for(counts['match'], 'matches', 'match')}",
        f"{counts['mismatch']} {word_for(counts['mismatch'], 'does', 'do')} not match",
        f"{counts['unreadable']} unreadable",
    ]
    if counts.get("no_answer"):
        parts.append(f"{counts['no_answer']} with no answer")
    text = f"{n} {word_for(n, 'answer', 'answers')}: " + ", ".join(parts)
    if counts.get("skipped"):
        k = counts["skipped"]
        text += f"; {k} {word_for(k, 'line', 'lines')} of prose mentioning a derivative not graded"
    if counts.get("warning"):
        k = counts["warning"]
        text += f"; {k} {word_for(k, 'warning', 'warnings')} about the file"
    return text


def batch_to_json(batch: BatchResult) -> dict[str, Any]:
    """Return a file's verdicts as a JSON-ready dict: per line, and a summary."""
    return {
        "network": batch.network,
        "file": batch.source,
        "match": batch.match,
        "summary": batch.summary,
        "results": [
            {
                "line": r.line,
                "text": r.text,
                "derivative": r.derivative,
                "verdict": r.verdict,
                "reason": r.reason,
                "check": check_to_json(r.result) if r.result else None,
            }
            for r in batch.lines
        ],
    }


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


# One printer per output format: a report is data, each format a function of it.
_ANSWER = {"text": lambda r: format_check_text(r), "json": lambda r: _json(check_to_json(r))}
_FILE = {"text": lambda b: format_batch_text(b), "json": lambda b: _json(batch_to_json(b))}


def format_report(result: CheckResult, fmt: str = "text") -> str:
    """Return what ``derive check`` prints for one answer: ``text`` or ``json``, newline-ended."""
    return _ANSWER.get(fmt, _ANSWER["text"])(result) + "\n"


def format_file_report(batch: BatchResult, fmt: str = "text") -> str:
    """Return what ``derive check --file`` prints: ``text`` or ``json``, newline-ended."""
    return _FILE.get(fmt, _FILE["text"])(batch) + "\n"


# -- a class's gradebook ----------------------------------------------------------------


def format_gradebook(book: Gradebook, fmt: str = "text") -> str:
    """Return what ``derive check --file`` prints for a class: text, json, csv or gradescope."""
    return _GRADEBOOK.get(fmt, _GRADEBOOK["text"])(book)


_GRADEBOOK = {
    "csv": lambda book: gradebook_csv(book),  # ends its own last row
    "gradescope": lambda book: _json(gradescope(book)) + "\n",
    "json": lambda book: _json(gradebook_json(book)) + "\n",
    "text": lambda book: gradebook_text(book) + "\n",
}


def gradebook_text(book: Gradebook) -> str:
    """Return one row per file and answer, each file's score, and a summary line."""
    rows = [("file", "line", "derivative", "verdict", "reason")]
    for sub in book.submissions:
        if sub.batch is None:
            rows.append((sub.file, "-", "-", "unreadable", sub.error))
        for line in sub.batch.lines if sub.batch else ():
            shown = line.derivative or ("-" if line.verdict == "warning" else "?")
            reason = (
                line.reason if book.scores_line(line) else f"not asked, not scored; {line.reason}"
            )
            rows.append((sub.file, str(line.line), shown, line.verdict.replace("_", " "),
                         reason.removesuffix("; ")))  # fmt: skip
        for score in sub.scores:
            # (a blank answer's own line says it already)
            if score.verdict == "missing" and sub.batch is not None and score.line is None:
                rows.append((sub.file, "-", score.question.name, "missing", score.feedback))
    out = _table(rows)
    out.append("")
    out += _table([("score", "file")] + [(_score(s.score, s.max_score), s.file)
                                          for s in book.submissions])  # fmt: skip
    out.append(gradebook_summary(book))
    return "\n".join(out)


def gradebook_summary(book: Gradebook) -> str:
    """Return the last line of a class's report: files, verdicts per question, the mean score.

    Without ``--expect`` it says that the questions are the ones the class answered.
    """
    counts = dict.fromkeys(("match", "mismatch", "unreadable", "missing"), 0)
    for sub in book.submissions:
        for score in sub.scores:
            counts[score.verdict] += 1
    n = len(book.submissions)
    bad = sum(sub.batch is None for sub in book.submissions)
    total = sum(counts.values())
    mean = sum((s.score for s in book.submissions), Fraction(0)) / n if n else Fraction(0)
    text = (
        f"{n} {word_for(n, 'file', 'files')} ({bad} not read); {total} "
        f"{word_for(total, 'question', 'questions')} scored: {counts['match']} "
        f"{word_for(counts['match'], 'matches', 'match')}, {counts['mismatch']} "
        f"{word_for(counts['mismatch'], 'does', 'do')} not match, {counts['unreadable']} "
        f"unreadable, {counts['missing']} missing; mean score "
        f"{_score(mean, book.assignment.max_score)}"
    )
    if book.from_answers:
        text += " (the questions are the derivatives answered; --expect fixes them)"
    return text


def gradebook_csv(book: Gradebook) -> str:
    """Return the gradebook as CSV: file, score, max, then each question's verdict."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["file", "score", "max", *(q.name for q in book.assignment.questions)])
    for sub in book.submissions:
        cells = [_cell(sub.file), _points(sub.score), _points(sub.max_score)]
        writer.writerow(cells + [s.verdict for s in sub.scores])
    return out.getvalue()


def gradescope(book: Gradebook) -> dict[str, Any]:
    """Return Gradescope's autograder ``results.json``: one file's, or ``submissions`` of several."""
    results = [_gradescope_one(sub) for sub in book.submissions]
    if len(results) == 1:
        return results[0]
    return {"submissions": [{"file": s.file, **r} for s, r in zip(book.submissions, results,
                                                                   strict=True)]}  # fmt: skip


def _gradescope_one(sub: Submission) -> dict[str, Any]:
    tests = [
        {
            "name": score.question.name,
            "score": float(score.points),
            "max_score": float(score.question.points),
            "status": "passed" if score.verdict == "match" else "failed",
            "output": _feedback(score),
        }
        for score in sub.scores
    ]  # fmt: skip
    output = f"{_score(sub.score, sub.max_score)} points"
    if sub.error:
        output += f"; the file was not graded: {sub.error}"
    return {"score": float(sub.score), "output": output, "tests": tests}


_VERDICT_WORDS = {"mismatch": "does not match", "unreadable": "unreadable", "missing": "missing"}


def _feedback(score: Score) -> str:
    """Return what a student reads for one question: ``line 3: does not match: ...``."""
    if score.verdict == "match":
        return score.feedback
    where = f"line {score.line}: " if score.line else ""
    if score.verdict == "missing":
        return score.feedback
    return f"{where}{_VERDICT_WORDS[score.verdict]}: {score.feedback}"


def gradebook_json(book: Gradebook) -> dict[str, Any]:
    """Return the gradebook as a JSON-ready dict: the questions, and every submission's scores."""
    return {
        "network": book.network,
        "questions": [
            {"name": q.name, "points": float(q.points)} for q in book.assignment.questions
        ],
        "submissions": [
            {
                "file": sub.file,
                "score": float(sub.score),
                "max_score": float(sub.max_score),
                "error": sub.error,
                "scores": [
                    {
                        "question": s.question.name,
                        "verdict": s.verdict,
                        "points": float(s.points),
                        "max_points": float(s.question.points),
                        "line": s.line,
                        "feedback": s.feedback,
                    }
                    for s in sub.scores
                ],
                "check": batch_to_json(sub.batch) if sub.batch else None,
            }
            for sub in book.submissions
        ],  # fmt: skip
        "summary": gradebook_summary(book),
    }


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in rows
    ]


def _points(value: Fraction) -> str:
    """Return points as ``3`` or ``2.5``."""
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"


def _score(got: Fraction, out_of: Fraction) -> str:
    return f"{_points(got)}/{_points(out_of)}"


def _cell(text: str) -> str:
    """Return a CSV cell a spreadsheet shows as text: a file named ``=cmd()`` is no formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
