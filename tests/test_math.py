"""derive's numbers equal independent truth: finite differences and sympy.diff.

Truth comes from tests/reference.py (its own forward pass and composed loss,
written from SPEC section 1), never from derive's functions or evaluator.
"""

from __future__ import annotations

import math
import textwrap
from functools import cache

import pytest
import reference as ref
import sympy as sp
import yaml
from conftest import small_networks

from derive.evaluate import at
from derive.expand import derive
from derive.graph import load_network
from derive.printing import to_json

NETWORKS = small_networks()
SEEDS = (1, 2, 3)


@cache
def net_of(name: str):
    return load_network(name)


@cache
def composed(name: str):
    return ref.composed_loss(net_of(name))


@cache
def truth(name: str, wrt: str):
    """Return sympy.diff of the reference's composed loss: the exact oracle, made once."""
    return sp.diff(composed(name), sp.Symbol(wrt))


def point_of(name: str, seed: int | None) -> dict[str, float]:
    """Return the file's values (seed None) or a random point away from relu kinks."""
    net = net_of(name)
    if seed is None:
        return dict(net.values)
    for s in range(seed, seed + 1000, 7):
        point = ref.random_point(net, s)
        if ref.relu_margin(net, point) > 1e-3:
            return point
    raise AssertionError("no point away from the relu kinks")


def close(got: float, want: float, rel: float = 1e-5, abs_: float = 1e-7) -> bool:
    return math.isclose(got, want, rel_tol=rel, abs_tol=abs_)


def leaf_cases():
    return [(n, leaf) for n in NETWORKS for leaf in ref.leaves(net_of(n))]


def inner_cases():
    """(network, of, wrt, detail) for every neuron or z below a neuron or the loss."""
    cases = []
    for name in NETWORKS:
        net = net_of(name)
        order = [n for layer in net.layers for n in layer]
        for i, wrt in enumerate(order):
            for of in [*order[i + 1 :], net.loss]:
                cases.append((name, of, wrt, False))
        for layer in net.layers:
            for n in layer:
                cases.append((name, net.loss, net.neurons[n].preact, True))
    return cases


# One exact oracle (sympy.diff) at two points per value: the file's values and a random one.
POINTS = [None, SEEDS[0]]


# -- every leaf: parameters, inputs, targets ------------------------------------


@pytest.mark.parametrize(("name", "wrt"), leaf_cases())
def test_value_equals_sympy_diff_of_composed_loss(name, wrt):
    """One exact oracle per value: at the file's values and a random point, in both views."""
    net = net_of(name)
    for seed in POINTS:
        point = point_of(name, seed)
        want = ref.sympy_value(truth(name, wrt), point)
        for detail in (False, True):
            got = at(derive(net, net.loss, wrt, detail=detail), point).value
            assert close(got, want), (seed, detail, got, want)


@pytest.mark.parametrize(("name", "wrt"), leaf_cases())
def test_path_products_sum_to_the_value(name, wrt):
    net, point = net_of(name), point_of(name, 1)
    numbers = at(derive(net, net.loss, wrt, detail=True), point)
    assert math.fsum(numbers.path_products) == pytest.approx(numbers.value, rel=1e-9, abs=1e-15)


# -- between inner nodes: the total derivative through the graph ----------------


@pytest.mark.parametrize(("name", "of", "wrt", "detail"), inner_cases())
def test_inner_derivative_equals_sympy_diff_with_wrt_free(name, of, wrt, detail):
    """The total derivative between inner nodes: sympy.diff with wrt made a free symbol."""
    net = net_of(name)
    truth = sp.diff(ref.expressions(net, free=[wrt])[of], sp.Symbol(wrt))
    for seed in POINTS:
        point = point_of(name, seed)
        got = at(derive(net, of, wrt, detail=detail), point).value
        values = dict(point)
        values[wrt] = ref.forward(net, point)[wrt]
        want = ref.sympy_value(truth, values)
        assert close(got, want), (seed, got, want)


def test_dO31_dO11_on_two_hidden_is_the_sum_over_O21_and_O22():
    net = net_of("two_hidden")
    point = net.values
    env = ref.forward(net, point)
    by_hand = sum(
        env["O31"] * (1 - env["O31"]) * point[w_out] * env[mid] * (1 - env[mid]) * point[w_in]
        for mid, w_in, w_out in (("O21", "W7", "W11"), ("O22", "W9", "W12"))
    )
    assert close(at(derive(net, "O31", "O11"), point).value, by_hand)


