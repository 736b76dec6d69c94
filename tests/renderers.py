"""Render what derive writes the way readers will see it: KaTeX and Mermaid for Markdown,
pdflatex for LaTeX.

The notes tests call these helpers; each one that needs an outside tool checks for it
with `need_tool`, which skips locally and fails in CI (CI=true), where `.ci/run` has
installed everything.
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
KATEX_SCRIPT = Path(__file__).resolve().parent / "katex_render.mjs"
MARKDOWN_SCRIPT = Path(__file__).resolve().parent / "markdown_render.mjs"
MERMAID_SCRIPT = Path(__file__).resolve().parent / "mermaid_render.mjs"
PUPPETEER_CONFIG = Path(__file__).resolve().parent / "puppeteer.json"

_INSTALL_HINTS = {
    "node": "install Node.js (node 20 or newer)",
    "katex": "run `PUPPETEER_SKIP_DOWNLOAD=1 npm ci` in the repository root (package.json pins"
    " katex)",
    "pdflatex": "apt-get install texlive-latex-base texlive-latex-recommended texlive-pictures",
    "pdftoppm": "apt-get install poppler-utils",
    "pdfinfo": "apt-get install poppler-utils",
    "marked": "run `PUPPETEER_SKIP_DOWNLOAD=1 npm ci` in the repository root (mermaid-cli brings"
    " marked)",
    "mermaid": "run `PUPPETEER_SKIP_DOWNLOAD=1 npm ci` in the repository root (package.json pins"
    " @mermaid-js/mermaid-cli and puppeteer)",
    "chromium": "apt-get install chromium (tests/puppeteer.json names /usr/bin/chromium)",
}


@cache
def _missing(name: str) -> str | None:
    """Why tool `name` cannot be used here, or None when it can."""
    if name == "katex":
        return _missing("node") or (
            None
            if (ROOT / "node_modules" / "katex" / "package.json").is_file()
            else f"katex is not installed in {ROOT / 'node_modules'}"
        )
    if name == "marked":  # a Markdown renderer; @mermaid-js/mermaid-cli brings it
        return _missing("node") or (
            None
            if (ROOT / "node_modules" / "marked" / "package.json").is_file()
            else f"marked is not installed in {ROOT / 'node_modules'}"
        )
    if name == "mermaid":
        modules = ROOT / "node_modules"
        return (
            _missing("node")
            or _missing("chromium")
            or next(
                (
                    f"{package} is not installed in {modules}"
                    for package in ("@mermaid-js/mermaid-cli", "puppeteer")
                    if not (modules / package / "package.json").is_file()
                ),
                None,
            )
        )
    if name == "chromium":
        browser = Path(json.loads(PUPPETEER_CONFIG.read_text())["executablePath"])
        return None if os.access(browser, os.X_OK) else f"{browser} is not there"
    if shutil.which(name) is None:
        return f"{name} is not on PATH"
    return None


def need_tool(name: str) -> None:
    """Return if tool `name` (node, katex, mermaid, pdflatex, pdftoppm) is usable; else skip,
    or fail in CI.

    A missing tool skips the test on a developer's machine, but CI has installed every
    tool (`.ci/run`), so there a missing one is a broken build, never a silent skip.
    """
    problem = _missing(name)
    if problem is None:
        return
    reason = f"{problem}: {_INSTALL_HINTS.get(name, 'install it')}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs {name}: {reason}", pytrace=False)
    pytest.skip(reason)


# --- KaTeX -------------------------------------------------------------------------------


def render_katex(formulas: list[tuple[str, bool]]) -> list[str | None]:
    """Render each (latex, display_mode) with KaTeX; one entry per formula: None or the error.

    KaTeX runs with `throwOnError: true, strict: "error"`, in one node process for the
    whole batch.
    """
    need_tool("katex")
    # A formula KaTeX rendered once renders again: each distinct one goes to node once per
    # worker (the notes repeat \frac{dL}{dW}-like formulas hundreds of times, and both
    # Markdown flavors share most of them).
    todo = list(dict.fromkeys((latex, bool(display)) for latex, display in formulas))
    todo = [f for f in todo if f not in _KATEX_OK]
    errors = dict(zip(todo, _run_katex(todo), strict=True))
    _KATEX_OK.update(f for f, error in errors.items() if error is None)
    return [errors.get((latex, bool(display))) for latex, display in formulas]


# The (latex, display) pairs KaTeX has rendered without an error in this process.
_KATEX_OK: set[tuple[str, bool]] = set()


def _run_katex(formulas: list[tuple[str, bool]]) -> list[str | None]:
    if not formulas:
        return []
    payload = [[latex, display] for latex, display in formulas]
    return _run_node(KATEX_SCRIPT, payload, len(formulas), timeout=120)


def _run_node(script: Path, payload: Any, count: int, timeout: int) -> list[str | None]:
    """Run one of the repository's node scripts on a JSON payload; return its `count` results."""
    proc = subprocess.run(
        ["node", str(script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{script.name} exited {proc.returncode}:\n{proc.stderr}")
    results = json.loads(proc.stdout)
    assert len(results) == count, f"{script.name} returned a wrong number of results"
    return results


# --- Markdown ------------------------------------------------------------------------------


def render_markdown(documents: list[str]) -> list[str]:
    """Return each Markdown document as the HTML marked makes of it (raw HTML passed through).

    One node process renders the whole batch.
    """
    need_tool("marked")
    if not documents:
        return []
    return _run_node(MARKDOWN_SCRIPT, documents, len(documents), timeout=120)


# --- Mermaid -------------------------------------------------------------------------------


def render_mermaid(
    diagrams: list[str], out: Path | None = None, fmt: str = "svg"
) -> list[str | None]:
    """Render each Mermaid diagram in headless Chromium; one entry per diagram: None or the error.

    One browser renders the whole batch (its start is most of the cost), with the Mermaid
    that the pinned @mermaid-js/mermaid-cli resolves. With `out`, diagram i is written to
    `out/<i>.<fmt>` (svg or png), to look at.
    """
    need_tool("mermaid")
    if not diagrams:
        return []
    payload = {"diagrams": diagrams, "out": str(out) if out else None, "format": fmt}
    return _run_node(MERMAID_SCRIPT, payload, len(diagrams), timeout=300)


_MERMAID_BLOCK = re.compile(r"^```mermaid\n(.*?)^```", re.S | re.M)


def mermaid_blocks(md: str) -> list[str]:
    """Every ```` ```mermaid ```` block of Markdown `md`, in order.

    >>> mermaid_blocks("a\\n```mermaid\\nflowchart LR\\n  a --> b\\n```\\nb\\n")
    ['flowchart LR\\n  a --> b\\n']
    """
    return _MERMAID_BLOCK.findall(md)


def mermaid_errors(documents: dict[str, str]) -> list[str]:
    """One readable line per Mermaid block that does not render, over named Markdown documents.

    Every block of every document goes to one browser.
    """
    blocks = [
        (name, i, block)
        for name, md in documents.items()
        for i, block in enumerate(mermaid_blocks(md), 1)
    ]
    results = render_mermaid([block for _, _, block in blocks])
    return [
        f"{name}: diagram {i}: {error}\n{block}"
        for (name, i, block), error in zip(blocks, results, strict=True)
        if error is not None
    ]


# --- Markdown math -----------------------------------------------------------------------

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^`\s]*)[^\n]*$")
# CommonMark lets a backslash escape any ASCII punctuation character; a Markdown pass that
# does not know about math (GitHub's, on `$...$` and `$$...$$`) turns `\\` into `\`,
# `\{` into `{` and `\,` into `,` before the math renderer sees the formula.
_MARKDOWN_ESCAPE = re.compile(r"\\[!-/:-@\[-`{-~]")


def extract_markdown_math(md: str, flavor: str) -> list[tuple[str, bool, int]]:
    """Every formula in Markdown `md` as (latex, display?, line), in document order.

    `line` is the 1-based line of the opening delimiter. Flavor "github": display math is
    a ```` ```math ```` fence, inline math is ``$`...`$``; stray ``$...$`` and ``$$...$$``
    are returned as well so that they get tested. Flavor "portable": ``$$...$$`` display,
    ``$...$`` inline. Other fenced blocks (```` ```mermaid ````, code) and code spans
    are skipped.

    >>> extract_markdown_math("A $`x^2`$ and\\n```math\\n\\\\frac{a}{b}\\n```\\n", "github")
    [('x^2', False, 1), ('\\\\frac{a}{b}', True, 2)]
    >>> extract_markdown_math("Pay `$5` for $$a$$ and $b$.", "portable")
    [('a', True, 1), ('b', False, 1)]
    """
    if flavor not in ("github", "portable"):
        raise ValueError(f"unknown Markdown flavor {flavor!r}: use 'github' or 'portable'")
    found: list[tuple[str, bool, int]] = []
    # Blank out fenced blocks (keeping newlines, so offsets still give line numbers),
    # taking ```math fences as display formulas on the way.
    lines = md.split("\n")
    prose: list[str] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            prose.append(lines[i])
            i += 1
            continue
        fence, info = opening.group(1), opening.group(2)
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = i + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        body = lines[i + 1 : end]
        if info == "math" and flavor == "github":
            found.append(("\n".join(body).strip("\n"), True, i + 1))
        prose.extend([""] * (min(end, len(lines) - 1) - i + 1))
        i = end + 1
    text = "\n".join(prose)
    found.extend(_scan_prose(text, flavor))
    found.sort(key=lambda item: item[2])
    return found


def _scan_prose(text: str, flavor: str) -> list[tuple[str, bool, int]]:
    """Inline and `$$` math in text that has no fenced blocks left."""
    found: list[tuple[str, bool, int]] = []

    def line_of(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2  # an escaped `$` or backtick is a literal character
            continue
        if c == "`" or (c == "$" and flavor == "github" and text.startswith("`", i + 1)):
            dollar = c == "$"
            start = i + 1 if dollar else i
            ticks = re.match(r"`+", text[start:]).end()
            close = _closing_backticks(text, start + ticks, ticks)
            if close is None:
                i = start + ticks
                continue
            content = text[start + ticks : close]
            after = close + ticks
            if dollar and text.startswith("$", after):
                found.append((content.strip(), False, line_of(i)))
                i = after + 1
            else:
                i = after  # a code span: not math
            continue
        if text.startswith("$$", i):
            close = _find_unescaped(text, "$$", i + 2)
            if close is None:
                i += 2
                continue
            found.append((text[i + 2 : close].strip(), True, line_of(i)))
            i = close + 2
            continue
        if c == "$":
            close = _closing_dollar(text, i)
            if close is None:
                i += 1
                continue
            found.append((text[i + 1 : close], False, line_of(i)))
            i = close + 1
            continue
        i += 1
    return found


def _closing_backticks(text: str, pos: int, ticks: int) -> int | None:
    """Start of the next run of exactly `ticks` backticks at or after `pos`."""
    for m in re.finditer(r"`+", text[pos:]):
        if m.end() - m.start() == ticks:
            return pos + m.start()
    return None


def _find_unescaped(text: str, needle: str, pos: int) -> int | None:
    while True:
        at = text.find(needle, pos)
        if at < 0:
            return None
        if not _escaped(text, at):
            return at
        pos = at + 1


def _escaped(text: str, pos: int) -> bool:
    backslashes = len(text[:pos]) - len(text[:pos].rstrip("\\"))
    return backslashes % 2 == 1


def _closing_dollar(text: str, start: int) -> int | None:
    """Closing `$` of inline math opened at `start`, by pandoc's rules, or None.

    The opener has a non-space character right after it, the closer a non-space
    character right before it and no digit right after it ("$5 and $10" is no math);
    inline math does not cross a blank line, and a `$` inside a code span closes nothing.
    """
    if start + 1 >= len(text) or text[start + 1].isspace():
        return None
    pos = start + 1
    while pos < len(text):
        c = text[pos]
        if c == "\\":
            pos += 2
        elif c == "`":
            ticks = re.match(r"`+", text[pos:]).end()
            close = _closing_backticks(text, pos + ticks, ticks)
            pos = pos + ticks if close is None else close + ticks
        elif text.startswith("\n\n", pos) or text.startswith("$$", pos):
            return None
        elif c == "$" and not text[pos - 1].isspace() and not text[pos + 1 : pos + 2].isdigit():
            return pos
        else:
            pos += 1
    return None


def markdown_escapes(latex: str) -> list[str]:
    """The backslash escapes in `latex` that a Markdown pass would eat (`\\\\`, `\\{`, `\\,`, ...).

    Portable-flavor formulas and any stray `$...$` must have none: a renderer that runs
    Markdown before math sees `{` for `\\{`.

    >>> markdown_escapes(r"\\{a\\}\\,b \\\\ \\frac{1}{2}")
    ['\\\\{', '\\\\}', '\\\\,', '\\\\\\\\']
    """
    return _MARKDOWN_ESCAPE.findall(latex)


def markdown_math_errors(md: str, flavor: str) -> list[str]:
    """One readable line per formula in `md` that KaTeX rejects; empty when all render."""
    formulas = extract_markdown_math(md, flavor)
    results = render_katex([(latex, display) for latex, display, _ in formulas])
    return [
        f"line {line}: {'display' if display else 'inline'} {latex!r}: {error}"
        for (latex, display, line), error in zip(formulas, results, strict=True)
        if error is not None
    ]


# --- LaTeX -------------------------------------------------------------------------------


def compile_latex(tex_path: Path, out_dir: Path | None = None) -> Path:
    """The PDF that one pdflatex run makes from `tex_path`.

    One run finds every error and fixes the page count (the notes have no table of
    contents); a second would only settle hyperref's outline, at the same cost again.

    pdflatex runs in the file's directory, so figures beside it are found, and writes into
    `out_dir` (by default a folder `pdflatex` beside the file, inside the test's own
    temporary folder: nothing is left in /tmp), so the source stays clean. A failed
    run raises AssertionError with the `!` error lines of the log and their context.
    """
    need_tool("pdflatex")
    tex_path = Path(tex_path).resolve()
    out = Path(out_dir) if out_dir is not None else tex_path.parent / "pdflatex"
    out.mkdir(parents=True, exist_ok=True)
    out = out.resolve()
    # Unwrapped log lines, so an error line is one line.
    env = {**os.environ, "max_print_line": "10000", "error_line": "254", "half_error_line": "238"}
    command = [
        "pdflatex",
        "-halt-on-error",
        "-interaction=nonstopmode",
        "-no-shell-escape",
        f"-output-directory={out}",
        tex_path.name,
    ]
    log = out / f"{tex_path.stem}.log"
    proc = subprocess.run(
        command,
        cwd=tex_path.parent,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        timeout=300,
    )
    if proc.returncode != 0:
        text = log.read_text("latin-1") if log.exists() else proc.stdout.decode("latin-1")
        raise AssertionError(
            f"pdflatex failed on {tex_path} (exit {proc.returncode}):\n{latex_errors(text)}"
        )
    pdf = out / f"{tex_path.stem}.pdf"
    assert pdf.is_file(), f"pdflatex made no PDF from {tex_path}; log: {log}"
    # A heading with math and no \texorpdfstring loses it from the PDF's bookmarks.
    dropped = re.findall(r"Token not allowed in a PDF string.*\n.*", log.read_text("latin-1"))
    assert not dropped, f"{tex_path.name}: a bookmark loses its math: {dropped[0]}"
    return pdf


def last_page(pdf: Path) -> tuple[int, float]:
    r"""The page count of `pdf` and how full its last page is (0 to 1, of the text body's
    height), as the notes' preamble (templates/notes_fit.tex.j2) records them in the .aux
    beside the PDF: where the text ends, on which page, and where the body lies.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     aux = Path(folder) / "n.aux"
    ...     _ = aux.write_text(r"\gdef \derive@last{30}\gdef \derive@lastpage{4}\gdef \derive@body{100,80}")
    ...     last_page(aux.with_suffix(".pdf"))
    (4, 0.875)
    """
    aux = pdf.with_suffix(".aux").read_text("latin-1")
    found = re.search(
        r"\\derive@last\{(\d+)\}\\gdef ?\\derive@lastpage\{(\d+)\}"
        r"\\gdef ?\\derive@body\{(\d+),(\d+)\}",
        aux,
    )
    assert found, f"{pdf.with_suffix('.aux')} records no last page (notes_fit.tex.j2)"
    end, page, top, height = map(int, found.groups())
    return page, (top - end) / height


def pdf_pages(pdf: Path) -> int:
    """How many pages `pdf` has, as poppler's pdfinfo reads it (pdflatex compresses its
    page objects into object streams, so counting /Type /Page in the bytes finds none)."""
    need_tool("pdfinfo")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    found = re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)
    assert found, f"pdfinfo read no page count from {pdf}:\n{info.stdout}"
    return int(found.group(1))


def latex_errors(log: str, limit: int = 12) -> str:
    """The lines of a pdflatex log that say what went wrong: each `!` line up to its `l.N`.

    >>> print(latex_errors("ok\\n! Undefined control sequence.\\nl.3 \\\\foo\\n   bar\\nmore"))
    ! Undefined control sequence.
    l.3 \\foo
       bar
    """
    lines = log.splitlines()
    picked: list[str] = []
    for i, line in enumerate(lines):
        if not line.startswith("!") or "==> Fatal error occurred" in line:
            continue
        block = [line]
        for follow in lines[i + 1 : i + limit]:
            if follow.startswith(("!", "Here is how much")):
                break
            block.append(follow)
            if len(block) > 2 and re.match(r"l\.\d+ ", block[-2]):
                break  # the error's line and the rest of it after the break
        picked.append("\n".join(block).rstrip())
    if not picked:  # no TeX error line (a crash, a missing format): show the end
        return "\n".join(lines[-20:])
    return "\n...\n".join(picked)


def pdf_to_png(pdf: Path, page: int = 1, dpi: int = 100) -> Path:
    """A PNG of one page of `pdf`, beside it, to look at (pdftoppm)."""
    need_tool("pdftoppm")
    pdf = Path(pdf)
    prefix = pdf.with_name(f"{pdf.stem}-page{page}")
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile"]
        + [str(pdf), str(prefix)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    png = prefix.with_suffix(".png")
    assert png.is_file(), f"pdftoppm made no {png}"
    return png


# --- repetition -----------------------------------------------------------------------


def text_lines(md: str) -> list[str]:
    """The Markdown's text lines: outside fenced blocks, not blank, not pure table rules."""
    out, fence = [], False
    for line in md.splitlines():
        s = line.strip()
        if s.startswith("```"):
            fence = not fence
            continue
        if fence or not s or re.fullmatch(r"[|:\- ]+", s) or s in ("</details>",):
            continue
        out.append(s)
    return out


def repeated_share(md: str) -> float:
    lines = text_lines(md)
    counts = collections.Counter(lines)
    return sum(n - 1 for n in counts.values()) / len(lines)


def tikz_bend(a, b, bend, steps=40):
    """Points of TikZ's ``(a) to[bend left=bend] (b)``, from its manual: a cubic curve that
    leaves a at ``bend`` degrees off the chord and enters b symmetrically, its control
    points 0.3915 of the chord from the ends (looseness 1)."""
    import math

    (ax, ay), (bx, by) = a, b
    k, phi, t = 0.3915 * math.dist(a, b), math.atan2(by - ay, bx - ax), math.radians(bend)
    c1 = (ax + k * math.cos(phi + t), ay + k * math.sin(phi + t))
    c2 = (bx - k * math.cos(phi - t), by - k * math.sin(phi - t))
    out = []
    for i in range(steps + 1):
        s = i / steps
        w = ((1 - s) ** 3, 3 * (1 - s) ** 2 * s, 3 * (1 - s) * s * s, s**3)
        out.append(
            tuple(sum(k * p[j] for k, p in zip(w, (a, c1, c2, b), strict=True)) for j in (0, 1))
        )
    return out
