"""The notes' training, vanishing-gradient and changed-activation sections, against the tests' reference.

Every number is recomputed here from tests/reference.py's forward pass (no derive
code): gradients by central differences, gradient descent as a plain loop, slopes
from their textbook formulas.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
import reference
from conftest import small_networks

from derive.graph import load_network
from derive.notes import build_note
from derive.notes.build import example_point
from derive.words import num

HERE = Path(__file__).resolve().parent
SOURCES = [*small_networks(), str(HERE / "four_hidden.yaml")]


def label(source: str) -> str:
    return Path(source).stem


@cache
def note(source: str):
    return build_note(load_network(source))


def shown(tex: str) -> float:
    return float(tex.replace(r" \times 10^{", "e").rstrip("}"))


def close(tex: str, truth: float) -> bool:
    """A number as the notes print it (4 significant digits) against the truth."""
    return math.isclose(shown(tex), truth, rel_tol=2e-3, abs_tol=1e-9)


def params(net) -> list[str]:
    leaves = reference.leaves(net)
    return [x for x in leaves if reference.leaf_kind(net, x) in ("weight", "bias")]


def train(net, point: dict[str, float], lr: float, steps: int) -> list[float]:
    """Plain gradient descent: central-difference gradients of the reference forward pass."""
    at, out = dict(point), []
    for k in range(steps + 1):
        out.append(reference.forward(net, at)[net.loss])
        if k < steps:
            grads = {p: reference.central_difference(net, net.loss, p, at) for p in params(net)}
            at = {**at, **{p: at[p] - lr * g for p, g in grads.items()}}
    return out


@pytest.mark.parametrize("source", SOURCES[:4] + SOURCES[-1:], ids=label)
def test_the_training_losses_are_a_plain_training_loops(source):
    net = load_network(source)
    tr = note(source).training
    truth = train(net, example_point(net)[0], 0.1, tr.steps)
    assert all(close(x, t) for x, t in zip(tr.losses, truth, strict=True))
    # The plot's points carry the same numbers, and the loss goes down.
    titled = [float(x) for x in re.findall(r"<title>step \d+: \w+ = ([-\d.e]+)</title>", tr.svg)]
    assert len(titled) == tr.steps + 1
    assert all(math.isclose(x, t, rel_tol=2e-3) for x, t in zip(titled, truth, strict=True))
    assert truth[-1] < truth[0]


def test_lr_sets_the_training_steps():
    net = load_network("simple")
    tr = build_note(net, lr=0.5).training
    truth = train(net, example_point(net)[0], 0.5, tr.steps)
    assert tr.lr == "0.5"
    assert all(close(x, t) for x, t in zip(tr.losses, truth, strict=True))


def test_the_markdown_note_links_its_plot_and_the_course_writes_it(tmp_path):
    from derive.notes import write_course

    files = {p.name for p in write_course(["two_hidden"], str(tmp_path), fmt="both")}
    assert "two_hidden.training.svg" in files
    text = (tmp_path / "two_hidden.md").read_text(encoding="utf-8")
    assert "](two_hidden.training.svg)" in text
    assert (tmp_path / "two_hidden.training.svg").read_text().startswith("<svg")


def slope(kind: str, z: float) -> float:
    if kind == "sigmoid":
        s = 1 / (1 + math.exp(-z))
        return s * (1 - s)
    if kind == "tanh":
        return 1 - math.tanh(z) ** 2
    return 1.0 if z > 0 else 0.0


@pytest.mark.parametrize("source", SOURCES, ids=label)
def test_the_vanishing_slopes_are_the_textbook_slopes_at_the_points_zs(source):
    net = load_network(source)
    v = note(source).vanishing
    if v is None:
        return
    env = reference.forward(net, example_point(net)[0])
    by_tex = {net.latex_names[n.preact]: n.preact for n in net.neurons.values()}
    zs = [env[by_tex[row[0]]] for row in v.rows]
    for row, z in zip(v.rows, zs, strict=True):
        assert close(row[1], z)
        for cell, kind in zip(row[2:], ("sigmoid", "tanh", "relu"), strict=True):
            assert close(cell, slope(kind, z))
    for cell, kind in zip(v.products, ("sigmoid", "tanh", "relu"), strict=True):
        assert close(cell, math.prod(slope(kind, z) for z in zs))
    assert v.bound.endswith(r"9.537 \times 10^{-7}")


def test_the_deep_network_compares_its_path_with_a_skip():
    # A skip from the path's lowest neuron into the top z keeps two of its five slopes.
    source = str(HERE / "four_hidden.yaml")
    net, v = load_network(source), note(source).vanishing
    env = reference.forward(net, example_point(net)[0])
    by_tex = {net.latex_names[n.preact]: n for n in net.neurons.values()}
    top, bottom = by_tex[v.rows[0][0]], by_tex[v.rows[-1][0]]
    two = slope(top.activation, env[top.preact]) * slope(bottom.activation, env[bottom.preact])
    assert v.slopes == 5
    assert close(v.skip_product.rsplit(" = ", 1)[1], two)


class Changed:
    """A network with its hidden layers' activation swapped, as reference.forward reads it."""

    def __init__(self, net, kind: str) -> None:
        self._net = net
        last = set(net.layers[-1])
        self.neurons = {
            n: m if n in last else replace(m, activation=kind) for n, m in net.neurons.items()
        }

    def __getattr__(self, name: str):
        return getattr(self._net, name)  # the rest is the network's own


