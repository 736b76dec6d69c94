r"""MathML printers: the HTML page's math, from the same terms and formulas as LaTeX.

Three pieces, each the MathML sibling of a LaTeX one:

- :func:`name_mathml` reads a name's typesetting (its ``latex:`` override or the
  default ``O_{11}``, both limited to :data:`derive.texnames.SAFE_TEX_COMMANDS`) into
  MathML tokens. Every character reaches the page escaped: the reader builds
  elements, it never copies markup through.
- :class:`MathMLPrinter` prints :mod:`derive.expand`'s terms (local partials, whole
  derivatives, products, sums), dispatching like :class:`~derive.printing.terms.LatexTermPrinter`.
- :class:`FormulaMathML` is SymPy's ``MathMLPresentationPrinter`` with the network's names.

>>> name_mathml("O_{11}")
'<msub><mi>O</mi><mn>11</mn></msub>'
>>> name_mathml(r"\hat{y}")
'<mover accent="true"><mi>y</mi><mo>^</mo></mover>'
>>> from derive.expand import Local
>>> MathMLPrinter().doprint(Local("L", "x"))
'<mfrac><mrow><mi>∂</mi><mi>L</mi></mrow><mrow><mi>∂</mi><mi>x</mi></mrow></mfrac>'
"""

from __future__ import annotations

from typing import Any
from xml.dom import minidom

import sympy as sp
from sympy.printing.mathml import MathMLPresentationPrinter

from derive.printing.languages import HTML
from derive.printing.terms import TermPrinter

_GREEK = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho"
    " varsigma sigma tau upsilon phi chi psi omega"
).split()
SYMBOLS = {g: chr(0x3B1 + i) for i, g in enumerate(_GREEK)}
SYMBOLS.update({g.capitalize(): chr(0x391 + i) for i, g in enumerate(_GREEK) if g != "varsigma"})
SYMBOLS.update(
    {
        "varepsilon": "ε",
        "vartheta": "ϑ",
        "varpi": "ϖ",
        "varrho": "ϱ",
        "varphi": "φ",
        "phi": "ϕ",
        "ell": "ℓ",
        "partial": "∂",
        "nabla": "∇",
        "infty": "∞",
        "hbar": "ℏ",
        "imath": "ı",
        "jmath": "ȷ",
    }
)
OPERATORS = {
    "prime": "′",
    "star": "⋆",
    "ast": "∗",
    "circ": "∘",
    "bullet": "•",
    "cdot": "⋅",
    "dots": "…",
    "ldots": "…",
    "cdots": "⋯",
    "textunderscore": "_",
    "_": "_",
    "{": "{",
    "}": "}",
}
ACCENTS = {
    "hat": "^",
    "widehat": "^",
    "bar": "‾",
    "overline": "‾",
    "tilde": "~",
    "widetilde": "~",
    "vec": "→",
    "dot": "˙",
    "ddot": "¨",
    "check": "ˇ",
    "breve": "˘",
    "acute": "´",
    "grave": "`",
}
# Fonts: the text of their argument, drawn upright, bold, ... (MathML Core styles the
# letters through CSS, so the variants other than upright are classes of the page).
FONTS = {
    "mathrm": "normal",
    "text": "normal",
    "textrm": "normal",
    "operatorname": "normal",
    "mathit": "",
    "textit": "",
    "mathbf": "bold",
    "textbf": "bold",
    "boldsymbol": "bold",
    "mathsf": "sans",
    "mathtt": "mono",
    "mathcal": "script",
    "mathbb": "double",
    "mathfrak": "fraktur",
}
SPACES = {",": "0.167em", ";": "0.278em", "!": "0", " ": "0.25em", "quad": "1em", "qquad": "2em"}


# User text reaches HTML, SVG and MathML through the one HTML language object (quotes too).
esc = HTML.escape


class Unread(ValueError):
    """The name's TeX has something the reader does not know: print the plain name."""


