"""Every activation and loss: its forward formula and its local partials, side by side.

This is the one place that says what sigmoid's local partial is. Formulas are
SymPy expressions in plain Symbols, written the way lecture notes write them:
a sigmoid's slope is ``O*(1 - O)`` in the neuron's own output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp


def sigmoid(z: sp.Expr) -> sp.Expr:
    """Return the logistic function of ``z`` as a SymPy expression."""
    return 1 / (1 + sp.exp(-z))


@dataclass(frozen=True)
class Activation:
    """An activation: forward value and slope, in the pre-activation z and output a."""

    name: str
    forward: Callable[[sp.Expr], sp.Expr]
    slope: Callable[[sp.Expr, sp.Expr], sp.Expr]  # d a / d z, given z and a = act(z)
    formula: str  # LaTeX of act(z) for the notes
    slope_formula: str  # LaTeX of act'(z) for the notes


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "sigmoid",
            sigmoid,
            lambda z, a: a * (1 - a),
            r"\sigma(z) = \frac{1}{1 + e^{-z}}",
            r"\sigma(z)\,(1 - \sigma(z))",
        ),
        Activation("tanh", sp.tanh, lambda z, a: 1 - a**2, r"\tanh(z)", r"1 - \tanh^{2}(z)"),
        Activation(
            "relu",
            lambda z: sp.Max(0, z),
            lambda z, a: sp.Heaviside(z, 0),
            r"\max(0, z)",
            r"H(z) \text{ (1 if } z > 0 \text{, else 0)}",
        ),
        Activation("linear", lambda z: z, lambda z, a: sp.Integer(1), r"z", r"1"),
        Activation(
            "softplus",
            lambda z: sp.log(1 + sp.exp(z)),
            lambda z, a: sigmoid(z),
            r"\log(1 + e^{z})",
            r"\sigma(z) = \frac{1}{1 + e^{-z}}",
        ),
        # Softmax couples the layer: its slope depends on which output and which z.
        Activation(
            "softmax",
            sp.exp,
            lambda z, a: a * (1 - a),
            r"\frac{e^{z_j}}{\sum_k e^{z_k}}",
            r"\frac{\partial O_j}{\partial z_k} = O_j\,(\delta_{jk} - O_k)",
        ),
    )
}


def softmax_slope(out_j: sp.Symbol, out_k: sp.Symbol, same: bool) -> sp.Expr:
    """Return dO_j/dz_k for a softmax layer, in the layer's outputs."""
    return out_j * (1 - out_j) if same else -out_j * out_k


@dataclass(frozen=True)
class Loss:
    """A loss: its value over all outputs, and its partials in one output and target."""

    name: str
    value: Callable[[Sequence[sp.Expr], Sequence[sp.Expr]], sp.Expr]
    by_output: Callable[[sp.Expr, sp.Expr, int], sp.Expr]  # dL/dO_j given O_j, y_j, n
    by_target: Callable[[sp.Expr, sp.Expr, int], sp.Expr]  # dL/dy_j
    formula: str  # LaTeX, with O_j, y_j and n


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss(
            "squared_error",
            lambda o, y: sp.Add(*[(oj - yj) ** 2 for oj, yj in zip(o, y, strict=True)]),
            lambda o, y, n: 2 * (o - y),
            lambda o, y, n: -2 * (o - y),
            r"\sum_j (O_j - y_j)^2",
        ),
        Loss(
            "half_squared_error",
            lambda o, y: sp.Add(*[(oj - yj) ** 2 for oj, yj in zip(o, y, strict=True)]) / 2,
            lambda o, y, n: o - y,
            lambda o, y, n: y - o,
            r"\frac{1}{2} \sum_j (O_j - y_j)^2",
        ),
        Loss(
            "mse",
            lambda o, y: sp.Add(*[(oj - yj) ** 2 for oj, yj in zip(o, y, strict=True)]) / len(o),
            lambda o, y, n: sp.Rational(2, n) * (o - y),
            lambda o, y, n: -sp.Rational(2, n) * (o - y),
            r"\frac{1}{n} \sum_j (O_j - y_j)^2",
        ),
        Loss(
            "bce",
            lambda o, y: (
                -sp.Add(
                    *[
                        yj * sp.log(oj) + (1 - yj) * sp.log(1 - oj)
                        for oj, yj in zip(o, y, strict=True)
                    ]
                )
            ),
            lambda o, y, n: -y / o + (1 - y) / (1 - o),
            lambda o, y, n: sp.log(1 - o) - sp.log(o),
            r"-\sum_j \left[ y_j \log O_j + (1 - y_j) \log (1 - O_j) \right]",
        ),
        Loss(
            "cross_entropy",
            lambda o, y: -sp.Add(*[yj * sp.log(oj) for oj, yj in zip(o, y, strict=True)]),
            lambda o, y, n: -y / o,
            lambda o, y, n: -sp.log(o),
            r"-\sum_j y_j \log O_j",
        ),
    )
}
