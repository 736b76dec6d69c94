"""Computational graphs, the gaps after issue 17's first landing: a function's own terms,
grading a batch's cost, an L2 penalty in every command, JSON and Python on graphs.
(A batch's Markdown and LaTeX: test_graph_batch.py; graph notes in a course: test_graph_notes.py.)"""

import json
import math

import pytest
import sympy as sp
from clirun import run

import derive
from derive.expand import local_partial
from derive.graph import load_network

GATES = """\
name: gates
inputs: [x]
params: [w]
nodes:
  s: sigmoid(w*x)
  t: tanh(s + x)
  u: 2*sigmoid(t)
output: u
values: {x: 0.7, w: -1.3}
"""


def test_a_sigmoid_or_tanh_node_reads_its_partial_in_its_own_value_as_a_course_does(tmp_path):
    path = tmp_path / "gates.yaml"
    path.write_text(GATES)
    net = load_network(str(path))
    s, t, w, x = sp.symbols("s t w x")
    assert local_partial(net, "s", "w") == s * x * (1 - s)  # CS231n's (1 - f) f
    assert local_partial(net, "t", "s") == 1 - t**2
    assert "exp" in str(local_partial(net, "u", "t"))  # inside a product: in its argument
    # The values stay the derivative's: central differences of the formulas written here.
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731

    def u(wv, xv=0.7):
        return 2 * sig(math.tanh(sig(wv * xv) + xv))

    h = 1e-6
    d = derive.differentiate(net, "du/dw", at_point={})
    assert d.value == pytest.approx((u(-1.3 + h) - u(-1.3 - h)) / (2 * h), rel=1e-7)
    out = run(tmp_path, "backprop", "--net", "neuron_cs231n")
    assert "∂f/∂dot = f*(1 - f)" in out.stdout


def test_check_grades_a_batch_cost_as_the_mean_of_the_examples_losses(tmp_path):
    net = load_network("xor")
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731

    def cost(w1):  # XOR's 2-2-1 network, its bce averaged over the examples, written here
        p = dict(net.values, W1=w1)
        total = 0.0
        for e in net.examples:
            h1 = sig(p["W1"] * e["x1"] + p["W2"] * e["x2"] + p["b1"])
            h2 = sig(p["W3"] * e["x1"] + p["W4"] * e["x2"] + p["b2"])
            o = sig(p["W5"] * h1 + p["W6"] * h2 + p["b3"])
            total -= e["y"] * math.log(o) + (1 - e["y"]) * math.log(1 - o)
        return total / len(net.examples)

    h, w1 = 1e-6, net.values["W1"]
    mean = (cost(w1 + h) - cost(w1 - h)) / (2 * h)
    answers = tmp_path / "a.txt"
    answers.write_text(
        f"dC/dW1 = {mean:.4g}\n"  # the mean at the file's point: right
        f"dC/dW1 = {-mean:.4g}\n"  # a sign error
        "dC/dW1 = W5*h1*x1*(1 - h1)*(o - y)\n"  # each example's dL/dW1: right
        "dC/dW1 = dL/do*do/dh1*dh1/dW1\n"  # the chain of it: right
        "dC/dW1 = W5*h1*x1*(1 - h1)\n"  # no loss slope: wrong
    )
    out = run(tmp_path, "check", "--file", "a.txt", "--net", "xor", "--format", "json")
    verdicts = [line["verdict"] for line in __import__("json").loads(out.stdout)["results"]]
    assert verdicts == ["match", "mismatch", "match", "match", "mismatch"], out.stdout
    assert out.returncode == 1


MIXED = """\
layers:
  - inputs: [x1, x2]
  - neurons: [h1]
    activation: tanh
  - neurons: [o]
loss: {kind: bce}
nodes:
  s: x1 * x2
  C: L + 0.01*(W1**2 + W2**2 + W4**2)
edges:
  x1 -> h1: W1
  s -> h1: W2
  h1 -> o: W4
output: C
values: {x1: 0.5, x2: -0.3, W1: 0.2, W2: -0.4, W4: 0.7, y: 1}
"""


def test_an_l2_penalty_works_in_every_command(tmp_path):
    (tmp_path / "m.yaml").write_text(MIXED)
    shown = run(tmp_path, "show", "--net", "m.yaml").stdout
    assert "C  =  L + 0.01*(W1**2 + W2**2 + W4**2)" in shown and "Output: C" in shown
    right = run(tmp_path, "check", "dC/dW4 = dC/dW4 + dC/dL*dL/do*do/dW4", "--net", "m.yaml")
    assert right.returncode == 0, right.stdout
    wrong = run(tmp_path, "check", "dC/dW4 = dC/dL*dL/do*do/dW4", "--net", "m.yaml")
    assert wrong.returncode == 1 and "missing path C ← W4" in wrong.stdout  # the penalty's
    out = json.loads(
        run(tmp_path, "backprop", "--net", "m.yaml", "--at", "", "--format", "json").stdout
    )
    # dC/dW4 = dL/dW4 + 0.02*W4: the loss's part from a plain formula written here.
    h1 = math.tanh(0.2 * 0.5 - 0.4 * 0.5 * -0.3)
    o = 1 / (1 + math.exp(-0.7 * h1))
    grads = {g["param"]: g["value"] for g in out["gradients"]}
    assert grads["W4"] == pytest.approx((o - 1) * h1 + 0.02 * 0.7, rel=1e-12)
    assert out["of"] == "C" and out["forward"]["C"] == pytest.approx(
        -math.log(o) + 0.01 * (0.2**2 + 0.4**2 + 0.7**2), rel=1e-12
    )
    notes = run(tmp_path, "notes", "--net", "m.yaml", "--out", "n")
    assert notes.returncode == 0 and (tmp_path / "n" / "m.md").exists(), notes.stderr


def test_json_and_python_on_graphs_keep_the_keys_of_spec_sections_3_and_5():
    d = derive.differentiate("circuit", "df/dx", at_point={})
    keys = {"network", "of", "wrt", "path_count", "paths", "paths_truncated", "expansion"}
    assert keys | {"factored", "local", "concrete", "value", "forward"} <= set(d.to_json())
    assert d.to_json()["paths"] == [["f", "q", "x"]] and d.value == -4.0
    b = derive.backprop("rnn3", at={})
    assert {"network", "of", "detail", "sweep", "gradients", "multiplications", "forward"} <= set(
        b.to_json()
    )
    batch = derive.backprop("xor", at={}).to_json()
    assert [len(e["gradients"]) for e in batch["examples"]] == [9] * 4
    for shown in (derive.load("circuit"), d, b, derive.backprop("xor", at={})):
        assert "<svg" in shown._repr_html_()
        assert shown._repr_markdown_() if hasattr(shown, "_repr_markdown_") else True
