"""Every activation and loss, one row each: forward formula and local slope side by side.

This is the one place that says what sigmoid's local partial is, how it is
typeset, how it is said in words and how an answer may spell it. Formulas
are SymPy expressions in plain Symbols, written the way lecture notes write
them: a sigmoid's slope is ``O*(1 - O)`` in the neuron's own output. Each row
also carries the same rule on floats (``value``, ``slope_value``), for the
forward pass and the sweep at a point, where SymPy would be too slow.

Softmax is a *layer* rule (:class:`LayerActivation`): its outputs depend on
every z of the layer, and its local slope is the Jacobian
dO_j/dz_k = O_j (delta_jk - O_k).

>>> ACTIVATIONS["sigmoid"].slope(sp.Symbol("z"), sp.Symbol("O"))
O*(1 - O)
>>> ACTIVATIONS["softmax"].jacobian(sp.Symbol("O1"), sp.Symbol("O2"), same=False)
-O1*O2
>>> LOSSES["bce"].words
'binary cross-entropy'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import sympy as sp


def sigmoid(z: sp.Expr) -> sp.Expr:
    """Return the logistic function of ``z`` as a SymPy expression."""
    return 1 / (1 + sp.exp(-z))


def _sigmoid_value(z: float) -> float:
    # Two branches so that neither exp overflows for large |z|.
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _gelu(z: sp.Expr) -> sp.Expr:
    return z * (1 + sp.erf(z / sp.sqrt(2))) / 2  # z·Φ(z), Φ the standard normal's CDF


def _gelu_slope(z: sp.Expr) -> sp.Expr:
    return (1 + sp.erf(z / sp.sqrt(2))) / 2 + z * sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)


def _gelu_slope_value(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0))) + z * math.exp(-z * z / 2) / math.sqrt(
        2 * math.pi
    )


# erf in JavaScript (it has none): Abramowitz and Stegun 7.1.26, within 1.5e-7 of erf.
_ERF_JS = (
    "((x) => { const t = 1 / (1 + 0.3275911 * Math.abs(x)); const e = 1 - t * (0.254829592"
    " + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))"
    " * Math.exp(-x * x); return x < 0 ? -e : e; })"
)


def _softplus_value(z: float) -> float:
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def number(expr: sp.Expr, env: dict[str, float]) -> float:
    """Return the value of a formula built by this package, with names looked up in ``env``.

    >>> x = sp.Symbol("x")
    >>> number(2 * x * (1 - x) + sp.exp(0 * x), {"x": 0.5})
    1.5
    """
    if expr.is_Symbol:
        return env[expr.name]
    if expr.is_Number or expr.is_NumberSymbol:  # 2, 1/2, pi
        return float(expr)
    args = [number(a, env) for a in expr.args]
    if expr.is_Add:
        return math.fsum(args)
    if expr.is_Mul:
        return math.prod(args)
    if expr.is_Pow:
        return args[0] ** args[1]
    on_floats = _NUMERIC.get(expr.func)
    if on_floats is None:
        raise TypeError(f"cannot evaluate {expr.func}")
    return on_floats(*args)


def _heaviside(z: float, at_zero: float = 0.0) -> float:
    return 1.0 if z > 0 else at_zero if z == 0 else 0.0


def _sign(z: float) -> float:
    return 0.0 if z == 0 else math.copysign(1.0, z)


@dataclass(frozen=True)
class Activation:
    """An elementwise activation a = act(z): its forward rule and local slope da/dz."""

    name: str
    forward: Callable[[sp.Expr], sp.Expr]  # act(z)
    slope: Callable[[sp.Expr, sp.Expr], sp.Expr]  # da/dz, given z and a = act(z)
    value: Callable[[float], float]  # act(z) on floats
    slope_value: Callable[[float, float], float]  # da/dz on floats, given z and a
    tex: str  # the function's symbol: \sigma
    slope_tex: str  # the slope's symbol: \sigma' ("" where the slope is 1)
    formula: str  # LaTeX of act(z)
    slope_formula: str  # LaTeX of act'(z)
    text: str  # act(z) in plain text, as `derive show` prints it
    words: str  # the slope in words: "the sigmoid slope O(1 − O)"
    spellings: tuple[str, ...]  # how an answer may write the function: sigma, σ, \sigma
    slope_spellings: tuple[str, ...] = ()  # how an answer may write the slope itself
    js: str = ""  # act(z) in JavaScript, an expression in z (the HTML page's forward pass)
    symbol: str = ""  # the function's symbol in plain text: σ (the name where it is empty)
    kink: float | None = None  # where the slope jumps (relu's 0): sample z on both sides of it
    gates: bool = False  # the slope is 1 above the kink and 0 below: the neuron passes or stops
    identity: bool = False  # act(z) = z: written as z itself
    cancels_with: str = ""  # the loss whose dL/dz is O - y with this activation (bce for sigmoid)
    slope_max: float = 1.0  # the largest slope (sigmoid's 1/4: gradients shrink layer by layer)
    # The slope's halves a student may leave out, given the neuron's output O: O and 1 − O.
    slope_parts: Callable[[sp.Expr], list[tuple[sp.Expr, str]]] = lambda o: []
    said: str = ""  # the slope as a student writes it, in {z} and {o}, where not the formula's
    mistaken_for: tuple[str, ...] = ()  # activations whose slope a student may write instead
    numeric: tuple[tuple[type, Callable[..., float]], ...] = ()  # SymPy functions -> floats
    couples: ClassVar[bool] = False  # the slope depends on this neuron's z only

    def tex_of(self, z: str) -> str:
        """Return act(z) in TeX, given z's TeX: ``\\sigma(z_{1})``; the identity's is z itself."""
        return z if self.identity else rf"{self.tex}({z})"


@dataclass(frozen=True)
class LayerActivation:
    """A layer activation (softmax): every output depends on every z of the layer."""

    name: str
    forward: Callable[[Sequence[sp.Expr]], list[sp.Expr]]  # the layer's outputs from its z's
    jacobian: Callable[[sp.Expr, sp.Expr, bool], sp.Expr]  # dO_j/dz_k from O_j, O_k, j == k
    value: Callable[[Sequence[float]], list[float]]  # the outputs on floats
    tex: str
    slope_tex: str
    formula: str
    slope_formula: str
    text: str
    words: str
    spellings: tuple[str, ...]
    slope_spellings: tuple[str, ...] = ()
    js: str = ""  # the outputs in JavaScript, an expression in the array zs
    symbol: str = ""
    cancels_with: str = ""  # the loss whose dL/dz_j is O_j - y_j (cross-entropy for softmax)
    kink: ClassVar[float | None] = None
    gates: ClassVar[bool] = False
    identity: ClassVar[bool] = False
    slope_max: ClassVar[float] = 1.0
    mistaken_for: ClassVar[tuple[str, ...]] = ()
    numeric: ClassVar[tuple[tuple[type, Callable[..., float]], ...]] = ()
    couples: ClassVar[bool] = True


def _softmax(zs: Sequence[sp.Expr]) -> list[sp.Expr]:
    total = sp.Add(*[sp.exp(z) for z in zs])
    return [sp.exp(z) / total for z in zs]


def _softmax_value(zs: Sequence[float]) -> list[float]:
    top = max(zs)  # shifted so that exp cannot overflow
    exps = [math.exp(z - top) for z in zs]
    total = math.fsum(exps)
    return [e / total for e in exps]


ACTIVATIONS: dict[str, Activation | LayerActivation] = {
    a.name: a
    for a in (
        Activation(
            "sigmoid",
            js="1 / (1 + Math.exp(-z))",
            forward=sigmoid,
            slope=lambda z, a: a * (1 - a),
            value=_sigmoid_value,
            slope_value=lambda z, a: a * (1.0 - a),
            tex=r"\sigma",
            slope_tex=r"\sigma'",
            formula=r"\sigma(z) = \frac{1}{1 + e^{-z}}",
            slope_formula=r"\sigma(z)\,(1 - \sigma(z))",
            text="1/(1 + exp(-z))",
            words="the sigmoid slope O(1 − O)",
            spellings=("sigma", "sigmoid", "σ", r"\sigma"),
            symbol="σ",
            cancels_with="bce",
            slope_max=0.25,
            slope_parts=lambda o: [(1 - o, f"(1 − {o})"), (o, f"{o}")],
            mistaken_for=("tanh",),
        ),
        Activation(
            "tanh",
            js="Math.tanh(z)",
            forward=sp.tanh,
            slope=lambda z, a: 1 - a**2,
            value=math.tanh,
            slope_value=lambda z, a: 1.0 - a * a,
            tex=r"\tanh",
            slope_tex=r"\tanh'",
            formula=r"\tanh(z)",
            slope_formula=r"1 - \tanh^{2}(z)",
            text="tanh(z)",
            words="the tanh slope 1 − O²",
            spellings=("tanh", r"\tanh"),
            symbol="tanh",
            slope_parts=lambda o: [(1 - o, f"(1 − {o})"), (1 + o, f"(1 + {o})")],
            mistaken_for=("sigmoid",),
            numeric=((sp.tanh, math.tanh),),
        ),
        Activation(
            "relu",
            js="z > 0 ? z : 0",
            forward=lambda z: sp.Max(0, z),
            slope=lambda z, a: sp.Heaviside(z, 0),
            value=lambda z: z if z > 0 else 0.0,
            slope_value=lambda z, a: 1.0 if z > 0 else 0.0,
            tex=r"\operatorname{relu}",
            slope_tex=r"\operatorname{relu}'",
            formula=r"\max(0, z)",
            slope_formula=r"H(z) \text{ (1 if } z > 0 \text{, else 0)}",
            text="max(0, z)",
            words="the relu slope H(z): 1 where z > 0, else 0",
            spellings=("relu", "ReLU", r"\operatorname{relu}"),
            slope_spellings=("Heaviside", "heaviside", "H"),
            symbol="relu",
            kink=0.0,
            gates=True,
            numeric=((sp.Max, max), (sp.Heaviside, _heaviside)),
        ),
        Activation(
            "linear",
            js="z",
            forward=lambda z: z,
            slope=lambda z, a: sp.Integer(1),
            value=lambda z: z,
            slope_value=lambda z, a: 1.0,
            tex=r"\operatorname{id}",
            slope_tex=r"\operatorname{id}'",
            formula=r"z",
            slope_formula=r"1",
            text="z",
            words="the linear slope 1",
            spellings=(),
            symbol="id",
            identity=True,
        ),
        Activation(
            "softplus",
            js="Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)))",
            forward=lambda z: sp.log(1 + sp.exp(z)),
            slope=lambda z, a: sigmoid(z),
            value=_softplus_value,
            slope_value=lambda z, a: _sigmoid_value(z),
            tex=r"\operatorname{softplus}",
            slope_tex=r"\operatorname{softplus}'",
            formula=r"\log(1 + e^{z})",
            slope_formula=r"\sigma(z) = \frac{1}{1 + e^{-z}}",
            text="log(1 + exp(z))",
            words="the softplus slope σ(z)",
            spellings=("softplus",),
            symbol="softplus",
            said="σ({z})",
            mistaken_for=("sigmoid", "tanh"),
        ),
        Activation(
            "leaky_relu",
            js="z > 0 ? z : 0.01 * z",
            forward=lambda z: sp.Max(z, z / 100),
            slope=lambda z, a: sp.Rational(1, 100) + sp.Rational(99, 100) * sp.Heaviside(z, 0),
            value=lambda z: z if z > 0 else 0.01 * z,
            slope_value=lambda z, a: 1.0 if z > 0 else 0.01,
            tex=r"\operatorname{lrelu}",
            slope_tex=r"\operatorname{lrelu}'",
            formula=r"\max(0.01 z, z)",
            slope_formula=r"1 \text{ if } z > 0 \text{, else } 0.01",
            text="max(0.01 z, z)",
            words="the leaky relu slope: 1 where z > 0, else 0.01",
            spellings=("leaky_relu", "lrelu", r"\operatorname{lrelu}"),
            symbol="lrelu",
            kink=0.0,
        ),
        Activation(
            "gelu",
            js=f"0.5 * z * (1 + {_ERF_JS}(z / Math.SQRT2))",
            forward=_gelu,
            slope=lambda z, a: _gelu_slope(z),
            value=lambda z: 0.5 * z * (1.0 + math.erf(z / math.sqrt(2.0))),
            slope_value=lambda z, a: _gelu_slope_value(z),
            tex=r"\operatorname{gelu}",
            slope_tex=r"\operatorname{gelu}'",
            formula=r"z\,\Phi(z)",  # Φ: the standard normal's CDF, (1 + erf(z/√2))/2
            slope_formula=r"\Phi(z) + z\,\varphi(z)",
            text="z Phi(z) = z/2 (1 + erf(z/sqrt(2)))",
            words="the gelu slope Φ(z) + z φ(z)",
            spellings=("gelu", r"\operatorname{gelu}"),
            symbol="gelu",
            slope_max=1.13,
            numeric=((sp.erf, math.erf),),
        ),
        LayerActivation(
            "softmax",
            js="zs.map((z) => Math.exp(z - Math.max(...zs))).map((e, _, es) => e / es.reduce((a, b) => a + b))",
            forward=_softmax,
            jacobian=lambda o_j, o_k, same: o_j * (1 - o_j) if same else -o_j * o_k,
            value=_softmax_value,
            tex=r"\operatorname{softmax}",
            slope_tex="",
            formula=r"\frac{e^{z_j}}{\sum_k e^{z_k}}",
            slope_formula=r"\frac{\partial O_j}{\partial z_k} = O_j (1 - O_j) \text{ if } j = k \text{, else } -O_j O_k",
            text="exp(z_j)/sum_k exp(z_k)",
            words="the softmax Jacobian O_j(δ_jk − O_k)",
            spellings=("softmax",),
            symbol="softmax",
            cancels_with="cross_entropy",
        ),
    )
}
"""Every activation a network file may name, in the order documented."""

# The activations a note's vanishing-gradient section sets side by side along one path.
COMPARED = ("sigmoid", "tanh", "relu")


def swapped(name: str) -> str:
    """Return the activation a changed-activation exercise puts in place of ``name``.

    >>> swapped("sigmoid"), swapped("tanh")
    ('tanh', 'sigmoid')
    """
    return "sigmoid" if name == "tanh" else "tanh"


def elementwise(name: str) -> bool:
    """Return True for an activation whose slope depends on its own neuron's z alone."""
    return isinstance(ACTIVATIONS[name], Activation)


