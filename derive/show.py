"""What ``derive show`` prints: the names a user can ask about."""

from __future__ import annotations

from derive.graph import Network
from derive.printing.languages import TEXT
from derive.rules import LOSSES

# A layer wider than this is summarised (its first and last names, its matrix shape), and
# past this many weights the weight table gives way to one line per layer.
WIDE = 12
MANY_WEIGHTS = 200


def _names(names: list[str]) -> str:
    if len(names) <= WIDE:
        return ", ".join(names)
    return f"{names[0]}, {names[1]}, ..., {names[-1]} ({len(names)})"


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Return rows as lines, each column as wide as its widest cell plus two spaces."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        (indent + "".join(f"{cell:<{w + 2}}" for cell, w in zip(row, widths, strict=False)))
        + row[-1]
        for row in rows
    ]


def loss_text(net: Network) -> str:
    """Return the loss in the network's own names (``(a2 - y)**2``), or the general
    formula over O_j and y_j when there are too many outputs to write out.

    >>> from derive.graph import load_network
    >>> loss_text(load_network("chain_3b1b"))
    '(a2 - y)**2'
    """
    if len(net.outputs) > 4:
        return LOSSES[net.loss_kind].text
    import sympy as sp

    from derive.printing.formulas import formula_text

    value = LOSSES[net.loss_kind].value(
        [sp.Symbol(o) for o in net.outputs], [sp.Symbol(y) for y in net.targets]
    )
    return formula_text(value)


def describe(net: Network) -> str:
    """Return a network's layers, weights (name, from, to), biases and loss as plain text.

    A wide network (more than a few hundred weights) gets one line per layer
    with the shape of its weight matrix instead of one line per weight.

    >>> from derive.graph import load_network
    >>> print(describe(load_network("simple")).splitlines()[0])
    simple: One hidden neuron
    """
    lines = [f"{net.name}: {TEXT.escape(net.title)}"]
    if net.layers:
        lines += _layers(net)
    if net.formulas or net.params or net.examples:
        lines += _graph(net)
    if net.values:
        shown = list(net.values.items())
        text = ", ".join(f"{k} = {v:g}" for k, v in shown[:40])
        lines += ["", "Values: " + text + (f", ... ({len(shown)})" if len(shown) > 40 else "")]
    else:
        lines += ["", "Values: none in the file; give a point with --at FILE or --at random:SEED"]
    return "\n".join(lines) + "\n"


def _graph(net: Network) -> list[str]:
    """Return the lines of the graph part: inputs, parameters, formula nodes, output, examples."""
    lines = [""]
    if not net.layers:
        lines.append(f"Inputs: {_names(net.inputs) or '(none)'}")
    if net.params or not net.layers:
        lines.append(f"Parameters: {_names(net.params) or '(none)'}")
    if net.formulas:
        lines += ["", "Formula nodes (in the order computed):"]
        lines += _table([[name, "=", net.formulas[name].text] for name in net.formulas_in_order])
        lines += ["", f"Output: {net.output} (the sweep starts here)"]
    if net.examples:
        lines.append(
            f"Examples: {len(net.examples)}; cost {net.cost} = mean over the examples of {net.output}"
        )
    return lines


def _layers(net: Network) -> list[str]:
    """Return the lines of the layers: neurons, weights, biases, loss."""
    lines = ["", "Layers:"]
    rows = [["inputs", "", _names(net.inputs)]]
    for index, layer in enumerate(net.layers, 1):
        act = net.neurons[layer[0]].activation
        role = "output" if index == len(net.layers) else f"hidden {index}"
        zs = [net.neurons[n].preact for n in layer]
        rows.append([role, act, f"{_names(layer)}   (pre-activations: {_names(zs)})"])
    lines += _table(rows)
    edges = sum(len(e) for e in net.weight_edges.values())
    if edges > MANY_WEIGHTS:
        lines += ["", "Weights (one matrix per layer, rows the layer's neurons):"]
        rows = [["layer", "shape", "weights", "names"]]
        previous = net.inputs
        for index, layer in enumerate(net.layers, 1):
            ws = [w for n in layer for _, w in net.neurons[n].inputs]
            distinct = list(dict.fromkeys(ws))
            rows.append(
                [
                    str(index),
                    f"{len(layer)} x {len(previous)}",
                    f"{len(ws):,}",
                    f"{distinct[0]} .. {distinct[-1]}" if distinct else "-",
                ]
            )
            previous = layer
        lines += _table(rows)
    else:
        rows = [["name", "from", "to"]]
        for weight, pairs in net.weight_edges.items():
            rows += [[weight, src, dst] for src, dst in pairs]
        lines += ["", "Weights:"] + _table(rows)
    if net.bias_neurons:
        lines += ["", "Biases:"]
        if edges > MANY_WEIGHTS:
            for index, layer in enumerate(net.layers, 1):
                bs = list(dict.fromkeys(net.neurons[n].bias for n in layer if net.neurons[n].bias))
                if bs:
                    lines.append(f"  layer {index}: {_names(bs)}")
        else:
            lines += _table([[b, "of " + ", ".join(ns)] for b, ns in net.bias_neurons.items()])
    targets = _names(net.targets)
    lines += [
        "",
        f"Loss: {net.loss} = {loss_text(net)}   ({net.loss_kind}; "
        f"outputs {_names(net.outputs)}; targets {targets})",
    ]
    return lines
