"""Formula printers: SymPy's own printers, with the network's typesetting of names.

``formula_text`` is SPEC section 3's ``concrete.text`` (parseable by
``sympy.sympify`` with every network name passed as a Symbol); ``formula_latex``
typesets each name as the network says (``O_{11}``, ``a^{(L)}``), never as a
SymPy constant (``E``, ``I``, ``pi`` stay plain names).
"""

from __future__ import annotations

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

    def _print_Heaviside(self, expr: sp.Heaviside, exp: Any = None) -> str:
        tex = rf"\operatorname{{H}}\left({self._print(expr.args[0])}\right)"
        return f"{tex}^{{{exp}}}" if exp else tex


def formula_text(expr: sp.Expr) -> str:
    """Return a formula as SymPy-parseable text (SPEC section 3's ``concrete.text``).

    ``Heaviside(z, 0)`` keeps its 0: without it SymPy reads H(0) as 1/2.

    >>> formula_text(sp.Heaviside(sp.Symbol("z1"), 0) * sp.Symbol("x1"))
    'x1*Heaviside(z1, 0)'
    """
    return StrPrinter().doprint(expr)


def formula_latex(expr: sp.Expr, net: Any) -> str:
    """Return a formula in LaTeX with the network's names."""
    return FormulaLatex(net.latex_names).doprint(expr)
