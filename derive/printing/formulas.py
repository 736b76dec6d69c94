"""Formula printers: SymPy's own printers, with the network's typesetting of names.

``formula_text`` is the JSON's ``concrete.text`` (parseable by
``sympy.sympify`` with every network name passed as a Symbol); ``formula_latex``
typesets each name as the network says (``O_{11}``, ``a^{(L)}``), never as a
SymPy constant (``E``, ``I``, ``pi`` stay plain names).
"""

from __future__ import annotations

import re
from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter


class FormulaLatex(LatexPrinter):
    """SymPy's LaTeX printer with the network's own typesetting of every name."""

    def __init__(self, names: dict[str, str]) -> None:
        super().__init__({"mul_symbol": None})
        self.names = names

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        name = expr.name
        if name in self.names:
            return self.names[name]
        if name.startswith("delta_"):
            return rf"\delta_{{{self.names.get(name[6:].rstrip('_'), name[6:])}}}"
        return rf"\mathit{{{name}}}"

    def _as_ordered_terms(self, expr: Any, order: Any = None) -> list:
        """Return a sum's terms in SymPy's order, names counted (y2 before y10)."""
        return counted_terms(expr, lambda e: super(FormulaLatex, self)._as_ordered_terms(e, order))

    def _print_Heaviside(self, expr: sp.Heaviside, exp: Any = None) -> str:
        tex = rf"\operatorname{{H}}\left({self._print(expr.args[0])}\right)"
        return f"{tex}^{{{exp}}}" if exp else tex


class FormulaText(StrPrinter):
    """SymPy's text printer with a sum's terms in counting order (y2 before y10)."""

    def _as_ordered_terms(self, expr: Any, order: Any = None) -> list:
        return counted_terms(expr, lambda e: super(FormulaText, self)._as_ordered_terms(e, order))


def counted_terms(expr: sp.Expr, ordered: Any) -> list:
    """Return ``ordered(expr)``, a printer's terms of a sum, as if each name's digits were counted.

    SymPy orders names as strings, so ``a2*y10`` comes before ``a2*y2``; the terms are
    ordered here with every number in a name written to six digits, then named back.

    >>> y2, y10 = sp.symbols("y2 y10")
    >>> FormulaText().doprint(y10 + 3 * y2), StrPrinter().doprint(y10 + 3 * y2)
    ('3*y2 + y10', 'y10 + 3*y2')
    """
    symbols = sorted((s for s in expr.free_symbols if isinstance(s, sp.Symbol)), key=str)
    if sorted(symbols, key=lambda s: _counted(s.name)) == symbols:
        return ordered(expr)  # counting the names changes nothing (most sums)
    names = {s: sp.Symbol(_counted(s.name), **s.assumptions0) for s in symbols}
    back = {v: k for k, v in names.items()}
    if len(back) < len(names):
        return ordered(expr)  # two names that count alike (y2 and y02)
    return [t.xreplace(back) for t in ordered(expr.xreplace(names))]


def _counted(name: str) -> str:
    return re.sub(r"\d+", lambda m: m.group().zfill(6), name)


def natural(name: str) -> list:
    """Return a sort key that counts the digits in a name: y2 before y10.

    >>> sorted(["y10", "y2", "y1"], key=natural)
    ['y1', 'y2', 'y10']
    """
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def formula_text(expr: sp.Expr) -> str:
    """Return a formula as SymPy-parseable text (the JSON's ``concrete.text``).

    ``Heaviside(z, 0)`` keeps its 0: without it SymPy reads H(0) as 1/2.

    >>> formula_text(sp.Heaviside(sp.Symbol("z1"), 0) * sp.Symbol("x1"))
    'x1*Heaviside(z1, 0)'
    """
    return FormulaText().doprint(expr)


def formula_latex(expr: sp.Expr, net: Any, terms: int | None = None) -> str:
    r"""Return a formula in LaTeX with the network's names.

    With ``terms``, a sum of more terms than that shows its first two and its last,
    with ``\cdots`` between (a softmax layer of ten makes sums of ten).
    """
    printer = FormulaLatex(net.latex_names)
    if terms is None or not isinstance(expr, sp.Add) or len(expr.args) <= terms:
        return printer.doprint(expr)
    ordered = printer._as_ordered_terms(expr)
    out = printer._print(ordered[0])
    for term in [*ordered[1:2], None, ordered[-1]]:
        if term is None:
            out += r" + \cdots"
            continue
        tex = printer._print(term)
        out += f" - {tex[1:].lstrip()}" if tex.startswith("-") else f" + {tex}"
    return out
