"""One neuron as gates (CS231n's circuit): multiply, add and activation gates, staged.

The note's first neuron is rewritten as a computational graph of formula nodes
(one multiply gate per input, an add gate, the activation gate) and drawn by
:mod:`derive.notes.gates`: each edge's cached forward value above it, its gradient
below. The gradients are the loss's: the graph's own sweep from the neuron's
output, times the dL/dO that the network's sweep brought down to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from derive.graph import Network
from derive.netfile import read_spec
from derive.notes.chain import whole
from derive.notes.content import factor, tex_num
from derive.printing import LatexTermPrinter
from derive.rules import ACTIVATIONS, FUNCTIONS
from derive.sweep import values

# A neuron with more inputs than this is drawn with its first ones only.
GATES = 3


@dataclass
class NeuronGates:
    """The figure (TikZ data, and Markdown's SVG file) and the staged computation's lines, LaTeX."""

    picture: dict
    figure: Any  # derive.notes.figures.Figure: NAME.gates.svg
    neuron: str
    upstream: str  # dL/dO that the network's sweep brought to the neuron
    slope: str  # the activation gate's local gradient, from its cached output
    delta: str  # dL/dz: upstream times slope
    weight: str  # dL/dW = delta * a: the first weight's gradient
    source: str  # the activation that weight multiplies


def gate_network(net: Network, name: str, point: dict[str, float], forward: dict[str, float]):
    """Return the neuron as a graph of formula nodes (a Network), or None for an activation
    the formula language has no function for (softmax, linear)."""
    n = net.neurons[name]
    act = n.activation
    if act not in FUNCTIONS or not n.inputs or len(n.inputs) > GATES:
        return None
    taken = set(net.names)
    muls = [f"m{k}" for k in range(1, len(n.inputs) + 1)]
    if taken & set(muls):
        return None
    nodes = {m: f"{w} * {s}" for m, (s, w) in zip(muls, n.inputs, strict=True)}
    nodes[n.preact] = " + ".join(muls + ([n.bias] if n.bias else []))
    nodes[name] = f"{act}({n.preact})"
    sources = list(dict.fromkeys(s for s, _ in n.inputs))
    params = list(dict.fromkeys([w for _, w in n.inputs] + ([n.bias] if n.bias else [])))
    vals = {s: forward[s] for s in sources} | {p: point[p] for p in params}
    latex = {x: net.latex_names[x] for x in [*sources, *params, n.preact, name]}
    text = "\n".join(
        [
            f"name: {net.name}_{name}_gates",
            f"inputs: [{', '.join(sources)}]",
            f"params: [{', '.join(params)}]",
            "nodes:",
            *(f"  {k}: {v}" for k, v in nodes.items()),
            f"output: {name}",
            "values: " + json.dumps(vals),
            "latex: " + json.dumps(latex),
        ]
    )
    return Network(read_spec(f"{net.name}_gates.yaml", text))


def neuron_gates(net: Network, vals) -> NeuronGates | None:
    """Return the section on the first neuron the loss depends on, or None where it does not apply."""
    from derive.notes.gates import gate_figure, tikz_gates

    name = next(
        (m for layer in net.layers for m in layer if net.neurons[m].preact in vals.delta), None
    )
    if name is None:
        return None
    g = gate_network(net, name, vals.point, vals.forward)
    if g is None:
        return None
    v = values(g, g.values)
    up = vals.delta[name]
    n = net.neurons[name]
    # What the neuron passes back to each source: its dL/dz times the weights it goes through.
    back = {s: 0.0 for s, _ in n.inputs}
    for s, w in n.inputs:
        back[s] += vals.delta[n.preact] * vals.point[w]
    scaled = replace(
        v,
        delta={**{k: x * up for k, x in v.delta.items()}, **back},
        gradients={k: x * up for k, x in v.gradients.items()},
    )
    p = LatexTermPrinter(net)
    t = net.latex_names
    src, w = n.inputs[0]
    figure = gate_figure(g, scaled, f"{net.name}.gates.svg", f"The neuron {name}")
    row = ACTIVATIONS[n.activation]
    slope = row.slope_value(vals.forward[n.preact], vals.forward[name])
    return NeuronGates(
        # The PDF's picture is the SVG's drawing, kept low: it is one figure of a long note.
        picture=tikz_gates(g, figure, height=5.0),
        figure=figure,
        neuron=t[name],
        upstream=rf"{whole(p, net.loss, name)} = {tex_num(up)}",
        slope=rf"\frac{{\partial {t[name]}}}{{\partial {t[n.preact]}}} = {tex_num(slope)}",
        delta=rf"\delta = {whole(p, net.loss, n.preact)} = {factor(up)} \cdot {factor(slope)}"
        rf" = {tex_num(vals.delta[n.preact])}",
        weight=rf"{whole(p, net.loss, w)} = \delta \cdot {t[src]} = {factor(vals.delta[n.preact])}"
        rf" \cdot {factor(vals.forward[src])} = {tex_num(vals.gradients[w])}",
        source=t[src],
    )