class NameReader:
    """A recursive reader of the TeX a name may be typeset with, into MathML elements."""

    def __init__(self, tex: str) -> None:
        self.tex = tex
        self.i = 0

    def row(self, stop: str = "") -> list[str]:
        items: list[str] = []
        while self.i < len(self.tex) and self.tex[self.i] != stop:
            if self.tex[self.i] == " ":
                self.i += 1
                continue
            base = self.atom()
            sub = sup = None
            while self.i < len(self.tex) and self.tex[self.i] in "_^'":
                c = self.tex[self.i]
                self.i += 1
                if c == "'":
                    sup = (sup or "") + "<mo>′</mo>"
                elif c == "_":
                    sub = self.atom()
                else:
                    sup = self.atom()
            if sub and sup:
                base = f"<msubsup>{base}{sub}{one(sup)}</msubsup>"
            elif sub:
                base = f"<msub>{base}{sub}</msub>"
            elif sup:
                base = f"<msup>{base}{one(sup)}</msup>"
            items.append(base)
        if stop and self.i >= len(self.tex):
            raise Unread(self.tex)
        return items

    def group(self) -> str:
        self.i += 1  # the {
        items = self.row("}")
        self.i += 1
        return one("".join(items)) if len(items) == 1 else f"<mrow>{''.join(items)}</mrow>"

    def atom(self) -> str:
        if self.i >= len(self.tex):
            raise Unread(self.tex)
        c = self.tex[self.i]
        if c == "{":
            return self.group()
        if c == "\\":
            return self.command()
        if c.isdigit():
            j = self.i
            while j < len(self.tex) and (self.tex[j].isdigit() or self.tex[j] == "."):
                j += 1
            self.i, digits = j, self.tex[self.i : j]
            return f"<mn>{esc(digits)}</mn>"
        self.i += 1
        if c.isalpha():
            return f"<mi>{esc(c)}</mi>"
        if c in "}_^":
            raise Unread(self.tex)
        return f"<mo>{esc(c)}</mo>"

    def command(self) -> str:
        j = self.i + 1
        while j < len(self.tex) and self.tex[j].isalpha():
            j += 1
        word = self.tex[self.i + 1 : j] or self.tex[self.i + 1 : self.i + 2]
        self.i = j if j > self.i + 1 else self.i + 2
        if word in SYMBOLS:
            upright = ' mathvariant="normal"' if word[0].isupper() else ""
            return f"<mi{upright}>{SYMBOLS[word]}</mi>"
        if word in OPERATORS:
            return f"<mo>{esc(OPERATORS[word])}</mo>"
        if word in SPACES:
            return f'<mspace width="{SPACES[word]}"/>'
        if word in ACCENTS:
            arg = self.argument()
            mark = esc(ACCENTS[word])
            return f'<mover accent="true">{arg}<mo>{mark}</mo></mover>'
        if word == "underline":
            return f'<munder accentunder="true">{self.argument()}<mo>_</mo></munder>'
        if word in FONTS:
            return self.font(FONTS[word])
        raise Unread(self.tex)

    def argument(self) -> str:
        while self.i < len(self.tex) and self.tex[self.i] == " ":
            self.i += 1
        return self.atom()

    def font(self, style: str) -> str:
        """Return a font command's argument: its letters as one token, or styled pieces."""
        start = self.i
        arg = self.argument()
        plain = self.tex[start : self.i].strip("{} ")
        if plain.replace(" ", "").isalnum():
            variant = ' mathvariant="normal"' if style == "normal" else ""
            cls = f' class="{style}"' if style not in ("", "normal") else ""
            return f"<mi{variant}{cls}>{esc(plain)}</mi>"
        return f'<mrow class="{style}">{arg}</mrow>' if style else arg


def one(item: str) -> str:
    """Return one element: several are wrapped in an mrow (a script takes one child)."""
    return item if item.count("<m") == 1 or item.startswith("<mrow") else f"<mrow>{item}</mrow>"


def name_mathml(tex: str, plain: str = "") -> str:
    r"""Return a name's TeX (``a^{(1)}_{3}``, ``\hat{y}``) as MathML; ``plain`` if it cannot.

    >>> name_mathml("a^{(1)}_{3}")
    '<msubsup><mi>a</mi><mn>3</mn><mrow><mo>(</mo><mn>1</mn><mo>)</mo></mrow></msubsup>'
    >>> name_mathml(r"\frac{a}{b}", "n")
    '<mi>n</mi>'
    """
    try:
        items = NameReader(tex).row()
    except Unread:
        items = []
    if not items:
        return f"<mi>{esc(plain or tex)}</mi>"
    return items[0] if len(items) == 1 else f"<mrow>{''.join(items)}</mrow>"


def math(body: str, display: bool = False) -> str:
    """Return a ``<math>`` element around MathML content (``display`` for a block)."""
    mode = ' display="block"' if display else ""
    return f"<math{mode}>{body}</math>"


class MathMLPrinter(TermPrinter):
    """Terms as MathML: ∂ a local partial, an upright d a whole derivative, as LaTeX has them."""

    times = "<mo>⋅</mo>"
    plus = "<mo>+</mo>"
    arrow = "<mo>←</mo>"
    open, close = "<mo>(</mo>", "<mo>)</mo>"
    one = "<mn>1</mn>"

    def name(self, name: str) -> str:
        if self.net is None:
            return f"<mi>{esc(name)}</mi>"
        return name_mathml(self.net.latex_names.get(name, name), name)

    def fraction(self, mark: str, top: str, bottom: str) -> str:
        return f"<mfrac><mrow>{mark}{self.name(top)}</mrow><mrow>{mark}{self.name(bottom)}</mrow></mfrac>"

    def local(self, top: str, bottom: str) -> str:
        return self.fraction("<mi>∂</mi>", top, bottom)

    def whole(self, top: str, bottom: str) -> str:
        return self.fraction('<mi mathvariant="normal">d</mi>', top, bottom)


