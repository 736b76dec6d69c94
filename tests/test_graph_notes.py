"""A computational graph's notes: written by derive notes, rendered by KaTeX, pdflatex and a browser.

One run of each renderer covers every bundled graph (the renderers dominate the cost); the
browser draws their Mermaid in test_diagrams.py, in the one browser run of the suite.
"""

import pytest
from clirun import run
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


# What a batch's commands print as documents: the sweep with each example's and the mean
# (derive backprop) and one derivative of the cost (derive dC/dW1), with a step of --lr.
BATCH = [
    ["backprop", "--net", "xor", "--at", "W1=0.3", "--lr", "0.5"],
    ["dC/dW1", "--net", "xor", "--at", "W1=0.3", "--lr", "0.5"],
]


def batch_documents(fmt: str, flavor: str = "github") -> str:
    flags = ["--format", fmt] + (["--md-flavor", flavor] if fmt == "markdown" else [])
    outs = [run(".", *args, *flags) for args in BATCH]
    assert [o.returncode for o in outs] == [0, 0], [o.stderr for o in outs]
    return "\n\n".join(o.stdout for o in outs)


def test_every_graph_note_renders_in_katex(notes, katex):
    docs = {(name, "github"): (notes / f"{name}.md").read_text(encoding="utf-8") for name in GRAPHS}
    assert "-2.000 / -4.000" in docs["circuit", "github"]  # the gate view's edge x -> q
    assert "| mean | 0.6960 |" in docs["xor", "github"]  # the batch's worked mean
    for flavor in ("github", "portable"):  # one KaTeX run reads them all
        docs["batch", flavor] = batch_documents("markdown", flavor)
    for (name, flavor), md in docs.items():
        assert markdown_math_errors(md, flavor) == [], name


def test_every_graph_note_compiles_with_pdflatex(notes, pdflatex, tmp_path):
    for name in GRAPHS:
        pdf = pdflatex(notes / f"{name}.tex", tmp_path)
        assert pdf.exists(), name
    # A batch's LaTeX fragments, in one document (one more run: the fragments are not notes).
    tex = tmp_path / "batch.tex"
    tex.write_text(
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
        + batch_documents("latex")
        + "\n\\end{document}\n"
    )
    assert pdflatex(tex, tmp_path / "batch").stat().st_size > 0
