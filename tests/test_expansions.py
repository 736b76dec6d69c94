"""The seed examples, written out as text: paths, expansion, factored and concrete forms."""

from __future__ import annotations

from collections import Counter
from functools import cache

import networkx as nx
import pytest
import reference as ref
import sympy as sp
from conftest import graph_networks, small_networks

from derive.expand import derive, multiply_out
from derive.graph import load_network
from derive.printing import to_json

NETWORKS = small_networks()


@cache
def net_of(name: str):
    return load_network(name)


def as_json(name: str, of: str, wrt: str, detail: bool = False) -> dict:
    return to_json(derive(net_of(name), of, wrt, detail=detail))


def parse(net, text: str) -> sp.Expr:
    """Read one of OUR formulas back, every network name a plain Symbol."""
    return sp.sympify(text, locals={n: sp.Symbol(n) for n in net.names})


# -- simple: seeds 000 and 001 ------------------------------------------------------


@pytest.mark.parametrize(
    ("wrt", "text"),
    [
        ("W4", "dL/dO2*dO2/dW4"),
        ("W1", "dL/dO2*dO2/dO1*dO1/dW1"),
        ("W2", "dL/dO2*dO2/dO1*dO1/dW2"),
        ("W3", "dL/dO2*dO2/dO1*dO1/dW3"),
    ],
)
def test_simple_expansion_is_the_seed_chain(wrt, text):
    data = as_json("simple", "L", wrt)
    assert data["expansion"]["text"] == text
    assert data["factored"]["text"] == text
    assert data["path_count"] == 1


# -- two_hidden: seed 000's example 3 done right -------------------------------------

TWO_HIDDEN_PATHS = [["L", "O31", "O21", "O11", "W1"], ["L", "O31", "O22", "O11", "W1"]]


def test_dL_dW1_two_hidden_has_two_paths():
    data = as_json("two_hidden", "L", "W1")
    assert data["path_count"] == 2
    assert data["paths"] == TWO_HIDDEN_PATHS
    assert data["paths_truncated"] is False


def test_dL_dW1_two_hidden_expansion_text():
    assert as_json("two_hidden", "L", "W1")["expansion"]["text"] == (
        "dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1 + dL/dO31*dO31/dO22*dO22/dO11*dO11/dW1"
    )


def test_dL_dW1_two_hidden_factored_text_is_the_spec_example():
    assert as_json("two_hidden", "L", "W1")["factored"]["text"] == (
        "dL/dO31*(dO31/dO21*dO21/dO11 + dO31/dO22*dO22/dO11)*dO11/dW1"
    )


def test_dL_dW1_two_hidden_local_partial_of_O11_is_sigmoid_slope_times_x1():
    data = as_json("two_hidden", "L", "W1")
    net = net_of("two_hidden")
    O11, x1 = sp.symbols("O11 x1")
    assert sp.simplify(parse(net, data["local"]["dO11/dW1"]["text"]) - O11 * (1 - O11) * x1) == 0


def test_dL_dW1_two_hidden_lists_a_local_partial_for_every_edge_of_its_paths():
    data = as_json("two_hidden", "L", "W1")
    edges = {f"d{a}/d{b}" for p in data["paths"] for a, b in zip(p, p[1:], strict=False)}
    assert edges == set(data["local"])


# -- two_hidden_tied: the literal reading of the seed -------------------------------


def test_dL_dW1_tied_is_the_seeds_two_path_formula():
    data = as_json("two_hidden_tied", "L", "W1")
    assert data["paths"] == [["L", "O31", "O21", "O11", "W1"], ["L", "O31", "O22", "O12", "W1"]]
    assert data["expansion"]["text"] == (
        "dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1 + dL/dO31*dO31/dO22*dO22/dO12*dO12/dW1"
    )


def test_dL_dW1_tied_factored_pulls_out_only_dL_dO31():
    assert as_json("two_hidden_tied", "L", "W1")["factored"]["text"] == (
        "dL/dO31*(dO31/dO21*dO21/dO11*dO11/dW1 + dO31/dO22*dO22/dO12*dO12/dW1)"
    )


# -- chain_3b1b: seed 004 ------------------------------------------------------------


def test_dC0_dw2_detail_is_dC0_da2_da2_dz2_dz2_dw2():
    data = as_json("chain_3b1b", "C0", "w2", detail=True)
    assert data["paths"] == [["C0", "a2", "z2", "w2"]]
    assert data["expansion"]["text"] == "dC0/da2*da2/dz2*dz2/dw2"


