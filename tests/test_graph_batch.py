"""A batch (SPEC section 6): its reports in Markdown and LaTeX, and the notes' worked mean.

Every number in the tables is checked against a plain loop written here: XOR's 2-2-1
network of sigmoids with binary cross-entropy, backpropagated by hand example by example.
The renderers (KaTeX, pdflatex) read these documents in tests/test_graph_notes.py, in the
runs that read the graph notes.
"""

import math
import re
from pathlib import Path

import pytest
from clirun import run
from renderers import extract_markdown_math, markdown_escapes

from derive.graph import load_network
from derive.notes import write_course

XOR = load_network("xor")
POINT = dict(XOR.values, W1=0.3, b3=-0.1)
AT = "W1=0.3,b3=-0.1"


def by_hand(p: dict, e: dict) -> dict:
    """One example's loss, sweep and gradients, backpropagated by hand (no derive)."""
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    h1 = sig(p["W1"] * e["x1"] + p["W2"] * e["x2"] + p["b1"])
    h2 = sig(p["W3"] * e["x1"] + p["W4"] * e["x2"] + p["b2"])
    o = sig(p["W5"] * h1 + p["W6"] * h2 + p["b3"])
    y = e["y"]
    dz = o - y  # bce after a sigmoid
    dz1, dz2 = dz * p["W5"] * h1 * (1 - h1), dz * p["W6"] * h2 * (1 - h2)
    return {
        "L": -(y * math.log(o) + (1 - y) * math.log(1 - o)),
        "o": dz / (o * (1 - o)),
        "h1": dz * p["W5"],
        "h2": dz * p["W6"],
        "W1": dz1 * e["x1"], "W2": dz1 * e["x2"], "b1": dz1,
        "W3": dz2 * e["x1"], "W4": dz2 * e["x2"], "b2": dz2,
        "W5": dz * h1, "W6": dz * h2, "b3": dz,
    }  # fmt: skip


LOOP = [by_hand(POINT, e) for e in XOR.examples]
MEAN = {k: sum(run[k] for run in LOOP) / len(LOOP) for k in LOOP[0]}


def name_of(cell: str) -> str:
    """Return the network name a table cell's math ends in: ``dC/dW_{1}`` gives W1."""
    found = re.findall(r"\\mathrm\{d\}\s*([A-Za-z]+(?:_\{\d+\})?)", cell) or re.findall(
        r"([A-Za-z]+(?:_\{\d+\})?)", cell
    )
    return re.sub(r"[_{}]", "", found[-1])


