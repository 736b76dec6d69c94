r"""The notes' math on the HTML page: their LaTeX, printed by derive's own LaTeX printers,
read into MathML.

An allow-list reader in the manner of :class:`~derive.printing.mathml.NameReader`:
fractions, sums, fences, scripts, ``aligned`` and ``pmatrix``, the symbols the printers
use. Every character reaches the page escaped; what it does not know stays visible as
its TeX in an ``mtext class="unread"``.
"""

from __future__ import annotations

import re

from derive.printing.mathml import NameReader, Unread, esc, math, one

RELATIONS = {
    "cdot": "⋅", "times": "×", "leftarrow": "←", "to": "→", "rightarrow": "→", "le": "≤",
    "leq": "≤", "ge": "≥", "geq": "≥", "approx": "≈", "in": "∈", "odot": "⊙", "pm": "±",
    "ne": "≠", "neq": "≠", "mid": "∣", "sum": "∑", "prod": "∏", "lbrace": "{", "rbrace": "}",
    "langle": "⟨", "rangle": "⟩", "vert": "|", "|": "‖", "hookrightarrow": "↪",
}  # fmt: skip
NAMED = ("log", "ln", "exp", "tanh", "sinh", "cosh", "sin", "cos", "max", "min", "arg")
SIZES = ("big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr")
_APPLY = "<mo>\u2061</mo>"