def test_dC0_dw2_detail_concrete_is_2_error_times_sigmoid_slope_times_a1():
    net = net_of("chain_3b1b")
    a1, a2, y = sp.symbols("a1 a2 y")
    concrete = parse(net, as_json("chain_3b1b", "C0", "w2", detail=True)["concrete"]["text"])
    assert sp.expand(concrete - 2 * (a2 - y) * a2 * (1 - a2) * a1) == 0


def test_dC0_dw2_compact_skips_the_preactivation():
    assert as_json("chain_3b1b", "C0", "w2")["expansion"]["text"] == "dC0/da2*da2/dw2"


def test_dC0_db2_detail_has_dz2_db2_equal_to_one():
    data = as_json("chain_3b1b", "C0", "b2", detail=True)
    assert data["expansion"]["text"] == "dC0/da2*da2/dz2*dz2/db2"
    assert parse(net_of("chain_3b1b"), data["local"]["dz2/db2"]["text"]) == 1


# -- multi_3b1b: a neuron reaches the cost through every neuron of the next layer ----


def test_dC0_da0_L1_sums_over_both_neurons_of_layer_L():
    data = as_json("multi_3b1b", "C0", "a0_L1")
    assert data["paths"] == [["C0", "a0_L", "a0_L1"], ["C0", "a1_L", "a0_L1"]]
    assert data["expansion"]["text"] == "dC0/da0_L*da0_L/da0_L1 + dC0/da1_L*da1_L/da0_L1"


def test_dC0_da0_L1_concrete_is_the_3b1b_sum():
    net = net_of("multi_3b1b")
    s = {n: sp.Symbol(n) for n in net.names}
    want = sum(
        s[f"w{j}0_L"] * s[f"a{j}_L"] * (1 - s[f"a{j}_L"]) * 2 * (s[f"a{j}_L"] - s[f"y{j}"])
        for j in (0, 1)
    )
    got = parse(net, as_json("multi_3b1b", "C0", "a0_L1")["concrete"]["text"])
    assert sp.expand(got - want) == 0


# -- softmax with cross-entropy: dL/dz_j = O_j - y_j for one-hot targets -----------

SOFTMAX_OUTPUTS = [("O1", "z1", "y1"), ("O2", "z2", "y2"), ("O3", "z3", "y3")]


@pytest.mark.parametrize(("out", "z", "y"), SOFTMAX_OUTPUTS)
def test_softmax_dL_dz_one_hot_concrete_is_O_minus_y(out, z, y):
    data = as_json("softmax", "L", z, detail=True)
    got = parse(net_of("softmax"), data["concrete"]["one_hot"]["text"])
    assert sp.expand(got - (sp.Symbol(out) - sp.Symbol(y))) == 0


@pytest.mark.parametrize("hot", range(3))
@pytest.mark.parametrize(("out", "z", "y"), SOFTMAX_OUTPUTS)
def test_softmax_dL_dz_concrete_equals_O_minus_y_at_one_hot_targets(out, z, y, hot):
    net = net_of("softmax")
    point = dict(net.values)
    point.update({t: float(i == hot) for i, (_, _, t) in enumerate(SOFTMAX_OUTPUTS)})
    env = ref.forward(net, point)
    concrete = parse(net, as_json("softmax", "L", z, detail=True)["concrete"]["text"])
    got = ref.sympy_value(concrete, env)
    assert got == pytest.approx(env[out] - env[y], abs=1e-12)


@pytest.mark.parametrize(("out", "z", "y"), SOFTMAX_OUTPUTS)
def test_softmax_dL_dz_has_a_path_through_every_output(out, z, y):
    data = as_json("softmax", "L", z, detail=True)
    assert data["paths"] == [["L", o, z] for o, _, _ in SOFTMAX_OUTPUTS]


def test_softmax_dO2_dz1_local_partial_is_minus_O2_O1():
    net = net_of("softmax")
    data = as_json("softmax", "L", "z1", detail=True)
    O1, O2 = sp.symbols("O1 O2")
    assert sp.expand(parse(net, data["local"]["dO2/dz1"]["text"]) + O1 * O2) == 0
    assert sp.expand(parse(net, data["local"]["dO1/dz1"]["text"]) - O1 * (1 - O1)) == 0


