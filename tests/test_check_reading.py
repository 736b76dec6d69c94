"""How `derive check` reads a factor (SPEC section 4), on networks where the two readings differ.

Over an edge B -> A a written dA/dB is the local partial; any other dA/dB is
the whole derivative. The skip, sweep and tied networks below are where the
two differ: a skip connection, and one weight used at two depths.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import small_networks

from derive.check import check
from derive.check.report import format_check_text
from derive.cli import main
from derive.graph import load_network

SKIP = """
name: skip
layers:
  - inputs: [x1, x2]
  - neurons: [h1]
  - neurons: [yhat]
loss: {kind: half_squared_error, target: y}
edges:
  x1 -> h1: W1
  x2 -> h1: W2
  h1 -> yhat: W3
  x1 -> yhat: W4
"""

# The sweep line of a skip network: h feeds N directly and through E. E and N are plain names.
SWEEP = """
name: sweep
layers:
  - inputs: [x]
  - neurons: [h]
    activation: tanh
  - neurons: [E]
  - neurons: [N]
loss: {name: C, kind: squared_error, target: y}
edges:
  x -> h: W1
  h -> E: W2
  h -> N: W3
  E -> N: W4
"""

# Backpropagation through time in miniature: one weight w on x -> h1 and on h1 -> h2.
TIED = """
name: tied
layers:
  - inputs: [x]
  - neurons: [h1]
  - neurons: [h2]
loss: {kind: half_squared_error, target: y}
edges:
  x -> h1: w
  h1 -> h2: w
