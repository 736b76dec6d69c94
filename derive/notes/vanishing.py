"""Vanishing gradients, with this network's numbers: slopes multiplied along a deep path.

The deepest path of the note's showcase derivative passes one activation slope per
neuron. At the example point's weighted inputs the section multiplies them for the
network's own activation and, at the same z's, for sigmoid, tanh and relu; then a
skip connection as the way around: a path from the path's lowest neuron straight
into the top z passes one slope instead of all of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from derive.graph import Network
from derive.notes.content import tex_num
from derive.rules import ACTIVATIONS, COMPARED, elementwise

# sigma' <= 1/4 over this many layers: the bound the section quotes.
DEEP = 10


@dataclass
class Vanishing:
    """The section's table and its readings, finished LaTeX."""

    path: str  # the path, loss first
    heads: list[str]  # the compared slopes' symbols
    rows: list[list[str]]  # per neuron: its z, then each compared slope there
    products: list[str]  # each compared activation's product along the path
    own: str  # the network's own slopes' product along the path
    slopes: int  # how many slopes the path passes
    bound: str  # (1/4)^DEEP
    skip_from: str  # the neuron a skip would start from
    skip_to: str  # the z it would reach
    skip_product: str  # the slopes a path along the skip passes, multiplied
    skips: list[str]  # the network's own skip edges (LaTeX)


def _slope(name: str, z: float) -> float:
    act = ACTIVATIONS[name]
    return act.slope_value(z, act.value(z))


def _partial(net: Network, n: str) -> str:
    t = net.latex_names
    return rf"\frac{{\partial {t[n]}}}{{\partial {t[net.neurons[n].preact]}}}"


def vanishing(net: Network, path: tuple[str, ...], forward: dict[str, float], skips: list[str]):
    """Return the section on the path (loss first), or None when it passes fewer than 2 slopes."""
    neurons = [n for n in path if n in net.neurons and elementwise(net.neurons[n].activation)]
    if len(neurons) < 2:
        return None
    t = net.latex_names
    zs = [forward[net.neurons[n].preact] for n in neurons]
    table = [[_slope(a, z) for a in COMPARED] for z in zs]
    own = [_slope(net.neurons[n].activation, z) for n, z in zip(neurons, zs, strict=True)]
    return Vanishing(
        path=r" \leftarrow ".join(t[n] for n in path),
        heads=[ACTIVATIONS[a].slope_tex + "(z)" for a in COMPARED],
        rows=[
            [t[net.neurons[n].preact], tex_num(z), *(tex_num(s) for s in row)]
            for n, z, row in zip(neurons, zs, table, strict=True)
        ],
        products=[tex_num(math.prod(col)) for col in zip(*table, strict=True)],
        own=tex_num(math.prod(own)),
        slopes=len(neurons),
        bound=rf"\big(\tfrac{{1}}{{4}}\big)^{{{DEEP}}} = {tex_num(0.25**DEEP)}",
        skip_from=t[neurons[-1]],
        skip_to=t[net.neurons[neurons[0]].preact],
        skip_product=" \\cdot ".join(_partial(net, n) for n in (neurons[0], neurons[-1]))
        + f" = {tex_num(own[0] * own[-1])}",
        skips=skips,
    )
