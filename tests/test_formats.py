"""`--format markdown|latex|json` for one derivative, checked by real renderers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from renderers import extract_markdown_math, markdown_escapes, markdown_math_errors

from derive.evaluate import at
from derive.expand import derive
from derive.graph import bundled_networks, load_network
from derive.printing import report

NETWORKS = [p.stem for p in bundled_networks()]


def _first_layer_derivatives(name: str):
    """Yield (derivative, numbers) for the loss against every parameter of one network."""
    net = load_network(name)
    for p in net.parameters:
        d = derive(net, net.loss, p, detail=True)
        yield d, at(d, net.values, lr=0.1)


@pytest.mark.parametrize("flavor", ["github", "portable"])
@pytest.mark.parametrize("name", NETWORKS)
def test_markdown_math_renders_with_katex_strict(katex, name: str, flavor: str):
    # One document for the whole network: one KaTeX process, not one per derivative.
    md = "\n\n".join(
        report(d, "markdown", numbers, flavor=flavor)
        for d, numbers in _first_layer_derivatives(name)
    )
    errors = markdown_math_errors(md, flavor)
    assert not errors, "\n".join(errors[:10])


@pytest.mark.parametrize("name", NETWORKS)
def test_portable_markdown_has_nothing_a_markdown_pass_would_eat(name: str):
    for d, numbers in _first_layer_derivatives(name):
        md = report(d, "markdown", numbers, flavor="portable")
        for latex, _, _ in extract_markdown_math(md, "portable"):
            assert not markdown_escapes(latex), f"d{d.of}/d{d.wrt}: {latex}"


@pytest.mark.parametrize("name", NETWORKS)
def test_latex_fragments_compile_with_pdflatex(pdflatex, tmp_path: Path, name: str):
    body = "\n\n".join(report(d, "latex", numbers) for d, numbers in _first_layer_derivatives(name))
    tex = tmp_path / f"{name}.tex"
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
    assert out["update"]["new"] == pytest.approx(out["update"]["old"] - 0.1 * out["value"])
