"""The page's forward pass in JavaScript, written from the rule table and the network's formulas.

Each activation, loss and formula function has its ``js`` beside its SymPy form in
:mod:`derive.rules`; a formula node's tree (:mod:`derive.formula.tree`, read by derive's
own parser) becomes one JavaScript expression over ``v``, the values by name. Nothing the
user wrote is copied into the script: a name reaches it as a JSON string, a number as a
JavaScript number, an operator or function only from the fixed tables here.

>>> from derive.graph import load_network
>>> print(forward_js(load_network("circuit")))
const FN = {
};
function forward(v) {
  v["q"] = (v["x"] + v["y"]);
  v["f"] = (v["q"] * v["z"]);
  return v;
}
"""

from __future__ import annotations

import json
from graphlib import TopologicalSorter

from derive.formula.parse import RULE_OF
from derive.formula.tree import Binary, Call, Name, Neg, Node, Number
from derive.graph import Network
from derive.rules import ACTIVATIONS, LOSSES

_OPS = {"+": "+", "-": "-", "*": "*", "/": "/", "^": "**"}


def formula_js(node: Node) -> str:
    """Return a formula's tree as a JavaScript expression in ``v`` (and ``FN`` for functions).

    >>> from derive.formula import parse_formula
    >>> formula_js(parse_formula("-a**2 / sigmoid(b)", ["a", "b"]))
    '(-((v["a"] ** 2) / FN.sigmoid(v["b"])))'
    """
    match node:
        case Number(value=v):
            return str(v.numerator) if v.denominator == 1 else repr(float(v))
        case Name(name=n):
            return f"v[{json.dumps(n)}]"
        case Neg(operand=x):
            return f"(-{formula_js(x)})"
        case Call(func=f, arg=x):
            return f"FN.{RULE_OF[f].name}({formula_js(x)})"
        case Binary(op=op, left=x, right=y):
            return f"({formula_js(x)} {_OPS[op]} {formula_js(y)})"
    raise TypeError(node)  # pragma: no cover - a network's formula has no dA/dB


def _units(net: Network) -> list[str]:
    """Return what the forward pass computes, in an order where each follows what it uses.

    A unit is a layer (``#3``, computed whole, as softmax needs), a formula node, or
    the layered loss (``#loss``).
    """
    unit = {n: f"#{net.neurons[n].layer}" for n in net.neurons}
    if net.loss and net.loss not in net.formulas:
        unit[net.loss] = "#loss"
    unit.update({f: f for f in net.formulas})
    g = net.graph()
    deps: dict[str, set[str]] = {u: set() for u in unit.values()}
    for name, u in unit.items():
        deps[u].update(unit[s] for s in g.predecessors(name) if s in unit and unit[s] != u)
    return list(TopologicalSorter(deps).static_order())


def _layer_js(net: Network, index: int) -> str:
    layer = net.layers[index - 1]
    neurons = [[n, [list(x) for x in net.neurons[n].inputs], net.neurons[n].bias] for n in layer]
    act = json.dumps(net.neurons[layer[0]].activation)
    return f"  layer(v, ACT[{act}], {json.dumps(neurons)});"


def forward_js(net: Network) -> str:
    """Return the page's forward pass: the functions it uses, then ``function forward(v)``."""
    used = {
        RULE_OF[c.func].name: RULE_OF[c.func] for f in net.formulas.values() for c in _calls(f.tree)
    }
    lines = ["const FN = {", *(f"  {n}: (z) => {row.js}," for n, row in used.items()), "};"]
    if net.layers:
        acts = dict.fromkeys(net.neurons[layer[0]].activation for layer in net.layers)
        lines.append("const ACT = {")
        for name in acts:
            act = ACTIVATIONS[name]
            lines.append(
                f"  {name}: (zs) => {act.js if act.couples else f'zs.map((z) => {act.js})'},"
            )
        lines.append("};")
        lines.append(f"const TERM = (o, y, n) => {LOSSES[net.loss_kind].js};")
    lines.append("function forward(v) {")
    for u in _units(net):
        if u == "#loss":
            pairs = json.dumps([[o, t] for o, t in zip(net.outputs, net.targets, strict=True)])
            lines.append(f"  v[{json.dumps(net.loss)}] = loss(v, TERM, {pairs});")
        elif u.startswith("#"):
            lines.append(_layer_js(net, int(u[1:])))
        else:
            lines.append(f"  v[{json.dumps(u)}] = {formula_js(net.formulas[u].tree)};")
    lines += ["  return v;", "}"]
    return "\n".join(lines)


def _calls(node: Node) -> list[Call]:
    from derive.formula.tree import walk

    return [n for n in walk(node) if isinstance(n, Call)]
