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
