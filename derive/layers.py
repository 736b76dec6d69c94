"""Stage 7b: the same backward sweep per layer, in matrices (Nielsen's four equations).

For a network whose edges all run from one layer to the next, each weight on
one edge, layer l has a weight matrix W^(l) (n_l x n_(l-1): rows the neurons
of layer l, columns those of layer l-1, a missing edge a 0) and

    z^(l) = W^(l) a^(l-1) + b^(l),   a^(l) = act(z^(l)),   a^(0) = the inputs
    delta^(L) = grad_a L ⊙ act'(z^(L))          (softmax: J^T grad_a L)
    delta^(l) = (W^(l+1))^T delta^(l+1) ⊙ act'(z^(l))
    dL/db^(l) = delta^(l),   dL/dW^(l) = delta^(l) (a^(l-1))^T

:func:`layer_form` gives the matrices' names and shapes; :func:`layer_values`
computes every matrix at a point, with plain lists (79,510 weights are
2 x 79,510 multiply-adds: no array library is needed).

>>> from derive.graph import load_network
>>> form = layer_form(load_network("two_hidden"))
>>> form.layers[0].weights
[['W1', 'W2', 'W3'], ['W4', 'W5', 'W6']]
>>> form.layers[0].shape
(2, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from derive.errors import DeriveError
from derive.graph import Network
from derive.rules import ACTIVATIONS, cancels

Matrix = list[list[float]]


@dataclass(frozen=True)
class Layer:
    """One layer l: its neurons (rows), the previous layer's (columns), the names of W and b."""

    index: int
    neurons: list[str]
    sources: list[str]
    weights: list[list[str | None]]  # None where an edge is missing (a 0 entry)
    biases: list[str] | None  # None when the layer has no bias
    preacts: list[str]
    activation: str

    @property
    def shape(self) -> tuple[int, int]:
        """Return W^(l)'s shape, (n_l, n_(l-1))."""
        return (len(self.neurons), len(self.sources))


@dataclass(frozen=True)
class LayerForm:
    """A network in layers: ``layers[l - 1]`` is layer l; the loss and its targets."""

    net: Network
    layers: list[Layer]

    @property
    def softmax_cross_entropy(self) -> bool:
        """Return whether the output is softmax under cross-entropy (delta^(L) = a - y)."""
        act = self.layers[-1].activation
        return ACTIVATIONS[act].couples and cancels(act, self.net.loss_kind)


def layer_form(net: Network) -> LayerForm:
    """Return the network as weight matrices, one per layer.

    Raises
    ------
    DeriveError
        Naming the first edge that skips a layer, or a weight (bias) used on
        more than one edge (neuron): neither has a place in one matrix.
    """
    if net.is_graph:
        raise DeriveError(
            f"{net.name} is a computational graph of formula nodes: it has no layer form "
            "(no weight matrices)",
            hint="drop --matrix; derive backprop shows its sweep node by node",
        )
    seen: dict[str, tuple[str, str]] = {}
    bias_of: dict[str, str] = {}
    layers = []
    previous = list(net.inputs)
    for index, neurons in enumerate(net.layers, start=1):
        column = {name: k for k, name in enumerate(previous)}
        weights: list[list[str | None]] = []
        for n in neurons:
            row: list[str | None] = [None] * len(previous)
            for src, w in net.neurons[n].inputs:
                if src not in column:
                    raise DeriveError(
                        f"the edge {src} -> {n} ({w}) skips a layer: the layer form needs "
                        "every edge to run from one layer to the next",
                        hint="use the sweep without the matrices for this network",
                    )
                if w in seen:
                    first = " -> ".join(seen[w])
                    raise DeriveError(
                        f"the weight {w} is tied ({first} and {src} -> {n}): the layer form "
                        "needs every weight on one edge",
                        hint="use the sweep without the matrices for this network",
                    )
                seen[w] = (src, n)
                row[column[src]] = w
            weights.append(row)
        names = [net.neurons[n].bias for n in neurons]
        for n, b in zip(neurons, names, strict=True):
            if b and b in bias_of:
                raise DeriveError(
                    f"the bias {b} is shared by {bias_of[b]} and {n}: the layer form needs "
                    "a bias per neuron",
                    hint="use the sweep without the matrices for this network",
                )
            if b:
                bias_of[b] = n
        if any(names) and not all(names):
            missing = neurons[names.index(None)]
            raise DeriveError(f"layer {index} has biases on some neurons only ({missing} has none)")
        biases = [b for b in names if b] if all(names) else None
        layers.append(
            Layer(
                index,
                list(neurons),
                previous,
                weights,
                biases,
                [net.neurons[n].preact for n in neurons],
                net.neurons[neurons[0]].activation,
            )
        )
        previous = list(neurons)
    return LayerForm(net, layers)


