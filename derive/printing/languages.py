r"""One object per output language: how user text, math and code are written in it.

derive's escaping policy lives here and nowhere else. A string from a network file (a
title, a description, a file name, a label) is hostile until written by the ``escape``
of the language it goes into, which no command, markup, HTML or statement survives:

=============  =================================================================
``TEXT``       a terminal: line breaks and control characters shown as escapes
``MARKDOWN``   by flavor (``github``: math in $`...`$, ``portable``: $...$)
``LATEX``      a LaTeX document: every special character, Unicode LaTeX lacks
``MERMAID``    a label inside "...": Mermaid's own entity codes (``#quot;``)
``HTML``       HTML text and attribute values, and SVG (the same rules)
=============  =================================================================

Math is TeX that derive typeset from identifiers and from ``latex:`` overrides the file
reader checked (:func:`derive.texnames.latex_problem`); each language's ``inline`` and
``block`` still refuse what would end the math around it (a backtick in GitHub's
$`...`$) and spell what a Markdown pass would read as HTML (``<`` as ``\lt``).

>>> MARKDOWN["portable"].escape("<script>alert(1)</script>")
'\\<script\\>alert(1)\\</script\\>'
>>> MERMAID.escape('a");n0==>n5;n9("INJECTED')
'a#quot;);n0==#gt;n5;n9(#quot;INJECTED'
>>> HTML.escape('<img src=x onerror="alert(1)">')
'&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
"""

from __future__ import annotations

import html
import re

from derive.errors import DeriveError, one_line


class Language:
    """How one output language writes user text; see the module's table."""

    name = "text"

    def escape(self, text: str) -> str:
        """Return ``text`` written so that this language shows it as written."""
        raise NotImplementedError


class Text(Language):
    """A terminal: text as it is, but a line break or control character cannot hide in it."""

    name = "text"

    def escape(self, text: str) -> str:
        return one_line(text)


# ASCII punctuation a Markdown pass may read as markup (CommonMark lets any of it be
# backslash-escaped): emphasis, code, links, HTML, entities, headings, tables, math.
_MD_SPECIAL = set("\\`*_[]<>#$|~{}!&")


class Markdown(Language):
    """Markdown, by flavor: ``github`` (math in $`...`$ and ```math) or ``portable`` ($, $$)."""

    name = "markdown"

    def __init__(self, flavor: str = "github") -> None:
        self.flavor = flavor

    def escape(self, text: str) -> str:
        r"""Return user text that Markdown shows as written (no emphasis, links, HTML or math).

        A line break becomes a space: in a heading or a table cell it would end it, and
        a line of its own could start a heading, a list or a code block.

        >>> MARKDOWN["github"].escape("C_0 = (a - y)^2 <b> $5 &lt;")
        'C\\_0 = (a - y)^2 \\<b\\> \\$5 \\&lt;'
        """
        text = re.sub(r"\s*\n\s*", " ", text)
        return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)

    def math(self, tex: str) -> str:
        r"""Return TeX as this flavor's math holds it: a backtick refused, ``<`` spelled ``\lt``."""
        if self.flavor == "github":
            if "`" in tex:  # it would end $`...`$, and the rest would be Markdown, HTML included
                raise DeriveError(f"a formula holds a backtick, which Markdown math cannot: {tex}")
            return tex
        # Portable math is read by a Markdown pass first, which would take <tag> for HTML.
        return tex.replace("<", r"\lt ").replace(">", r"\gt ")

    def inline(self, tex: str) -> str:
        """Return inline math: $`...`$ (GitHub) or $...$ (portable)."""
        tex = self.math(tex)
        return f"$`{tex}`$" if self.flavor == "github" else f"${tex}$"

    def block(self, tex: str) -> str:
        """Return display math: a ```math fence (GitHub) or $$ (portable)."""
        tex = self.math(tex)
        return f"```math\n{tex}\n```" if self.flavor == "github" else f"$$\n{tex}\n$$"

    extension = "md"

    def prepared(self, tex: str) -> str:
        r"""Return the notes' TeX as this flavor can hold it: portable math cannot keep ``\\``
        (a Markdown pass eats it), so a matrix row ends in ``\cr`` and escapes are spelled out."""
        if self.flavor == "github":
            return tex
        return portable_math(tex.replace(r" \\ ", r" \cr "))

    def note_math(self, tex: str) -> str:
        """Return the notes' inline math."""
        return self.inline(self.prepared(tex))

    def display(self, tex: str) -> str:
        """Return the notes' display math."""
        return self.block(self.prepared(tex))

    def stack(self, lhs: str, lines: list[str]) -> str:
        r"""Return ``lhs = line1 + line2 ...`` as display math, one term a line where it can.

        GitHub's ``math`` fence keeps ``\\``, so the terms are stacked with ``aligned``;
        portable Markdown cannot have ``\\``, so they stay on one line.
        """
        if self.flavor == "github" and len(lines) > 1:
            body = r" \\ &\quad + ".join(lines)
            return self.block(f"\\begin{{aligned}} {lhs} &= {body} \\end{{aligned}}")
        text = f"{lhs} = " + " + ".join(lines)
        return self.block(text if self.flavor == "github" else portable_math(text))

    def finish(self, text: str) -> str:
        """Return a whole document: no more than one blank line in a row."""
        return re.sub(r"\n{3,}", "\n\n", text)

    def code(self, text: str) -> str:
        """Return text as inline code: fenced by more backticks than it holds, so none ends it.

        >>> MARKDOWN["github"].code("derive --net 'a`b.yaml'")
        "`` derive --net 'a`b.yaml' ``"
        """
        text = re.sub(r"\s*\n\s*", " ", text)
        longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
        fence = "`" * (longest + 1)
        pad = " " if longest else ""
        return f"{fence}{pad}{text}{pad}{fence}"


