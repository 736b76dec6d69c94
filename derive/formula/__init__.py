"""Formulas as syntax trees: one parser for network files and answers alike, never ``eval``.

- ``tree``: the nodes (plain data), walking, printing, evaluating, ``to_sympy``
- ``parse``: text -> tree, a recursive-descent parser with a column on every error;
  :mod:`derive.check.answer` extends its grammar with dA/dB factors and LaTeX
"""

from derive.formula.parse import Parser, parse_formula

__all__ = ["Parser", "parse_formula"]
