"""The backward sweep as data and numbers: every line checked against the forward pass.

Oracles: central differences of tests/reference.py's own forward pass, and
sympy.diff of the loss composed by tests/reference.py (never derive's own numbers).
"""

from __future__ import annotations

import math

import pytest
import reference as ref
from conftest import small_networks
from hypothesis import given, settings
from hypothesis import strategies as st
from randomnets import SETTINGS, load, network_files, pick_point

from derive.evaluate import random_point
from derive.graph import load_network
from derive.sweep import backward, gradient_line, values

BUNDLED = small_networks()


def close(got: float, want: float) -> bool:
    return math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-7)


def test_two_hidden_multiplications_counted_by_hand():
    # Sweep: dL/dO31 = dL/dL * dL/dO31 costs nothing (dL/dL = 1); dL/dO21, dL/dO22 one
    # each; dL/dO11, dL/dO12 two each (they feed O21 and O22): 6. Then 12 weights, one
    # term each: 12. Paths: W1..W6 have 2 paths of 4 edges (3 multiplications) each: 36;
    # W7..W10 one path of 3 edges: 8; W11, W12 one path of 2 edges: 2. Total 46.
    assert backward(load_network("two_hidden")).multiplications == {"sweep": 18, "paths": 46}


def test_two_hidden_detail_multiplications_counted_by_hand():
    # Lines: O31 0, z31 1, O21 1, z21 1, O22 1, z22 1, O11 2, z11 1, O12 2, z12 1 = 11,
    # gradients 12. A z sits under each neuron: W1..W6 have 2 paths of 7 edges
    # (L O31 z31 O21 z21 O11 z11 W1: 6 multiplications) = 72, W7..W10 one of 5 edges
    # (4) = 16, W11, W12 one of 3 edges (2) = 4. Total 92.
    got = backward(load_network("two_hidden"), detail=True).multiplications
    assert got == {"sweep": 23, "paths": 92}


def test_tied_weight_multiplications_counted_by_hand():
    # Lines O21, O22, O11, O12 one each: 4; W1 feeds O11 and O12 (2), W2..W7 one: 8.
    # Paths: W1 2 x 3, W2 3, W3 3, W4 2, W5 2, W6 1, W7 1 = 18.
    assert backward(load_network("two_hidden_tied")).multiplications == {"sweep": 12, "paths": 18}


def test_tied_weight_gradient_sums_over_its_edges():
    net = load_network("two_hidden_tied")
    assert backward(net).gradient("W1").terms == (("O11", "W1"), ("O12", "W1"))
    assert gradient_line(net, "W1").terms == (("O11", "W1"), ("O12", "W1"))


def test_sweep_lines_run_from_the_loss_down():
    net = load_network("two_hidden")
    s = backward(net)
    assert [row.node for row in s.lines] == ["O31", "O21", "O22", "O11", "O12"]
    assert s.line("O11").terms == (("O21", "O11"), ("O22", "O11"))
    assert s.lines[0].terms == (("L", "O31"),)


@pytest.mark.parametrize("name", BUNDLED)
@pytest.mark.parametrize("detail", [False, True])
def test_every_line_uses_only_lines_computed_before_it(name, detail):
    s = backward(load_network(name), detail)
    done = {s.of}
    for row in s.lines:
        assert {child for child, _ in row.terms} <= done, row
        done.add(row.node)
    for g in s.gradients:
        assert {child for child, _ in g.terms} <= done, g


def _check_against_central_differences(net, point, detail):
    v = values(net, point, detail)
    for row in v.sweep.lines:
        want = ref.central_difference(net, net.loss, row.node, point)
        assert close(v.delta[row.node], want), (row.node, v.delta[row.node], want)
    for p, got in v.gradients.items():
        want = ref.central_difference(net, net.loss, p, point)
        assert close(got, want), (p, got, want)


@pytest.mark.parametrize("name", BUNDLED)
@pytest.mark.parametrize("detail", [False, True])
def test_every_line_equals_central_differences_on_bundled_networks(name, detail):
    net = load_network(name)
    _check_against_central_differences(net, net.values, detail)


@settings(SETTINGS, max_examples=25)
@given(spec=network_files(), seed=st.integers(0, 10**6), detail=st.booleans())
def test_every_line_equals_central_differences_on_random_networks(tmp_path, spec, seed, detail):
    net = load(tmp_path, spec)
    _check_against_central_differences(net, pick_point(net, seed), detail)


@pytest.mark.parametrize("name", BUNDLED)
def test_every_gradient_equals_sympy_diff_of_the_composed_loss(name):
    # At a random point (the file's own values are the central differences' above).
    net = load_network(name)
    point = random_point(net, seed=3)
    assert ref.relu_margin(net, point) > 1e-6  # a relu's slope is defined there
    got = values(net, point).gradients
    assert set(got) == set(net.parameters)
    for p, value in got.items():
        assert math.isclose(
            value, ref.exact_gradient(net, p, point), rel_tol=1e-9, abs_tol=1e-12
        ), p


def test_softmax_cross_entropy_delta_is_output_minus_target():
    net = load_network("softmax")
    v = values(net, net.values, detail=True)
    for out, target in zip(net.outputs, net.targets, strict=True):
        z = net.neurons[out].preact
        assert math.isclose(v.delta[z], v.forward[out] - net.values[target], abs_tol=1e-12)


def test_values_lists_every_missing_value():
    from derive.errors import DeriveError

    net = load_network("two_hidden")
    point = dict(net.values)
    del point["W3"], point["y"]
    with pytest.raises(DeriveError, match="missing values for W3, y"):
        values(net, point)


def test_update_steps_against_the_gradient():
    net = load_network("simple")
    v = values(net, net.values)
    step = v.update(0.1)["W4"]
    want = net.values["W4"] - 0.1 * ref.exact_gradient(net, "W4", net.values)
    assert step["old"] == net.values["W4"]
    assert math.isclose(step["new"], want, rel_tol=1e-12)