class _TexReader(NameReader):
    """A reader of the notes' display and inline math: fractions, sums, fences, matrices."""

    def row(self, stop: str = "") -> list[str]:
        items: list[str] = []
        while self.i < len(self.tex):
            if self.tex[self.i] == stop or self.tex[self.i] == "&" or self._at(r"\\"):
                break
            if self._at(r"\right") or self._at(r"\end"):
                break
            if self.tex[self.i].isspace():
                self.i += 1
                continue
            base = self.scripts(self.atom())
            if base in ("<mo>−</mo>", "<mo>+</mo>") and _operand_next(items):
                base = base.replace("<mo>", '<mo form="prefix">')  # a sign: -y, = -0.5
            items.append(base)
        if stop and self.i >= len(self.tex):
            raise Unread(self.tex)
        return items

    def _at(self, word: str) -> bool:
        if not self.tex.startswith(word, self.i):
            return False
        end = self.i + len(word)
        return not word[-1].isalpha() or end >= len(self.tex) or not self.tex[end].isalpha()

    def scripts(self, base: str) -> str:
        sub = sup = None
        while self.i < len(self.tex) and self.tex[self.i] in "_^'":
            c = self.tex[self.i]
            self.i += 1
            if c == "'":
                sup = (sup or "") + "<mo>′</mo>"
            elif c == "_":
                sub = self.argument()
            else:
                sup = self.argument()
        big = base.startswith("<mo largeop") or base.startswith("<munder")
        if sub and sup:
            tag = "munderover" if big else "msubsup"
            return f"<{tag}>{base}{sub}{one(sup)}</{tag}>"
        if sub:
            tag = "munder" if big else "msub"
            return f"<{tag}>{base}{sub}</{tag}>"
        if sup:
            return f"<msup>{base}{one(sup)}</msup>"
        return base

    def atom(self) -> str:
        if self.i >= len(self.tex):
            raise Unread(self.tex)
        c = self.tex[self.i]
        if c in "()[]|":  # at their own size: a stretchy fence is drawn loose around a letter
            self.i += 1
            return f'<mo stretchy="false">{esc(c)}</mo>'
        if c == "/":  # an ordinary symbol in TeX: no room around it
            self.i += 1
            return '<mo lspace="0" rspace="0">/</mo>'
        if c in "+-=<>,;:!*.":
            self.i += 1
            return f"<mo>{esc({'-': '−', '*': '∗'}.get(c, c))}</mo>"
        return super().atom()

    def group(self) -> str:
        self.i += 1  # the {
        items = self.row("}")
        if self.i >= len(self.tex) or self.tex[self.i] != "}":
            raise Unread(self.tex)
        self.i += 1
        return items[0] if len(items) == 1 else f"<mrow>{''.join(items)}</mrow>"

    def command(self) -> str:
        start = self.i
        j = self.i + 1
        while j < len(self.tex) and self.tex[j].isalpha():
            j += 1
        word = self.tex[self.i + 1 : j] or self.tex[self.i + 1 : self.i + 2]
        after = j if j > self.i + 1 else self.i + 2
        if word in ("frac", "tfrac", "dfrac"):
            self.i = after
            top = self.argument()
            return f"<mfrac>{top}{self.argument()}</mfrac>"
        if word == "sqrt":
            self.i = after
            return f"<msqrt>{self.argument()}</msqrt>"
        if word in ("sum", "prod"):
            self.i = after
            return f'<mo largeop="true">{RELATIONS[word]}</mo>'
        if word in RELATIONS:
            self.i = after
            return f"<mo>{esc(RELATIONS[word])}</mo>"
        if word in NAMED:  # with TeX's thin space before an operator name: y log(O)
            self.i = after
            return f'<mspace width="0.167em"/><mi>{word}</mi>{_APPLY}'
        if word == "operatorname":
            self.i = after
            return f"{self.font('normal')}{_APPLY}"
        if word in ("text", "textrm", "mbox"):
            self.i = after
            return self.text()
        if word == "left":
            return self.fenced(after)
        if word in SIZES:
            self.i = after
            return f'<mo stretchy="true">{self.fence()}</mo>'
        if word == "underbrace":
            self.i = after
            body = self.argument()
            return f'<munder><munder>{body}<mo stretchy="true">⏟</mo></munder>' + (
                f"{self._under()}</munder>"
            )
        if word == "begin":
            return self.environment(after)
        if word in ("{", "}", "_", "%", "#", "&"):
            self.i = after
            return f"<mo>{esc(word)}</mo>"
        self.i = start
        return super().command()

    def _under(self) -> str:
        if self.i < len(self.tex) and self.tex[self.i] == "_":
            self.i += 1
            return self.argument()
        return "<mrow></mrow>"

    def text(self) -> str:
        if self.i >= len(self.tex) or self.tex[self.i] != "{":
            raise Unread(self.tex)
        end = self.tex.index("}", self.i)
        words, self.i = self.tex[self.i + 1 : end], end + 1
        # A token's outer spaces are dropped by MathML: kept as no-break spaces, as TeX keeps them.
        words = words.replace("~", " ")
        inner = words.strip(" ")
        words = (
            "\u00a0" * (len(words) - len(words.lstrip(" ")))
            + inner
            + "\u00a0" * (len(words) - len(words.rstrip(" ")) if inner else 0)
        )
        return f"<mtext>{esc(words)}</mtext>"

    def fence(self) -> str:
        while self.i < len(self.tex) and self.tex[self.i] == " ":
            self.i += 1
        if self.tex.startswith("\\{", self.i) or self.tex.startswith("\\}", self.i):
            self.i += 2
            return self.tex[self.i - 1]
        if self.tex.startswith("\\|", self.i):
            self.i += 2
            return "‖"
        c = self.tex[self.i : self.i + 1]
        if c not in "()[]|.":
            raise Unread(self.tex)
        self.i += 1
        return "" if c == "." else esc(c)

    def fenced(self, after: int) -> str:
        self.i = after
        opener = self.fence()
        items = self.row()
        if not self._at(r"\right"):
            raise Unread(self.tex)
        self.i += len(r"\right")
        closer = self.fence()
        inner = "".join(items)
        tall = any(f"<{t}" in inner for t in ("mfrac", "munder", "mtable", "msqrt"))
        stretch = "" if tall else ' stretchy="false"'

        def mo(m: str) -> str:
            return f'<mo fence="true"{stretch}>{m}</mo>' if m else ""

        return f"<mrow>{mo(opener)}{inner}{mo(closer)}</mrow>"

    def environment(self, after: int) -> str:
        self.i = after
        end = self.tex.index("}", self.i)
        name, self.i = self.tex[self.i + 1 : end], end + 1
        if name not in ("aligned", "pmatrix", "matrix", "array", "cases"):
            raise Unread(self.tex)
        if name == "array":  # its column spec
            self.argument()
        rows, cells = [], []
        while True:
            cells.append("".join(self.row()))
            if self._at(r"\end"):
                break
            if self.tex[self.i] == "&":
                self.i += 1
            else:  # \\
                self.i += 2
                rows.append(cells)
                cells = []
        rows.append(cells)
        self.i = self.tex.index("}", self.i) + 1  # \end{name}
        align = ' columnalign="right left"' if name == "aligned" else ""
        spacing = ' columnspacing="0"' if name == "aligned" else ""
        body = "".join(
            "<mtr>" + "".join(f"<mtd>{c}</mtd>" for c in r) + "</mtr>" for r in rows if any(r)
        )
        table = f"<mtable{align}{spacing}>{body}</mtable>"
        if name == "pmatrix":
            return f'<mrow><mo fence="true">(</mo>{table}<mo fence="true">)</mo></mrow>'
        return table


def _operand_next(items: list[str]) -> bool:
    """Return whether a + or - here is a sign: at the start, or after an operator or relation."""
    if not items:
        return True
    last = items[-1]
    return last.startswith("<mo") and not re.search(r">[)\]|]</mo>$", last)


def tex_mathml(tex: str, display: bool = False) -> str:
    r"""Return the notes' LaTeX math as a ``<math>`` element; what it cannot read stays as its TeX.

    >>> tex_mathml(r"\frac{\partial L}{\partial O_{1}} \cdot x")
    '<math><mfrac><mrow><mi>∂</mi><mi>L</mi></mrow><mrow><mi>∂</mi><msub><mi>O</mi><mn>1</mn></msub></mrow></mfrac><mo>⋅</mo><mi>x</mi></math>'
    """
    reader = _TexReader(tex)
    try:
        items = reader.row()
        if reader.i < len(tex):
            raise Unread(tex)
        body = "".join(items)
    except (Unread, ValueError, IndexError):
        body = f'<mtext class="unread">{esc(tex)}</mtext>'
    return math(body, display)
