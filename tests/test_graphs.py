"""Computational graphs (SPEC section 6): formula nodes, parameters, mixing with layers, batches.

Every value is checked against an oracle written here: the published numbers of
CS231n and micrograd, ``sympy.diff`` of a formula composed by hand, central
differences of a plain Python loop (the RNN, the batch), and random formula
graphs against central differences of their own formulas.
"""

import json
import math
import random

import pytest
import sympy as sp
from clirun import run
from hypothesis import given, settings
from hypothesis import strategies as st

import derive
from derive.batch import batch
from derive.errors import DeriveError
from derive.expand import derive as derivative
from derive.expand import local_partial
from derive.graph import load_network
from derive.netfile import read_spec
from derive.sweep import values


def gradients(net, point=None):
    return values(net, dict(net.values if point is None else point)).gradients


def write(tmp_path, text, name="g.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# -- the published numbers -------------------------------------------------------------


def test_cs231n_circuit_gives_minus_4_minus_4_and_3():
    g = gradients(load_network("circuit"))
    assert g == pytest.approx({"x": -4.0, "y": -4.0, "z": 3.0}, abs=1e-12)


def test_cs231n_sigmoid_neuron_gives_the_notes_dw_and_dx():
    net = load_network("neuron_cs231n")
    g = gradients(net)
    assert [round(g[w], 3) for w in ("w0", "w1", "w2")] == [-0.197, -0.393, 0.197]
    dx = [derive.differentiate(net, f"df/d{x}", at_point={}).value for x in ("x0", "x1")]
    assert [round(v, 3) for v in dx] == [0.393, -0.590]


def test_micrograd_readme_gives_24_7041_and_its_gradients_as_sympy_diff_does():
    net = load_network("micrograd")
    v = values(net, dict(net.values))
    assert round(v.forward["g"], 4) == 24.7041
    assert round(v.gradients["a"], 4) == 138.8338 and round(v.gradients["b"], 4) == 645.5773
    # The README's assignments composed by hand, and differentiated by SymPy.
    a, b = sp.symbols("a b")
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + sp.Max(0, b + a)
    d = d + 3 * d + sp.Max(0, b - a)
    f = (c - d) ** 2
    g = f / 2 + 10 / f
    at = {a: -4, b: 2}
    assert v.gradients["a"] == pytest.approx(float(sp.diff(g, a).subs(at)), rel=1e-12)
    assert v.gradients["b"] == pytest.approx(float(sp.diff(g, b).subs(at)), rel=1e-12)


# -- formula nodes -----------------------------------------------------------------------


def load_network_text(text, name="t.yaml"):
    from derive.graph import Network

    return Network(read_spec(name, text))


def test_a_name_used_twice_is_one_edge_with_its_partials_summed():
    net = load_network_text("inputs: [a, b]\nnodes:\n  c: a + a*b\n")
    assert list(net.graph().predecessors("c")) == ["a", "b"]
    assert local_partial(net, "c", "a") == 1 + sp.Symbol("b")
    assert gradients(net, {"a": 2.0, "b": 3.0})["a"] == 4.0


RNN = load_network("rnn3")


def rnn_loss(p):
    """The three-step RNN as a plain loop, written here."""
    h = p["h0"]
    for x in ("x1", "x2", "x3"):
        h = math.tanh(p["W"] * h + p["U"] * p[x])
    return (p["V"] * h - p["y"]) ** 2


def central(f, point, name, h=1e-6):
    up, down = dict(point), dict(point)
    up[name] += h
    down[name] -= h
    return (f(up) - f(down)) / (2 * h)


def test_rnn_tied_weight_has_one_path_per_step_and_the_loop_gradient():
    assert derivative(RNN, "L", "W").path_count == 3
    point = dict(RNN.values, h0=0.3)
    g = gradients(RNN, point)
    for p in ("W", "U", "V"):
        assert g[p] == pytest.approx(central(rnn_loss, point, p), rel=1e-6)


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


def test_an_l2_penalty_and_a_formula_source_match_sympy_diff_of_the_composed_cost():
    net = load_network_text(MIXED)
    x1, x2, w1, w2, w4, y = sp.symbols("x1 x2 W1 W2 W4 y")
    o = 1 / (1 + sp.exp(-w4 * sp.tanh(w1 * x1 + w2 * x1 * x2)))
    cost = -(y * sp.log(o) + (1 - y) * sp.log(1 - o)) + sp.Rational(1, 100) * (
        w1**2 + w2**2 + w4**2
    )
    at = {sp.Symbol(k): v for k, v in net.values.items()}
    g = gradients(net)
    for w in (w1, w2, w4):
        assert g[w.name] == pytest.approx(float(sp.diff(cost, w).subs(at)), rel=1e-10)
    d = derive.differentiate(net, "dC/dx1", at_point={})
    assert d.value == pytest.approx(float(sp.diff(cost, x1).subs(at)), rel=1e-10)
    assert d.path_count == 2  # through W1's edge and through s


def test_a_formula_node_gives_sympy_diff_concrete_formula():
    net = load_network("neuron_cs231n")
    d = derive.differentiate(net, "df/dw0")
    w0, w1, w2, x0, x1 = sp.symbols("w0 w1 w2 x0 x1")
    f = 1 / (1 + sp.exp(-(w0 * x0 + w1 * x1 + w2)))
    dot = sp.Symbol("dot")
    concrete = d.concrete.subs({dot: w0 * x0 + w1 * x1 + w2, sp.Symbol("f"): f})
    point = {s: random.Random(1).uniform(-1, 1) for s in (w0, w1, w2, x0, x1)}
    assert float(concrete.subs(point)) == pytest.approx(float(sp.diff(f, w0).subs(point)))


# -- batches ---------------------------------------------------------------------------------


def xor_loss(p):
    """XOR's 2-2-1 network and its bce, as a plain loop over the examples, written here."""
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    total = 0.0
    examples = load_network("xor").examples
    for e in examples:
        h1 = sig(p["W1"] * e["x1"] + p["W2"] * e["x2"] + p["b1"])
        h2 = sig(p["W3"] * e["x1"] + p["W4"] * e["x2"] + p["b2"])
        o = sig(p["W5"] * h1 + p["W6"] * h2 + p["b3"])
        total += -(e["y"] * math.log(o) + (1 - e["y"]) * math.log(1 - o))
    return total / len(examples)


def test_xor_batch_gradients_are_the_mean_and_match_central_differences_of_the_loop(tmp_path):
    net = load_network("xor")
    b = batch(net, dict(net.values))
    assert b.cost == pytest.approx(xor_loss(net.values), rel=1e-12)
    for p in net.parameters:
        assert b.gradients[p] == pytest.approx(central(xor_loss, net.values, p), rel=1e-6)
    out = json.loads(
        run(tmp_path, "backprop", "--net", "xor", "--at", "b3=0.05", "--format", "json").stdout
    )
    assert [e["example"] for e in out["examples"]] == [1, 2, 3, 4]
    mean = sum(e["gradients"][0]["value"] for e in out["examples"]) / 4
    assert out["gradients"][0]["value"] == pytest.approx(mean) and out["forward"]["C"] == b.cost
    cost = json.loads(
        run(tmp_path, "dC/dW5", "--net", "xor", "--at", "b3=0.05", "--format", "json").stdout
    )
    assert cost["of"] == "C" and cost["value"] == pytest.approx(b.gradients["W5"])
    one = run(tmp_path, "backprop", "--net", "xor", "--example", "2", "--at", "b3=0.05")
    assert "example 2 of 4 (x1 = 0, x2 = 1.000, y = 1.000)" in one.stdout


# -- every command on a graph --------------------------------------------------------------


def test_every_command_reads_a_graph(tmp_path):
    text = run(tmp_path, "df/dx", "--net", "circuit", "--at", "x=-2,y=5,z=-4").stdout
    assert "∂f/∂q = z" in text and "df/dx = -4.000" in text
    out = json.loads(
        run(tmp_path, "backprop", "--net", "circuit", "--at", "x=-2", "--format", "json").stdout
    )
    assert out["of"] == "f" and out["forward"]["q"] == 3.0 and out["forward"]["f"] == -12.0
    assert [g["param"] for g in out["gradients"]] == ["x", "y", "z"]  # no parameters: every input
    shown = run(tmp_path, "show", "--net", "micrograd").stdout
    assert "d2  =  d1 + d1*2 + relu(b + a)" in shown
    assert run(tmp_path, "check", "df/dz = q", "--net", "circuit").returncode == 0
    assert run(tmp_path, "check", "df/dx = df/dq*dq/dx", "--net", "circuit").returncode == 0
    wrong = run(tmp_path, "check", "dg/da = dg/dc1*dc1/da", "--net", "micrograd")
    assert wrong.returncode == 1 and "missing path g ← f ← e ← c3 ← a" in wrong.stdout
    matrix = run(tmp_path, "backprop", "--net", "circuit", "--matrix")
    assert matrix.returncode == 2 and "has no layer form" in matrix.stderr


# -- bad input: one line, exit 2 -----------------------------------------------------------

BAD = [
    (
        "inputs: [x, y]\nnodes:\n  q: x + * y\n",
        "g.yaml:3:10: the formula of q, column 5: unexpected '*'",
    ),
    (
        "inputs: [x, y]\nnodes:\n  q: x + yy\n",
        "g.yaml:3:10: the formula of q, column 5: unknown name 'yy'; did you mean y?",
    ),
    ("inputs: [x]\nnodes:\n  q: sigmod(x)\n", "unknown function 'sigmod'; did you mean sigmoid?"),
    ("inputs: [x]\nnodes:\n  q: print(x)\n", "unknown function 'print'"),
    ("inputs: [x]\nnodes:\n  q: __import__('os')\n", "column 1: unexpected '_'"),
    (
        "inputs: [x]\nnodes:\n  q: x.real\n",
        "g.yaml:3:7: the formula of q, column 2: unexpected '.'",
    ),
    ("inputs: [x]\nnodes:\n  q: 'lambda: x'\n", "unknown name 'lambda'"),
    ("inputs: [x]\nnodes:\n  q: \"'s' + x\"\n", "unexpected '''"),
    (
        "inputs: [x, y]\nparams: [x]\nnodes:\n  q: x + y\n",
        "g.yaml:2:10: 'x' is both an input and a parameter",
    ),
    (
        "inputs: [x, y]\nnodes:\n  q: f + x\n  f: q * y\n",
        "g.yaml:3:6: the nodes q -> f -> q form a cycle",
    ),
    (
        "inputs: [x, y]\nnodes:\n  q: x*y\nexamples:\n  - {x: 1}\n",
        "g.yaml:5:5: example 1 has no value for y",
    ),
    (
        "inputs: [x, y]\nnodes:\n  q: x*y\nexamples:\n  - {x: 1, y: 2, z: 3}\n",
        "example 1 gives 'z', which is not an input",
    ),
    (
        "inputs: [x]\nnodes:\n  q: x\n  r: x\n",
        "q, r are used by no other node; name one with 'output: NAME'",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_a_bad_graph_is_one_line_and_exit_2(tmp_path, text, message):
    write(tmp_path, text)
    result = run(tmp_path, "show", "--net", "g.yaml")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    notes = run(tmp_path, "notes", "--net", "g.yaml", "--out", "notes")  # nothing written
    assert (notes.returncode, notes.stderr) == (2, result.stderr) and not (
        tmp_path / "notes"
    ).exists()


def test_an_exponent_that_overflows_at_the_point_is_one_line(tmp_path):
    write(tmp_path, "inputs: [x]\nnodes:\n  q: x**60\n")
    expected = (
        "derive: g.yaml:3:6: q = x**60 has no value at this point: its value overflows "
        "(too large for a float) (x = 1e+10); give other values with --at, or change the formula\n"
    )
    for args in (["backprop"], ["dq/dx"], ["notes", "--out", "notes"]):
        result = run(tmp_path, *args, "--net", "g.yaml", "--at", "x=1e10")
        assert (result.returncode, result.stdout, result.stderr) == (2, "", expected), args
    assert not (tmp_path / "notes").exists()


# -- random formula graphs against central differences ---------------------------------------

OPS = ["{a} + {b}", "{a} * {b}", "{a} - {b}", "{a} / (1 + {b}**2)", "tanh({a})", "sigmoid({a}) * {b}",
       "exp(-{a}**2)", "softplus({a})", "sqrt(1 + {a}**2)", "{a} * {a} + {b}"]  # fmt: skip


@settings(max_examples=12, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, len(OPS) - 1), st.integers(0, 99), st.integers(0, 99)),
        min_size=1,
        max_size=16,  # deep chains: each node may use any node before it
    ),
    st.integers(0, 10**6),
)
def test_random_formula_graphs_match_central_differences(steps, seed):
    names = ["x", "y", "w"]
    lines = []
    for k, (op, i, j) in enumerate(steps):
        node = f"n{k}"
        lines.append(
            # a: the latest node by default (a deep chain), b: any name (shared operands)
            f"  {node}: {OPS[op].format(a=names[-1 - i % len(names)], b=names[j % len(names)])}"
        )
        names.append(node)
    text = "inputs: [x, y]\nparams: [w]\nnodes:\n" + "\n".join(lines) + f"\noutput: {names[-1]}\n"
    net = load_network_text(text)
    rng = random.Random(seed)
    point = {n: rng.uniform(-1, 1) for n in ("x", "y", "w")}
    from derive.evaluate import forward

    def out(p):
        return forward(net, p)[names[-1]]

    v = values(net, point)
    for leaf in ("x", "y", "w"):
        d = derivative(net, names[-1], leaf).path_count
        got = (
            v.gradients["w"]
            if leaf == "w"
            else derive.differentiate(net, f"d{names[-1]}/d{leaf}", at_point=point).value
        )
        assert got == pytest.approx(central(out, point, leaf), rel=1e-5, abs=1e-7), (text, leaf, d)


def test_examples_with_values_for_an_input_are_refused(tmp_path):
    text = (
        "inputs: [x]\nparams: [w]\nnodes:\n  q: w*x\nexamples:\n  - {x: 1}\nvalues: {x: 2, w: 1}\n"
    )
    with pytest.raises(DeriveError, match="x is given by each example"):
        read_spec("g.yaml", text)
