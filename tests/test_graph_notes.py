"""A computational graph's notes: written by derive notes, rendered by KaTeX, pdflatex and a browser.

One run of each renderer covers every bundled graph (the renderers dominate the cost): KaTeX
here; pdflatex in tests/test_notes.py, which compiles every note of output/'s course, where
every bundled graph is (checked here); the browser draws their Mermaid in test_diagrams.py,
in the one browser run of the suite.
"""

from pathlib import Path

import pytest
from clirun import run
from conftest import graph_networks
from renderers import markdown_math_errors

from derive.graph import load_network
from derive.notes import write_course
from derive.notes.gates import exercises, gate_values
from derive.notes.write import read_course
from derive.sweep import values

GRAPHS = graph_networks()


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    out = tmp_path_factory.mktemp("graph-notes")
    for name in GRAPHS:
        write_course([name], out, fmt="markdown")
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
    # Its sigmoid neuron: an input's gradient too (the notes' dx = [0.393, -0.590]).
    neuron = load_network("neuron_cs231n")
    edges = gate_values(neuron, values(neuron, dict(neuron.values)))
    dx = {e["src"]: round(e["grad"], 3) for e in edges if e["src"] in ("x0", "x1")}
    assert dx == {"x0": 0.393, "x1": -0.590}


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
    assert "](circuit.gates.svg)" in docs["circuit", "github"]  # the gate view (test_diagrams)
    assert "| mean | 0.6960 |" in docs["xor", "github"]  # the batch's worked mean
    for flavor in ("github", "portable"):  # one KaTeX run reads them all
        docs["batch", flavor] = batch_documents("markdown", flavor)
    for (name, flavor), md in docs.items():
        assert markdown_math_errors(md, flavor) == [], name


def test_every_bundled_graph_is_in_the_course_of_output_whose_notes_compile():
    course = Path(__file__).resolve().parent.parent / "output" / "course.yaml"
    assert set(GRAPHS) <= set(read_course([str(course)]))


def test_a_course_mixes_layered_networks_and_graphs(tmp_path):
    out = run(
        tmp_path, "notes", "--net", "circuit", "--net", "simple", "--out", "c", "--format", "all"
    )
    assert out.returncode == 0, out.stderr
    # A graph's page is in the course too (SPEC section 7), linked from the index.
    assert (tmp_path / "c" / "circuit.html").exists() and (tmp_path / "c" / "simple.html").exists()
    assert "circuit.html" in (tmp_path / "c" / "index.html").read_text(encoding="utf-8")
    index = (tmp_path / "c" / "index.md").read_text(encoding="utf-8")
    assert index.index("(circuit.md)") < index.index("(simple.md)")  # fewest parameters first
    circuit = (tmp_path / "c" / "circuit.md").read_text(encoding="utf-8")
    assert "(index.md)" in circuit and circuit.endswith("(simple.md).\n")
    args = ["notes", "--net", "circuit", "--net", "rnn3", "--out", "g", "--format", "latex"]
    assert run(tmp_path, *args).returncode == 0  # a course of graphs alone
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == [
        "circuit.tex",
        "index.tex",
        "rnn3.tex",
    ]


def test_a_batchs_latex_fragments_compile_with_pdflatex(pdflatex, tmp_path):
    tex = tmp_path / "batch.tex"
    tex.write_text(
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
        + batch_documents("latex")
        + "\n\\end{document}\n"
    )
    assert pdflatex(tex, tmp_path / "batch").stat().st_size > 0


@pytest.mark.parametrize("name", GRAPHS)
def test_every_exercise_of_a_graph_note_is_graded_a_match_by_its_command(tmp_path, name):
    import shlex

    net = load_network(name)
    point = {**net.values, **(net.examples[0] if net.examples else {})}
    tasks = exercises(net, values(net, point))
    assert tasks
    for task in tasks:
        args = shlex.split(task["command"])
        assert args[:2] == ["derive", "check"]
        result = run(tmp_path, *args[1:])
        assert result.returncode == 0, (task["command"], result.stdout)
        lhs, rhs = args[2].split(" = ", 1)
        assert rhs != lhs  # never df/dz = df/dz


def test_no_line_or_node_of_the_gate_figure_runs_through_its_numbers(tmp_path):
    """The TikZ gate view sets each number where the HTML page's drawing found room: off every
    node, and off every line (TikZ's own bend curves sampled) wherever the figure has room.
    Sloped labels ran into nodes and across lines on rnn3 and micrograd. Read from the TikZ."""
    import math
    import re

    from renderers import tikz_bend

    crossed = []
    for name in GRAPHS:
        write_course([name], tmp_path / name, fmt="latex")
        tex = (tmp_path / name / f"{name}.tex").read_text(encoding="utf-8")
        pic = tex[tex.index(r"\begin{tikzpicture}") : tex.index(r"\end{tikzpicture}")]
        at = {
            m[1]: (float(m[2]), float(m[3]))
            for m in re.finditer(r"\] \((n\d+)\) at \(([-\d.]+), ([-\d.]+)\)", pic)
        }
        points = {  # a bias is a point its line starts at, under its label
            m[1]: (float(m[2]), float(m[3]))
            for m in re.finditer(r"\\coordinate \((n\d+)\) at \(([-\d.]+), ([-\d.]+)\)", pic)
        }
        lines = []
        for a, bend, b in re.findall(r"\((n\d+)\) (--|to\[bend [a-z]+=\d+\]) \((n\d+)\)", pic):
            angle = int(re.sub(r"\D", "", bend) or 0) * (-1 if "right" in bend else 1)
            ends = {**at, **points}
            lines.append(tikz_bend(ends[a], ends[b], angle, steps=60))
        labels = re.findall(
            r"\\node\[flow[^]]*\] at \(([-\d.]+), ([-\d.]+)\) \{\\\((.*?)\\\)\}", pic
        )
        assert labels and lines, name
        # Where a line must pass a number, the number is set over it, on a white patch.
        assert pic.rindex(r"\draw") < pic.index(r"\node[flow") and "fill=white" in tex
        for x, y, text in labels:
            x, y = float(x), float(y)
            half = 0.065 * len(text)  # \scriptsize digits, in the picture's units
            box = [(x + t * half, y) for t in (-1, -0.5, 0, 0.5, 1)]
            for n, centre in at.items():
                gap = min(math.dist(q, centre) for q in box) - 0.45
                assert gap > 0.05, f"{name}: {text} at ({x}, {y}) is on node {n}"
            if any(min(math.dist(q, p) for q in box for p in line) < 0.06 for line in lines):
                crossed.append(f"{name}: {text}")
    # rnn3's dL/da1 = 0.08252: W and U fan out under the whole edge a1 -> h1.
    assert len(crossed) <= 1, crossed
