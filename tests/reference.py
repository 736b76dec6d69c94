"""An independent forward pass and composed loss, written from SPEC section 1's tables.

Nothing here imports derive.rules, derive.evaluate or derive.expand:
the tests compare derive's answers with what this module computes on its own.
Only the network's structure is read (layers, each neuron's inputs, bias and
activation, the outputs, targets and loss kind).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable

import sympy as sp

ACTIVATIONS = (
    "sigmoid",
    "tanh",
    "relu",
    "linear",
    "softplus",
    "softmax",
)  # random nets draw from these
LOSSES = ("squared_error", "half_squared_error", "mse", "bce", "cross_entropy")


# -- SymPy: every node as one expression of the leaves -----------------------------


def _act_expr(kind: str, z: sp.Expr) -> sp.Expr:
    if kind == "sigmoid":
        return 1 / (1 + sp.exp(-z))
    if kind == "tanh":
        return sp.tanh(z)
    if kind == "relu":
        return sp.Max(0, z)
    if kind == "linear":
        return z
    if kind == "softplus":
        return sp.log(1 + sp.exp(z))
    if kind == "leaky_relu":
        return sp.Piecewise((z, z > 0), (z / 100, True))
    if kind == "gelu":  # z times the standard normal CDF
        return z * (1 + sp.erf(z / sp.sqrt(2))) / 2
    raise ValueError(kind)


def _loss_expr(kind: str, outs: list, ys: list):
    """Return the loss of SPEC's table; works on SymPy expressions and on floats."""
    n = len(outs)
    log = sp.log if isinstance(outs[0], sp.Basic) else math.log
    if kind == "squared_error":
        return sum((o - y) ** 2 for o, y in zip(outs, ys, strict=True))
    if kind == "half_squared_error":
        return sum((o - y) ** 2 for o, y in zip(outs, ys, strict=True)) / 2
    if kind == "mse":
        total = sum((o - y) ** 2 for o, y in zip(outs, ys, strict=True))
        return total / n if not isinstance(total, sp.Basic) else total / sp.Integer(n)
    if kind == "bce":
        return -sum(y * log(o) + (1 - y) * log(1 - o) for o, y in zip(outs, ys, strict=True))
    if kind == "cross_entropy":
        return -sum(y * log(o) for o, y in zip(outs, ys, strict=True))
    raise ValueError(kind)


def expressions(net, free: Iterable[str] = ()) -> dict[str, sp.Expr]:
    """Return every neuron's output, every pre-activation and the loss as SymPy expressions.

    Leaves (inputs, weights, biases, targets) are plain Symbols. A name in
    ``free`` (a neuron or a pre-activation) is a Symbol too instead of its
    formula, so that differentiating with respect to it gives the total
    derivative through the graph, everything above it recomputed.
    """
    free = set(free)
    env: dict[str, sp.Expr] = {}

    def value(name: str) -> sp.Expr:
        return env[name] if name in env else sp.Symbol(name)

    for layer in net.layers:
        for n in layer:
            neuron = net.neurons[n]
            if neuron.preact in free:
                env[neuron.preact] = sp.Symbol(neuron.preact)
                continue
            z = sp.Add(*[value(src) * sp.Symbol(w) for src, w in neuron.inputs])
            if neuron.bias:
                z += sp.Symbol(neuron.bias)
            env[neuron.preact] = z
        for n in layer:
            neuron = net.neurons[n]
            if n in free:
                env[n] = sp.Symbol(n)
            elif neuron.activation == "softmax":
                zs = [env[net.neurons[k].preact] for k in layer]
                env[n] = sp.exp(env[neuron.preact]) / sp.Add(*[sp.exp(z) for z in zs])
            else:
                env[n] = _act_expr(neuron.activation, env[neuron.preact])
    outs = [env[o] for o in net.outputs]
    env[net.loss] = _loss_expr(net.loss_kind, outs, [sp.Symbol(t) for t in net.targets])
    return env


