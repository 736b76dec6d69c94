"""A batch of training examples: each example's sweep, and the cost as their mean.

The cost is ``C = (1/n) sum_i L_i`` over the file's ``examples:``, so every
gradient is the mean of the examples' gradients, ``dC/dW = (1/n) sum_i
dL_i/dW``. Each example is one forward pass and one backward sweep at the
parameters' values with that example's inputs and targets; nothing else is
new (3Blue1Brown and Nielsen average the cost over the training examples).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from derive.errors import DeriveError
from derive.evaluate import Numbers, at
from derive.expand import Derivative
from derive.graph import Network
from derive.sweep import Sweep, Values, backward, values


@dataclass
class Batch:
    """Every example's sweep at a point, and their mean: the cost and its gradients."""

    sweep: Sweep
    examples: list[Values]
    cost: float  # the mean of the examples' values of the sweep's output
    gradients: dict[str, float]  # the mean of the examples' gradients

    def update(self, lr: float) -> dict[str, dict[str, float]]:
        """Return every parameter's step on the cost, ``{"lr", "old", "new"}``."""
        point = self.examples[0].point
        return {
            p: {"lr": lr, "old": point[p], "new": point[p] - lr * g}
            for p, g in self.gradients.items()
        }


def example_point(net: Network, point: dict[str, float], k: int) -> dict[str, float]:
    """Return the point of example ``k`` (1-based): the parameters' values and that example's data.

    Raises
    ------
    DeriveError
        When there is no example ``k``.
    """
    if not 1 <= k <= len(net.examples):
        raise DeriveError(
            f"{net.name} has {len(net.examples)} examples, so there is no example {k}",
            hint=f"give --example a number from 1 to {len(net.examples)}",
        )
    return {**point, **net.examples[k - 1]}


def batch(
    net: Network, point: dict[str, float], detail: bool = False, sweep: Sweep | None = None
) -> Batch:
    """Return every example's sweep at ``point`` (the parameters) and their mean.

    >>> from derive.graph import load_network
    >>> net = load_network("xor")
    >>> b = batch(net, net.values)
    >>> len(b.examples), round(b.cost, 4)
    (4, 0.696)
    """
    sweep = sweep if sweep is not None else backward(net, detail)
    runs = [
        values(net, example_point(net, point, k), detail, sweep)
        for k in range(1, len(net.examples) + 1)
    ]
    n = len(runs)
    cost = math.fsum(r.forward[sweep.of] for r in runs) / n
    grads = {p: math.fsum(r.gradients[p] for r in runs) / n for p in runs[0].gradients}
    return Batch(sweep, runs, cost, grads)


@dataclass
class CostNumbers:
    """d(cost)/d(wrt) at a point: each example's numbers and their mean."""

    examples: list[Numbers]
    value: float
    lr: float | None = None
    old: float | None = None
    new: float | None = None


def cost_numbers(d: Derivative, point: dict[str, float], lr: float | None = None) -> CostNumbers:
    """Return the derivative at each example (its ``of`` is the loss) and the mean over them."""
    net = d.net
    runs = [at(d, example_point(net, point, k)) for k in range(1, len(net.examples) + 1)]
    value = math.fsum(r.value for r in runs) / len(runs)
    out = CostNumbers(runs, value)
    if lr is not None and d.wrt in point:
        out.lr, out.old = lr, point[d.wrt]
        out.new = out.old - lr * value
    return out
