"""The command line, run from another folder: what a user sees, and exit codes.

In-process through click's CliRunner (``run``); a few smoke tests run the real
console script (``script``).
"""

from __future__ import annotations

import json
import math
import textwrap
from functools import cache

import pytest
import reference as ref
import sympy as sp
import yaml
from clirun import run, script
from conftest import SKIP, small_networks

from derive.graph import bundled_networks, load_network, resolve

NETWORKS = small_networks()
SPEC_KEYS = {
    "network",
    "of",
    "wrt",
    "path_count",
    "paths",
    "paths_truncated",
    "expansion",
    "factored",
    "local",
    "concrete",
}


def num(x: float) -> str:
    """The oracle for the one number format: 4 significant figures, trailing zeros kept."""
    return f"{x:#.4g}".removesuffix(".") if x else "0"


@cache
def net_of(name: str):
    return load_network(name)


def first_weight(name: str) -> str:
    net = net_of(name)
    return net.neurons[net.layers[0][0]].inputs[0][1]


def true_value(name: str, wrt: str, point: dict[str, float]) -> float:
    net = net_of(name)
    return ref.sympy_value(sp.diff(ref.composed_loss(net), sp.Symbol(wrt)), point)


# -- the main job ---------------------------------------------------------------------


def test_dL_dW1_two_hidden_prints_the_issues_first_two_lines(tmp_path):
    result = script(tmp_path, "dL/dW1", "--net", "two_hidden.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:3] == [
        "dL/dW1 = ∂L/∂O31 · ∂O31/∂O21 · ∂O21/∂O11 · ∂O11/∂W1",
        "       + ∂L/∂O31 · ∂O31/∂O22 · ∂O22/∂O11 · ∂O11/∂W1",
        "∂ marks a local partial (one formula differentiated, the rest held fixed);"
        " d a whole derivative (the sum over every path).",
    ]


def test_dL_dW1_two_hidden_adds_the_weights_line_of_the_backward_sweep(tmp_path):
    out = run(tmp_path, "dL/dW1", "--net", "two_hidden").stdout
    lines = out.splitlines()
    assert "Factored:" in lines
    at = lines.index("In the backward sweep (derive backprop):")
    assert lines[at + 1] == "  dL/dW1 = dL/dO11 · ∂O11/∂W1"


def test_a_tied_weights_sweep_line_sums_over_its_edges(tmp_path):
    net = net_of("two_hidden_tied")
    tied = next(w for w, edges in net.weight_edges.items() if len(edges) > 1)
    heads = sorted({dst for _, dst in net.weight_edges[tied]}, key=net.rank)
    out = run(tmp_path, f"dL/d{tied}", "--net", "two_hidden_tied").stdout.splitlines()
    line = out[out.index("In the backward sweep (derive backprop):") + 1]
    assert line == f"  dL/d{tied} = " + " + ".join(f"dL/d{h} · ∂{h}/∂{tied}" for h in heads)


def test_dL_dW1_two_hidden_text_spells_out_each_path(tmp_path):
    out = run(tmp_path, "dL/dW1", "--net", "two_hidden.yaml").stdout
    assert "L ← O31 ← O21 ← O11 ← W1" in out
    assert "L ← O31 ← O22 ← O11 ← W1" in out


def test_bare_bundled_name_and_file_path_give_the_same_output(tmp_path):
    by_name = run(tmp_path, "dL/dW1", "--net", "two_hidden").stdout
    copy = tmp_path / "mine.yaml"
    copy.write_text(resolve("two_hidden").read_text())
    by_path = run(tmp_path, "dL/dW1", "--net", str(copy)).stdout
    assert by_name == by_path


