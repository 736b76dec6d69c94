"""The random points a formula is compared at, and the values there (made once per view).

A formula is compared with the true derivative at random points where every
neuron holds its forward-pass value. The points are chosen so that every relu
neuron's z is seen on both sides of 0 (a missing Heaviside factor shows), and
targets are drawn from their real range.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any, Protocol

from derive.evaluate import at, forward, random_point
from derive.expand import Derivative
from derive.graph import Network
from derive.kinds import Slopes
from derive.rules import ACTIVATIONS, targets

if TYPE_CHECKING:
    import networkx as nx


class Sampling(Protocol):
    """What the sampling and the differ read of a grader (a check.grade.Grader is one).

    A protocol, so that this module and check.differ need not import the grader that
    imports them.
    """

    net: Network
    graph: nx.DiGraph
    points: int
    values: dict[Any, float]
    sampled: list | None

    def count(self, of: str, wrt: str) -> int: ...
    def is_edge(self, of: str, wrt: str) -> bool: ...
    def ambiguous(self, of: str, wrt: str) -> bool: ...
    def derived(self, of: str, wrt: str) -> Derivative: ...


POINTS = 5  # random points for the numeric comparison (more are added to cover every relu)
REL_TOL = 1e-7


def close(a: float, b: float) -> bool:
    """Return whether two values are equal up to rounding."""
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)


def sample_point(g: Sampling, seed: int) -> dict[str, float]:
    """Return random values for the network's leaves, with targets from their real range.

    bce's targets are probabilities in [0, 1] (not only 0 and 1, where ``y**2`` is ``y``);
    cross-entropy's targets are a distribution (they sum to 1, as softmax's O - y needs).
    """
    point = random_point(g.net, seed)
    rng = random.Random(f"targets {seed}")
    kind = targets(g.net.loss_kind)
    if kind == "binary":
        point.update({t: round(rng.uniform(0, 1), 3) for t in g.net.targets})
    elif kind == "onehot":
        weights = [rng.uniform(0.05, 1) for _ in g.net.targets]
        point.update({t: w / sum(weights) for t, w in zip(g.net.targets, weights, strict=True)})
    return point


def samples(g: Sampling) -> list[tuple[dict[str, float], dict[str, float]]]:
    """Return (point, forward values) for each sample, made once per grader.

    After ``g.points`` random points, a relu neuron whose z was seen on one side
    of 0 only gets a point with its incoming weights and bias negated, which
    puts z on the other side.
    """
    if g.sampled is None:
        found = []
        for seed in range(1, g.points + 1):
            point = sample_point(g, seed)
            found.append((point, forward(g.net, point)))
        for neuron in relus(g):
            z = g.net.neurons[neuron].preact
            if len(_signs(found, z)) == 2:
                continue
            for point, _ in list(found):
                flipped = dict(point)
                for name in _incoming(g, neuron):
                    flipped[name] = -flipped[name]
                env = forward(g.net, flipped)
                if _signs([*found, (flipped, env)], z) == {-1, 1}:
                    found.append((flipped, env))
                    break
        g.sampled = found
    return g.sampled


def _signs(samples, z: str) -> set[int]:
    return {1 if env[z] > 0 else -1 for _, env in samples if z in env and abs(env[z]) > 1e-9}


def _incoming(g: Sampling, neuron: str) -> list[str]:
    n = g.net.neurons[neuron]
    return [w for _, w in n.inputs] + ([n.bias] if n.bias else [])


def relus(g: Sampling) -> list[str]:
    """Return the neurons whose slope jumps at a kink (relu's z = 0): sampled on both sides."""
    return [n for n, m in g.net.neurons.items() if ACTIVATIONS[m.activation].kink is not None]


def truth(g: Sampling, of: str, wrt: str, index: int) -> float:
    """Return the whole derivative d(of)/d(wrt) at sample ``index`` (computed once)."""
    key = ("whole", of, wrt, index)
    if key not in g.values:
        g.values[key] = at(g.derived(of, wrt), g.sampled[index][0]).value
    return g.values[key]


def factor_value(g: Sampling, of: str, wrt: str, index: int) -> float:
    """Return a written factor's value at a sample: a local partial over an edge, else whole."""
    if of == wrt:
        return 1.0
    if not g.is_edge(of, wrt):
        return truth(g, of, wrt, index)
    key = ("local", of, wrt, index)
    if key not in g.values:
        g.values[key] = Slopes(g.net, g.sampled[index][1])(of, wrt)  # the sweep's own rule
    return g.values[key]
