"""The note's Python program: forward pass, backward sweep, every gradient, checked.

The program uses nothing but the standard library. It holds the network as data
(each neuron's inputs and weights, its bias, its activation) and the example point,
computes the forward pass, then one sweep from the loss down, then every gradient,
prints them, and checks each gradient against central differences. It is written
for its network: only the activations it uses and its loss, printed by SymPy's
``pycode`` from their rows in :mod:`derive.rules`; the softmax code only where a
softmax layer is, the bias code only where a neuron has a bias. ``tests/test_notes.py``
runs it from every note and compares what it prints with derive's numbers.
"""

from __future__ import annotations

import json

import sympy as sp

from derive.graph import Network
from derive.rules import ACTIVATIONS, LOSSES, Activation, Loss

# Above this many parameters the data are read from a JSON file beside the note.
INLINE_VALUES = 120
WIDTH = 76  # the columns that VALUES, PARAMS and the like are wrapped to
LONGEST = 88  # the longest line of the program

HEAD = """\
{imports}
# Each layer: its activation and its neurons as (name, [(source, weight), ...], bias).
{data}
{outputs}
{act}
{slope}
# {L}, the {words}, sums LOSS(a, y) over each output a and its target y.
LOSS = lambda a, y: {loss}
LOSS_SLOPE = lambda a, y: {loss_slope}  # d{L}/da
"""

SOFTMAX = """
def softmax(zs):  # z - max(zs) keeps exp from overflowing; the shift cancels
    e = [math.exp(z - max(zs)) for z in zs]
    return [x / sum(e) for x in e]

def softmax_slope(a_k, a_j, same):  # da_k/dz_j, the softmax Jacobian
    return {same} if same else {other}
"""

FORWARD = """
def forward(v):  # every z, every neuron's output, the loss
    v = dict(v)
    for act, neurons in LAYERS:
{layer}
    v[{Lq}] = sum(LOSS(v[o], v[y]) for o, y in OUTPUTS.items())
    return v

def backward(v):  # one sweep from the loss down: every d{L}/dv, then every gradient
    d = {{o: LOSS_SLOPE(v[o], v[y]) for o, y in OUTPUTS.items()}}
    grad = dict.fromkeys(PARAMS, 0.0)
    for act, neurons in reversed(LAYERS):
        for name, inputs, {bias} in neurons:
{delta}
            for s, w in inputs:  # z = w * s + ...: dz/dw = s, dz/ds = w
                grad[w] += delta * v[s]
                d[s] = d.get(s, 0) + delta * v[w]
{bias_grad}    return d, grad

v = forward(VALUES)
d, grad = backward(v)
print("loss", v[{Lq}])
for _, neurons in reversed(LAYERS):
    for name, _, _ in neurons:
        print({dv} + name, d.get(name, 0), {dz} + name, d["z_" + name])
eps, worst = 1e-6, 0.0  # the finite-difference step
for p in PARAMS{every}
    up, down = {{**VALUES, p: VALUES[p] + eps}}, {{**VALUES, p: VALUES[p] - eps}}
    numeric = (forward(up)[{Lq}] - forward(down)[{Lq}]) / (2 * eps)
    error = abs(grad[p] - numeric) / max(abs(grad[p]), abs(numeric), 1e-12)
    worst = max(worst, error)
    print({dv} + p, grad[p], "central difference", numeric, "relative error", error)
print("largest relative error", worst)
"""

# The forward pass through one layer, elementwise or (with a softmax layer) whole.
LAYER = """\
        for name, inputs, {bias} in neurons:
            z = sum(v[w] * v[s] for s, w in inputs){plus_bias}
            v["z_" + name], v[name] = z, ACT[act](z)"""
LAYER_SOFTMAX = """\
        zs = [sum(v[w] * v[s] for s, w in inputs){plus_bias}{break_}for _, inputs, {bias} in neurons]
        outs = [ACT[act](z) for z in zs] if act in ACT else softmax(zs)
        for (name, _, _), z, a in zip(neurons, zs, outs):
            v["z_" + name], v[name] = z, a"""
# dL/dz of one neuron in the sweep.
DELTA = """\
            delta = d.get(name, 0) * SLOPE[act](v["z_" + name], v[name])
            d["z_" + name] = delta  # d{L}/dz = d{L}/da * da/dz"""
DELTA_SOFTMAX = """\
            if act not in ACT:  # softmax: every output of the layer depends on this z
                delta = sum(d.get(k, 0) * softmax_slope(v[k], v[name], k == name)
                            for k, _, _ in neurons)
            else:  # d{L}/dz = d{L}/da * da/dz
                delta = d.get(name, 0) * SLOPE[act](v["z_" + name], v[name])
            d["z_" + name] = delta"""
BIAS_GRAD = """\
            if bias:  # z = ... + b: dz/db = 1
                grad[bias] += delta
"""