def _squares(o: Sequence[sp.Expr], y: Sequence[sp.Expr]) -> sp.Expr:
    return sp.Add(*[(oj - yj) ** 2 for oj, yj in zip(o, y, strict=True)])


@dataclass(frozen=True)
class Loss:
    """A loss: its value over all outputs, and its partials in one output and target."""

    name: str
    value: Callable[[Sequence[sp.Expr], Sequence[sp.Expr]], sp.Expr]
    by_output: Callable[[sp.Expr, sp.Expr, int], sp.Expr]  # dL/dO_j given O_j, y_j, n
    by_target: Callable[[sp.Expr, sp.Expr, int], sp.Expr]  # dL/dy_j
    number: Callable[[Sequence[float], Sequence[float]], float]  # the value on floats
    by_output_value: Callable[[float, float, int], float]  # dL/dO_j on floats
    formula: Callable[[str, str], str]  # LaTeX over all j, given one output's and target's TeX
    text: str  # plain text, as `derive show` prints it
    words: str  # its name in a sentence: "binary cross-entropy"
    targets: str  # the targets' real range, for random points: "real", "unit", "binary", "onehot"
    js: str = ""  # one output's term of L in JavaScript, in o, y and n (the page's forward pass)


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss(
            "squared_error",
            js="(o - y) ** 2",
            value=_squares,
            by_output=lambda o, y, n: 2 * (o - y),
            by_target=lambda o, y, n: -2 * (o - y),
            number=lambda o, y: math.fsum((a - b) ** 2 for a, b in zip(o, y, strict=True)),
            by_output_value=lambda o, y, n: 2.0 * (o - y),
            formula=lambda o, y: rf"\sum_j ({o} - {y})^2",
            text="sum_j (O_j - y_j)^2",
            words="squared error",
            targets="unit",
        ),
        Loss(
            "half_squared_error",
            js="(o - y) ** 2 / 2",
            value=lambda o, y: _squares(o, y) / 2,
            by_output=lambda o, y, n: o - y,
            by_target=lambda o, y, n: y - o,
            number=lambda o, y: math.fsum((a - b) ** 2 for a, b in zip(o, y, strict=True)) / 2,
            by_output_value=lambda o, y, n: o - y,
            formula=lambda o, y: rf"\frac{{1}}{{2}} \sum_j ({o} - {y})^2",
            text="1/2 sum_j (O_j - y_j)^2",
            words="half squared error",
            targets="unit",
        ),
        Loss(
            "mse",
            js="(o - y) ** 2 / n",
            value=lambda o, y: _squares(o, y) / len(o),
            by_output=lambda o, y, n: sp.Rational(2, n) * (o - y),
            by_target=lambda o, y, n: -sp.Rational(2, n) * (o - y),
            number=lambda o, y: math.fsum((a - b) ** 2 for a, b in zip(o, y, strict=True)) / len(o),
            by_output_value=lambda o, y, n: 2.0 * (o - y) / n,
            formula=lambda o, y: rf"\frac{{1}}{{n}} \sum_j ({o} - {y})^2",
            text="1/n sum_j (O_j - y_j)^2",
            words="mean squared error",
            targets="unit",
        ),
        Loss(
            "bce",
            js="-(y ? y * Math.log(o) : 0) - (y !== 1 ? (1 - y) * Math.log(1 - o) : 0)",
            value=lambda o, y: (
                -sp.Add(
                    *[
                        yj * sp.log(oj) + (1 - yj) * sp.log(1 - oj)
                        for oj, yj in zip(o, y, strict=True)
                    ]
                )
            ),
            by_output=lambda o, y, n: -y / o + (1 - y) / (1 - o),
            by_target=lambda o, y, n: sp.log(1 - o) - sp.log(o),
            # A term whose weight (y or 1 - y) is 0 is 0, even where its log has no value.
            number=lambda o, y: (
                -math.fsum(
                    (b * math.log(a) if b else 0.0) + ((1 - b) * math.log(1 - a) if b != 1 else 0.0)
                    for a, b in zip(o, y, strict=True)
                )
            ),
            by_output_value=lambda o, y, n: (
                (-y / o if y else 0.0) + ((1 - y) / (1 - o) if y != 1 else 0.0)
            ),
            formula=lambda o, y: rf"-\sum_j \left[ {y} \log {o} + (1 - {y}) \log (1 - {o}) \right]",
            text="-sum_j [y_j log O_j + (1 - y_j) log(1 - O_j)]",
            words="binary cross-entropy",
            targets="binary",
        ),
        Loss(
            "cross_entropy",
            js="y ? -y * Math.log(o) : 0",
            value=lambda o, y: -sp.Add(*[yj * sp.log(oj) for oj, yj in zip(o, y, strict=True)]),
            by_output=lambda o, y, n: -y / o,
            by_target=lambda o, y, n: -sp.log(o),
            number=lambda o, y: -math.fsum(b * math.log(a) for a, b in zip(o, y, strict=True) if b),
            by_output_value=lambda o, y, n: -y / o if y else 0.0,
            formula=lambda o, y: rf"-\sum_j {y} \log {o}",
            text="-sum_j y_j log O_j",
            words="cross-entropy",
            targets="onehot",
        ),
    )
}
"""Every loss kind a network file may name, in the order documented."""


