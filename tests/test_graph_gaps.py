"""Computational graphs, the gaps after issue 17's first landing: a function's own terms,
grading a batch's cost, a batch's report in Markdown and LaTeX, graph notes in a course."""

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