"""


@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nets")
    out = {}
    for name, text in (("skip", SKIP), ("sweep", SWEEP), ("tied", TIED)):
        path = folder / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        out[name] = load_network(path)
    for name in ("two_hidden", "two_hidden_tied", "simple"):
        out[name] = load_network(name)
    return out


def kinds(result):
    return [r.kind for r in result.reasons]


def messages(result):
    return "\n".join(r.message for r in result.reasons)


# -- SPEC section 4's examples -------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "dL/dW1 = dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1 + dL/dO31*dO31/dO22*dO22/dO11*dO11/dW1",
        "dL/dW1 = dL/dO31*(dO31/dO21*dO21/dO11 + dO31/dO22*dO22/dO11)*dO11/dW1",
        "dL/dW1 = dL/dO11*dO11/dW1",  # a grouped factor: dL/dO11 is the whole derivative
        "dL/dW1 = (dL/dO21*dO21/dO11 + dL/dO22*dO22/dO11)*dO11/dW1",
        "dL/dO11 = dL/dO21*dO21/dO11 + dL/dO22*dO22/dO11",  # a line of the backward sweep
        "∂L/∂W1 = ∂L/∂O31 · ∂O31/∂O21 · ∂O21/∂O11 · ∂O11/∂W1 + ∂L/∂O31 · ∂O31/∂O22 · ∂O22/∂O11 · ∂O11/∂W1",
    ],
)
def test_spec_forms_of_one_derivative_match(nets, answer):
    assert check(nets["two_hidden"], answer).match


def test_spec_missing_path_is_named(nets):
    result = check(nets["two_hidden"], "dL/dW1 = dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1")
    assert kinds(result) == ["missing_path"]
    assert result.reasons[0].path == ("L", "O31", "O22", "O11", "W1")


def test_spec_duplicated_path_is_named(nets):
    path = "dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1"
    result = check(nets["two_hidden"], f"dL/dW1 = 2*{path} + dL/dO31*dO31/dO22*dO22/dO11*dO11/dW1")
    assert kinds(result) == ["duplicate_path"] and "counted twice" in messages(result)


def test_spec_extra_path_is_named(nets):
    answer = "dL/dW4 = dL/dO2*dO2/dW4 + dL/dO2*dO2/dO1*dO1/dW1"
    assert "∂L/∂O2·∂O2/∂O1·∂O1/∂W1: the chain ends at W1, not at W4" in messages(
        check(nets["simple"], answer)
    )


def test_spec_broken_chain_is_named(nets):
    result = check(nets["simple"], "dL/dW1 = dL/dO2*dO1/dW1")
    assert "broken chain ∂L/∂O2·∂O1/∂W1" in messages(result)


def test_spec_identically_zero_factor_is_named(nets):
    answer = "dL/dW1 = dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1 + dL/dO31*dO31/dO22*dO22/dO12*dO12/dW1"
    result = check(nets["two_hidden"], answer)
    assert "dO12/dW1 is 0 (O12 does not depend on W1: W1 feeds only O11)" in messages(result)


# -- where the two readings differ -------------------------------------------------------------


def test_skip_answer_with_only_the_direct_path_does_not_match(nets):
    result = check(nets["skip"], "dL/dx1 = dL/dyhat*dyhat/dx1")
    assert not result.match and result.path_count == 2
    assert kinds(result) == ["local_partial", "missing_path"]
    assert result.reasons[1].path == ("L", "yhat", "h1", "x1")


def test_skip_report_names_the_factor_its_two_readings_and_the_sum(nets):
    text = messages(check(nets["skip"], "dL/dx1 = dL/dyhat*dyhat/dx1"))
    assert "∂yhat/∂x1 is read as the local partial (x1 feeds yhat directly" in text
    assert "h1 held fixed" in text
    assert "whole derivative dyhat/dx1 = ∂yhat/∂x1 + ∂yhat/∂h1·∂h1/∂x1" in text


def test_skip_answer_with_both_paths_matches(nets):
    assert check(nets["skip"], "dL/dx1 = dL/dyhat*(dyhat/dx1 + dyhat/dh1*dh1/dx1)").match


def test_skip_answer_with_a_grouped_whole_factor_matches(nets):
    # dL/dh1 is no edge (h1 feeds yhat, not L): it is the whole derivative.
    assert check(nets["skip"], "dL/dx1 = dL/dyhat*dyhat/dx1 + dL/dh1*dh1/dx1").match


def test_sweep_line_through_a_skip_connection_matches(nets):
    result = check(nets["sweep"], "dC/dh = dC/dN*dN/dh + dC/dE*dE/dh")
    assert result.match and result.path_count == 2


def test_sweep_line_in_derives_notation_reads_whole_and_local_factors(nets):
    assert check(nets["sweep"], "dN/dh = ∂N/∂h + ∂N/∂E · dE/dh").match


def test_backprop_through_time_with_a_weight_at_two_depths_matches(nets):
    result = check(nets["tied"], "dL/dw = dL/dh2*dh2/dw + dL/dh2*dh2/dh1*dh1/dw")
    assert result.match and result.path_count == 2


def test_backprop_through_time_with_one_depth_only_names_the_missing_path(nets):
    result = check(nets["tied"], "dL/dw = dL/dh2*dh2/dw")
    assert kinds(result) == ["local_partial", "missing_path"]
    assert "dh2/dw = ∂h2/∂w + ∂h2/∂h1·∂h1/∂w" in messages(result)


def test_a_mismatch_never_prints_expected_the_same_as_read_as(nets):
    for net, answer in (
        ("skip", "dL/dx1 = dL/dyhat*dyhat/dx1"),
        ("tied", "dL/dw = dL/dh2*dh2/dw"),
        ("two_hidden", "dL/dW1 = dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1"),
    ):
        result = check(nets[net], answer)
        assert not result.match and result.expected != result.answer


def test_report_writes_local_partials_with_curly_d_and_whole_derivatives_with_d(nets):
    report = format_check_text(check(nets["skip"], "dL/dx1 = dL/dyhat*dyhat/dx1 + dL/dx2"))
    assert "expected: dL/dx1 = ∂L/∂yhat · ∂yhat/∂x1 + ∂L/∂yhat · ∂yhat/∂h1 · ∂h1/∂x1" in report
    assert "read as:  dL/dx1 = ∂L/∂yhat · ∂yhat/∂x1 + dL/dx2" in report


# -- derive's own output pasted back ----------------------------------------------------------


def _json(net_path, derivative):
    out = CliRunner().invoke(main, [derivative, "--net", str(net_path), "--format", "json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


@pytest.mark.parametrize("source", [*small_networks(), "skip", "tied"])
def test_derives_own_expansion_and_factored_form_pasted_back_match(nets, source):
    net = nets.get(source) or load_network(source)
    for param in net.parameters[:: max(1, len(net.parameters) // 3)]:  # a few per network
        data = _json(net.file, f"d{net.loss}/d{param}")
        for form in ("expansion", "factored"):
            answer = f"d{net.loss}/d{param} = {data[form]['text']}"
            result = check(net, answer)
            assert result.match, (form, answer, format_check_text(result))


def test_derives_expected_line_pasted_back_matches(nets):
    net = nets["skip"]
    expected = check(net, "dL/dx1 = dL/dyhat*dyhat/dx1").expected
    assert check(net, f"dL/dx1 = {expected}").match


def test_a_left_side_over_a_skip_edge_is_the_whole_derivative(nets):
    result = check(nets["skip"], "dyhat/dx1 = yhat*(1 - yhat)*W4")  # the local partial's formula
    assert [r.kind for r in result.reasons] == ["local_partial"]
    assert "the left side dyhat/dx1 is the whole derivative, over all 2 paths" in messages(result)
    assert check(nets["skip"], "dyhat/dx1 = yhat*(1 - yhat)*(W4 + W3*h1*(1 - h1)*W1)").match
