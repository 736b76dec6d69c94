"""Find the answers in a homework file (plain text or Markdown) and grade each one.

In a plain text file every line that is not blank or a ``#`` comment is an
answer. In Markdown an answer is math whose left side is a derivative, or a
line that starts with one; it may sit in a list item, a blockquote, bold, a
``$...$``/``$$...$$`` block (also one over several lines, and
``\\begin{aligned}`` rows), GitHub's ``$`...`$`` or a ```` ```math ```` fence.
Prose that mentions a derivative is listed as skipped, so nothing is left
out silently; a ``$$`` that never closes is reported and reading goes on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from derive.check.answer import parse_answer
from derive.check.grade import check
from derive.check.results import BatchResult, LineResult, NoLeftSide
from derive.check.views import Shared
from derive.errors import DeriveError
from derive.graph import DERIVATIVE, Network
from derive.yamlread import MAX_TEXT_BYTES, read_text

_GITHUB_MATH = re.compile(r"\$`(.+?)`\$")
_DISPLAY = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]")
_CODE = re.compile(r"`([^`]+)`")
_LIST_MARKER = re.compile(r"(?:[-*+]|\d{1,3}[.)])\s+")  # matched at the start of a line only
_QUOTE = re.compile(r"(?:>\s?)+")
_BOLD = re.compile(r"(\*\*|__)(.+)\1([.,;:]?)")  # a whole line in bold
_BOLD_LABEL = re.compile(r"(\*\*|__)([^=]*?)\1\s*")  # **Q1.** before an answer
_D = r"(?:d|∂|\\partial|\\mathrm\{d\})"
# A derivative as written: dL/dW1, ∂L/∂W1, \partial L / \partial W_1, \frac{\partial L}{...}.
_DERIVATIVE = re.compile(
    rf"(?<![A-Za-z0-9]){_D}\s*[A-Za-z][A-Za-z0-9_{{}}]*\s*/\s*{_D}\s*[A-Za-z]"
    rf"|\\[dt]?frac\s*\{{\s*{_D}\s*[A-Za-z\\]"
)
_FENCE = re.compile(r"(`{3,}|~{3,})\s*(\w*)")
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\{(?:aligned|align\*?|split|gathered|gather\*?)\}")
_ROW_CONTINUES = re.compile(r"\s*(?:\\q?quad\s*|\\[,;:! ]\s*)*(?:=|\+|-|−|\\cdot|\\times|·)")

Entry = tuple[int, str, str]  # line number, text, kind: answer, skipped or unclosed
Piece = tuple[int, str]  # a line of a math block: its number and its text


def answers_in(text: str, markdown: bool = False) -> list[tuple[int, str]]:
    """Return (line number, answer) for each answer in a file's text.

    >>> answers_in("# two\\n\\ndL/dW4 = dL/dO2*dO2/dW4\\nSee $dL/dW1 = 0$.")
    [(3, 'dL/dW4 = dL/dO2*dO2/dW4'), (4, 'dL/dW1 = 0')]
    """
    return [(n, t) for n, t, kind in entries(text, markdown) if kind == "answer"]


def entries(text: str, markdown: bool) -> Iterator[Entry]:
    """Yield (line number, text, kind) for every line that is not left out."""
    lines = [line.strip() for line in text.removeprefix("\ufeff").splitlines()]
    i = 0
    while i < len(lines):
        number, line = i + 1, lines[i]
        i += 1
        if markdown:
            line = _QUOTE.sub("", line, count=1) if line.startswith(">") else line
        if not line or (line.startswith("#") and not markdown):
            continue
        if markdown and line.startswith("#") and not _DERIVATIVE.search(line):
            continue  # a heading
        fence = _FENCE.fullmatch(line) if markdown else None
        if fence:
            pieces, i = _fenced(fence.group(1), lines, i)
            if fence.group(2) == "math":
                yield from _from_math(pieces, markdown)
            elif any(_DERIVATIVE.search(text) for _, text in pieces):
                yield number, line, "skipped"  # code, not an answer
            continue
        start = _unmarked(line) if markdown else line
        opener = _block_opener(start)
        if opener:
            body, end = _math_block(start, opener, lines, i, markdown)
            if end is None:
                yield number, f"{opener} opened on line {number} is never closed", "unclosed"
                rest = start[len(opener) :].strip()
                if rest:
                    yield from _from_line(number, rest, markdown)
                continue  # and the lines after it are read as they are
            i = end
            yield from _from_math(body, markdown)
            continue
        while i < len(lines) and _wraps(line, _quoted(lines[i], markdown), markdown):
            line = f"{line} {_quoted(lines[i], markdown)}"  # one answer over several lines
            i += 1
        yield from _from_line(number, line, markdown)


_OPERATOR_END = re.compile(r"(?:[-+*/=(·×−]|\\cdot|\\times)\Z")
_OPERATOR_START = re.compile(r"(?:[-+*/=·×&)−]|\\cdot|\\times)")
_BULLET = re.compile(r"[-*+]\s")  # a Markdown list item, not a wrapped "- dL/dO22*..."


def _quoted(line: str, markdown: bool) -> str:
    return _QUOTE.sub("", line, count=1) if markdown and line.startswith(">") else line


def _wraps(line: str, after: str, markdown: bool) -> bool:
    """Return whether ``after`` goes on an answer ``line`` that was wrapped before its end.

    It does when the line ends with an operator, or the next one starts with
    one (``+ dL/dO31*...``). In Markdown ``- `` and ``* `` start a list item
    instead, and so does ``+ `` in a list of ``+`` items.
    """
    if not after or after.startswith(("#", "$", "`", "~")) or _answer_like(_unmarked(after)):
        return False
    bare = _unwrapped(_unmarked(line)) if markdown else line
    if not _answer_like(bare) or "$" in bare or "`" in bare:
        return False
    if _OPERATOR_END.search(bare):
        return True
    if markdown and _BULLET.match(after):
        return after[0] == "+" and not line.startswith("+ ")
    return bool(_OPERATOR_START.match(after))


def _unmarked(line: str) -> str:
    """Return a line without a list marker, bold or a bold label in front of it."""
    marker = _LIST_MARKER.match(line)
    if marker:
        line = line[marker.end() :]
    bold = _BOLD.fullmatch(line)
    if bold:
        return bold.group(2).strip() + bold.group(3)
    label = _BOLD_LABEL.match(line)
    if label and label.end() < len(line):
        rest = line[label.end() :]
        inner = _unwrapped(label.group(2).strip())
        if rest.startswith("=") and _DERIVATIVE.match(inner):
            return f"{inner} {rest}"  # **dL/dc2** = ...: a bold left side, not a label
        return rest
    return line


def _from_line(number: int, line: str, markdown: bool) -> Iterator[Entry]:
    bare = _unwrapped(_unmarked(line))
    if _DERIVATIVE.match(bare) or (not markdown and "$" not in bare and "`" not in bare):
        yield number, bare, "answer"  # an answer line, with or without math around it
        return
    maths = _math_in(line)
    found = [m for m in maths if "=" in m and (not markdown or _answer_like(m))]
    if found:
        for m in found:
            yield from _from_math([(number, m)], markdown)
    elif not markdown:
        yield number, bare, "answer"  # in a plain text file every line is an answer
    elif _DERIVATIVE.search(_CODE.sub("", _GITHUB_MATH.sub(r"$\1$", line))):
        yield number, line, "skipped"  # (a derivative only in `code` is an example of notation)


def _from_math(pieces: list[Piece], markdown: bool) -> Iterator[Entry]:
    """Yield the answers of a piece of math: one, or one per row of an aligned block."""
    for number, row in _rows(pieces):
        if not markdown or _answer_like(row) or _DERIVATIVE.match(row):
            yield number, row, "answer"
        elif _DERIVATIVE.search(row):
            yield number, row, "skipped"


def _rows(pieces: list[Piece]) -> list[Piece]:
    """Return the equations of a math block, each at the line it starts on.

    ``\\begin{aligned}`` rows that start anew split it; a row that starts with
    ``=`` or an operator (``&= ...``, ``&+ ...``) goes on the one before.
    """
    if not any(_ENVIRONMENT.search(text) for _, text in pieces):
        return [(pieces[0][0], " ".join(text for _, text in pieces).strip())]
    rows: list[Piece] = []
    row: list[str] = []
    start: int | None = None  # the line where the row's first math is

    def end_row() -> None:
        text = _ENVIRONMENT.sub(" ", " ".join(row)).replace("&", " ").strip()
        if text and rows and _ROW_CONTINUES.match(text):
            rows[-1] = (rows[-1][0], f"{rows[-1][1]} {text}")
        elif text:
            rows.append((start or pieces[0][0], text))

    for number, line in pieces:
        for k, part in enumerate(line.split("\\\\")):
            if k:  # a \\ ends the row before it
                end_row()
                row, start = [], None
            if start is None and _ENVIRONMENT.sub(" ", part).replace("&", " ").strip():
                start = number
            row.append(part)
    end_row()
    return rows


def _unwrapped(text: str) -> str:
    """Return a line without the math or code markers around all of it (``$dL/dW7$``)."""
    for left, right in (("$`", "`$"), ("$$", "$$"), ("$", "$"), ("`", "`"), *_CLOSERS.items()):
        inner = text[len(left) : -len(right)]
        if text.startswith(left) and text.endswith(right) and len(text) > 2 * len(left):
            if left not in inner and right not in inner:
                return inner.strip()
    return text


def _fenced(marker: str, lines: list[str], i: int) -> tuple[list[Piece], int]:
    parts = []
    while i < len(lines):
        line = lines[i]
        i += 1
        if line.startswith(marker):
            break
        parts.append((i, line))
    return parts or [(i, "")], i


_CLOSERS = {"\\[": "\\]", "\\(": "\\)"}  # LaTeX's display and inline math


def _block_opener(line: str) -> str:
    """Return the delimiter ($, $$, \\[ or \\() a line opens a math block with, or ''."""
    for delimiter in ("$$", "$", *_CLOSERS):
        closer = _CLOSERS.get(delimiter, delimiter)
        if line.startswith(delimiter) and line.count(closer) == (delimiter == closer):
            return delimiter
    return ""


def _math_block(
    first: str, delimiter: str, lines: list[str], i: int, markdown: bool
) -> tuple[list[Piece], int | None]:
    """Return a block's lines and the index after it, or None for the index when it never closes."""
    parts = [(i, first[len(delimiter) :])]
    closer = _CLOSERS.get(delimiter, delimiter)
    while i < len(lines):
        line = lines[i]
        if markdown and line.startswith(">"):
            line = _QUOTE.sub("", line, count=1)
        i += 1
        if line.endswith(closer):
            parts.append((i, line[: -len(closer)]))
            return parts, i
        if line.startswith(closer):
            # "$$ and more": the block closes here too, so the lines after it are still read.
            parts.append((i, line[len(closer) :]))
            return parts, i
        parts.append((i, line))
    return [], None


def _math_in(line: str) -> list[str]:
    maths = _GITHUB_MATH.findall(line)
    line = _GITHUB_MATH.sub(" ", line)
    maths += [next(filter(None, found), "") for found in _DISPLAY.findall(line)]
    maths += _CODE.findall(_DISPLAY.sub(" ", line))
    return [m.strip() for m in maths]


def _answer_like(math: str) -> bool:
    return "=" in math and bool(_DERIVATIVE.match(math.partition("=")[0].strip()))


# -- grading them -----------------------------------------------------------------------


MAX_ANSWERS = 500  # answers graded in one file; the rest are listed as one warning


def check_text(
    net: Network,
    text: str,
    *,
    markdown: bool = False,
    source: str = "",
    shared: Shared | None = None,
    at: Mapping[str, float] | None = None,
) -> BatchResult:
    """Return the verdict on every answer in a text, one per line (see :func:`answers_in`).

    Markdown prose that mentions a derivative is listed as ``skipped``; an
    unclosed ``$$`` as a ``warning`` (not an answer). ``shared`` and ``at``
    are :func:`derive.check.grade.check`'s.
    """
    shared = shared or Shared(net)
    lines: list[LineResult] = []
    graded = 0
    for number, answer, kind in entries(text, markdown):
        if kind == "answer" and graded == MAX_ANSWERS:
            why = f"more than {MAX_ANSWERS} answers in one file: the rest are not graded"
            lines.append(LineResult(number, "", "warning", why))
            break
        if kind == "answer":
            graded += 1
            lines.append(_check_line(net, number, answer, shared, at))
        elif kind == "unclosed":
            hint = "close it with $$, or the answers after it are read as prose"
            lines.append(LineResult(number, answer, "warning", f"{answer}: {hint}"))
        else:
            lines.append(LineResult(number, answer, "skipped", _SKIPPED, _mentioned(answer)))
    return BatchResult(net.name, tuple(lines), source)


def check_file(
    net: Network,
    path: str | Path,
    *,
    shared: Shared | None = None,
    at: Mapping[str, float] | None = None,
) -> BatchResult:
    """Return the verdict on every answer in a file; ``.md`` files are read as Markdown.

    Raises
    ------
    DeriveError
        When the file cannot be read or holds no answers.
    """
    path = Path(path)
    text = read_text(path, "the file of answers", MAX_TEXT_BYTES, bom=True, hint="split it")
    markdown = path.suffix.lower() in (".md", ".markdown")
    batch = check_text(net, text, markdown=markdown, source=str(path), shared=shared, at=at)
    if not batch.graded:
        raise DeriveError(
            f"no answers found in {path}", file=str(path),
            hint="write one dA/dB = ... per line (in Markdown, at the start of a line or in $...$)",
        )  # fmt: skip
    return batch


def _check_line(
    net: Network, number: int, text: str, shared: Shared, at: Mapping[str, float] | None
) -> LineResult:
    lhs, eq, rhs = text.partition("=")
    if eq and not rhs.strip() and _DERIVATIVE.match(lhs.strip()):
        return LineResult(
            number, text, "no_answer", f"no answer yet: write it after {text.strip()}", lhs.strip()
        )
    try:
        result = check(net, text, shared=shared, at=at)
    except NoLeftSide as err:
        return LineResult(number, text, "no_answer", f"write {err.suggestion}", err.derivative)
    except DeriveError as err:
        return LineResult(
            number, text, "unreadable", f"unreadable: {err}", _left(net, text, shared)
        )
    except (ArithmeticError, ValueError, TypeError, RecursionError) as err:
        reason = f"unreadable: cannot grade this answer ({type(err).__name__})"
        return LineResult(number, text, "unreadable", reason, _left(net, text, shared))
    verdict = "match" if result.match else "mismatch"
    reason = "; ".join(r.message for r in result.reasons)
    return LineResult(number, text, verdict, reason, f"d{result.of}/d{result.wrt}", result)


_SKIPPED = "not graded: prose; an answer starts its line (or its $...$) with dA/dB = ..."


def _mentioned(line: str) -> str:
    """Return the first derivative a line mentions (``dL/dW1``), by graph's one recogniser."""
    for found in DERIVATIVE.finditer(line):
        if not found.start() or not line[found.start() - 1].isalnum():
            return f"d{found.group(1)}/d{found.group(2)}"
    return ""


def _left(net: Network, text: str, shared: Shared) -> str:
    """Return the derivative an unreadable answer's left side names, as dL/dO11 (a LaTeX one,
    \\frac{\\partial L}{\\partial O_{11}}, read with the network's names), so that a gradebook
    scores it against its question; else the best guess from the text."""
    lhs = text.partition("=")[0]
    try:
        found = parse_answer(lhs + " = 0", net.names, table=shared.table).lhs
    except DeriveError:
        found = None
    return f"d{found.of}/d{found.wrt}" if found else _lhs_guess(text)


def _lhs_guess(text: str) -> str:
    lhs = text.partition("=")[0].strip()
    return lhs if _DERIVATIVE.match(lhs) and len(lhs) <= 40 else _mentioned(lhs)
