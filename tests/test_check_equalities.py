"""The equalities students rely on (issue 20): each accepted answer is first shown right.

Every answer that must match is checked twice: by tests/reference.py (central
differences and SymPy on the composed network, nothing of derive's), that it
is the true derivative; then by derive check, that it is accepted.
"""

from __future__ import annotations

import math

import pytest
import reference
import sympy as sp

from derive.check import check, check_text
from derive.graph import load_network

SKIP = """
name: skip
layers:
  - inputs: [x]
  - neurons: [h1]
    bias: true
  - neurons: [yhat]
    bias: true
edges:
  x -> h1: W1
  x -> yhat: W2
  h1 -> yhat: W3
loss: {kind: bce, target: y}
"""

LINEAR = """
name: lin
layers:
  - inputs: [x1, x2]
  - neurons: [h1]
    activation: tanh
    bias: [e0]
  - neurons: [o1]
    activation: linear
    bias: [e1]
loss: {name: J, kind: half_squared_error, target: t}
"""


@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nets")
    out = {}
    for name, text in (("skip", SKIP), ("lin", LINEAR)):
        path = folder / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        out[name] = load_network(path)
    for name in ("softmax", "multi_3b1b", "chain_3b1b", "simple", "two_hidden"):
        out[name] = load_network(name)
    return out


def same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-8)


# (network, answer, the derivative on its left, the one the answer writes, the note)
CONSTANT_LEFT_OUT = [
    ("softmax", "dL/db4 = dL/dz2", "b4", "z2", "∂z2/∂b4"),
    ("softmax", "dL/db5 = dL/dz3*1", "b5", "z3", "∂z3/∂b5"),
    ("multi_3b1b", "dC0/db1_L1 = dC0/dz1_L1", "b1_L1", "z1_L1", "∂z1_L1/∂b1_L1"),
    ("lin", "dJ/de1 = dJ/do1", "e1", "o1", "∂o1/∂e1"),
    ("lin", "dJ/dz_o1 = dJ/do1", "z_o1", "o1", "∂o1/∂z_o1"),
]


@pytest.mark.parametrize(("net", "answer", "wrt", "written", "factor"), CONSTANT_LEFT_OUT)
def test_a_factor_that_is_identically_one_may_be_left_out(nets, net, answer, wrt, written, factor):
    n = nets[net]
    point = reference.random_point(n, 3)
    truth = reference.central_difference(n, n.loss, wrt, point)
    assert same(truth, reference.central_difference(n, n.loss, written, point))
    result = check(n, answer)
    assert result.match, result.reasons
    assert f"{factor} is left out: it is identically 1" in result.notes


def test_a_linear_neurons_slope_left_out_of_a_chain_matches(nets):
    n = nets["multi_3b1b"]
    point = reference.random_point(n, 4)
    truth = reference.central_difference(n, "C0", "b0_L", point)
    written = reference.central_difference(n, "C0", "z0_L", point)  # ∂z0_L/∂b0_L = 1
    assert same(truth, written)
    assert check(n, "dC0/db0_L = dC0/da0_L*da0_L/dz0_L").match


def test_leaving_out_a_factor_that_is_not_constant_still_fails(nets):
    result = check(nets["lin"], "dJ/dW3 = dJ/do1")
    assert not result.match
    assert not result.notes


def test_naming_a_z_does_not_turn_an_edge_into_a_whole_derivative(nets):
    n = nets["skip"]
    point = reference.random_point(n, 5)
    exprs = reference.expressions(n, free=["h1"])  # yhat's own formula: h1 held fixed
    env = reference.forward(n, point)
    local = reference.sympy_value(sp.diff(exprs["yhat"], sp.Symbol("x")), {**point, **env})
    parts = reference.central_difference(n, "L", "z_h1", point) * point["W1"]
    parts += reference.central_difference(n, "L", "yhat", point) * local
    assert same(parts, reference.central_difference(n, "L", "x", point))
    assert check(n, "dL/dx = dL/dz_h1*dz_h1/dx + dL/dyhat*dyhat/dx").match
    assert check(n, "dL/dx = dL/dz_h1*dz_h1/dx + dL/dz_yhat*dz_yhat/dx").match


def test_an_edge_read_as_local_in_the_detailed_view_still_names_the_missing_path(nets):
    result = check(nets["skip"], "dL/dx = dL/dz_yhat*dz_yhat/dx")
    assert not result.match
    assert [r.kind for r in result.reasons] == ["local_partial", "missing_path"]


@pytest.mark.parametrize(
    "answer",
    [r"\( dL/dW4 = dL/dO2*dO2/dW4 \)", r"\[dL/dW4 = dL/dO2 \cdot dO2/dW4\]"],
)
def test_latex_paren_and_bracket_delimiters_are_read(nets, answer):
    assert check(nets["simple"], answer).match


def test_3blue1browns_own_formula_with_parenthesised_superscripts_matches(nets):
    n = nets["chain_3b1b"]
    point = reference.random_point(n, 6)
    env = reference.forward(n, point)
    s = 1 / (1 + math.exp(-env["z2"]))
    hand = env["a1"] * s * (1 - s) * 2 * (env["a2"] - point["y"])
    assert same(hand, reference.central_difference(n, "C0", "w2", point))
    result = check(n, "dC0/dw^(L) = a^(L-1) σ'(z^(L)) 2(a^(L) - y)")
    assert (result.wrt, result.match) == ("w2", True)


def test_a_bold_left_side_in_a_file_is_read_and_graded(nets):
    text = "**dL/dW4** = dL/dO2*dO2/dW4\n\n2. **dL/dW1** = dL/dO2*dO1/dW1\n\n**Q3.** dL/dW4 = 0\n"
    batch = check_text(nets["simple"], text, markdown=True)
    assert [(r.line, r.derivative, r.verdict) for r in batch.lines] == [
        (1, "dL/dW4", "match"),
        (3, "dL/dW1", "mismatch"),
        (5, "dL/dW4", "mismatch"),
    ]


RNN = """
name: rnn
layers:
  - inputs: [x1, x2]
  - neurons: [h1]
    activation: tanh
  - neurons: [h2]
    activation: tanh
  - neurons: [yhat]
edges:
  x1 -> h1: Wx
  x2 -> h2: Wx
  h1 -> h2: Wr
  h1 -> yhat: Wy1
  h2 -> yhat: Wy2
loss: {kind: bce, target: y}
"""


def test_an_edge_stays_local_in_a_formula_that_names_a_z_on_an_rnn(tmp_path):
    path = tmp_path / "rnn.yaml"
    path.write_text(RNN, encoding="utf-8")
    n = load_network(path)
    point = reference.random_point(n, 8)
    env = reference.forward(n, point)
    local = env["yhat"] * (1 - env["yhat"]) * point["Wy1"]  # yhat's own formula, h2 held fixed
    parts = reference.central_difference(n, "L", "z_h2", point) * point["Wr"]
    parts += reference.central_difference(n, "L", "yhat", point) * local
    assert same(parts, reference.central_difference(n, "L", "h1", point))
    result = check(n, "dL/dh1 = dL/dz_h2*Wr + dL/dyhat*dyhat/dh1")
    assert result.match, result.reasons