# -- numbers ----------------------------------------------------------------------


@dataclass
class LayerValues:
    """Every matrix of the layer form at a point; column vectors are lists.

    For layer l (``[l - 1]`` in each list): ``W`` its weights, ``b`` its
    biases (zeros without), ``a_in`` = a^(l-1), ``z``, ``a``, ``slope``
    act'(z^(l)) (a vector; for softmax the Jacobian ``jacobian``), ``delta``,
    ``dW`` and ``db``; ``grad_a`` = grad_a L at the output.
    """

    W: list[Matrix]
    b: list[list[float]]
    a_in: list[list[float]]
    z: list[list[float]]
    a: list[list[float]]
    slope: list[list[float] | None]
    jacobian: list[Matrix | None]
    delta: list[list[float]]
    dW: list[Matrix]
    db: list[list[float]]
    grad_a: list[float]


def layer_values(form: LayerForm, point: dict[str, float]) -> LayerValues:
    """Return every matrix of the layer form at a point: the one sweep, arranged in matrices.

    delta^(l) is read from the backward sweep with the z's (dL/dz of each
    neuron of layer l), the slopes and the loss's partials are the local
    partials of :class:`derive.kinds.Slopes`; dL/dW^(l) = delta^(l) (a^(l-1))^T
    and dL/db^(l) = delta^(l) are the products the notes show.

    >>> from derive.graph import load_network
    >>> net = load_network("simple")
    >>> v = layer_values(layer_form(net), net.values)
    >>> round(v.dW[-1][0][0], 6)
    -0.125349
    """
    from derive.kinds import Slopes, check_finite
    from derive.sweep import values

    net = form.net
    swept = values(net, point, detail=True)
    env = swept.forward
    slopes = Slopes(net, env)
    W = [[[env[w] if w else 0.0 for w in row] for row in layer.weights] for layer in form.layers]
    b = [
        [env[x] for x in layer.biases] if layer.biases else [0.0] * len(layer.neurons)
        for layer in form.layers
    ]
    a_in, z, a = [], [], []
    current = [env[x] for x in net.inputs]
    for layer, matrix, bias in zip(form.layers, W, b, strict=True):
        a_in.append(current)
        z.append([_dot(row, current) + bj for row, bj in zip(matrix, bias, strict=True)])
        current = [env[n] for n in layer.neurons]
        a.append(current)
    slope: list[list[float] | None] = []
    jacobian: list[Matrix | None] = []
    for layer in form.layers:
        if ACTIVATIONS[layer.activation].couples:
            slope.append(None)
            jacobian.append([[slopes.act(j, k) for k in layer.neurons] for j in layer.neurons])
        else:
            slope.append([slopes.act(n, n) for n in layer.neurons])
            jacobian.append(None)
    grad_a = [slopes(net.loss, o) for o in net.outputs]
    # A neuron that feeds nothing has no line in the sweep: its delta is 0.
    delta = [[swept.delta.get(zj, 0.0) for zj in layer.preacts] for layer in form.layers]
    dW = [[[d * x for x in a_in[i]] for d in delta[i]] for i in range(len(form.layers))]
    db = [list(d) for d in delta]
    check_finite(
        (f"an entry of dL/dW^({i + 1})", x) for i, m in enumerate(dW) for row in m for x in row
    )
    return LayerValues(W, b, a_in, z, a, slope, jacobian, delta, dW, db, grad_a)


def _dot(row: list[float], column: list[float]) -> float:
    return math.fsum(x * y for x, y in zip(row, column, strict=True))