class FormulaMathML(MathMLPresentationPrinter):
    """SymPy's MathML printer with the network's own typesetting of every name."""

    def __init__(self, net: Any) -> None:
        super().__init__()
        self.net = net

    def _print_Symbol(self, sym: sp.Symbol, style: str = "plain") -> Any:
        name = sym.name
        if name.startswith("delta_"):
            inner = self._name(name[6:].rstrip("_"))
            markup = f"<msub><mi>δ</mi>{inner}</msub>"
        else:
            markup = self._name(name)
        return minidom.parseString(f"<mrow>{markup}</mrow>").documentElement

    def _name(self, name: str) -> str:
        tex = self.net.latex_names.get(name) if self.net is not None else None
        return name_mathml(tex or name, name)

    def doprint(self, expr: Any) -> str:
        """Return the formula's MathML: each minus sign the minus (U+2212), not a hyphen, and
        fences around nothing tall kept at their size (a stretchy one is drawn loose)."""
        element = self._print(expr)
        for mo in element.getElementsByTagName("mo"):
            text = mo.firstChild
            if text is not None and text.nodeValue == "-":
                text.nodeValue = "\u2212"
            elif text is not None and text.nodeValue in "()|" and not _tall(mo.parentNode):
                mo.setAttribute("stretchy", "false")
        if element.tagName == "mo" and element.firstChild.nodeValue == "-":
            element.firstChild.nodeValue = "\u2212"
        return element.toxml().encode("ascii", "xmlcharrefreplace").decode()

    def _apply(self, row: Any) -> Any:
        """Put the function application (U+2061) between a function's name and its argument."""
        mo = self.dom.createElement("mo")
        mo.appendChild(self.dom.createTextNode("\u2061"))
        row.insertBefore(mo, row.childNodes[1])
        return row

    def _print_Function(self, e: Any) -> Any:
        return self._apply(super()._print_Function(e))

    def _print_log(self, e: Any) -> Any:
        # A thin space before the name, as TeX sets an operator name after a factor: y log(O).
        row = self._apply(super()._print_Function(e))
        space = self.dom.createElement("mspace")
        space.setAttribute("width", "0.167em")
        row.insertBefore(space, row.firstChild)
        return row

    def _print_Exp1(self, e: Any) -> Any:
        mi = self.dom.createElement("mi")  # an upright e, as the LaTeX notes write it
        mi.setAttribute("mathvariant", "normal")
        mi.appendChild(self.dom.createTextNode("e"))
        return mi

    def _print_Heaviside(self, expr: sp.Heaviside) -> Any:
        row = self.dom.createElement("mrow")
        h = self.dom.createElement("mi")
        h.setAttribute("mathvariant", "normal")
        h.appendChild(self.dom.createTextNode("H"))
        row.appendChild(h)
        row.appendChild(self._print(sp.Tuple(expr.args[0])))  # H(z): the 0 is the value at 0
        return self._apply(row)

    def _print_Tuple(self, expr: sp.Tuple) -> Any:
        row = self.dom.createElement("mrow")
        for mark, items in (("(", None), (None, expr.args), (")", None)):
            if mark:
                mo = self.dom.createElement("mo")
                mo.appendChild(self.dom.createTextNode(mark))
                row.appendChild(mo)
            for i, item in enumerate(items or ()):
                if i:
                    comma = self.dom.createElement("mo")
                    comma.appendChild(self.dom.createTextNode(","))
                    row.appendChild(comma)
                row.appendChild(self._print(item))
        return row


def _tall(element: Any) -> bool:
    """Return whether an element holds a fraction, a big operator or a root (fences stretch)."""
    return any(element.getElementsByTagName(t) for t in ("mfrac", "munderover", "msqrt", "mroot"))


def formula_mathml(expr: sp.Expr, net: Any = None) -> str:
    """Return a SymPy formula as MathML content, in the network's names.

    >>> formula_mathml(sp.Symbol("x1") * sp.Symbol("W1"))
    '<mrow><mrow><msub><mi>W</mi><mn>1</mn></msub></mrow><mo>&InvisibleTimes;</mo><mrow><msub><mi>x</mi><mn>1</mn></msub></mrow></mrow>'
    """
    if net is None:
        from derive.graph import default_latex

        net = _Names(default_latex)
    return FormulaMathML(net).doprint(expr)


class _Names:
    """A stand-in for a network's ``latex_names`` when a formula is printed without one."""

    def __init__(self, typeset: Any) -> None:
        self.latex_names = self
        self.typeset = typeset

    def get(self, name: str, default: Any = None) -> str:
        return self.typeset(name)