def program(net: Network, point: dict[str, float], point_file: str = "") -> str:
    """Return the note's Python program for ``net`` at ``point``.

    With ``point_file`` (a wide network) the layers, values and parameters are read
    from that JSON file (see :func:`point_json`), else they are written into the program.
    """
    if point_file:
        imports = "import json\nimport math\n"
        data = (
            f"DATA = json.load(open({json.dumps(point_file)}))  # written beside this note\n"
            'LAYERS, VALUES, PARAMS = DATA["layers"], DATA["values"], DATA["params"]'
        )
    else:
        imports = "import math\n"
        values = [f"{json.dumps(k)}: {point[k]!r}" for k in _point_names(net)]
        data = "\n".join(
            [
                "LAYERS = " + _layers(_layer_data(net)),
                _literal("VALUES = {", values, "}"),
                _literal("PARAMS = [", [json.dumps(p) for p in net.parameters], "]"),
            ]
        )
    pairs = [
        f"{json.dumps(o)}: {json.dumps(t)}" for o, t in zip(net.outputs, net.targets, strict=True)
    ]
    used = list(dict.fromkeys(net.neurons[layer[0]].activation for layer in net.layers))
    text = HEAD.format(
        imports=imports,
        data=data,
        outputs=_literal("OUTPUTS = {", pairs, "}", "each output and its target"),
        **_activations([ACTIVATIONS[act] for act in used if not ACTIVATIONS[act].couples]),
        **_loss(LOSSES[net.loss_kind], len(net.outputs)),
        L=net.loss,
    )
    coupled = [ACTIVATIONS[act] for act in used if ACTIVATIONS[act].couples]
    if coupled:
        a_k, a_j = sp.symbols("a_k a_j")
        jacobian = coupled[0].jacobian
        text += SOFTMAX.format(
            same=_py(jacobian(a_k, a_j, True)), other=_py(jacobian(a_k, a_j, False))
        )
    layer, delta = (LAYER_SOFTMAX, DELTA_SOFTMAX) if coupled else (LAYER, DELTA)
    bias = any(net.neurons[name].bias for layer in net.layers for name in layer)
    parts = {  # a network without biases has no bias code
        "bias": "bias" if bias else "_",
        "plus_bias": " + (v[bias] if bias else 0)" if bias else "",
        "break_": "\n" + " " * 14 if bias else " ",  # zs = [...] on two lines or one
    }
    return text + FORWARD.format(
        layer=layer.format(**parts),
        delta=delta.format(L=net.loss),
        bias_grad=BIAS_GRAD if bias else "",
        L=net.loss,
        Lq=json.dumps(net.loss),
        dv=json.dumps(f"d{net.loss}/d"),
        dz=json.dumps(f"d{net.loss}/dz_"),
        every=f"[::{checked_every(net)}]:  # a sample: two forward passes each"
        if point_file
        else ":",
        **parts,
    )


# A wide network's program checks about this many gradients against central differences:
# each costs two forward passes, and all of mnist's 79,510 would take about an hour.
CHECKED = 50


def checked_every(net: Network) -> int:
    """Return k: a wide network's program checks every k-th parameter's gradient."""
    return max(1, -(-len(net.parameters) // CHECKED))


def _activations(rows: list[Activation]) -> dict[str, str]:
    """Return the ACT and SLOPE dicts of the elementwise activations ``rows``."""
    z, a = sp.symbols("z a")
    acts = [f'"{r.name}": lambda z: {_py(r.forward(z))}' for r in rows]
    slopes = [f'"{r.name}": lambda z, a: {_py(r.slope(z, a))}' for r in rows]
    return {
        "act": _literal("ACT = {", acts, "}", "each activation a = f(z)"),
        "slope": _literal("SLOPE = {", slopes, "}", "its slope da/dz, given z and a"),
    }


def _loss(rule: Loss, n: int) -> dict[str, str]:
    """Return one output's part of the loss over ``n`` outputs, and its slope, in a and y."""
    a, y = sp.symbols("a y")
    term = rule.value([a] * n, [y] * n) / n  # mse's 1/n stays in: (1/n)*(a - y)**2
    outs, targets = sp.symbols(f"o:{n}"), sp.symbols(f"y:{n}")
    parts = [term.subs({a: o, y: t}) for o, t in zip(outs, targets, strict=True)]
    if sp.expand(rule.value(outs, targets) - sp.Add(*parts)) != 0:
        raise ValueError(f"the {rule.name} loss is not a sum of one term per output")
    return {
        "words": rule.words,
        "loss": _py(term),
        "loss_slope": _py(sp.factor_terms(rule.by_output(a, y, n))),
    }


def _py(expr: sp.Expr) -> str:
    """Return ``expr`` as Python on the standard library; a conditional as ``x if c else y``."""
    if isinstance(expr, sp.Heaviside):  # relu's slope: 0 where z <= 0, else 1
        expr = expr.rewrite(sp.Piecewise)
    if isinstance(expr, sp.Piecewise) and len(expr.args) == 2 and expr.args[1].cond == sp.true:
        (x, c), (y, _) = expr.args
        if isinstance(c, sp.core.relational.Relational):  # printed as "(z <= 0)"
            return f"{_py(x)} if {_py(c)[1:-1]} else {_py(y)}"
    text = sp.pycode(expr)
    if "\n" in text:  # SymPy's note that it has no Python for some function
        raise ValueError(f"no plain Python for {expr}: {text}")
    return text


def _literal(head: str, items: list[str], close: str, comment: str = "") -> str:
    """Return ``head``, ``items`` and ``close`` wrapped to WIDTH, then ``comment``.

    Each line after the first starts under the first item. The comment may run
    past WIDTH to LONGEST; beyond that it takes the last item down a line.
    """
    tail = close + (f"  # {comment}" if comment else "")
    if not items:
        return head + tail
    lines = _wrap(items, WIDTH - len(head))
    if len(head) + len(lines[-1]) + len(tail) > LONGEST:
        lines = _wrap([*items[:-1], items[-1] + tail], LONGEST - len(head))
    else:
        lines[-1] += tail
    return head + f",\n{' ' * len(head)}".join(lines)


def _point_names(net: Network) -> list[str]:
    return [n for n in net.names if net.kind(n) in ("input", "weight", "bias", "target")]


def _wrap(items: list[str], width: int = WIDTH) -> list[str]:
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
    return json.dumps(
        {
            "layers": _layer_data(net),
            "values": {n: point[n] for n in _point_names(net)},
            "params": net.parameters,
        }
    )
