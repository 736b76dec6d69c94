r"""Term printers: one per output language, dispatching on the term's class.

The notation, in every human-facing output (the printers implement it; use them
instead of writing ``d`` or ``∂`` by hand):

- ``∂A/∂B`` is a **local partial** (a :class:`~derive.expand.Local`): A's own
  formula differentiated with respect to its argument B, every other argument
  held fixed. Every factor of an expansion is one.
- ``dA/dB`` is a **whole derivative** (a :class:`~derive.expand.Whole`, or the
  left side of any expansion): the sum over every path from B up to A.

So ``dL/dW1 = ∂L/∂O31 · ∂O31/∂O21 · ∂O21/∂O11 · ∂O11/∂W1 + ...``, and on a skip
network ``dN/dh = ∂N/∂h + ∂N/∂E · dE/dh`` never shows one symbol for two things.

=========  ======================  ==========================================
printer    local partial           whole derivative
=========  ======================  ==========================================
ASCII      ``dO11/dW1``            ``dL/dW1`` (the JSON's ``text``: ``d`` for both)
Unicode    ``∂O11/∂W1``            ``dL/dW1``
LaTeX      ``\frac{\partial O_{11}}{\partial W_{1}}``  ``\frac{\mathrm{d}L}{\mathrm{d}W_{1}}``
=========  ======================  ==========================================

LaTeX's whole derivative uses an upright ``\mathrm{d}`` (ISO 80000-2), so it can
never be read as a name ``d``; ``derive check`` reads all of these back.

A printer walks a term like SymPy's printers walk an expression: ``doprint``
calls ``_print_<Class>`` for :class:`~derive.expand.Local`, ``Whole``,
``Product`` and ``Sum``. A new output language is a new subclass.

>>> from derive.expand import Local, Product, Sum, Whole
>>> t = Product((Local("L", "O2"), Sum((Local("O2", "O1"), Whole("O2", "x")))))
>>> p = UnicodePrinter()
>>> p.doprint(t)
'∂L/∂O2 · (∂O2/∂O1 + dO2/dx)'
>>> AsciiPrinter().doprint(t)
'dL/dO2*(dO2/dO1 + dO2/dx)'
>>> LatexTermPrinter().doprint(Whole("L", "W1"))
'\\frac{\\mathrm{d}L}{\\mathrm{d}W1}'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from derive.expand import Local, Product, Sum, Whole


class TermPrinter:
    """Writes local partials, whole derivatives, products, sums and paths.

    Subclasses set the symbols (class attributes) and override ``_print_<Class>``
    or :meth:`fraction` where their language differs. ``net`` (optional) gives
    the names' typesetting; without it a name prints as it is.
    """

    local_mark = "d"  # local partials
    whole_mark = "d"  # whole derivatives
    times = "*"
    plus = " + "
    arrow = " <- "
    open, close = "(", ")"
    one = "1"

    def __init__(self, net: Any = None) -> None:
        self.net = net

    # -- dispatch --

    def doprint(self, term: Any) -> str:
        """Return a term (Local, Whole, Product, Sum) in this printer's language."""
        return self._print(term)

    def _print(self, term: Any, inside: bool = False) -> str:
        for cls in type(term).__mro__:
            method = getattr(self, f"_print_{cls.__name__}", None)
            if method is not None:
                return method(term, inside)
        raise TypeError(f"{type(self).__name__} cannot print a {type(term).__name__}")

    def _print_Local(self, term: Local, inside: bool = False) -> str:
        return self.local(term.top, term.bottom)

    def _print_Whole(self, term: Whole, inside: bool = False) -> str:
        return self.whole(term.top, term.bottom)

    def _print_Product(self, term: Product, inside: bool = False) -> str:
        if not term.factors:
            return self.one
        return self.times.join(self._print(f, inside=True) for f in term.factors)

    def _print_Sum(self, term: Sum, inside: bool = False) -> str:
        text = self.plus.join(self._print(t) for t in term.terms)
        return f"{self.open}{text}{self.close}" if inside and len(term.terms) > 1 else text

    # -- pieces --

    def name(self, name: str) -> str:
        """Return a network name as this language writes it."""
        return name

    def fraction(self, mark: str, top: str, bottom: str) -> str:
        return f"{mark}{self.name(top)}/{mark}{self.name(bottom)}"

    def local(self, top: str, bottom: str) -> str:
        """Return the local partial ∂top/∂bottom (one edge bottom -> top)."""
        return self.fraction(self.local_mark, top, bottom)

    def whole(self, top: str, bottom: str) -> str:
        """Return the whole derivative d top/d bottom (the sum over every path)."""
        return self.fraction(self.whole_mark, top, bottom)

    def term(self, term: Any, inside: bool = False) -> str:
        """Return a term; ``inside`` parenthesises a sum that is a factor."""
        return self._print(term, inside)

    def product(self, locals_: Iterable[Local]) -> str:
        """Return a path's product of local partials (``1`` when empty)."""
        return self.times.join(self.local(x.top, x.bottom) for x in locals_) or self.one

    def path(self, path: Iterable[str]) -> str:
        """Return a path, ``of`` first: ``L <- O31 <- O21``."""
        return self.arrow.join(self.name(n) for n in path)


class AsciiPrinter(TermPrinter):
    """``dL/dO31*dO31/dO21``: the JSON's ``text``, what ``derive check`` reads."""


class UnicodePrinter(TermPrinter):
    """``dL/dW1 = ∂L/∂O31 · ∂O31/∂O21``: for a terminal and plain text."""

    local_mark = "∂"
    times = " · "
    arrow = " ← "


class LatexTermPrinter(TermPrinter):
    r"""``\frac{\partial L}{\partial O_{31}} \cdot ...``: for LaTeX and Markdown math."""

    times = r" \cdot "
    arrow = r" \leftarrow "
    open, close = r"\left(", r"\right)"

    def name(self, name: str) -> str:
        return self.net.latex_names.get(name, name) if self.net is not None else name

    def local(self, top: str, bottom: str) -> str:
        return rf"\frac{{\partial {self.name(top)}}}{{\partial {self.name(bottom)}}}"

    def whole(self, top: str, bottom: str) -> str:
        return rf"\frac{{\mathrm{{d}}{self.name(top)}}}{{\mathrm{{d}}{self.name(bottom)}}}"


def sweep_line(p: TermPrinter, of: str, wrt: str, children: Iterable[str]) -> str:
    """Return the right side of the sweep's line for wrt: ``dL/dO11 · ∂O11/∂W1 + ...``.

    >>> sweep_line(UnicodePrinter(), "L", "W1", ["O11"])
    'dL/dO11 · ∂O11/∂W1'
    >>> sweep_line(UnicodePrinter(), "L", "O31", ["L"])
    '∂L/∂O31'
    """
    terms = [
        p.local(c, wrt) if c == of else f"{p.whole(of, c)}{p.times}{p.local(c, wrt)}"
        for c in children
    ]
    return p.plus.join(terms) or "0"