def composed_loss(net) -> sp.Expr:
    """Return the loss as ONE expression of inputs, weights, biases and targets."""
    return expressions(net)[net.loss]


def sympy_value(expr: sp.Expr, point: dict[str, float]) -> float:
    """Return a SymPy expression's value with every symbol set from ``point``."""
    subs = {s: sp.Float(point[s.name], 30) for s in expr.free_symbols}
    return float(expr.xreplace(subs).evalf(30))


def exact_gradient(net, param: str, point: dict[str, float]) -> float:
    """Return d(loss)/d(param) at a point by sympy.diff of the composed loss."""
    return sympy_value(sp.diff(composed_loss(net), sp.Symbol(param)), point)


# -- floats: a plain forward pass ------------------------------------------------------


def _act_float(kind: str, z: float) -> float:
    if kind == "sigmoid":
        return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
    if kind == "tanh":
        return math.tanh(z)
    if kind == "relu":
        return z if z > 0 else 0.0
    if kind == "linear":
        return z
    if kind == "softplus":
        return math.log1p(math.exp(z))
    if kind == "leaky_relu":
        return z if z > 0 else z / 100
    if kind == "gelu":
        return z * 0.5 * math.erfc(-z / math.sqrt(2))
    raise ValueError(kind)


def forward(
    net, point: dict[str, float], fixed: dict[str, float] | None = None
) -> dict[str, float]:
    """Return every node's value at a point; a node in ``fixed`` takes that value instead."""
    fixed = fixed or {}
    env = dict(point)
    for layer in net.layers:
        for n in layer:
            neuron = net.neurons[n]
            z = sum(env[src] * env[w] for src, w in neuron.inputs)
            if neuron.bias:
                z += env[neuron.bias]
            env[neuron.preact] = fixed.get(neuron.preact, z)
        for n in layer:
            neuron = net.neurons[n]
            if neuron.activation == "softmax":
                zs = [env[net.neurons[k].preact] for k in layer]
                top = max(zs)
                out = math.exp(env[neuron.preact] - top) / sum(math.exp(z - top) for z in zs)
            else:
                out = _act_float(neuron.activation, env[neuron.preact])
            env[n] = fixed.get(n, out)
    outs = [env[o] for o in net.outputs]
    env[net.loss] = _loss_expr(net.loss_kind, outs, [env[t] for t in net.targets])
    return env


def leaf_kind(net, name: str) -> str | None:
    """Return input, weight, bias or target for a leaf, else None (from structure only)."""
    if name in net.inputs:
        return "input"
    if name in net.targets:
        return "target"
    for neuron in net.neurons.values():
        if name == neuron.bias:
            return "bias"
        if any(name == w for _, w in neuron.inputs):
            return "weight"
    return None


def leaves(net) -> list[str]:
    """Return every input, weight, bias and target, each once."""
    names = list(net.inputs)
    for layer in net.layers:
        for n in layer:
            neuron = net.neurons[n]
            for name in [w for _, w in neuron.inputs] + [neuron.bias]:
                if name and name not in names:
                    names.append(name)
    return names + list(net.targets)


def random_point(net, seed: int) -> dict[str, float]:
    """Return a random point: leaves in [-1, 1], targets that suit the loss."""
    rng = random.Random(seed)
    point = {n: rng.uniform(-1, 1) for n in leaves(net) if n not in net.targets}
    if net.loss_kind == "cross_entropy":
        hot = rng.randrange(len(net.targets))
        point.update({t: float(i == hot) for i, t in enumerate(net.targets)})
    else:
        point.update({t: rng.uniform(0, 1) for t in net.targets})
    return point


def relu_margin(net, point: dict[str, float]) -> float:
    """Return how far the nearest relu pre-activation is from its kink at 0."""
    env = forward(net, point)
    zs = [abs(env[n.preact]) for n in net.neurons.values() if n.activation == "relu"]
    return min(zs, default=math.inf)


