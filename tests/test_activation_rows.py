"""An activation is one row of rules.py: leaky_relu and gelu, each checked on its own.

Each row's values and slopes are checked against tests/reference.py's independent
formulas (SymPy's Piecewise and erf, math.erfc), by central differences and by
sympy.diff; the network file using both goes through `derive dL/dW --at`,
`derive backprop --at` (every gradient against sympy.diff of the composed loss) and
its notes through KaTeX.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import reference as ref
import sympy as sp
from clirun import run
from renderers import markdown_math_errors

from derive import notes
from derive.graph import load_network
from derive.rules import ACTIVATIONS, number

HERE = Path(__file__).resolve().parent
NET = HERE / "new_activations.yaml"
NEW = ["leaky_relu", "gelu"]
ZS = [-2.5, -1.0, -0.3, 0.2, 0.7, 1.9]  # away from the kink at 0, on both sides


def _point() -> dict[str, float]:
    import yaml

    return {k: float(v) for k, v in yaml.safe_load(NET.read_text())["values"].items()}


@pytest.mark.parametrize("name", NEW)
def test_row_values_and_slopes_match_the_reference_and_its_central_differences(name):
    row, z, o = ACTIVATIONS[name], sp.Symbol("z"), sp.Symbol("O")
    h = 1e-6
    for v in ZS:
        want = ref._act_float(name, v)
        slope = (ref._act_float(name, v + h) - ref._act_float(name, v - h)) / (2 * h)
        assert row.value(v) == pytest.approx(want, rel=1e-12, abs=1e-15)
        assert number(row.forward(z), {"z": v}) == pytest.approx(want, rel=1e-12, abs=1e-15)
        assert row.slope_value(v, want) == pytest.approx(slope, rel=1e-7, abs=1e-9)
        symbolic = row.slope(z, o)
        assert number(symbolic, {"z": v, "O": want}) == pytest.approx(slope, rel=1e-7, abs=1e-9)
        exact = ref.sympy_value(sp.diff(ref._act_expr(name, z), z), {"z": v})
        assert row.slope_value(v, want) == pytest.approx(exact, rel=1e-12, abs=1e-15)


def test_leaky_relu_keeps_a_slope_below_its_kink_and_is_sampled_on_both_sides():
    row = ACTIVATIONS["leaky_relu"]
    assert row.slope_value(-3.0, -0.03) == 0.01 and row.slope_value(0.0, 0.0) == 0.01
    assert row.kink == 0.0 and not row.gates  # sampled on both sides; never "dead"


def test_derive_dL_dW_at_the_point_is_sympy_diff_of_the_composed_loss(tmp_path):
    net, point = load_network(str(NET)), _point()
    env = ref.forward(net, point)
    assert env["z_h2"] < 0 < env["z_h1"]  # one leaky relu on each side of its kink
    loss = ref.composed_loss(net)
    for w in ("W1", "b2"):  # through a gelu and a leaky relu above its kink, and below it
        r = run(tmp_path, f"dL/d{w}", "--net", str(NET), "--at", str(NET), "--format", "json")
        assert r.returncode == 0, r.stderr
        got = json.loads(r.stdout)["value"]
        assert got == pytest.approx(ref.sympy_value(sp.diff(loss, sp.Symbol(w)), point), rel=1e-9)
        assert got == pytest.approx(ref.central_difference(net, net.loss, w, point), rel=1e-6)


def test_backprop_gives_every_gradient_as_sympy_diff_of_the_composed_loss(tmp_path):
    net, point = load_network(str(NET)), _point()
    r = run(tmp_path, "backprop", "--net", str(NET), "--at", str(NET), "--format", "json")
    assert r.returncode == 0, r.stderr
    gradients = {g["param"]: g["value"] for g in json.loads(r.stdout)["gradients"]}
    loss = ref.composed_loss(net)
    assert set(gradients) == {p for p in ref.leaves(net) if p.startswith(("W", "b"))}
    for p, got in gradients.items():
        want = ref.sympy_value(sp.diff(loss, sp.Symbol(p)), point)
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), p


def test_the_notes_on_leaky_relu_and_gelu_render_with_katex(katex):
    md = notes.render_note(notes.build_note(load_network(str(NET))), "markdown", "github")
    assert r"\operatorname{gelu}" in md and r"\operatorname{lrelu}" in md
    assert markdown_math_errors(md, "github") == []


def test_an_answer_may_write_their_slopes_and_a_swapped_one_is_wrong(tmp_path):
    net = str(NET)
    for answer in ("dg1/dz_g1 = gelu'(z_g1)", "dh2/dz_h2 = lrelu'(z_h2)"):
        assert run(tmp_path, "check", answer, "--net", net).returncode == 0, answer
    assert run(tmp_path, "check", "dg1/dz_g1 = lrelu'(z_g1)", "--net", net).returncode == 1