# -- formats --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NETWORKS)
def test_json_format_has_the_spec_keys(tmp_path, name):
    net = net_of(name)
    result = run(tmp_path, f"d{net.loss}/d{first_weight(name)}", "--net", name, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert SPEC_KEYS <= set(data)
    assert data["network"] == name and data["of"] == net.loss and data["wrt"] == first_weight(name)
    for key in ("expansion", "factored", "concrete"):
        assert {"text", "latex"} <= set(data[key])
    assert all({"text", "latex"} <= set(v) for v in data["local"].values())
    assert data["path_count"] == len(data["paths"])


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
@pytest.mark.parametrize("name", NETWORKS)
def test_markdown_and_latex_contain_the_expansion(tmp_path, name, fmt):
    net = net_of(name)
    args = [f"d{net.loss}/d{first_weight(name)}", "--net", name]
    data = json.loads(run(tmp_path, *args, "--format", "json").stdout)
    result = run(tmp_path, *args, "--format", fmt)
    assert result.returncode == 0, result.stderr
    terms = data["expansion"]["latex"].split(" + ")
    assert all(term in result.stdout for term in terms)


def test_text_format_option_equals_the_default(tmp_path):
    plain = run(tmp_path, "dL/dW1", "--net", "two_hidden").stdout
    assert run(tmp_path, "dL/dW1", "--net", "two_hidden", "--format", "text").stdout == plain


def test_max_paths_cuts_the_listing_but_keeps_the_exact_count(tmp_path):
    data = json.loads(
        run(
            tmp_path, "dL/dW1", "--net", "two_hidden", "--format", "json", "--max-paths", "1"
        ).stdout
    )
    assert data["path_count"] == 2
    assert len(data["paths"]) == 1
    assert data["paths_truncated"] is True
    assert data["expansion"]["text"].endswith("+ ...")


def test_max_paths_all_json_keeps_the_spec_keys(tmp_path):
    result = run(
        tmp_path, "dL/dW1", "--net", "two_hidden", "--format", "json", "--max-paths", "all"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert SPEC_KEYS <= set(data), sorted(SPEC_KEYS - set(data))
    assert data["paths"] == [["L", "O31", "O21", "O11", "W1"], ["L", "O31", "O22", "O11", "W1"]]


def test_max_paths_zero_text_gives_the_count_without_a_traceback(tmp_path):
    # derive() accepts max_paths=0 ("0 or more"); the text printer must cope with no listed path.
    result = run(tmp_path, "dL/dW1", "--net", "two_hidden", "--max-paths", "0")
    assert "Traceback" not in result.stderr, result.stderr.splitlines()[-1:]
    assert result.returncode == 0
    assert "Paths: 2" in result.stdout


# -- numbers: --at and --lr ----------------------------------------------------------


@pytest.mark.parametrize("name", NETWORKS)
def test_at_name_value_pairs_give_the_true_value(tmp_path, name):
    net = net_of(name)
    point = ref.random_point(net, 5)
    point = {k: round(v, 4) for k, v in point.items()}
    pairs = ",".join(f"{k}={v}" for k, v in point.items())
    wrt = first_weight(name)
    result = run(tmp_path, f"d{net.loss}/d{wrt}", "--net", name, "--format", "json", "--at", pairs)
    assert result.returncode == 0, result.stderr
    value = json.loads(result.stdout)["value"]
    assert math.isclose(value, true_value(name, wrt, point), rel_tol=1e-7, abs_tol=1e-12)


@pytest.mark.parametrize("name", NETWORKS)
def test_lr_update_is_old_minus_lr_times_value(tmp_path, name):
    net = net_of(name)
    wrt = first_weight(name)
    result = run(tmp_path, f"d{net.loss}/d{wrt}", "--net", name, "--format", "json", "--lr", "0.1")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    truth = true_value(name, wrt, net.values)
    assert math.isclose(data["value"], truth, rel_tol=1e-7, abs_tol=1e-12)
    assert data["update"]["lr"] == 0.1
    assert data["update"]["old"] == net.values[wrt]
    assert math.isclose(data["update"]["new"], net.values[wrt] - 0.1 * truth, rel_tol=1e-9)


def test_at_overrides_the_files_values(tmp_path):
    net = net_of("two_hidden")
    point = dict(net.values, W1=-0.7, y=0)
    result = run(
        tmp_path,
        "dL/dW1",
        "--net",
        "two_hidden",
        "--format",
        "json",
        "--at",
        "W1=-0.7,y=0",
        "--lr",
        "0.5",
    )
    data = json.loads(result.stdout)
    truth = true_value("two_hidden", "W1", point)
    assert math.isclose(data["value"], truth, rel_tol=1e-7)
    assert math.isclose(data["update"]["new"], -0.7 - 0.5 * truth, rel_tol=1e-9)


def test_at_reads_a_yaml_point_file(tmp_path):
    net = net_of("chain_3b1b")
    point = {"a0": 0.5, "w1": 1e-3, "b1": 0.25, "w2": -2, "b2": 0.1, "y": 0}
    path = tmp_path / "point.yaml"
    path.write_text("a0: .5\nw1: 1e-3\nb1: 0.25\nw2: -2\nb2: 0.1\ny: 0\n")
    result = run(tmp_path, "dC0/dw2", "--net", "chain_3b1b", "--format", "json", "--at", str(path))
    assert result.returncode == 0, result.stderr
    truth = ref.sympy_value(sp.diff(ref.composed_loss(net), sp.Symbol("w2")), point)
    assert math.isclose(json.loads(result.stdout)["value"], truth, rel_tol=1e-7)


def test_text_with_lr_shows_the_update_line(tmp_path):
    out = run(tmp_path, "dC0/dw2", "--net", "chain_3b1b", "--detail", "--lr", "0.1").stdout
    truth = true_value("chain_3b1b", "w2", net_of("chain_3b1b").values)
    line = next(x for x in out.splitlines() if "update:" in x)
    assert "w2_new" in line
    assert line.rstrip().endswith(num(0.9 - 0.1 * truth))


NO_VALUES = textwrap.dedent(
    """\
    layers:
      - inputs: [x1, x2]
      - neurons: [O11, O12]
      - neurons: [O21]
    loss:
      kind: squared_error
    """
)


def test_missing_at_values_are_all_listed_with_exit_2(tmp_path):
    (tmp_path / "net.yaml").write_text(NO_VALUES)
    result = run(tmp_path, "dL/dW1", "--net", "net.yaml", "--at", "x1=1")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    missing = ["x2", "W1", "W2", "W3", "W4", "W5", "W6", "y"]
    assert all(name in result.stderr for name in missing), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_at_needs_only_the_values_the_derivative_involves(tmp_path):
    # SPEC 2: --at needs a value for every input, weight, bias and target the
    # derivative involves; O12, O21, W3..W6 and y play no part in dO11/dW1.
    (tmp_path / "net.yaml").write_text(NO_VALUES)
    result = run(
        tmp_path,
        "dO11/dW1",
        "--net",
        "net.yaml",
        "--format",
        "json",
        "--at",
        "x1=1,x2=0.5,W1=0.2,W2=-0.4",
    )
    assert result.returncode == 0, result.stderr
    o11 = 1 / (1 + math.exp(-(1 * 0.2 + 0.5 * -0.4)))
    assert math.isclose(json.loads(result.stdout)["value"], o11 * (1 - o11) * 1, rel_tol=1e-9)


# -- mistakes -------------------------------------------------------------------------


def test_unknown_name_suggests_close_names_with_exit_2(tmp_path):
    result = run(tmp_path, "dL/dW99", "--net", "two_hidden")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "W99" in result.stderr and "W9" in result.stderr.replace("W99", "")
    assert result.stdout == ""


def test_unknown_of_name_suggests_close_names_with_exit_2(tmp_path):
    result = run(tmp_path, "dO32/dW1", "--net", "two_hidden")
    assert result.returncode == 2
    assert "O31" in result.stderr and "Traceback" not in result.stderr


def test_preactivation_without_detail_is_a_usage_error(tmp_path):
    result = run(tmp_path, "dL/dz21", "--net", "two_hidden")
    assert result.returncode == 2
    assert "--detail" in result.stderr and "Traceback" not in result.stderr


def test_zero_derivative_exits_0_and_says_why(tmp_path):
    result = run(tmp_path, "dO12/dW1", "--net", "two_hidden")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "dO12/dW1 = 0"
    assert "W1" in lines[1] and "O12" in lines[1]


# -- networks and show ----------------------------------------------------------------


def test_networks_lists_every_bundled_network_with_its_title(tmp_path):
    result = run(tmp_path, "networks")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(NETWORKS) == 6
    for path in bundled_networks():
        title = yaml.safe_load(path.read_text())["title"]
        assert any(line.split()[0] == path.stem and title in line for line in lines), path.stem


def test_show_lists_W1_from_x1_to_O11(tmp_path):
    result = run(tmp_path, "show", "--net", "two_hidden")
    assert result.returncode == 0
    assert any(line.split() == ["W1", "x1", "O11"] for line in result.stdout.splitlines())


@pytest.mark.parametrize("name", NETWORKS)
def test_show_lists_every_weight_edge_and_the_loss(tmp_path, name):
    net = net_of(name)
    rows = {
        tuple(line.split()) for line in run(tmp_path, "show", "--net", name).stdout.splitlines()
    }
    for neuron in net.neurons.values():
        for src, weight in neuron.inputs:
            assert (weight, src, neuron.name) in rows
    assert any(row[:1] == ("Loss:",) and net.loss in row for row in rows)


def test_text_at_shows_forward_values_local_values_and_path_products(tmp_path):
    net = net_of("chain_3b1b")
    point = dict(net.values)
    env = ref.forward(net, point)
    out = run(tmp_path, "dC0/dw2", "--net", "chain_3b1b", "--detail", "--at", "y=1").stdout
    block = out[out.index("At the point:") :]
    for name in ("z1", "a1", "z2", "a2", "C0"):
        assert f"{name} = {num(env[name])}" in block, name
    slope = env["a2"] * (1 - env["a2"])
    assert f"∂a2/∂z2 = {num(slope)}" in block
    assert f"∂C0/∂a2 = {num(2 * (env['a2'] - 1))}" in block
    product = 2 * (env["a2"] - 1) * slope * env["a1"]
    assert f"C0 ← a2 ← z2 ← w2: {num(product)}" in block


def test_partial_sign_spelling_gives_the_same_output(tmp_path):
    plain = run(tmp_path, "dL/dW1", "--net", "two_hidden").stdout
    assert run(tmp_path, "∂L/∂W1", "--net", "two_hidden").stdout == plain


def test_unknown_network_suggests_bundled_names_with_exit_2(tmp_path):
    result = run(tmp_path, "dL/dW1", "--net", "two_hiden")
    assert result.returncode == 2
    assert "two_hidden" in result.stderr and "Traceback" not in result.stderr


def test_unreadable_derivative_is_a_usage_error(tmp_path):
    result = script(tmp_path, "dL dW1", "--net", "two_hidden")
    assert result.returncode == 2
    assert "dL/dW1" in result.stderr and "Traceback" not in result.stderr


# -- what derive prints pastes back into derive check ------------------------------------


def _printed_equations(out: str) -> list[str]:
    """Return the report's expansion, factored form and sweep line as one-line equations."""
    lines = out.splitlines()
    lhs = lines[0].split(" = ")[0]
    expansion = " + ".join(
        line.split(" = ", 1)[1] if i == 0 else line.strip()[2:]
        for i, line in enumerate(lines[: lines.index("") - 1])
    )
    factored = lines[lines.index("Factored:") + 1].strip()
    sweep = lines[lines.index("In the backward sweep (derive backprop):") + 1].strip()
    return [f"{lhs} = {expansion}", factored, sweep]


@pytest.mark.parametrize("name", ["two_hidden", "two_hidden_tied", "multi_3b1b"])
def test_every_printed_equation_pastes_back_into_check(tmp_path, name):
    net = net_of(name)
    wrt = net.parameters[0]
    out = run(tmp_path, f"d{net.loss}/d{wrt}", "--net", name).stdout
    for equation in _printed_equations(out):
        result = run(tmp_path, "check", equation, "--net", name)
        assert result.returncode == 0, (equation, result.stdout)


@pytest.mark.parametrize("name", ["two_hidden", "two_hidden_tied"])
def test_the_printed_latex_pastes_back_into_check(tmp_path, name):
    net = net_of(name)
    wrt = net.parameters[0]
    data = json.loads(
        run(tmp_path, f"d{net.loss}/d{wrt}", "--net", name, "--format", "json").stdout
    )
    lhs = rf"\frac{{\mathrm{{d}}{net.latex_names[net.loss]}}}{{\mathrm{{d}}{net.latex_names[wrt]}}}"
    for key in ("expansion", "factored", "sweep"):
        equation = f"{lhs} = {data[key]['latex']}"
        result = run(tmp_path, "check", equation, "--net", name)
        assert result.returncode == 0, (equation, result.stdout)


def test_a_skip_networks_printed_equations_paste_back_into_check(tmp_path):
    # h feeds N directly and through E: the local partial dN/dh and the whole one differ.
    (tmp_path / "skip.yaml").write_text(SKIP)
    out = run(tmp_path, "dN/dh", "--net", "skip.yaml").stdout
    for equation in _printed_equations(out):
        result = run(tmp_path, "check", equation, "--net", "skip.yaml")
        assert result.returncode == 0, (equation, result.stdout)
