"""The layer (matrix) form: each entry equals the reference's gradient.

Oracles: sympy.diff of the loss composed by tests/reference.py, and plain matrix
backpropagation written in tests/reference.py from SPEC section 1's tables.
"""

from __future__ import annotations

import math
import random

import pytest
import reference as ref
import yaml
from conftest import matrix_entries

from derive.errors import DeriveError
from derive.graph import load_network
from derive.layers import layer_form, layer_values

LAYERED = ["two_hidden", "softmax", "simple", "chain_3b1b", "multi_3b1b"]


@pytest.mark.parametrize("name", LAYERED)
def test_each_matrix_entry_equals_sympy_diff_of_the_composed_loss(name):
    net = load_network(name)
    form = layer_form(net)
    lv = layer_values(form, net.values)
    seen = set()
    for param, entry in matrix_entries(form, lv):
        want = ref.exact_gradient(net, param, net.values)
        assert math.isclose(entry, want, rel_tol=1e-9, abs_tol=1e-15), param
        seen.add(param)
    assert seen == set(net.parameters)


def test_weight_matrices_are_named_rows_by_columns():
    form = layer_form(load_network("two_hidden"))
    assert [layer.shape for layer in form.layers] == [(2, 3), (2, 2), (1, 2)]
    assert form.layers[1].weights == [["W7", "W8"], ["W9", "W10"]]
    assert form.layers[1].sources == ["O11", "O12"]


def test_a_missing_edge_is_a_zero_entry(tmp_path):
    path = tmp_path / "sparse.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "layers": [{"inputs": ["x1", "x2"]}, {"neurons": ["h1", "h2"]}, {"neurons": ["o"]}],
                "edges": {"x1 -> h1": "w1", "x2 -> h2": "w2", "h1 -> o": "w3", "h2 -> o": "w4"},
                "loss": {"kind": "squared_error"},
            }
        )
    )
    form = layer_form(load_network(path))
    assert form.layers[0].weights == [["w1", None], [None, "w2"]]
    point = {"x1": 0.3, "x2": -0.2, "w1": 0.5, "w2": 0.4, "w3": -0.7, "w4": 0.9, "y": 1.0}
    assert layer_values(form, point).W[0] == [[0.5, 0.0], [0.0, 0.4]]


def test_a_skip_connection_is_an_error_naming_the_edge(tmp_path):
    path = tmp_path / "skip.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "layers": [{"inputs": ["x"]}, {"neurons": ["h"]}, {"neurons": ["o"]}],
                "edges": {"x -> h": "w1", "h -> o": "w2", "x -> o": "w3"},
                "loss": {"kind": "squared_error"},
            }
        )
    )
    with pytest.raises(DeriveError, match=r"the edge x -> o \(w3\) skips a layer"):
        layer_form(load_network(path))


def test_a_tied_weight_is_an_error_naming_both_edges():
    with pytest.raises(DeriveError, match=r"W1 is tied \(x1 -> O11 and x1 -> O12\)"):
        layer_form(load_network("two_hidden_tied"))


def test_softmax_cross_entropy_output_delta_is_a_minus_y():
    net = load_network("softmax")
    lv = layer_values(layer_form(net), net.values)
    y = [net.values[t] for t in net.targets]
    for d, a, t in zip(lv.delta[-1], lv.a[-1], y, strict=True):
        assert math.isclose(d, a - t, abs_tol=1e-12)


def _layered_yaml(sizes, acts) -> dict:
    layers = [{"inputs": [f"x{k + 1}" for k in range(sizes[0])]}]
    edges = {}
    for layer, (n, act) in enumerate(zip(sizes[1:], acts, strict=True), start=1):
        names = [f"a{layer}_{j + 1}" for j in range(n)]
        layers.append(
            {"neurons": names, "activation": act, "bias": [f"b{layer}_{j + 1}" for j in range(n)]}
        )
        previous = layers[-2].get("inputs") or layers[-2]["neurons"]
        for j, dst in enumerate(names):
            for k, src in enumerate(previous):
                edges[f"{src} -> {dst}"] = f"w{layer}_{j + 1}_{k + 1}"
    targets = [f"y{j + 1}" for j in range(sizes[-1])]
    return {"layers": layers, "edges": edges, "loss": {"kind": "cross_entropy", "target": targets}}


def test_every_gradient_equals_plain_matrix_backprop(tmp_path):
    sizes, acts = [12, 7, 5, 4], ["relu", "tanh", "softmax"]
    path = tmp_path / "wide.yaml"
    path.write_text(yaml.safe_dump(_layered_yaml(sizes, acts)))
    net = load_network(path)
    rng = random.Random(3)
    point = {n: rng.uniform(-1, 1) for n in net.names if net.kind(n) in ("input", "weight", "bias")}
    point.update({f"y{j + 1}": float(j == 2) for j in range(sizes[-1])})
    want = ref.matrix_gradients(sizes, acts, point, [point[t] for t in net.targets])
    form = layer_form(net)
    got = dict(matrix_entries(form, layer_values(form, point)))
    from derive.sweep import values

    scalar = values(net, point).gradients
    assert set(got) == set(want) == set(scalar)
    for name, w in want.items():
        assert math.isclose(got[name], w, rel_tol=1e-9, abs_tol=1e-15), name
        assert math.isclose(scalar[name], w, rel_tol=1e-9, abs_tol=1e-15), name