def test_relu_local_partial_is_heaviside_of_its_preactivation():
    net = net_of("softmax")
    data = as_json("softmax", "L", "W1", detail=True)
    assert parse(net, data["local"]["dh1/du1"]["text"]) == sp.Heaviside(sp.Symbol("u1"), 0)


# -- zero derivatives say why ----------------------------------------------------------


def test_dO12_dW1_two_hidden_is_zero_with_reason():
    data = as_json("two_hidden", "O12", "W1")
    assert data["path_count"] == 0
    assert data["paths"] == []
    assert data["expansion"]["text"] == "0"
    assert data["concrete"]["text"] == "0"
    assert "W1" in data["zero_because"] and "O12" in data["zero_because"]


def test_derivative_of_earlier_node_by_later_one_is_zero_with_reason():
    data = as_json("two_hidden", "O11", "O31")
    assert data["path_count"] == 0
    assert "O31" in data["zero_because"] and "O11" in data["zero_because"]


def test_derivative_of_a_node_by_itself_is_one():
    d = derive(net_of("two_hidden"), "O21", "O21")
    assert d.path_count == 1
    assert d.concrete == 1


# -- the factored form multiplied out is the expansion --------------------------------


def cases():
    out = []
    for name in NETWORKS:
        net = net_of(name)
        names = ref.leaves(net) + [n for layer in net.layers for n in layer]
        out += [(name, net.loss, n) for n in names]
    return out


@pytest.mark.parametrize("detail", [False, True], ids=["compact", "detail"])
@pytest.mark.parametrize(("name", "of", "wrt"), cases())
def test_factored_multiplied_out_equals_expansion(name, of, wrt, detail):
    d = derive(net_of(name), of, wrt, detail=detail)
    if d.is_zero:
        assert d.expansion == []
        return
    assert not d.factored_where
    assert Counter(multiply_out(d.factored)) == Counter(d.expansion)


@pytest.mark.parametrize(("name", "of", "wrt"), cases())
def test_expansion_has_one_term_per_path_in_path_order(name, of, wrt):
    d = derive(net_of(name), of, wrt)
    assert len(d.expansion) == d.path_count == len(d.paths)
    for term, path in zip(d.expansion, d.paths, strict=True):
        assert [x.top for x in term] == list(path[:-1])
        assert [x.bottom for x in term] == list(path[1:])


@pytest.mark.parametrize(
    ("name", "of", "wrt"),
    [
        ("two_hidden", "O11", "W5"),
        ("two_hidden", "O31", "y"),
        ("multi_3b1b", "a0_L1", "w10_L1"),
        ("softmax", "h1", "b2"),
    ],
)
def test_zero_reason_never_says_a_parameter_or_target_is_computed(name, of, wrt):
    # A weight, bias, input or target is given, not computed; W5 feeds O12, not O11.
    reason = as_json(name, of, wrt)["zero_because"]
    assert "computed after" not in reason, reason
    assert wrt in reason and of in reason


def test_bce_with_sigmoid_output_dL_dz31_concrete_is_O31_minus_y():
    data = as_json("two_hidden", "L", "z31", detail=True)
    O31, y = sp.symbols("O31 y")
    assert sp.expand(parse(net_of("two_hidden"), data["concrete"]["text"]) - (O31 - y)) == 0


@pytest.mark.parametrize("name", NETWORKS)
def test_the_path_count_and_paths_are_networkx_simple_paths(name):
    # An independent count: networkx walks every simple path, derive counts by a sweep.
    net = net_of(name)
    graph, top = net.graph(), net.loss or net.output
    for wrt in net.reported:
        d = derive(net, top, wrt)
        simple = {tuple(reversed(p)) for p in nx.all_simple_paths(graph, wrt, top)}
        assert d.path_count == len(simple)
        assert set(d.iter_paths()) == simple


@pytest.mark.parametrize("name", NETWORKS + graph_networks())
def test_the_local_partials_are_listed_in_the_same_order_however_few_paths_are(name: str):
    # With --max-paths the table still follows the paths (L's partial, then what it
    # multiplies), not the graph's nodes from the top: it did not on 34 derivatives.
    net = net_of(name)
    for wrt in net.reported:
        for detail in (False, True):
            whole = derive(net, net.output, wrt, detail=detail).edges
            assert derive(net, net.output, wrt, max_paths=1, detail=detail).edges == whole