@pytest.mark.parametrize("source", ["two_hidden", "multi_3b1b", "softmax"])
def test_the_changed_activation_exercise_is_the_swapped_networks_gradient(source):
    net = load_network(source)
    hidden = {net.neurons[n].activation for layer in net.layers[:-1] for n in layer}
    kind = "sigmoid" if hidden == {"tanh"} else "tanh"
    ex = [x for x in note(source).exercises if "in place of" in x.question[0][1]]
    assert len(ex) == 1
    other = Changed(net, kind)
    point = example_point(net)[0]
    w = net.neurons[net.outputs[0]].inputs[0][1]
    truth = reference.central_difference(other, net.loss, w, point)
    before = reference.central_difference(net, net.loss, w, point)
    numbers = [piece for k, piece in ex[0].answer if k == "math"]
    assert close(numbers[-2].rsplit(" = ", 1)[1], truth)
    assert close(numbers[-1], before)
    assert not close(numbers[-1], truth)


@pytest.mark.parametrize("source", SOURCES, ids=label)
def test_the_first_step_is_read_against_its_first_order_prediction(source):
    net = load_network(source)
    tr = note(source).training
    point = example_point(net)[0]
    grads = [reference.central_difference(net, net.loss, p, point) for p in params(net)]
    predicted = 0.1 * math.fsum(g * g for g in grads)
    assert close(tr.predicted.rsplit(" = ", 1)[1], predicted)
    fall = shown(tr.fall.rsplit(" = ", 1)[1])
    assert tr.first_order == (abs(fall - predicted) <= 0.2 * predicted)


def test_a_batchs_training_follows_the_mean_gradient_of_its_examples(tmp_path):
    from derive.notes import write_course

    net = load_network("xor")
    examples = net.examples

    def cost(at: dict[str, float]) -> float:
        return math.fsum(reference.forward(net, {**at, **x})[net.loss] for x in examples) / len(
            examples
        )

    at, truth = dict(net.values), []
    for _ in range(9):
        truth.append(cost(at))
        grads = {}
        for p in params(net):
            up, down = {**at, p: at[p] + 1e-6}, {**at, p: at[p] - 1e-6}
            grads[p] = (cost(up) - cost(down)) / 2e-6
        at = {p: v - 0.5 * grads.get(p, 0.0) for p, v in at.items()}
    write_course(["xor"], str(tmp_path), fmt="markdown", lr=0.5)
    text = (tmp_path / "xor.md").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if "the cost after 0, 1" in x)
    shown_ = [float(x) for x in re.findall(r"\$`([-\d.]+)`\$", line.split("steps is")[1])]
    assert all(math.isclose(x, t, rel_tol=2e-4) for x, t in zip(shown_, truth, strict=True))
    assert "](xor.training.svg)" in text and (tmp_path / "xor.training.svg").is_file()


@pytest.mark.parametrize("source", ["two_hidden", "chain_3b1b", "softmax"])
def test_the_gate_figure_shows_cached_values_above_and_the_losss_gradients_below(source):
    net = load_network(source)
    gates = note(source).gates
    point = example_point(net)[0]
    env = reference.forward(net, point)
    fig = gates.figure  # the gate network g: sources, weights, bias, m_k = s*w, z, the neuron
    neuron = net.neurons[fig.net.output]
    dz = reference.central_difference(net, net.loss, neuron.preact, point)
    want = {neuron.preact: (env[neuron.preact], dz), neuron.name: (env[neuron.name], None)}
    for k, (s, w) in enumerate(neuron.inputs, 1):
        want[f"m{k}"] = (env[s] * point[w], dz)  # a product into the add gate, dL/dz passed on
        want[w] = (point[w], reference.central_difference(net, net.loss, w, point))
        # What the neuron passes back to its source: dL/dz times the weights it goes through.
        want[s] = (env[s], dz * math.fsum(point[v] for t, v in neuron.inputs if t == s))
    if neuron.bias:
        want[neuron.bias] = (point[neuron.bias], dz)
    for name, (value, grad) in want.items():
        assert math.isclose(fig.forward[name], value, rel_tol=1e-9), name
        assert grad is None or close(fig.grads[name], grad), name
    # The PDF's picture writes each of them: every value above a line, every gradient below.
    shown = Counter((x["tex"], x["grad"]) for x in gates.picture["labels"])
    wanted = Counter(
        [(num(fig.forward[n]), False) for n in want] + [(fig.grads[n], True) for n in want]
    )
    assert shown == wanted
    assert close(gates.delta.rsplit(" = ", 1)[1], dz)
