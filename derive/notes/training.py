"""Training, not one step: a few steps of gradient descent from the example point.

Each step is the note's backward sweep at the current point, then every parameter
moved by ``-eta * gradient``; the losses go into a table and a small plot (an SVG
file beside the Markdown note, a TikZ picture in LaTeX). The first step's fall is
set beside its first-order prediction ``eta * sum(gradient**2)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from derive.graph import Network
from derive.notes.content import tex_num
from derive.printing import LatexTermPrinter
from derive.printing.languages import HTML
from derive.sweep import Sweep, backward, values
from derive.words import num

# The steps of gradient descent a note runs.
STEPS = 8
# The plot's drawing area: width and height in SVG units, and in centimetres for TikZ.
WIDTH, HEIGHT = 300.0, 120.0
TIKZ_WIDTH, TIKZ_HEIGHT = 6.0, 2.4


@dataclass
class Training:
    """A few steps of gradient descent: the losses, the plot's points, the first step read."""

    lr: str
    steps: int
    losses: list[str]  # L after 0, 1, ..., steps steps (LaTeX numbers)
    loss_tex: str  # the loss's letter
    points: list[tuple[float, float]]  # each loss placed in the unit square (x right, y up)
    low: str  # the axis's lowest and highest loss
    high: str
    fall: str  # the first step's fall: L0 - L1 = ...
    predicted: str  # eta * sum of the squared gradients
    svg: str  # the plot as an SVG document (Markdown's image file)
    svg_file: str = ""
    first_order: bool = True  # the fall is within a fifth of its first-order prediction


def _step(net: Network, at: dict[str, float], sweep: Sweep) -> tuple[float, dict[str, float]]:
    """Return the loss (a batch's cost: the examples' mean) and its gradients at a point."""
    if net.examples:
        from derive.batch import batch

        b = batch(net, at, sweep=sweep)
        return b.cost, b.gradients
    v = values(net, at, sweep=sweep)
    return v.forward[net.loss], v.gradients


def losses(
    net: Network, point: dict[str, float], lr: float, steps: int = STEPS, sweep: Sweep | None = None
) -> tuple[list[float], list[dict[str, float]]]:
    """Return the loss after 0..steps steps of gradient descent, and each step's gradients.

    With examples (a batch) the loss is the cost, the mean over the examples, and each
    step follows the mean of the examples' gradients.

    >>> from derive.graph import load_network
    >>> net = load_network("simple")
    >>> ls, _ = losses(net, net.values, 0.5, 2)
    >>> ls[0] > ls[1] > ls[2]
    True
    """
    sweep = sweep if sweep is not None else backward(net)
    at = dict(point)
    out, grads = [], []
    for k in range(steps + 1):
        loss, gradients = _step(net, at, sweep)
        out.append(loss)
        grads.append(gradients)
        if k < steps:
            at = {**at, **{p: at[p] - lr * g for p, g in gradients.items()}}
    return out, grads


def _axis(values_: list[float]) -> tuple[float, float]:
    """Return the plot's lowest and highest loss: the losses' range, widened when flat."""
    low, high = min(values_), max(values_)
    if high - low < 1e-12:
        low, high = low - 0.5 * max(abs(low), 1e-3), high + 0.5 * max(abs(high), 1e-3)
    return low, high


def svg(points: list[tuple[float, float]], labels: list[str], low: str, high: str, L: str) -> str:
    """Return the plot as an SVG document: the losses joined, each point titled with its value."""
    left, top = 66.0, 12.0

    def xy(p: tuple[float, float]) -> tuple[float, float]:
        return left + p[0] * WIDTH, top + (1 - p[1]) * HEIGHT

    dots = [xy(p) for p in points]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in dots)
    marks = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{HTML.escape(text)}</title></circle>'
        for (x, y), text in zip(dots, labels, strict=True)
    )
    bottom, right = top + HEIGHT, left + WIDTH
    steps = len(points) - 1
    ticks = "".join(
        f'<text x="{left + k / steps * WIDTH:.1f}" y="{bottom + 14:.1f}" text-anchor="middle">{k}</text>'
        for k in range(steps + 1)
    )
    name = HTML.escape(L)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{right + 16:.0f}" height="{bottom + 34:.0f}"'
        f' viewBox="0 0 {right + 16:.0f} {bottom + 34:.0f}" font-family="sans-serif" font-size="11"'
        f' role="img" aria-label="{name} after each step of gradient descent">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<path d="M{left},{top} V{bottom} H{right}" fill="none" stroke="#555"/>'
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{HTML.escape(high)}</text>'
        f'<text x="{left - 4}" y="{bottom}" text-anchor="end">{HTML.escape(low)}</text>'
        f'<text x="{left - 12}" y="{top + HEIGHT / 2:.1f}" text-anchor="end" font-style="italic">{name}</text>'
        f"{ticks}"
        f'<text x="{left + WIDTH / 2:.1f}" y="{bottom + 30:.1f}" text-anchor="middle">step</text>'
        f'<polyline points="{line}" fill="none" stroke="#1f77b4" stroke-width="2"/>'
        f'<g fill="#1f77b4">{marks}</g></svg>\n'
    )


def training(
    net: Network, point: dict[str, float], lr: float, sweep: Sweep | None = None
) -> Training:
    """Return the note's training section: ``STEPS`` steps at learning rate ``lr``."""
    ls, grads = losses(net, point, lr, STEPS, sweep)
    low, high = _axis(ls)
    points = [(k / STEPS, (x - low) / (high - low)) for k, x in enumerate(ls)]
    of = net.cost if net.examples else net.loss
    L = LatexTermPrinter(net).name(of)
    shown = [num(x) for x in ls]
    predicted = lr * math.fsum(g * g for g in grads[0].values())
    return Training(
        lr=num(lr) if lr != round(lr, 1) else f"{lr:g}",
        steps=STEPS,
        losses=[tex_num(x) for x in ls],
        loss_tex=L,
        points=points,
        low=tex_num(low),
        high=tex_num(high),
        fall=rf"{L}(\text{{step }} 0) - {L}(\text{{step }} 1) = {tex_num(ls[0] - ls[1])}",
        predicted=rf"\eta \sum_w (\mathrm{{d}}{L}/\mathrm{{d}}w)^2 = {tex_num(predicted)}",
        svg=svg(
            points,
            [f"step {k}: {of} = {x}" for k, x in enumerate(shown)],
            num(low),
            num(high),
            of,
        ),
        svg_file=f"{net.name}.training.svg",
        first_order=abs(ls[0] - ls[1] - predicted) <= 0.2 * abs(predicted),
    )