def central_difference(net, of: str, wrt: str, point: dict[str, float], h: float = 1e-6) -> float:
    """Return d(of)/d(wrt) by central differences of the forward pass.

    ``wrt`` may be a leaf (nudged in the point) or a neuron or pre-activation
    (its value fixed at a nudged one, everything above recomputed).
    """
    if wrt in point:
        up, down = dict(point), dict(point)
        up[wrt] += h
        down[wrt] -= h
        return (forward(net, up)[of] - forward(net, down)[of]) / (2 * h)
    base = forward(net, point)[wrt]
    hi = forward(net, point, {wrt: base + h})[of]
    lo = forward(net, point, {wrt: base - h})[of]
    return (hi - lo) / (2 * h)


def depends_on(net, of: str, wrt: str) -> bool:
    """Return whether ``of`` is computed, through some chain of edges, from ``wrt``.

    Structural, not symbolic: a one-neuron softmax is constant 1 but still
    computed from its inputs.
    """
    if of == wrt:
        return True
    if of == net.loss:
        return wrt in net.targets or any(depends_on(net, o, wrt) for o in net.outputs)
    neuron = next((n for n in net.neurons.values() if of in (n.name, n.preact)), None)
    if neuron is None:
        return False
    if of == neuron.name:
        if wrt == neuron.preact:
            return True
        layer = next(layer for layer in net.layers if neuron.name in layer)
        group = layer if neuron.activation == "softmax" else [neuron.name]
        return any(depends_on(net, net.neurons[k].preact, wrt) for k in group)
    feeds = [s for s, _ in neuron.inputs]
    params = [w for _, w in neuron.inputs] + ([neuron.bias] if neuron.bias else [])
    return wrt in params or wrt in feeds or any(depends_on(net, s, wrt) for s in feeds)


# -- a reference: plain matrix backpropagation, written apart from derive ------------


def matrix_gradients(sizes, acts, point, targets):
    """Return {name: gradient} by textbook matrix backprop (relu/tanh hidden layers, softmax + CE).

    The network is layer-indexed (x<k>, w<l>_<j>_<k>, b<l>_<j>), every layer biased.
    """
    a = [point[f"x{k + 1}"] for k in range(sizes[0])]
    keep = []
    for layer, (n, act) in enumerate(zip(sizes[1:], acts, strict=True), start=1):
        W = [[point[f"w{layer}_{j + 1}_{k + 1}"] for k in range(len(a))] for j in range(n)]
        z = [
            sum(w * x for w, x in zip(row, a, strict=True)) + point[f"b{layer}_{j + 1}"]
            for j, row in enumerate(W)
        ]
        if act == "softmax":
            m = max(z)
            e = [math.exp(v - m) for v in z]
            out = [v / sum(e) for v in e]
        elif act == "relu":
            out = [max(0.0, v) for v in z]
        else:
            out = [math.tanh(v) for v in z]
        keep.append((a, W, z, out, act))
        a = out
    grads = {}
    delta = [
        o - t for o, t in zip(a, targets, strict=True)
    ]  # softmax + cross-entropy, one-hot target
    for layer in range(len(keep), 0, -1):
        a_in, W, z, out, act = keep[layer - 1]
        for j, d in enumerate(delta):
            grads[f"b{layer}_{j + 1}"] = d
            for k, x in enumerate(a_in):
                grads[f"w{layer}_{j + 1}_{k + 1}"] = d * x
        if layer > 1:
            below = keep[layer - 2]
            back = [sum(W[j][k] * delta[j] for j in range(len(delta))) for k in range(len(a_in))]
            slope = [
                (1.0 if v > 0 else 0.0) if below[4] == "relu" else 1 - o * o
                for v, o in zip(below[2], below[3], strict=True)
            ]
            delta = [b * s for b, s in zip(back, slope, strict=True)]
    return grads
