"""A computational graph's notes: written by derive notes, rendered by KaTeX, pdflatex and a browser.

One run of each renderer covers every bundled graph (the renderers dominate the cost); the
browser draws their Mermaid in test_diagrams.py, in the one browser run of the suite.
"""

import pytest
from conftest import graph_networks
from renderers import markdown_math_errors

from derive.graph import load_network
from derive.notes import write_course
from derive.notes.gates import gate_values
from derive.sweep import values

GRAPHS = graph_networks()


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    out = tmp_path_factory.mktemp("graph-notes")
    for name in GRAPHS:
        write_course([name], out, fmt="both")
    return out


def test_the_gate_view_puts_each_value_above_its_edge_and_its_gradient_below():
    net = load_network("circuit")
    edges = gate_values(net, values(net, dict(net.values)))
    # CS231n's figure: x = -2 flows into q with gradient -4; q = 3 into f with gradient -4.
    assert {(e["src"], e["dst"]): (e["value"], e["grad"]) for e in edges} == {
        ("x", "q"): (-2.0, -4.0),
        ("y", "q"): (5.0, -4.0),
        ("z", "f"): (-4.0, 3.0),
        ("q", "f"): (3.0, -4.0),
    }


def graph_note_documents(out) -> dict[str, str]:
    """Return every bundled graph's Markdown note, written by derive notes into ``out``."""
    for name in GRAPHS:
        write_course([name], out, fmt="markdown")
    return {name: (out / f"{name}.md").read_text(encoding="utf-8") for name in GRAPHS}


def test_every_graph_note_renders_in_katex(notes, katex):
    docs = {name: (notes / f"{name}.md").read_text(encoding="utf-8") for name in GRAPHS}
    assert "-2.000 / -4.000" in docs["circuit"]  # the gate view's edge x -> q
    assert "| mean | 0.6960 |" in docs["xor"]  # the batch's worked mean
    for name, md in docs.items():
        assert markdown_math_errors(md, "github") == [], name


def test_every_graph_note_compiles_with_pdflatex(notes, pdflatex, tmp_path):
    for name in GRAPHS:
        pdf = pdflatex(notes / f"{name}.tex", tmp_path)
        assert pdf.exists(), name
