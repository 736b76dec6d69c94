"""Print a check's verdict: the text report the command line shows, and JSON."""

from __future__ import annotations

import json
from typing import Any

from derive.check.results import BatchResult, CheckResult, Reason
from derive.printing import words

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
        (str(r.line), r.derivative or "?", r.verdict.replace("_", " "), r.reason)
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
        f"{counts['match']} {plural(counts['match'], 'matches', 'match')}",
        f"{counts['mismatch']} {plural(counts['mismatch'], 'does', 'do')} not match",
        f"{counts['unreadable']} unreadable",
    ]
    if counts.get("no_answer"):
        parts.append(f"{counts['no_answer']} with no answer")
    text = f"{n} {plural(n, 'answer', 'answers')}: " + ", ".join(parts)
    if counts.get("skipped"):
        k = counts["skipped"]
        text += f"; {k} {plural(k, 'line', 'lines')} of prose mentioning a derivative not graded"
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


def format_report(result: CheckResult, fmt: str = "text") -> str:
    """Return what ``derive check`` prints for one answer: ``text`` or ``json``, newline-ended."""
    if fmt == "json":
        return json.dumps(check_to_json(result), indent=2, ensure_ascii=False) + "\n"
    return format_check_text(result) + "\n"


def format_file_report(batch: BatchResult, fmt: str = "text") -> str:
    """Return what ``derive check --file`` prints: ``text`` or ``json``, newline-ended."""
    if fmt == "json":
        return json.dumps(batch_to_json(batch), indent=2, ensure_ascii=False) + "\n"
    return format_batch_text(batch) + "\n"


def plural(count: int, one: str, many: str) -> str:
    """Return ``one`` for a count of 1, else ``many``."""
    return one if count == 1 else many