def table(md: str, after: str) -> list[list[str]]:
    """Return the rows (cells) of the first Markdown table after the line ``after``."""
    lines = md[md.index(after) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return [rows[0], *rows[2:]]  # the head, then the body (the ---| line left out)


def close(cell: str, value: float) -> bool:
    return float(cell) == pytest.approx(value, rel=1e-3, abs=1e-9)  # 4 significant figures


def test_backprop_markdown_on_a_batch_tables_each_example_and_the_mean_as_the_loop():
    out = run(".", "backprop", "--net", "xor", "--at", AT, "--lr", "0.5", "--format", "markdown")
    assert out.returncode == 0, out.stderr
    head, *rows = table(out.stdout, "### Each example's sweep")
    names = [name_of(h) if "$" in h else h for h in head]
    assert names == ["example", "x1", "x2", "y", "L", "o", "h1", "h2"]
    for k, row in enumerate(rows):
        for name, cell in zip(names[4:], row[4:], strict=True):
            assert close(cell, LOOP[k][name]), (k, name)
    head, *rows = table(out.stdout, "### The gradients of the cost")
    assert head == ["gradient", "1", "2", "3", "4", "mean", "new value"]
    assert [name_of(r[0]) for r in rows] == XOR.parameters
    for row in rows:
        p = name_of(row[0])
        for k in range(4):
            assert close(row[1 + k], LOOP[k][p]), (p, k)
        assert close(row[5], MEAN[p]) and close(row[6], POINT[p] - 0.5 * MEAN[p]), p


def test_cost_markdown_on_a_batch_tables_each_examples_derivative_and_the_mean():
    out = run(".", "dC/dW5", "--net", "xor", "--at", AT, "--format", "markdown", "--lr", "0.1")
    assert out.returncode == 0, out.stderr
    head, *rows = table(out.stdout, "### At the 4 examples")
    assert [close(r[-1], LOOP[k]["W5"]) for k, r in enumerate(rows)] == [True] * 4
    mean = re.search(r"\\mathrm\{d\}W_\{5\}\} = (\S+)\n", out.stdout).group(1)
    assert close(mean, MEAN["W5"])


def test_the_notes_of_a_batch_work_each_examples_gradients_and_their_mean(tmp_path):
    write_course(["xor"], tmp_path, fmt="markdown", at=AT)
    md = (tmp_path / "xor.md").read_text(encoding="utf-8")
    head, *rows = table(md, "## The cost over the 4 examples")
    names = [name_of(h) if "$" in h else h for h in head]
    assert names[:2] == ["example", "L"] and set(names[2:]) <= set(XOR.parameters)
    for row in rows:
        expect = MEAN if row[0] == "mean" else LOOP[int(row[0]) - 1]
        for name, cell in zip(names[1:], row[1:], strict=True):
            assert close(cell, expect[name]), (row[0], name)
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "mean"]


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_a_batch_report_goes_through_the_languages_escape(tmp_path, fmt):
    text = Path(XOR.file).read_text(encoding="utf-8")
    hostile = re.sub(r"(?m)^title: .*$", lambda _: "title: 'a $x$ <b>`&` \\input{x} | #_^'", text)
    (tmp_path / "h.yaml").write_text(hostile)
    out = run(tmp_path, "backprop", "--net", "h.yaml", "--at", AT, "--format", fmt)
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    if fmt == "markdown":
        assert (
            first
            == "## The cost of a \\$x\\$ \\<b\\>\\`\\&\\` \\\\input\\{x\\} \\| \\#\\_^ over its 4 examples"
        )
    else:
        assert "\\textbackslash{}input\\{x\\}" in first and "\\$x\\$" in first


def test_portable_markdown_of_a_batch_has_nothing_a_markdown_pass_would_eat():
    for args in (("backprop",), ("dC/dW1",)):
        md = run(".", *args, "--net", "xor", "--at", AT, "--format", "markdown",
                 "--md-flavor", "portable").stdout  # fmt: skip
        for latex, _, _ in extract_markdown_math(md, "portable"):
            assert not markdown_escapes(latex), latex


def test_backprop_on_a_batch_without_a_point_says_the_cost_is_the_mean_and_how_to_get_numbers():
    out = run(".", "backprop", "--net", "xor")
    assert out.returncode == 0
    first = out.stdout.splitlines()[0]
    assert first.startswith("xor has 4 examples: the cost C is the mean of their L")
    assert "--at W1=0.5" in first
    again = run(".", "backprop", "--net", "xor", "--at", "W1=0.5")
    assert again.stdout.startswith("xor has 4 examples") and "C = mean of L = " in again.stdout


def test_matrix_on_a_batch_gives_the_layer_form_and_its_numbers_per_example():
    import json

    out = json.loads(
        run(".", "backprop", "--net", "xor", "--at", AT, "--matrix", "--format", "json").stdout
    )
    assert [m["W"]["names"] for m in out["matrix"]] == [
        [["W1", "W2"], ["W3", "W4"]],
        [["W5", "W6"]],
    ]
    one = json.loads(
        run(
            ".",
            "backprop",
            "--net",
            "xor",
            "--at",
            AT,
            "--matrix",
            "--example",
            "3",
            "--format",
            "json",
        ).stdout
    )
    dw = one["matrix"][0]["dW"]["value"]  # example 3: x1 = 1, x2 = 0
    assert dw[0][0] == pytest.approx(LOOP[2]["W1"]) and dw[1][1] == pytest.approx(LOOP[2]["W4"])