@dataclass(frozen=True)
class Function:
    """A function a formula node may call, f(z): its formula and its slope, symbolic and on floats."""

    name: str
    forward: Callable[[sp.Expr], sp.Expr]  # f(z)
    slope: Callable[[sp.Expr], sp.Expr]  # f'(z), a formula in z
    value: Callable[[float], float]  # f(z) on floats
    slope_value: Callable[[float, float], float]  # f'(z) on floats, given z and f(z)
    # f'(z) in z and the function's own value a, where a course writes it so (sigmoid's
    # a(1 - a), tanh's 1 - a**2): a node f: sigmoid(dot) then reads df/ddot = f*(1 - f).
    by_own_value: Callable[[sp.Expr, sp.Expr], sp.Expr] | None = None
    js: str = ""  # f(z) in JavaScript, an expression in z (the HTML page's forward pass)


def _from_activation(name: str, own: bool = False) -> Function:
    row = ACTIVATIONS[name]
    assert isinstance(row, Activation)
    return Function(
        name,
        forward=row.forward,
        slope=lambda z: row.slope(z, row.forward(z)),
        value=row.value,
        slope_value=row.slope_value,
        by_own_value=row.slope if own else None,
        js=row.js,
    )


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("exp", sp.exp, sp.exp, math.exp, lambda z, a: a, js="Math.exp(z)"),
        Function("log", sp.log, lambda z: 1 / z, math.log, lambda z, a: 1.0 / z, js="Math.log(z)"),
        Function(
            "sqrt",
            sp.sqrt,
            lambda z: 1 / (2 * sp.sqrt(z)),
            math.sqrt,
            lambda z, a: 0.5 / a,
            js="Math.sqrt(z)",
        ),  # fmt: skip
        _from_activation("tanh", own=True),
        _from_activation("sigmoid", own=True),
        _from_activation("relu"),
        _from_activation("softplus"),
        Function(
            "abs",
            sp.Abs,
            sp.sign,
            abs,
            lambda z, a: 0.0 if z == 0 else math.copysign(1.0, z),
            js="Math.abs(z)",
        ),  # fmt: skip
    )
}
"""Every function a formula node may call (in the order the README lists them)."""


def cancels(activation: str, loss: str) -> bool:
    """Return whether an output's dL/dz is O - y: the loss is the activation's own.

    >>> cancels("softmax", "cross_entropy"), cancels("sigmoid", "mse")
    (True, False)
    """
    return bool(loss) and ACTIVATIONS[activation].cancels_with == loss


def targets(loss: str) -> str:
    """Return the real range of a loss kind's targets ("" for a graph without a loss).

    >>> targets("cross_entropy"), targets("bce"), targets("")
    ('onehot', 'binary', '')
    """
    return LOSSES[loss].targets if loss in LOSSES else ""


# The SymPy functions a formula of this package may hold, on floats: every row's own, and
# the formula nodes' functions (number() reads this; a new row brings its function along).
_NUMERIC: dict[type, Callable[..., float]] = {
    sp.exp: math.exp,
    sp.log: math.log,
    sp.Abs: abs,
    sp.sign: _sign,
    **{f: on_floats for a in ACTIVATIONS.values() for f, on_floats in a.numeric},
}