# -- the concrete formula, read back from the JSON --------------------------------


def concrete_value(net, data: dict, env: dict[str, float]) -> float:
    """Return the JSON's concrete.text evaluated at ``env``, after its ``where`` definitions."""
    names = {n: sp.Symbol(n) for n in net.names}
    values = dict(env)
    for defined, text in data["concrete"].get("where", []):
        names[defined] = sp.Symbol(defined)
        values[defined] = ref.sympy_value(sp.sympify(text, locals=names), values)
    expr = sp.sympify(data["concrete"]["text"], locals=names)
    return ref.sympy_value(expr, values)


@pytest.mark.parametrize(("name", "wrt"), leaf_cases())
def test_concrete_text_evaluates_to_the_true_derivative(name, wrt):
    net = net_of(name)
    data = to_json(derive(net, net.loss, wrt))
    # The formula is the same at every point: one random point checks it (the value
    # itself is checked at the file's values too, above).
    for seed in POINTS[1:]:
        point = point_of(name, seed)
        got = concrete_value(net, data, ref.forward(net, point))
        want = ref.sympy_value(truth(name, wrt), point)
        assert close(got, want), (seed, data["concrete"], got, want)


@pytest.mark.parametrize(("name", "of", "wrt", "detail"), inner_cases())
def test_concrete_text_of_inner_derivative_evaluates_to_the_truth(name, of, wrt, detail):
    net, point = net_of(name), point_of(name, 1)
    data = to_json(derive(net, of, wrt, detail=detail))
    got = concrete_value(net, data, ref.forward(net, point))
    assert close(got, ref.central_difference(net, of, wrt, point), rel=1e-5, abs_=1e-6)


@pytest.mark.parametrize("name", NETWORKS)
def test_concrete_text_uses_only_network_names_and_allowed_functions(name):
    net = net_of(name)
    allowed = {sp.exp, sp.log, sp.tanh, sp.Heaviside}
    for wrt in ref.leaves(net):
        data = to_json(derive(net, net.loss, wrt, detail=True))
        names = {n: sp.Symbol(n) for n in net.names}
        names.update({d: sp.Symbol(d) for d, _ in data["concrete"].get("where", [])})
        expr = sp.sympify(data["concrete"]["text"], locals=names)
        assert {s.name for s in expr.free_symbols} <= set(names), wrt
        funcs = {type(f) for f in expr.atoms(sp.Function)}
        assert funcs <= allowed, (wrt, funcs)


# -- names SymPy treats specially --------------------------------------------------

SPECIAL = textwrap.dedent(
    """\
    name: special
    layers:
      - inputs: [I, S]
      - neurons: [O, E]
        bias: [beta, gamma]
      - neurons: [N]
    edges:
      I -> O: pi
      S -> O: Q
      I -> E: pi
      S -> E: lambda_
      O -> N: W
      E -> N: C
    loss:
      name: L
      kind: bce
      target: y
    """
)
SPECIAL_POINT = {
    "I": 0.7,
    "S": -0.4,
    "pi": 0.3,
    "Q": -0.8,
    "lambda_": 0.5,
    "W": 1.1,
    "C": -0.6,
    "beta": 0.2,
    "gamma": -0.1,
    "y": 1.0,
}


@pytest.fixture
def special(tmp_path):
    path = tmp_path / "special.yaml"
    path.write_text(SPECIAL)
    return load_network(path)


@pytest.mark.parametrize("wrt", sorted(SPECIAL_POINT))
def test_special_names_value_equals_sympy_diff(special, wrt):
    got = at(derive(special, "L", wrt), SPECIAL_POINT).value
    want = ref.sympy_value(sp.diff(ref.composed_loss(special), sp.Symbol(wrt)), SPECIAL_POINT)
    assert close(got, want), (got, want)


@pytest.mark.parametrize("wrt", sorted(SPECIAL_POINT))
def test_special_names_concrete_text_parses_to_plain_symbols(special, wrt):
    data = to_json(derive(special, "L", wrt))
    names = {n: sp.Symbol(n) for n in special.names}
    expr = sp.sympify(data["concrete"]["text"], locals=names)
    assert all(isinstance(a, sp.Symbol) for a in expr.free_symbols)
    assert not expr.has(sp.pi, sp.E, sp.I, sp.EulerGamma, sp.S.Catalan), expr
    assert {s.name for s in expr.free_symbols} <= set(names)
    got = concrete_value(special, data, ref.forward(special, SPECIAL_POINT))
    want = ref.sympy_value(sp.diff(ref.composed_loss(special), sp.Symbol(wrt)), SPECIAL_POINT)
    assert close(got, want), (data["concrete"]["text"], got, want)


