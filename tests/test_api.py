"""The Python API a notebook uses: derive.load, derive.differentiate, Result."""

from __future__ import annotations

import math

import reference as ref

import derive
import derive.check  # noqa: F401  (a submodule import must not hide derive.load)
import derive.notes  # noqa: F401


def test_load_works_again_after_submodules_are_imported():
    assert derive.load("two_hidden").name == "two_hidden"
    assert derive.load("simple").name == "simple"


def test_differentiate_gives_paths_factored_and_value():
    r = derive.differentiate("two_hidden", "dL/dW1", at_point={"x1": 0.3}, lr=0.1)
    assert r.path_count == 2
    assert r.paths[1] == ("L", "O31", "O22", "O11", "W1")
    assert r.factored == "dL/dO31*(dO31/dO21*dO21/dO11 + dO31/dO22*dO22/dO11)*dO11/dW1"
    net = derive.load("two_hidden")
    point = dict(net.values, x1=0.3)
    want = ref.exact_gradient(net, "W1", point)  # sympy.diff of the reference's loss
    assert math.isclose(r.value, want, rel_tol=1e-9)
    assert r.update["lr"] == 0.1 and r.update["old"] == point["W1"]
    assert math.isclose(r.update["new"], point["W1"] - 0.1 * want, rel_tol=1e-12)


def test_result_shows_itself_briefly_and_as_markdown():
    r = derive.differentiate("two_hidden", "dL/dW1")
    assert repr(r) == "<Result dL/dW1 in two_hidden: 2 paths>"
    assert r.value is None and r.update is None
    assert "$$" in r._repr_markdown_()  # Jupyter renders $$, not GitHub's ```math
    latex = r._repr_latex_()  # math only, so MathJax renders it
    assert latex.startswith(r"$$\begin{aligned} \frac{\mathrm{d}L}{\mathrm{d}W_{1}} &= ")
    assert latex.endswith(r"\end{aligned}$$") and "enumerate" not in latex


def test_a_network_shows_its_diagram_and_weight_table_in_jupyter():
    md = derive.load("two_hidden")._repr_markdown_()
    assert "```mermaid" in md
    net = derive.load("two_hidden")
    for weight, edges in net.weight_edges.items():
        for src, dst in edges:
            assert any(line.startswith(f"| {weight} | {src} | {dst} |") for line in md.splitlines())


def test_dir_lists_the_public_names():
    assert {"load", "differentiate", "check_answer", "write_notes"} <= set(dir(derive))