MARKDOWN = {"github": Markdown("github"), "portable": Markdown("portable")}


# Control symbols a Markdown pass would eat, and a spelling of each without the escape.
_PORTABLE = {
    ",": r"\thinspace ",
    ";": r"\thickspace ",
    ":": r"\medspace ",
    "!": r"\negthinspace ",
    "{": r"\lbrace ",
    "}": r"\rbrace ",
    "|": r"\Vert ",
    "_": r"\text{\textunderscore}",
}


def portable_math(tex: str) -> str:
    r"""Return ``tex`` without the backslash escapes a Markdown pass eats (for ``$``/``$$`` math).

    >>> portable_math(r"\sigma(z)\,(1 - \sigma(z)) \{a\}")
    '\\sigma(z)\\thinspace (1 - \\sigma(z)) \\lbrace a\\rbrace '
    """

    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "\\\\":
            raise ValueError("a line break (\\\\) cannot be written in portable Markdown math")
        return _PORTABLE.get(token[1], token)

    return re.sub(r"\\(?:[A-Za-z]+|.)", swap, tex)


# Unicode that LaTeX's default input encoding cannot typeset, spelled in LaTeX.
_TEX_UNICODE = {
    "←": r"$\leftarrow$",
    "→": r"$\rightarrow$",
    "∂": r"$\partial$",
    "η": r"$\eta$",
    "σ": r"$\sigma$",
    "·": r"$\cdot$",
    "−": "-",
    "–": "--",
    "—": "---",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "…": r"\dots{}",
    "×": r"$\times$",
    "Σ": r"$\Sigma$",
    "δ": r"$\delta$",
}


def latex_escape(text: str) -> str:
    r"""Return user text safe inside a LaTeX document (no command can run from it).

    >>> latex_escape(r"50% & #1 \input{x}")
    '50\\% \\& \\#1 \\textbackslash{}input\\{x\\}'
    """
    out = []
    for ch in text:
        if ch == "\\":
            out.append(r"\textbackslash{}")
        elif ch in "%&#_{}$":
            out.append("\\" + ch)
        elif ch == "^":  # also keeps TeX's ^^ notation out
            out.append(r"\textasciicircum{}")
        elif ch == "~":
            out.append(r"\textasciitilde{}")
        else:
            out.append(ch)
    return "".join(out)


_MATRIX = re.compile(r"\\begin\{pmatrix\}(.*?)\\end\{pmatrix\}", re.S)


def _split(tex: str) -> str:
    r"""Return display math broken before top-level ``=`` signs when it is long (for ``split``)."""
    parts = []
    depth, start = 0, 0
    for i, ch in enumerate(tex):
        if ch in "{(":
            depth += 1
        elif ch in "})":
            depth -= 1
        elif ch == "=" and depth == 0:
            parts.append(tex[start:i])
            start = i + 1
    parts.append(tex[start:])
    # A matrix is as wide as its widest row, not as long as its source.
    flat = _MATRIX.sub(lambda m: max(m.group(1).split(r"\\"), key=len), tex)
    visible = len(re.sub(r"\\[A-Za-z]+|[{}]", "", flat))
    if len(parts) < 3 or visible < 90:
        return tex if len(parts) < 2 else f"{parts[0]} &= " + "=".join(parts[1:])
    return f"{parts[0]} &= {parts[1]} \\\\\n  &= " + " \\\\\n  &= ".join(parts[2:])