def test_special_names_local_partials_keep_plain_symbols(special):
    d = derive(special, "L", "pi")
    for formula in d.local.values():
        assert not formula.has(sp.pi, sp.E, sp.I, sp.EulerGamma), formula
        assert all(isinstance(s, sp.Symbol) for s in formula.free_symbols)


# -- relu at its kink: the slope is 0 at z = 0 (SPEC section 1) -------------------

KINK = {"x1": 1.0, "x2": -0.5, "W1": 0.5, "W2": -0.5, "b1": -0.75}  # u1 = 0 exactly


def kink_point() -> dict[str, float]:
    point = dict(net_of("softmax").values, **KINK)
    assert ref.forward(net_of("softmax"), point)["u1"] == 0.0
    return point


@pytest.mark.parametrize("wrt", ["W1", "W2", "b1"])
def test_relu_slope_is_zero_at_the_kink(wrt):
    assert at(derive(net_of("softmax"), "L", wrt), kink_point()).value == 0.0


@pytest.mark.parametrize("wrt", ["W1", "W2", "b1", "x1"])
def test_concrete_text_at_a_relu_kink_equals_the_value(wrt):
    # concrete.text must keep Heaviside's value at 0: SymPy reads Heaviside(u1) as 1/2 at 0.
    net, point = net_of("softmax"), kink_point()
    d = derive(net, "L", wrt)
    got = concrete_value(net, to_json(d), ref.forward(net, point))
    assert close(got, at(d, point).value), (to_json(d)["concrete"]["text"], got)


# -- softmax in a hidden layer (SPEC: its partials couple every neuron of the layer) --

HIDDEN_SOFTMAX = textwrap.dedent(
    """\
    layers:
      - inputs: [x1, x2]
      - neurons: [h1, h2, h3]
        activation: softmax
        bias: true
      - neurons: [O1, O2]
        activation: tanh
    loss:
      kind: mse
    """
)


@pytest.fixture(scope="module")
def hidden_softmax(tmp_path_factory):
    path = tmp_path_factory.mktemp("nets") / "hidden_softmax.yaml"
    path.write_text(HIDDEN_SOFTMAX)
    return load_network(path)


@pytest.mark.parametrize("wrt", ["x1", "W1", "W4", "W6", "b1", "b3", "W7", "W12", "b2", "y2"])
def test_hidden_softmax_value_equals_sympy_diff(hidden_softmax, wrt):
    point = ref.random_point(hidden_softmax, 11)
    want = ref.sympy_value(sp.diff(ref.composed_loss(hidden_softmax), sp.Symbol(wrt)), point)
    for detail in (False, True):
        got = at(derive(hidden_softmax, "L", wrt, detail=detail), point).value
        assert close(got, want), (detail, got, want)


@pytest.mark.parametrize(
    ("of", "wrt", "detail"),
    [
        ("O1", "h2", False),
        ("L", "h3", False),
        ("O2", "z_h1", True),
        ("h1", "z_h2", True),
        ("L", "z_h3", True),
    ],
)
def test_hidden_softmax_inner_derivative_equals_central_differences(
    hidden_softmax, of, wrt, detail
):
    point = ref.random_point(hidden_softmax, 12)
    got = at(derive(hidden_softmax, of, wrt, detail=detail), point).value
    assert close(got, ref.central_difference(hidden_softmax, of, wrt, point), rel=1e-5, abs_=1e-6)


# -- a network too big for one formula: counted paths, backpropagated deltas ----------


def wide_network(path, width: int, depth: int):
    layers = [{"inputs": [f"x{i}" for i in range(1, width + 1)]}]
    for k in range(1, depth + 1):
        neurons = [f"N{k}_{j}" for j in range(1, width + 1)]
        layers.append({"neurons": neurons, "activation": "tanh", "bias": True})
    layers.append({"neurons": ["Out"], "activation": "sigmoid"})
    path.write_text(yaml.safe_dump({"layers": layers, "loss": {"kind": "bce"}}, sort_keys=False))
    return load_network(path)


def test_ten_by_ten_network_counts_a_billion_paths(tmp_path):
    net = wide_network(tmp_path / "wide.yaml", 10, 10)
    d = derive(net, "L", "W1")
    assert d.path_count == 10**9
    assert len(d.paths) == 1000 and d.truncated


