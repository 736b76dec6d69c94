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

# Above this many parameters the data are read from a JSON file beside the note.
INLINE_VALUES = 120

PROGRAM = """\
import math
{load}
# Each layer: its activation and its neurons as (name, [(source, weight), ...], bias).
LAYERS = {layers}
LOSS, L = "{loss}", "{loss_name}"
OUTPUTS, TARGETS = {outputs}, {targets}
{values}
PARAMS = {params}
ACT = {{"sigmoid": lambda z: 1 / (1 + math.exp(-z)), "tanh": math.tanh,
       "relu": lambda z: max(0.0, z), "linear": lambda z: z,
       "softplus": lambda z: math.log1p(math.exp(z))}}


def forward(v):  # every z, every neuron's output, the loss
    v = dict(v)
    for act, neurons in LAYERS:
        for name, inputs, bias in neurons:
            v["z_" + name] = sum(v[w] * v[s] for s, w in inputs) + (v[bias] if bias else 0)
        zs = [v["z_" + name] for name, _, _ in neurons]
        top = max(zs)
        for name, _, _ in neurons:
            z = v["z_" + name]
            v[name] = (math.exp(z - top) / sum(math.exp(x - top) for x in zs)
                       if act == "softmax" else ACT[act](z))
    loss = 0.0
    for o, t in zip(OUTPUTS, TARGETS):
        a, y = v[o], v[t]
        loss += {{"squared_error": (a - y) ** 2, "half_squared_error": (a - y) ** 2 / 2,
                 "mse": (a - y) ** 2 / len(OUTPUTS), "cross_entropy": -y * math.log(a),
                 "bce": -(y * math.log(a) + (1 - y) * math.log(1 - a)) if 0 < a < 1 else 0,
                 }}[LOSS]
    v[L] = loss
    return v


def backward(v):  # one sweep from the loss down: dL/dv for every output and z, then the gradients
    d = {{}}
    for o, t in zip(OUTPUTS, TARGETS):
        a, y = v[o], v[t]
        d[o] = {{"squared_error": 2 * (a - y), "half_squared_error": a - y,
                "mse": 2 * (a - y) / len(OUTPUTS), "cross_entropy": -y / a,
                "bce": -y / a + (1 - y) / (1 - a) if 0 < a < 1 else 0}}[LOSS]
    grad = {{p: 0.0 for p in PARAMS}}
    for act, neurons in reversed(LAYERS):
        for name, _, _ in neurons:
            z, a = v["z_" + name], v[name]
            if act == "softmax":  # every output of the layer depends on this z
                d["z_" + name] = sum(d.get(k, 0) * v[k] * ((k == name) - a) for k, _, _ in neurons)
            else:  # dL/dz = dL/da * da/dz
                slope = {{"sigmoid": a * (1 - a), "tanh": 1 - a * a, "relu": float(z > 0),
                         "linear": 1.0, "softplus": 1 / (1 + math.exp(-z))}}[act]
                d["z_" + name] = d.get(name, 0) * slope
        for name, inputs, bias in neurons:
            delta = d["z_" + name]
            for s, w in inputs:  # z = w * s + ...: dz/dw = s, dz/ds = w
                grad[w] += delta * v[s]
                d[s] = d.get(s, 0) + delta * v[w]
            if bias:
                grad[bias] += delta
    return d, grad


v = forward(VALUES)
d, grad = backward(v)
print("loss", v[L])
for _, neurons in reversed(LAYERS):
    for name, _, _ in neurons:
        print("d" + L + "/d" + name, d.get(name, 0), "d" + L + "/dz_" + name, d["z_" + name])
eps, worst = 1e-6, 0.0  # the finite-difference step
for p in PARAMS:
    up, down = dict(VALUES, **{{p: VALUES[p] + eps}}), dict(VALUES, **{{p: VALUES[p] - eps}})
    numeric = (forward(up)[L] - forward(down)[L]) / (2 * eps)
    error = abs(grad[p] - numeric) / max(abs(grad[p]), abs(numeric), 1e-12)
    worst = max(worst, error)
    print("d" + L + "/d" + p, grad[p], "central difference", numeric, "relative error", error)
print("largest relative error", worst)
"""


def program(net: Network, point: dict[str, float], point_file: str = "") -> str:
    """Return the note's Python program for ``net`` at ``point``.

    With ``point_file`` (a wide network) the layers and values are read from that
    JSON file (see :func:`point_json`), else they are written into the program.
    """
    names = [n for n in net.names if net.kind(n) in ("input", "weight", "bias", "target")]
    if point_file:
        data = (
            f'DATA = json.load(open("{point_file}"))  # written beside this note\n'
            'LAYERS, VALUES = DATA["layers"], DATA["values"]'
        )
        layers_text, values = "[]  # read below", data
        params = 'list(DATA["params"])'
    else:
        layers_text = _layers(_layer_data(net))
        values = "VALUES = {\n" + "".join(f"    {k!r}: {point[k]!r},\n" for k in names) + "}"
        params = (
            "[\n"
            + "".join(f"    {line},\n" for line in _wrap([json.dumps(p_) for p_ in net.parameters]))
            + "]"
        )
    text = PROGRAM.format(
        load="import json\n" if point_file else "",
        layers=layers_text,
        loss=net.loss_kind,
        loss_name=net.loss,
        outputs=json.dumps(net.outputs),
        targets=json.dumps(net.targets),
        values=values if not point_file else values,
        params=params,
    )
    return text.replace("'", '"')


def _wrap(items: list[str], width: int = 76) -> list[str]:
    lines, line = [], ""
    for x in items:
        if line and len(line) + len(x) + 2 > width:
            lines.append(line.rstrip(", ").rstrip(","))
            line = ""
        line += x + ", "
    if line:
        lines.append(line.rstrip(", "))
    return lines


def _layer_data(net: Network) -> list:
    return [
        (
            net.neurons[layer[0]].activation,
            [(n, [list(e) for e in net.neurons[n].inputs], net.neurons[n].bias) for n in layer],
        )
        for layer in net.layers
    ]


def _layers(layers: list) -> str:
    out = ["["]
    for act, neurons in layers:
        out.append(f'    ("{act}", [')
        for name, inputs, bias in neurons:
            pairs = [f'("{s}", "{w}")' for s, w in inputs]
            head = f'        ("{name}", ['
            body = _wrap(pairs, 60)
            tail = f"], {json.dumps(bias) if bias else 'None'}),"
            if len(body) == 1:
                out.append(head + body[0] + tail)
            else:
                out.append(head)
                out += [f"            {line}," for line in body]
                out.append("        " + tail)
        out.append("    ]),")
    out.append("]")
    return "\n".join(out)


def point_json(net: Network, point: dict[str, float]) -> str:
    """Return what a wide network's program reads: its layers, values and parameters."""
    names = [n for n in net.names if net.kind(n) in ("input", "weight", "bias", "target")]
    return json.dumps(
        {
            "layers": _layer_data(net),
            "values": {n: point[n] for n in names},
            "params": net.parameters,
        }
    )
