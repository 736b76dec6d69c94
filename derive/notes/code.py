"""The note's Python program: forward pass, backward sweep, every gradient, checked.

The program uses nothing but the standard library. It holds the network as data
(each neuron's inputs and weights, its bias, its activation) and the example point,
computes the forward pass, then one sweep from the loss down, then every gradient,
prints them, and checks each gradient against central differences. It is the same
for every network; only its data differ. ``tests/test_notes.py`` runs it from every
note and compares what it prints with derive's numbers.
"""

from __future__ import annotations

import json

from derive.graph import Network

# Above this many values the point is read from a JSON file beside the note.
INLINE_VALUES = 120

PROGRAM = '''\
import math
{load}
# Each layer: its activation and its neurons as (name, [(source, weight), ...], bias).
LAYERS = {layers}
LOSS = "{loss}"  # {loss_words}
OUTPUTS, TARGETS = {outputs}, {targets}
{values}
PARAMS = {params}


def forward(v):
    """Return every value of the forward pass: the z of each neuron, its output, the loss."""
    v = dict(v)
    for activation, neurons in LAYERS:
        for name, inputs, bias in neurons:
            v["z_" + name] = sum(v[w] * v[s] for s, w in inputs) + (v[bias] if bias else 0.0)
        zs = [v["z_" + name] for name, _, _ in neurons]
        top = max(zs)
        total = sum(math.exp(z - top) for z in zs)
        for (name, _, _), z in zip(neurons, zs):
            v[name] = {{
                "sigmoid": lambda: 1 / (1 + math.exp(-z)),
                "tanh": lambda: math.tanh(z),
                "relu": lambda: max(0.0, z),
                "linear": lambda: z,
                "softplus": lambda: math.log1p(math.exp(z)),
                "softmax": lambda: math.exp(z - top) / total,
            }}[activation]()
    o, y = [v[n] for n in OUTPUTS], [v[n] for n in TARGETS]
    v["L"] = {{
        "squared_error": lambda: sum((a - b) ** 2 for a, b in zip(o, y)),
        "half_squared_error": lambda: sum((a - b) ** 2 for a, b in zip(o, y)) / 2,
        "mse": lambda: sum((a - b) ** 2 for a, b in zip(o, y)) / len(o),
        "bce": lambda: -sum(b * math.log(a) + (1 - b) * math.log(1 - a) for a, b in zip(o, y)),
        "cross_entropy": lambda: -sum(b * math.log(a) for a, b in zip(o, y)),
    }}[LOSS]()
    return v


def backward(v):
    """Return dL/dv for every neuron output and z (one sweep, loss first), and every gradient."""
    n = len(OUTPUTS)
    d = {{}}
    for a, t, b in zip(OUTPUTS, TARGETS, [v[t] for t in TARGETS]):
        o = v[a]
        d[a] = {{
            "squared_error": 2 * (o - b),
            "half_squared_error": o - b,
            "mse": 2 * (o - b) / n,
            "bce": -b / o + (1 - b) / (1 - o),
            "cross_entropy": -b / o,
        }}[LOSS]
    grad = {{p: 0.0 for p in PARAMS}}
    for activation, neurons in reversed(LAYERS):
        for name, _, _ in neurons:
            z, a = v["z_" + name], v[name]
            slope = {{
                "sigmoid": a * (1 - a),
                "tanh": 1 - a * a,
                "relu": 1.0 if z > 0 else 0.0,
                "linear": 1.0,
                "softplus": 1 / (1 + math.exp(-z)),
                "softmax": None,
            }}[activation]
            if slope is not None:  # dL/dz = dL/da * da/dz
                d["z_" + name] = d.get(name, 0.0) * slope
            else:  # softmax: every output of the layer depends on this z
                d["z_" + name] = sum(
                    d.get(k, 0.0) * v[k] * ((k == name) - a) for k, _, _ in neurons
                )
        for name, inputs, bias in neurons:
            delta = d["z_" + name]
            for s, w in inputs:  # z = w * s + ...: dz/dw = s and dz/ds = w
                grad[w] += delta * v[s]
                d[s] = d.get(s, 0.0) + delta * v[w]
            if bias:
                grad[bias] += delta
    return d, grad


v = forward(VALUES)
d, grad = backward(v)
print("loss", v["L"])
for _, neurons in reversed(LAYERS):
    for name, _, _ in neurons:
        print("dL/d" + name, d.get(name, 0.0), "dL/dz_" + name, d["z_" + name])
eps = 1e-6  # the finite-difference step
worst = 0.0
for p in PARAMS:
    up, down = dict(VALUES), dict(VALUES)
    up[p] += eps
    down[p] -= eps
    numeric = (forward(up)["L"] - forward(down)["L"]) / (2 * eps)
    error = abs(grad[p] - numeric) / max(abs(grad[p]), abs(numeric), 1e-12)
    worst = max(worst, error)
    print("dL/d" + p, grad[p], "central difference", numeric, "relative error", error)
print("largest relative error", worst)
'''


def program(net: Network, point: dict[str, float], point_file: str = "") -> str:
    """Return the note's Python program for ``net`` at ``point``.

    With ``point_file`` the values are read from that JSON file (wide networks), else
    they are written into the program.
    """
    layers = []
    for layer in net.layers:
        act = net.neurons[layer[0]].activation
        neurons = [(n, [list(e) for e in net.neurons[n].inputs], net.neurons[n].bias) for n in layer]
        layers.append((act, neurons))
    names = [n for n in net.names if net.kind(n) in ("input", "weight", "bias", "target")]
    values = {n: point[n] for n in names}
    wide = bool(point_file) or len(values) > INLINE_VALUES
    return PROGRAM.format(
        load="import json\n" if wide else "",
        layers=_layers(layers),
        loss=net.loss_kind,
        loss_words=f"the loss {net.loss}",
        outputs=json.dumps(net.outputs),
        targets=json.dumps(net.targets),
        values=(
            f'VALUES = json.load(open("{point_file}"))  # inputs, weights, biases, targets'
            if wide
            else "VALUES = {\n" + "".join(f"    {k!r}: {v!r},\n" for k, v in values.items()) + "}"
        ),
        params=json.dumps(net.parameters) if len(net.parameters) <= 40 else "list(VALUES)[%d:%d]"
        % _param_slice(net, names),
    ).replace("'", '"')


def _param_slice(net: Network, names: list[str]) -> tuple[int, int]:
    params = [i for i, n in enumerate(names) if net.kind(n) in ("weight", "bias")]
    return params[0], params[-1] + 1


def _layers(layers: list) -> str:
    if sum(len(n) for _, n in layers) > 16:
        return json.dumps(layers).replace("null", "None")
    out = ["["]
    for act, neurons in layers:
        out.append(f'    ("{act}", [')
        for name, inputs, bias in neurons:
            pairs = ", ".join(f'("{s}", "{w}")' for s, w in inputs)
            out.append(f'        ("{name}", [{pairs}], {json.dumps(bias) if bias else "None"}),')
        out.append("    ]),")
    out.append("]")
    return "\n".join(out)


def point_json(net: Network, point: dict[str, float]) -> str:
    """Return the example point as the JSON a wide network's program reads."""
    names = [n for n in net.names if net.kind(n) in ("input", "weight", "bias", "target")]
    return json.dumps({n: point[n] for n in names})
