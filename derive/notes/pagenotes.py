"""The notes' sections on the HTML page: the same wording (``notes.j2``) and content objects
(:class:`~derive.notes.content.Note`) as the Markdown and LaTeX notes, in HTML.

``notes_layout_html.j2`` lays the pieces out as HTML; the math, which the content holds as
LaTeX printed by derive's own printers, is read into MathML by
:func:`derive.printing.mathml.tex_mathml` (an allow-list reader: what it does not know stays
visible as escaped TeX); user text reaches the page through the HTML language object.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from markupsafe import Markup

from derive.notes.content import Note
from derive.printing.document import environment, render_template
from derive.printing.mathml import esc
from derive.printing.mathml_tex import tex_mathml

# The blocks a layout macro writes; any other block of text is a paragraph.
_BLOCK = re.compile(r"<(h[1-6]|table|ul|ol|pre|details|/details|blockquote|div|figure)\b")
# What the light markup (**bold**, *emphasis*, `code`) never reaches into.
_KEEP = re.compile(r"<math.*?</math>|<pre.*?</pre>|<code>.*?</code>|<[^>]+>", re.S)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _filters() -> dict:
    def block(tex: str) -> str:
        return f'<div class="wide">{tex_mathml(tex, display=True)}</div>'

    def lines(items: list[str], lhs: str) -> str:
        if len(items) == 1:
            return block(f"{lhs} = {items[0]}")
        return block(
            r"\begin{aligned} " + lhs + " &= " + r" \\ &\quad + ".join(items) + r" \end{aligned}"
        )

    def pieces(items: Iterable[tuple[str, str]]) -> str:
        out = {"math": tex_mathml, "code": lambda x: f"<code>{esc(x)}</code>"}
        return "".join(out.get(kind, esc)(piece) for kind, piece in items)

    return {
        "m": tex_mathml,
        "t": esc,
        "code": lambda x: f"<code>{esc(x)}</code>",
        "block": block,
        "lines": lines,
        "prose": pieces,
        "names": lambda items: _and([tex_mathml(x) for x in items]),
    }


@functools.lru_cache(maxsize=4)
def _environment(templates: str | None):
    env = environment(templates)
    env.filters.update(_filters())
    return env


def markup(text: str) -> str:
    """Return the rendered wording as HTML: paragraphs, and **bold**, *emphasis*, `code`.

    >>> markup("A *point*, `derive` and <math><mi>x</mi></math>.\\n\\n<h2>B</h2>")
    '<p>A <em>point</em>, <code>derive</code> and <math><mi>x</mi></math>.</p>\\n<h2>B</h2>'
    """

    def words(chunk: str) -> str:
        chunk = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", chunk, flags=re.S)
        chunk = re.sub(r"(?<![\w*])\*(\S(?:.*?\S)?)\*(?![\w*])", r"<em>\1</em>", chunk, flags=re.S)
        return re.sub(r"`([^`\n]+)`", r"<code>\1</code>", chunk)

    def inline(chunk: str) -> str:
        out, pos = [], 0
        for m in _KEEP.finditer(chunk):
            out += [words(chunk[pos : m.start()]), m.group(0)]
            pos = m.end()
        return "".join([*out, words(chunk[pos:])])

    # A listing keeps its blank lines and its stars: set aside before the text is cut up.
    listings: list[str] = []

    def aside(m: re.Match[str]) -> str:
        listings.append(m.group(0))
        return f"\n\n\x00{len(listings) - 1}\x00\n\n"

    text = re.sub(r"<pre.*?</pre>", aside, text, flags=re.S)
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    out = [inline(b) if _BLOCK.match(b) else f"<p>{inline(b)}</p>" for b in blocks]
    return _restore("\n".join(out), listings)


def _restore(html: str, listings: list[str]) -> str:
    return re.sub(r"(?:<p>)?\x00(\d+)\x00(?:</p>)?", lambda m: listings[int(m.group(1))], html)


def note_sections(
    note: Note, templates: str | None = None
) -> tuple[Markup, list[tuple[str, Markup]]]:
    """Return the note as HTML: what comes before its first section, and each section
    (its title as plain text, its HTML from its heading on)."""
    text = render_template(
        _environment(templates), "notes.j2", note=note, lang="html", flavor="github",
        layout="notes_layout_html.j2",
    )  # fmt: skip
    html = markup(text)
    parts = re.split(r"(?=<h2>)", html)
    head, sections = parts[0], []
    for part in parts[1:]:
        title = re.sub(r"<[^>]+>", "", part[4 : part.index("</h2>")])
        sections.append((title, Markup(part)))
    return Markup(head), sections