_ENVS = re.compile(r"\\begin\{(verbatim|equation\*|align\*|tikzpicture)\}.*?\\end\{\1\}", re.S)
_SPANS = re.compile(r"\\\(.*?\\\)|\\texttt\{[^}]*\}", re.S)


def tex_markup(text: str) -> str:
    r"""Return LaTeX with the wording's light markup typeset: **bold**, *emphasis*, `code`, "quotes".

    Math, verbatim and pictures are left as they are.

    >>> tex_markup(r'a **b** *c* `d` "e" \(x*y\)')
    "a \\textbf{b} \\emph{c} \\texttt{d} ``e'' \\(x*y\\)"
    """

    def words(chunk: str) -> str:
        chunk = re.sub(r"\*\*(.+?)\*\*", r"\\textbf{\1}", chunk, flags=re.S)
        chunk = re.sub(r"(?<![\w*])\*(\S(?:.*?\S)?)\*(?![\w*])", r"\\emph{\1}", chunk, flags=re.S)
        chunk = re.sub(r"`([^`\n]+)`", r"\\texttt{\1}", chunk)
        return re.sub(r'"([^"\n]+)"', r"``\1''", chunk)

    def outside(chunk: str, pattern: re.Pattern, inner) -> str:
        out, pos = [], 0
        for m in pattern.finditer(chunk):
            out += [inner(chunk[pos : m.start()]), m.group(0)]
            pos = m.end()
        return "".join(out + [inner(chunk[pos:])])

    return outside(text, _ENVS, lambda c: outside(c, _SPANS, words))


class Latex(Language):
    """A LaTeX document (pdflatex, default input encoding)."""

    name = "latex"

    def escape(self, text: str) -> str:
        r"""Return user text safe in a LaTeX document: escaped, and Unicode LaTeX lacks replaced.

        A line break becomes a space, so text can never leave a ``%`` comment line.

        >>> LATEX.escape("50% of ∂L & more ☃")
        '50\\% of $\\partial$L \\& more ?'
        """
        out = []
        for ch in latex_escape(re.sub(r"\s*\n\s*", " ", text)):
            if ord(ch) < 128 or 0xC0 <= ord(ch) <= 0xFF:
                out.append(ch if ch.isprintable() else "?")
            else:
                out.append(_TEX_UNICODE.get(ch, "?"))
        return "".join(out)

    extension = "tex"

    def inline(self, tex: str) -> str:
        return rf"\({tex}\)"

    note_math = inline

    def display(self, tex: str) -> str:
        """Return the notes' display math: ``split`` breaks a long one before its ``=`` signs."""
        return f"\\begin{{equation*}}\n\\begin{{split}}\n{_split(tex)}\n\\end{{split}}\n\\end{{equation*}}"

    def stack(self, lhs: str, lines: list[str]) -> str:
        """Return ``lhs = line1 + line2 ...`` in ``align*``, one term a line."""
        body = " \\\\\n  &\\quad + ".join(lines)
        return f"\\begin{{align*}}\n  {lhs} &= {body}\n\\end{{align*}}"

    def finish(self, text: str) -> str:
        """Return a whole document with the wording's light markup typeset (:func:`tex_markup`)."""
        return tex_markup(text)

    def code(self, text: str) -> str:
        # In typewriter type "--" would print as one dash.
        return r"\texttt{" + self.escape(text).replace("-", "-{}") + "}"


class Mermaid(Language):
    """A Mermaid label inside ``"..."``: what could end it, or be read as HTML, as an entity.

    Mermaid reads ``#name;`` and ``#number;`` in a label as that character, so a quote
    is ``#quot;`` and can never end the label; a line break is ``<br/>``.
    """

    name = "mermaid"
    _CODES = {'"': "#quot;", "#": "#35;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;"}

    def escape(self, text: str) -> str:
        lines = text.split("\n")
        return "<br/>".join(
            "".join(self._CODES.get(ch, ch if ch.isprintable() else " ") for ch in line)
            for line in lines
        )


class Html(Language):
    """HTML text and attribute values, and SVG's: ``& < > " '`` as character references."""

    name = "html"

    def escape(self, text: str) -> str:
        return html.escape(text, quote=True)


TEXT = Text()
LATEX = Latex()
MERMAID = Mermaid()
HTML = Html()


def language(fmt: str, flavor: str = "github") -> Language:
    """Return the language object of an output format (``markdown`` with its flavor).

    >>> language("markdown", "portable").flavor, language("latex").name
    ('portable', 'latex')
    """
    if fmt == "markdown":
        return MARKDOWN[flavor]
    return {"latex": LATEX, "text": TEXT, "mermaid": MERMAID, "html": HTML}[fmt]
