"""The one parser of formulas (network files and answers): what it reads, and what it refuses."""

import pytest
import sympy as sp

from derive.errors import DeriveError
from derive.formula import parse_formula
from derive.formula.tree import to_sympy

NAMES = ["x", "y", "z", "q", "w0", "x0", "w1", "x1", "w2", "a", "b"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(x + y) * z", "(x + y)*z"),
        ("sigmoid(w0*x0 + w1*x1 + w2)", "1/(1 + exp(-w0*x0 - w1*x1 - w2))"),
        ("a**2 + -b / 2", "a**2 - b/2"),
        ("x ^ y", "x**y"),
        ("2*-x", "-2*x"),
        ("exp(log(x)) - tanh(q)", "x - tanh(q)"),
        ("softplus(x) + relu(y)", "log(1 + exp(x)) + Max(0, y)"),
    ],
)
def test_a_formula_reads_as_the_sympy_expression_it_writes(text, expected):
    names = {n: sp.Symbol(n) for n in NAMES}
    assert sp.simplify(to_sympy(parse_formula(text, NAMES)) - sp.sympify(expected, names)) == 0


@pytest.mark.parametrize(
    ("text", "message", "col"),
    [
        ("x + ", "the formula ends too early", 5),
        ("(x + y", "unbalanced '(' opened at column 1", 7),
        ("x + yy", "unknown name 'yy'; did you mean y", 5),
        ("sigmod(x)", "unknown function 'sigmod'; did you mean sigmoid", 1),
        ("__import__('os')", "unexpected '_'", 1),
        ("x.real", "unexpected '.'", 2),
        ("lambda: 1", "unknown name 'lambda'", 1),
        ("'x'", "unexpected ''", 1),
        ("print(x)", "unknown function 'print'", 1),
        ("x y", "unexpected 'y'", 3),
        ("x ** 1000", "exponent is too large", 6),
        ("", "empty formula", 1),
    ],
)
def test_a_formula_that_is_not_one_is_refused_at_its_column(text, message, col):
    with pytest.raises(DeriveError) as err:
        parse_formula(text, NAMES)
    assert message in str(err.value)
    assert err.value.col == col
