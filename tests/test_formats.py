"""`--format markdown|latex|json` for one derivative, checked by real renderers."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
import reference as ref
from conftest import SKIP, small_networks
from renderers import extract_markdown_math, markdown_escapes, markdown_math_errors

from derive.evaluate import at
from derive.expand import derive
from derive.graph import load_network
from derive.printing import report

NETWORKS = small_networks()


@cache
def _first_layer_derivatives(name: str) -> tuple:
    """Return (derivative, numbers) for the loss against every parameter of one network."""
    net = load_network(name)
    out = []
    for p in net.parameters:
        d = derive(net, net.loss, p, detail=True)
        out.append((d, at(d, net.values, lr=0.1)))
    return tuple(out)


def test_markdown_math_renders_with_katex_strict(katex):
    # One document per flavor for every bundled network: the derivatives are built once.
    for flavor in ("github", "portable"):
        md = "\n\n".join(
            report(d, "markdown", numbers, flavor=flavor)
            for name in NETWORKS
            for d, numbers in _first_layer_derivatives(name)
        )
        errors = markdown_math_errors(md, flavor)
        assert not errors, flavor + ":\n" + "\n".join(errors[:10])


@pytest.mark.parametrize("name", NETWORKS)
def test_portable_markdown_has_nothing_a_markdown_pass_would_eat(name: str):
    for d, numbers in _first_layer_derivatives(name):
        md = report(d, "markdown", numbers, flavor="portable")
        for latex, _, _ in extract_markdown_math(md, "portable"):
            assert not markdown_escapes(latex), f"d{d.of}/d{d.wrt}: {latex}"


def test_latex_fragments_compile_with_pdflatex(pdflatex, tmp_path: Path):
    # One document for every bundled network: one pdflatex run (an error names its line).
    body = "\n\n".join(
        report(d, "latex", numbers)
        for name in NETWORKS
        for d, numbers in _first_layer_derivatives(name)
    )
    tex = tmp_path / "all.tex"
    tex.write_text(
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
        + body
        + "\n\\end{document}\n"
    )
    assert pdflatex(tex, tmp_path / "out").stat().st_size > 0


def test_json_has_the_stable_keys_of_spec_section_3():
    net = load_network("two_hidden")
    d = derive(net, "L", "W1")
    out = json.loads(report(d, "json", at(d, net.values, lr=0.1)))
    for key in (
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
        "value",
        "update",
    ):
        assert key in out
    assert out["paths"] == [["L", "O31", "O21", "O11", "W1"], ["L", "O31", "O22", "O11", "W1"]]
    assert out["factored"]["text"] == "dL/dO31*(dO31/dO21*dO21/dO11 + dO31/dO22*dO22/dO11)*dO11/dW1"
    want = ref.exact_gradient(net, "W1", net.values)  # sympy.diff of the reference's loss
    assert out["value"] == pytest.approx(want, rel=1e-9)
    assert out["update"]["old"] == net.values["W1"]
    assert out["update"]["new"] == pytest.approx(net.values["W1"] - 0.1 * want, rel=1e-12)


@pytest.fixture
def skip_net(tmp_path: Path):
    (tmp_path / "skip.yaml").write_text(SKIP)
    return load_network(tmp_path / "skip.yaml")


def test_a_skip_edge_never_prints_one_symbol_for_two_things(skip_net):
    lines = report(derive(skip_net, "N", "h")).splitlines()
    assert lines[:2] == ["dN/dh = ∂N/∂h", "      + ∂N/∂E · ∂E/∂h"]
    assert "  dN/dh = ∂N/∂h + ∂N/∂E · ∂E/∂h" in lines  # factored
    sweep = lines[lines.index("In the backward sweep (derive backprop):") + 1]
    assert sweep == "  dN/dh = dN/dE · ∂E/∂h + ∂N/∂h"


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex"])
def test_the_notation_is_explained_once_right_after_the_first_formula(skip_net, fmt: str):
    out = report(derive(skip_net, "N", "h"), fmt)
    assert out.count("marks a local partial") == 1
    first = out.index("marks a local partial")
    assert out.index("N") < first < out.index("Paths")


def test_latex_writes_a_whole_derivative_with_an_upright_d(skip_net):
    tex = report(derive(skip_net, "N", "h"), "latex")
    assert r"\frac{\mathrm{d}N}{\mathrm{d}h} &= \frac{\partial N}{\partial h}" in tex
