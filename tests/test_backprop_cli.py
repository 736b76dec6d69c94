"""`derive backprop`: its formats, its numbers (against sympy.diff of tests/reference.py's
composed loss, as are `derive dA/dB --at`'s), its errors."""

from __future__ import annotations

import json
import math

import pytest
import reference as ref
from click.testing import CliRunner
from renderers import markdown_math_errors

import derive
from derive.cli import main
from derive.evaluate import read_at
from derive.graph import load_network


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_json_has_the_stable_keys_of_spec_section_5():
    code, out, _ = run(
        "backprop",
        "--net",
        "two_hidden",
        "--format",
        "json",
        "--at",
        "x1=0.5",
        "--lr",
        "0.1",
        "--matrix",
    )
    assert code == 0
    data = json.loads(out)
    assert data["network"] == "two_hidden" and data["of"] == "L" and data["detail"] is False
    assert [row["node"] for row in data["sweep"]] == ["O31", "O21", "O22", "O11", "O12"]
    assert data["sweep"][3]["text"] == "dL/dO21*dO21/dO11 + dL/dO22*dO22/dO11"
    w1 = data["gradients"][0]
    assert w1["param"] == "W1" and w1["text"] == "dL/dO11*dO11/dW1"
    net = load_network("two_hidden")
    point = {**net.values, "x1": 0.5}
    want = ref.exact_gradient(net, "W1", point)
    assert w1["value"] == pytest.approx(want, rel=1e-12)
    assert w1["update"]["old"] == point["W1"]
    assert w1["update"]["new"] == pytest.approx(point["W1"] - 0.1 * want, rel=1e-12)
    assert data["multiplications"] == {"sweep": 18, "paths": 46}
    first = data["matrix"][0]
    assert first["W"]["shape"] == [2, 3] and first["W"]["names"][1] == ["W4", "W5", "W6"]
    assert first["dW"]["value"][0][0] == pytest.approx(want, rel=1e-12)


def test_every_gradient_and_derive_dA_dB_equal_sympy_diff_at_the_same_random_point():
    _, out, _ = run("backprop", "--net", "softmax", "--format", "json", "--at", "random:3")
    net = load_network("softmax")
    point, _ = read_at("random:3", net)
    for row in json.loads(out)["gradients"]:
        code, single, _ = run(
            f"dL/d{row['param']}", "--net", "softmax", "--at", "random:3", "--format", "json"
        )
        assert code == 0
        want = ref.exact_gradient(net, row["param"], point)
        for got in (row["value"], json.loads(single)["value"]):
            assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-15), row["param"]


def test_text_shows_lines_numbers_updates_and_the_cost():
    code, out, _ = run(
        "backprop", "--net", "two_hidden", "--detail", "--at", "x1=0.5", "--lr", "0.1"
    )
    assert code == 0
    assert "dL/dz11 = dL/dO11 · ∂O11/∂z11" in out
    assert "update: W1 ← W1 − η·dL/dW1" in out
    assert "Cost: the sweep takes 23 multiplications" in out
    assert "computed once and reused by everything below it" in out


def test_matrix_text_names_every_factor_and_its_shape():
    _, out, _ = run("backprop", "--net", "softmax", "--matrix", "--at", "x1=1")
    assert "δ^(1) = (W^(2))ᵀ δ^(2) ⊙ relu'(z^(1))" in out
    assert "J^(2)ᵀ ∇_a L = a^(2) − y" in out


@pytest.mark.parametrize("flavor", ["github", "portable"])
def test_markdown_math_renders_with_katex_strict(katex, flavor):
    md = "\n".join(
        run("backprop", "--net", name, "--format", "markdown", "--md-flavor", flavor, *extra)[1]
        for name, extra in [
            ("two_hidden", ["--detail", "--at", "x1=0.5", "--lr", "0.1", "--matrix"]),
            ("softmax", ["--matrix", "--at", "x1=1"]),
            ("two_hidden_tied", []),
        ]
    )
    errors = markdown_math_errors(md, flavor)
    assert not errors, "\n".join(errors[:10])


def test_latex_compiles_with_pdflatex(pdflatex, tmp_path):
    body = "\n\n".join(
        run("backprop", "--net", name, "--format", "latex", *extra)[1]
        for name, extra in [
            ("two_hidden", ["--detail", "--at", "x1=0.5", "--lr", "0.1", "--matrix"]),
            ("softmax", ["--matrix", "--at", "x1=1"]),
        ]
    )
    tex = tmp_path / "sweep.tex"
    tex.write_text(
        "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
        + body
        + "\n\\end{document}\n"
    )
    assert pdflatex(tex, tmp_path / "out").stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--net", "two_hidden_tied", "--matrix"], "the weight W1 is tied"),
        (["--net", "two_hidden", "--at", "random:x"], "cannot read the seed in 'random:x'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    code, _, err = run("backprop", *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1, err


def test_notebook_result_renders_markdown_and_math_only_latex():
    r = derive.backprop("two_hidden", at={"x1": 0.5}, lr=0.1)
    assert r.multiplications == {"sweep": 18, "paths": 46}
    assert r._repr_markdown_().startswith("## The backward sweep")
    tex = r._repr_latex_()
    assert tex.startswith("$$") and tex.endswith("$$") and "\\text" not in tex
    assert math.isclose(r.gradients["W1"], r.to_json()["gradients"][0]["value"])


def test_a_saturated_output_gives_a_number_or_one_clean_line_never_a_traceback():
    # W11 = W12 = 40 puts O31 at 1.0 in floats. With y = 1 the bce loss is 0 and
    # dL/dO31 is -1 (a term weighted by 1 - y = 0 is 0), in the sweep and in dL/dW1 alike
    # (one local partial for both); O31's slope O31(1 - O31) is 0, so dL/dW1 is 0. With
    # y = 0 the loss is infinite. An input too large for a float is refused.
    code, out, _ = run(
        "backprop", "--net", "two_hidden", "--at", "W11=40,W12=40", "--format", "json"
    )
    assert code == 0 and json.loads(out)["sweep"][0]["value"] == -1.0
    code, out, _ = run("dL/dW1", "--net", "two_hidden", "--at", "W11=40,W12=40", "--format", "json")
    assert code == 0 and json.loads(out)["value"] == 0.0
    for args in [
        ["backprop", "--net", "two_hidden", "--at", "W11=40,W12=40,y=0"],
        ["dL/dW1", "--net", "two_hidden", "--at", "x1=1e999"],
    ]:
        code, out, err = run(*args)
        assert code == 2 and "Traceback" not in out + err
        assert (out + err).strip().startswith("derive:") and len(
            (out + err).strip().splitlines()
        ) == 1