@pytest.mark.parametrize("wrt", ["W1", "x3", "b2"])
def test_deltas_concrete_of_a_wide_network_evaluates_to_the_truth(tmp_path, wrt):
    net = wide_network(tmp_path / "wide.yaml", 4, 4)
    point = ref.random_point(net, 4)
    d = derive(net, "L", wrt)
    data = to_json(d)
    assert data["concrete"].get("where"), "expected backpropagated deltas"
    got = concrete_value(net, data, ref.forward(net, point))
    want = ref.central_difference(net, "L", wrt, point)
    assert close(got, want, rel=1e-5, abs_=1e-6)
    assert close(at(d, point).value, want, rel=1e-5, abs_=1e-6)


@pytest.mark.parametrize("hot", range(3))
def test_one_hot_concrete_equals_the_value_at_one_hot_targets(hot):
    net = net_of("softmax")
    point = dict(point_of("softmax", 2), y1=0.0, y2=0.0, y3=0.0)
    point[f"y{hot + 1}"] = 1.0
    names = {n: sp.Symbol(n) for n in net.names}
    checked = []
    for wrt in ref.leaves(net):
        d = derive(net, "L", wrt, detail=True)
        if d.concrete_onehot is None:
            continue  # no simpler one-hot form for this name
        text = to_json(d)["concrete"]["one_hot"]["text"]
        got = ref.sympy_value(sp.sympify(text, locals=names), ref.forward(net, point))
        assert close(got, at(d, point).value), f"{wrt}: {text}"
        checked.append(wrt)
    assert len(checked) >= 5, checked


@pytest.mark.parametrize("wrt", ["O", "E", "z_O", "z_E", "z_N"])
def test_special_names_inner_derivatives_equal_central_differences(special, wrt):
    d = derive(special, "L", wrt, detail=True)
    want = ref.central_difference(special, "L", wrt, SPECIAL_POINT)
    assert close(at(d, SPECIAL_POINT).value, want, rel=1e-5, abs_=1e-6)
    got = concrete_value(special, to_json(d), ref.forward(special, SPECIAL_POINT))
    assert close(got, want, rel=1e-5, abs_=1e-6)


# -- SymPy's work is bounded (issue 3): a small network must not take seconds -------

SMALL_BUT_SLOW = textwrap.dedent(
    """\
    layers:
      - inputs: [x1, x2, x3]
      - neurons: [N11, N12]
        activation: tanh
        bias: true
      - neurons: [N21, N22, N23]
        activation: softplus
      - neurons: [N31, N32]
        activation: softmax
    edges:
      x2 -> N11: W1
      x3 -> N11: W2
      x1 -> N12: W2
      x2 -> N12: W3
      x3 -> N12: W4
      N12 -> N21: W5
      x2 -> N21: W6
      N11 -> N22: W7
      N12 -> N22: W8
      x1 -> N22: W9
      N12 -> N23: W10
      N21 -> N31: W11
      N22 -> N31: W12
      N23 -> N31: W13
      x2 -> N31: W14
      N22 -> N32: W15
      N23 -> N32: W6
      x3 -> N32: W16
    loss:
      kind: bce
    """
)


def test_tidy_never_makes_a_concrete_formula_larger(tmp_path):
    # Found by the property test: tidy() once cancelled a five-symbol common denominator
    # into thousands of terms. Its time is measured in bench/; here, its result's size.
    path = tmp_path / "slow.yaml"
    path.write_text(SMALL_BUT_SLOW)
    d = derive(load_network(path), "L", "W2")
    assert d.path_count == 8
    assert sp.count_ops(d.concrete) <= sp.count_ops(d.to_sympy(d.factored))


def test_a_shared_bias_gradient_sums_over_its_neurons(tmp_path):
    net_file = tmp_path / "shared.yaml"
    net_file.write_text(
        "layers:\n  - inputs: [i1, i2]\n  - neurons: [h1, h2]\n    bias: [b1, b1]\n"
        "  - neurons: [o1, o2]\n    bias: [b2, b2]\nloss: {kind: half_squared_error}\n"
    )
    net = load_network(net_file)
    point = ref.random_point(net, 3)
    for bias in ("b1", "b2"):
        got = at(derive(net, "L", bias), point).value
        want = ref.sympy_value(sp.diff(ref.composed_loss(net), sp.Symbol(bias)), point)
        assert got == pytest.approx(want, rel=1e-9)
        assert got == pytest.approx(ref.central_difference(net, "L", bias, point), rel=1e-5)
