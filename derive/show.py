"""What ``derive show`` prints: the names a user can ask about."""

from __future__ import annotations

from derive.graph import Network
from derive.rules import LOSSES


def describe(net: Network) -> str:
    """Return a network's layers, weights (name, from, to), biases and loss as plain text.

    >>> from derive.graph import load_network
    >>> print(describe(load_network("simple")).splitlines()[0])
    simple: One hidden neuron
    """
    lines = [f"{net.name}: {net.title}", "", "Layers:"]
    lines.append(f"  inputs            {', '.join(net.inputs)}")
    for index, layer in enumerate(net.layers, 1):
        act = net.neurons[layer[0]].activation
        role = "output" if index == len(net.layers) else f"hidden {index}"
        zs = ", ".join(net.neurons[n].preact for n in layer)
        lines.append(f"  {role:<9} {act:<8}{', '.join(layer)}   (pre-activations: {zs})")
    lines += ["", "Weights:", "  name     from     to"]
    for weight, edges in net.weight_edges.items():
        for src, dst in edges:
            lines.append(f"  {weight:<8} {src:<8} {dst}")
    if net.biases:
        lines += ["", "Biases:"] + [f"  {b:<8} of {n}" for b, n in net.biases.items()]
    targets = ", ".join(net.targets)
    lines += [
        "",
        f"Loss: {net.loss} = {LOSSES[net.loss_kind].text}   ({net.loss_kind}; "
        f"outputs {', '.join(net.outputs)}; targets {targets})",
    ]
    if net.values:
        lines += ["", "Values: " + ", ".join(f"{k} = {v:g}" for k, v in net.values.items())]
    return "\n".join(lines) + "\n"
