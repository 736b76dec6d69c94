"""Stage 9: study notes on backpropagation, one per network, and a course index.

The notes in ``output/`` are regenerated, for every bundled network and in the
order a course reads them, with::

    derive notes --net simple --net chain_3b1b --net two_hidden --net two_hidden_tied --net multi_3b1b --net softmax --out output/ --format both

This module decides what the notes say and computes every value in them:
paths, expansions, the tempting wrong expansion, operation counts, the worked
example's numbers. The templates (``templates/notes.md.j2``,
``templates/notes.tex.j2`` and their ``notes_*`` partials) hold the wording and
the layout, and receive LaTeX strings and plain text, finished. Markdown and
LaTeX get the same values; the filters ``m`` (inline math), ``block``,
``lines``, ``names``, ``t`` (user text) and ``code`` write them in each language.
``tests/test_notes.py`` runs the command above and fails when ``output/`` differs.

Examples
--------
>>> from derive.graph import load_network
>>> note = build_note(load_network("two_hidden"), ["W1"])
>>> [s["wrt"] for s in note["weights"]], note["weights"][0]["path_count"]
(['W1'], 2)
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click
import networkx as nx
import sympy as sp

from derive.errors import DeriveError
from derive.evaluate import Numbers, at, forward, number, random_point
from derive.expand import (
    Derivative,
    Local,
    Product,
    Sum,
    Term,
    Whole,
    derive,
    local_partial,
    one_hot,
    symbol,
    tidy,
)
from derive.graph import Network, load_network
from derive.notes.diagram import diagram
from derive.paths import between
from derive.printing import LatexTermPrinter, formula_latex
from derive.printing.document import (
    check_latex_name,
    environment,
    markdown_text,
    math_block,
    math_inline,
    math_lines,
    portable_math,
    render_template,
    tex_text,
)
from derive.rules import ACTIVATIONS, LOSSES

# The learning rate of the worked example's update step.
LR = 0.1
# A note lists at most this many paths per derivative (the count stays exact).
NOTE_PATHS = 12
# Sentences of "A depends on B" written out before "and so on".
NOTE_SENTENCES = 12
# The seed of the random point used when the file's values: are incomplete.
SEED = 0
# A weight after one step is shown with more digits, so that a small step is still seen.
NEW_DIGITS = 6
# The bundled network where the "one lane per neuron" expansion is wrong (named by other notes).
LANES_WRONG = "two_hidden"
# The step of the finite-difference check in the worked example.
STEP = 1e-6

FORMATS = ("markdown", "latex", "both")
FLAVORS = ("github", "portable")
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")

LOSS_WORDS = {
    "squared_error": "squared error",
    "half_squared_error": "half squared error",
    "mse": "mean squared error",
    "bce": "binary cross-entropy",
    "cross_entropy": "cross-entropy",
}
GIVEN = (("input", "inputs"), ("weight", "weights"), ("bias", "biases"), ("target", "targets"))

SLOPE_SYMBOL = {
    "sigmoid": r"\sigma'",
    "tanh": r"\tanh'",
    "relu": r"\operatorname{relu}'",
    "linear": "",
    "softplus": r"\operatorname{softplus}'",
    "softmax": "",
}
ACT_SYMBOL = {
    "sigmoid": r"\sigma",
    "tanh": r"\tanh",
    "relu": r"\operatorname{relu}",
    "linear": "",
    "softplus": r"\operatorname{softplus}",
    "softmax": r"\operatorname{softmax}",
}


# -- numbers ----------------------------------------------------------------------------


def num(x: float, digits: int = 4) -> str:
    r"""Return a number for math: 4 significant digits, powers of ten written out.

    >>> num(0.000012346), num(-2.0), num(0.1234567), num(-0.40003697, 6)
    ('1.235 \\times 10^{-5}', '-2', '0.1235', '-0.400037')
    """
    text = f"{x:.{digits}g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exp)}}}"
    return "0" if text == "-0" else text


def factor(x: float) -> str:
    """Return a number as a factor of a product: negatives in parentheses."""
    return rf"\left({num(x)}\right)" if x < 0 else num(x)


# -- one derivative ---------------------------------------------------------------------


def _sentences(d: Derivative, p: LatexTermPrinter) -> tuple[list[dict[str, Any]], bool]:
    """Return "A depends on B and C" for each node of the derivative, top down."""
    inside = set(d.nodes)
    out = []
    for node in sorted(d.nodes, key=lambda n: (-_level(d.net, n), d.net.rank(n))):
        if node == d.wrt:
            continue
        below = sorted((s for s in d.graph.predecessors(node) if s in inside), key=d.net.rank)
        out.append({"node": p.name(node), "on": [p.name(s) for s in below]})
    return out[:NOTE_SENTENCES], len(out) > NOTE_SENTENCES


def _level(net: Network, name: str) -> int:
    """Return how far up the network a node is: 0 for inputs and parameters, the loss highest."""
    kind = net.kind(name)
    if kind == "loss":
        return len(net.layers) + 1
    if kind in ("neuron", "preact"):
        return net.neurons[net.preacts.get(name, name)].layer
    return 0


def _explain_local(net: Network, top: str, bottom: str) -> str:
    r"""Return what a local partial is made of: the activation's slope times what z changes by.

    >>> from derive.graph import load_network
    >>> _explain_local(load_network("two_hidden"), "O21", "O11")
    "\\sigma'(z_{21}) \\cdot W_{7}"
    """
    t = net.latex_names
    if net.kind(top) != "neuron":
        return ""
    p = LatexTermPrinter(net)
    terms = []
    for k in net.group(top):
        n = net.neurons[k]
        if bottom not in net.args(k):
            continue
        if bottom == n.bias:
            by = "1"
        elif net.kind(bottom) == "weight":
            by = " + ".join(t[s] for s, w in n.inputs if w == bottom)
        else:
            by = " + ".join(t[w] for s, w in n.inputs if s == bottom)
        slope = SLOPE_SYMBOL[n.activation]
        if n.activation == "softmax":
            terms.append(rf"{p.partial(top, n.preact)} \cdot {by}")
        else:
            terms.append(rf"{slope}({t[n.preact]}) \cdot {by}" if slope else by)
    return " + ".join(terms)


def _ops(term: Term) -> tuple[int, int]:
    """Return (multiplications, additions) a factored term takes, written out as it is."""
    if isinstance(term, Local | Whole):
        return 0, 0
    parts = term.factors if isinstance(term, Product) else term.terms
    mul = sum(_ops(t)[0] for t in parts)
    add = sum(_ops(t)[1] for t in parts)
    if isinstance(term, Product):
        return mul + max(len(parts) - 1, 0), add
    return mul, add + len(parts) - 1


def path_ops(graph: nx.DiGraph, of: str, wrt: str) -> tuple[int, int, int]:
    """Return (paths, multiplications, additions) of the path-by-path sum, without listing paths.

    >>> g = nx.DiGraph([("W1", "O11"), ("O11", "O21"), ("O11", "O22"), ("O21", "L"), ("O22", "L")])
    >>> path_ops(g, "L", "W1")
    (2, 4, 1)
    """
    order = between(graph, of, wrt)
    if len(order) < 2:
        return (1 if order else 0), 0, 0
    inside = set(order)
    ways, edges = {wrt: 1}, {wrt: 0}
    for n in order[1:]:
        below = [p for p in graph.predecessors(n) if p in inside]
        ways[n] = sum(ways[p] for p in below)
        edges[n] = sum(edges[p] + ways[p] for p in below)
    return ways[of], edges[of] - ways[of], ways[of] - 1


def _derivative_values(
    d: Derivative, p: LatexTermPrinter, numbers: Numbers | None
) -> dict[str, Any]:
    """Return the finished values of one derivative: paths, expansion, factored, local, concrete."""
    net = d.net
    lhs = p.partial(d.of, d.wrt)
    listed = {e for path in d.paths for e in zip(path, path[1:], strict=False)}
    locals_ = [
        {
            "partial": p.partial(*e),
            "formula": formula_latex(f, net),
            "made": _explain_local(net, *e),
            "value": num(numbers.local[e]) if numbers else "",
        }
        for e, f in d.local.items()
        if e in listed
    ]
    sentences, more = _sentences(d, p)
    terms = [
        rf"\underbrace{{{p.product(t)}}}_{{\text{{path {i}}}}}"
        if len(d.paths) > 1
        else p.product(t)
        for i, t in enumerate(d.expansion, 1)
    ]
    if d.truncated:
        terms.append(r"\dots")
    return {
        "of": d.of,
        "wrt": d.wrt,
        "lhs": lhs,
        "wrt_tex": p.name(d.wrt),
        "of_tex": p.name(d.of),
        "zero": d.why_zero(),
        "path_count": d.path_count,
        "listed": len(d.paths),
        "truncated": d.truncated,
        "paths": [p.path(path) for path in d.paths],
        "terms": terms or ["0"],
        "sentences": sentences,
        "more_sentences": more,
        "factored": p.term(d.factored) if not d.is_zero else "0",
        "factored_where": [(p.term(w), p.term(t)) for w, t in d.factored_where],
        "factored_differs": not d.is_zero and d.factored != _as_product(d),
        "local": locals_,
        "more_local": len(d.local) - len(locals_),
        "where": [(formula_latex(s, net), formula_latex(f, net)) for s, f in d.where],
        "concrete": formula_latex(d.concrete, net),
        "onehot": formula_latex(d.concrete_onehot, net) if d.concrete_onehot is not None else "",
        "cancel": cancel_steps(d, p),
    }


def _paren(expr: sp.Expr, net: Network) -> str:
    """Return a formula as a factor of a product: a sum or a negative in parentheses."""
    tex = formula_latex(expr, net)
    return rf"\left({tex}\right)" if expr.is_Add or tex.startswith("-") else tex


def cancel_steps(d: Derivative, p: LatexTermPrinter) -> list[dict[str, str]]:
    r"""Return the loss slope times the output's activation slope, and what it simplifies to.

    Every path of ``d`` starts with these two slopes, and their product is where the
    familiar ``O - y`` of the concrete formula comes from: bce's fraction cancels against
    sigmoid's ``O (1 - O)``, cross-entropy's against softmax's slopes when the targets are
    one-hot, and squared error's ``2 (O - y)`` is kept. The product of the two local partial
    formulas is simplified with SymPy (``cancel``), never typed. One step per output of a
    sigmoid-like layer; for softmax, one step for the first output's weighted input
    (``others`` gives the rest, simplified the same way).

    >>> from derive.graph import load_network
    >>> net = load_network("two_hidden")
    >>> [step] = cancel_steps(derive(net, "L", "W1"), LatexTermPrinter(net))
    >>> step["result"]
    'O_{31} - y'
    """
    net = d.net
    if d.is_zero:
        return []
    inside = set(d.nodes)
    outs = [o for o in net.outputs if o in inside]
    if not outs:
        return []
    loss, targets = net.loss, [symbol(y) for y in net.targets]
    if net.neurons[outs[0]].activation == "softmax":
        group = [k for k in net.group(outs[0]) if k in net.outputs]
        steps = []
        for k in group:
            z = net.neurons[k].preact
            pairs = [(local_partial(net, loss, j), local_partial(net, j, z)) for j in group]
            product = sp.Add(*[a * b for a, b in pairs])
            simple = sp.collect(sp.expand(sp.cancel(product)), symbol(k))
            hot = one_hot(simple, targets) if net.loss_kind == "cross_entropy" else simple
            steps.append(
                {
                    "lhs": p.partial(loss, z),
                    "slopes": " + ".join(
                        rf"{p.partial(loss, j)} \cdot {p.partial(j, z)}" for j in group
                    ),
                    "product": " + ".join(
                        rf"{_paren(a, net)} \cdot {_paren(b, net)}" for a, b in pairs
                    ),
                    "result": formula_latex(simple, net),
                    "onehot": formula_latex(hot, net) if hot != simple else "",
                    "cancels": True,
                }
            )
        first, rest = steps[0], steps[1:]
        first["others"] = [f"{s['lhs']} = {s['onehot'] or s['result']}" for s in rest]
        return [first]
    steps = []
    for o in outs:
        z = net.neurons[o].preact
        a, b = sp.factor_terms(d.local[(loss, o)]), local_partial(net, o, z)
        if b == 1:
            continue
        cancels = sp.fraction(sp.together(a))[1] != 1
        simple = tidy(sp.cancel(a * b)) if cancels else tidy(a * b)
        steps.append(
            {
                "lhs": p.partial(loss, z),
                "slopes": rf"{p.partial(loss, o)} \cdot {p.partial(o, z)}",
                "product": rf"{_paren(a, net)} \cdot {_paren(b, net)}",
                "result": formula_latex(simple, net),
                "onehot": "",
                "others": [],
                "cancels": cancels,
            }
        )
    return steps


def _as_product(d: Derivative) -> Term:
    """Return the single path's product (what the factored form is when there is one path)."""
    if len(d.expansion) != 1:
        return Sum(tuple(Product(t) for t in d.expansion))
    only = d.expansion[0]
    return only[0] if len(only) == 1 else Product(only)


def weight_section(
    net: Network, wrt: str, point: dict[str, float], lr: float = LR
) -> dict[str, Any]:
    """Return everything the notes say about d(loss)/d(wrt), numbers at ``point`` included."""
    d = derive(net, net.loss, wrt, max_paths=NOTE_PATHS)
    p = LatexTermPrinter(net)
    numbers = at(d, point, lr=lr)
    values = _derivative_values(d, p, numbers)
    paths, mul, add = path_ops(d.graph, d.of, d.wrt)
    fmul, fadd = _ops(d.factored) if not d.is_zero else (0, 0)
    for _, t in d.factored_where:
        m, a = _ops(t)
        fmul, fadd = fmul + m, fadd + a
    values.update(
        {
            "kind": net.kind(wrt),
            "renamed": wrt in net.spec.latex,
            "edge_text": _where_it_is(net, wrt),
            "diagram": diagram(net, d),
            "value": numbers.value,
            "value_tex": num(numbers.value),
            "old": num(numbers.old),
            "new": num(numbers.new, NEW_DIGITS),
            "lr": num(lr),
            "ops": {"paths": paths, "mul": mul, "add": add, "fmul": fmul, "fadd": fadd},
            "path_products": [num(x) for x in numbers.path_products],
            "path_factors": [
                r" \cdot ".join(factor(numbers.local[e]) for e in zip(path, path[1:], strict=False))
                for path in d.paths
            ],
            "derivative": d,
            "numbers": numbers,
        }
    )
    return values


def _where_it_is(net: Network, name: str) -> list[tuple[str, str]]:
    """Return the (from, to) pairs of a weight, or (bias, neuron) for a bias, typeset."""
    t = net.latex_names
    if net.kind(name) == "bias":
        return [(t[name], t[net.biases[name]])]
    return [(t[s], t[d]) for s, d in net.weight_edges[name]]


# -- the classic mistake ------------------------------------------------------------------


def classic_mistake(net: Network, wrt: str, point: dict[str, float]) -> dict[str, Any] | None:
    """Return seed 000's tempting "one lane per neuron" expansion of d(loss)/d(wrt), judged.

    The lane k path goes through the k-th neuron of every layer above the weight. It is
    what one writes when one pictures parallel lanes instead of the network's edges. None
    when it has fewer than two lanes.
    """
    if net.kind(wrt) != "weight":
        return None
    d = derive(net, net.loss, wrt, max_paths=NOTE_PATHS)
    if d.truncated or d.is_zero:
        return None
    first = net.neurons[net.weight_edges[wrt][0][1]].layer
    layers = net.layers[first - 1 :]
    # Lanes are what one pictures when the layers are equally wide (a single output aside).
    widths = {len(layer) for layer in (layers[:-1] if len(layers[-1]) == 1 else layers)}
    if len(widths) != 1 or widths == {1} or len(layers) < 2:
        return None
    width = widths.pop()
    lanes = []
    for k in range(width):
        lane = [net.loss] + [layer[min(k, len(layer) - 1)] for layer in reversed(layers)] + [wrt]
        if tuple(lane) not in lanes:
            lanes.append(tuple(lane))
    if len(lanes) < 2:
        return None
    g = d.graph
    p = LatexTermPrinter(net)
    env = forward(net, point)
    true_paths = set(d.paths)
    terms, wrong_value = [], 0.0
    for lane in lanes:
        broken = next(
            ((a, b) for a, b in zip(lane, lane[1:], strict=False) if not g.has_edge(b, a)), None
        )
        value = (
            0.0
            if broken
            else math.prod(
                number(local_partial(net, a, b), env) for a, b in zip(lane, lane[1:], strict=False)
            )
        )
        wrong_value += value
        terms.append(
            {
                "path": p.path(lane),
                "product": p.product(
                    tuple(Local(a, b) for a, b in zip(lane, lane[1:], strict=False))
                ),
                "real": broken is None,
                "broken": p.partial(*broken) if broken else "",
                "why": _why_no_edge(net, *broken) if broken else "",
            }
        )
    missing = [p.path(path) for path in d.paths if path not in set(lanes)]
    numbers = at(d, point)
    return {
        "wrt": wrt,
        "wrt_tex": p.name(wrt),
        "lhs": p.partial(net.loss, wrt),
        "terms": terms,
        "missing": missing,
        "right": not missing and all(t["real"] for t in terms) and len(true_paths) == len(lanes),
        "wrong_value": num(wrong_value),
        "true_value": num(numbers.value),
    }


def _why_no_edge(net: Network, top: str, bottom: str) -> dict[str, Any]:
    """Return why ``top`` is not a direct function of ``bottom``, as names to typeset."""
    t = net.latex_names
    if net.kind(bottom) == "weight":
        return {
            "top": t[top],
            "bottom": t[bottom],
            "ends": [(t[s], t[d]) for s, d in net.weight_edges[bottom]],
        }
    return {"top": t[top], "bottom": t[bottom], "ends": []}


# -- the detailed view (3Blue1Brown) ------------------------------------------------------


def wants_detail(net: Network) -> bool:
    """Return whether the file typesets a pre-activation, i.e. asks for the z's to be seen."""
    return any(net.kind(name) == "preact" for name in net.spec.latex)


def detail_section(net: Network, point: dict[str, float]) -> dict[str, Any] | None:
    """Return the detailed view of the last layer in 3Blue1Brown's order: dz/dw, da/dz, dC0/da."""
    if not wants_detail(net):
        return None
    p = LatexTermPrinter(net)
    out = net.outputs[0]
    neuron = net.neurons[out]
    src, w = neuron.inputs[0]
    loss = net.loss

    def chain(wrt: str) -> dict[str, Any]:
        d = derive(net, loss, wrt, detail=True, max_paths=NOTE_PATHS)
        numbers = at(d, point)
        terms = [p.product(tuple(reversed(t))) for t in d.expansion]
        factors = [
            {
                "partial": p.partial(*e),
                "formula": formula_latex(d.local[e], net),
                "value": num(numbers.local[e]),
            }
            for e in reversed(list(d.local))
        ]
        return {
            "lhs": p.partial(loss, wrt),
            "terms": terms,
            "local": factors,
            "value": num(numbers.value),
            "paths": d.path_count,
        }

    weight = chain(w)
    bias = chain(neuron.bias) if neuron.bias else None
    previous = chain(src) if net.kind(src) == "neuron" else None
    earlier = None
    if previous is not None:
        inner = net.neurons[src]
        w0 = inner.inputs[0][1]
        z0 = inner.preact
        earlier = {
            "lhs": p.partial(loss, w0),
            "product": r" \cdot ".join(
                [p.partial(z0, w0), p.partial(src, z0), p.partial(loss, src)]
            ),
        }
    base = re.sub(r"\d+$", "", loss) or loss
    params = [p.name(x) for x in net.parameters]
    z, a_out, ww, a_src = p.name(neuron.preact), p.name(out), p.name(w), p.name(src)
    act = ACT_SYMBOL[neuron.activation] or r"\operatorname{id}"
    return {
        "z_def": f"{z} = "
        + " + ".join(
            [f"{p.name(w_)} {p.name(s_)}" for s_, w_ in neuron.inputs]
            + ([p.name(neuron.bias)] if neuron.bias else [])
        ),
        "out_def": f"{a_out} = {act}({z})",
        "dz_dw": f"{p.partial(neuron.preact, w)} = {a_src}",
        "dz_db": f"{p.partial(neuron.preact, neuron.bias)} = 1" if neuron.bias else "",
        "dz_da": [
            f"{p.partial(net.neurons[k].preact, src)} = {p.name(w_)}"
            for k in net.outputs
            for s_, w_ in net.neurons[k].inputs
            if s_ == src
        ],
        "out": a_out,
        "z": z,
        "w": ww,
        "src": a_src,
        "bias_name": p.name(neuron.bias) if neuron.bias else "",
        "loss": p.name(loss),
        "weight": weight,
        "bias": bias,
        "previous": previous,
        "earlier": earlier,
        "several_outputs": len(net.outputs) > 1,
        "average": (
            rf"\frac{{\partial {base}}}{{\partial {p.name(w)}}} = \frac{{1}}{{n}}"
            rf" \sum_{{k=0}}^{{n-1}} \frac{{\partial {base}_{{k}}}}{{\partial {p.name(w)}}}"
        ),
        "cost": base,
        "cost_k": f"{base}_{{k}}",
        "gradient": rf"\nabla {base} = \left( "
        + ", ".join(rf"\frac{{\partial {base}}}{{\partial {x}}}" for x in params)
        + r" \right)",
    }


# -- the worked example -------------------------------------------------------------------


def example_point(net: Network) -> tuple[dict[str, float], str]:
    """Return the worked example's point and where it comes from: the file, random, or both."""
    fill = random_point(net, SEED)
    point = {**fill, **net.values}
    needed = set(fill)
    if needed <= set(net.values):
        return point, "file"
    return point, "random" if not net.values else "mixed"


def forward_rows(net: Network, env: dict[str, float]) -> list[dict[str, str]]:
    """Return the forward pass, one row per neuron: its z with the numbers in, then its output."""
    t = net.latex_names
    rows = []
    for layer in net.layers:
        for n in layer:
            neuron = net.neurons[n]
            sym = " + ".join(
                [f"{t[w]} {t[s]}" for s, w in neuron.inputs]
                + ([t[neuron.bias]] if neuron.bias else [])
            )
            nums = " + ".join(
                [f"{factor(env[w])} \\cdot {factor(env[s])}" for s, w in neuron.inputs]
                + ([factor(env[neuron.bias])] if neuron.bias else [])
            )
            act = ACT_SYMBOL[neuron.activation]
            if neuron.activation == "softmax":
                group = net.group(n)
                out = (
                    rf"\frac{{e^{{{t[neuron.preact]}}}}}{{"
                    + " + ".join(f"e^{{{t[net.neurons[k].preact]}}}" for k in group)
                    + "}"
                )
            else:
                out = rf"{act}({t[neuron.preact]})" if act else t[neuron.preact]
            rows.append(
                {
                    "z": f"{t[neuron.preact]} = {sym} = {nums} = {num(env[neuron.preact])}",
                    "out": f"{t[n]} = {out} = {num(env[n])}",
                }
            )
    return rows


def example_section(
    net: Network,
    sections: list[dict[str, Any]],
    point: dict[str, float],
    source: str,
    lr: float = LR,
) -> dict[str, Any]:
    """Return the worked example: forward pass, one weight's numbers in full, every update."""
    env = forward(net, point)
    t = net.latex_names
    best = max(
        sections, key=lambda s: (s["path_count"], len(s["derivative"].nodes), -sections.index(s))
    )
    d: Derivative = best["derivative"]
    numbers: Numbers = best["numbers"]
    up, down = dict(point), dict(point)
    up[d.wrt] += STEP
    down[d.wrt] -= STEP
    nudge = (forward(net, up)[net.loss] - forward(net, down)[net.loss]) / (2 * STEP)
    loss = LOSSES[net.loss_kind].value(
        [symbol(o) for o in net.outputs], [symbol(y) for y in net.targets]
    )
    given = [n for n in net.names if net.kind(n) in ("input", "weight", "bias", "target")]
    return {
        "source": source,
        "seed": SEED,
        "lr": num(lr),
        "given": [
            (
                what if len(names) > 1 else kind,
                [f"{t[n]} = {num(point[n])}" for n in names],
            )
            for kind, what in GIVEN
            if (names := [n for n in given if net.kind(n) == kind])
        ],
        "forward": forward_rows(net, env),
        "loss": f"{t[net.loss]} = {formula_latex(loss, net)} = {num(env[net.loss])}",
        "weight": best,
        "sum": " + ".join(factor(x) for x in numbers.path_products) + f" = {num(numbers.value)}"
        if len(numbers.path_products) > 1 and not d.truncated
        else "",
        "h": f"h = {num(STEP)}",
        "eta": rf"\eta = {num(lr)}",
        "wrt": t[d.wrt],
        "nudge": (
            rf"\frac{{{t[net.loss]}({t[d.wrt]} + h) - {t[net.loss]}({t[d.wrt]} - h)}}{{2h}}"
            rf" \approx {num(nudge)}"
        ),
        "step": rf"{_decorate(t[d.wrt], 'new')} = {num(numbers.old)} - {num(lr)} \cdot "
        rf"{factor(numbers.value)} = {num(numbers.new, NEW_DIGITS)}",
        "updates": [(s["wrt_tex"], s["old"], s["value_tex"], s["new"]) for s in sections],
        "values": {"nudge": nudge, "value": numbers.value, "new": numbers.new},
    }


def _decorate(tex: str, word: str) -> str:
    r"""Return a name with a word above it: ``W_{1}^{\text{new}}``, parenthesised if it has a superscript."""
    return (
        rf"{tex}^{{\text{{{word}}}}}"
        if "^" not in tex
        else rf"\left({tex}\right)^{{\text{{{word}}}}}"
    )


# -- backpropagation: why the factored form wins -----------------------------------------


def sweep_ops(graph: nx.DiGraph, of: str, wrts: list[str]) -> int:
    """Return the multiplications of one reverse sweep that gives d(of)/dw for every w at once.

    Each edge below ``of`` on the way to some ``w`` costs one multiplication
    (delta of the top times the local partial), and no edge is visited twice.
    """
    keep: set[str] = set()
    for w in wrts:
        keep |= set(between(graph, of, w))
    return sum(1 for a, b in graph.subgraph(keep).edges if b != of)


def layered(width: int, hidden: int) -> nx.DiGraph:
    """Return the dependency graph of a fully connected net: ``hidden`` layers of ``width``, one output."""
    g = nx.DiGraph()
    g.add_edge("w", "h1_0")
    for layer in range(1, hidden):
        for i in range(width):
            for j in range(width):
                g.add_edge(f"h{layer}_{i}", f"h{layer + 1}_{j}")
    for j in range(width):
        g.add_edge(f"h{hidden}_{j}", "out")
    g.add_edge("out", "L")
    return g


def factored_ops(graph: nx.DiGraph, loss: str, top: str, wrt: str) -> int:
    """Return the multiplications of the factored form of d(loss)/d(wrt), one output ``top``.

    Going down from the output, each edge below it costs one multiplication (the slope of
    the output in the node above, times the edge's local slope), and the loss's slope in
    the output multiplies the result once: ``dL/dO31 * (a*b + c*d) * e`` is 4.

    >>> path_ops(layered(2, 2), "L", "w")[1], factored_ops(layered(2, 2), "L", "out", "w")
    (6, 4)
    """
    return sweep_ops(graph, top, [wrt]) + (1 if graph.has_edge(top, loss) else 0)


def backprop_section(net: Network, sections: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the table of paths versus multiplications, here and in bigger networks.

    The sweep's count is split the way a student can count it on the diagram: one
    multiplication per local slope of a weight or bias (one per arrow it labels, or one
    per output of the softmax layer it feeds), and one per arrow from a neuron to a neuron.
    """
    rows = [{"wrt": s["wrt_tex"], **s["ops"]} for s in sections]
    graph = net.graph()
    covered_ = [s["wrt"] for s in sections]
    keep: set[str] = set()
    for w in covered_:
        keep |= set(between(graph, net.loss, w))
    edges = [(a, b) for a, b in graph.subgraph(keep).edges if b != net.loss]
    params = [(a, b) for a, b in edges if a in covered_]
    inner = [(a, b) for a, b in edges if a not in covered_]
    arrows = sum(len(net.weight_edges[w]) if net.kind(w) == "weight" else 1 for w in covered_)
    total = {
        "mul": sum(r["mul"] for r in rows),
        "sweep": sweep_ops(graph, net.loss, covered_),
        "params": len(params),
        "arrows": arrows,
        "inner": len(inner),
        "spread": len(params) - arrows,
        "loss_slope": LatexTermPrinter(net).partial(net.loss, net.outputs[0]),
    }
    assert total["sweep"] == total["params"] + total["inner"]
    bigger = []
    for width, hidden in ((2, 2), (2, 4), (4, 4), (8, 4), (8, 8), (16, 8)):
        g = layered(width, hidden)
        paths, mul, _ = path_ops(g, "L", "w")
        bigger.append(
            {
                "width": width,
                "hidden": hidden,
                "paths": f"{paths:,}",
                "mul": f"{mul:,}",
                "fmul": f"{factored_ops(g, 'L', 'out', 'w'):,}",
            }
        )
    return {"rows": rows, "total": total, "bigger": bigger}


# -- exercises ----------------------------------------------------------------------------


def exercises(
    net: Network, sections: list[dict[str, Any]], showcase: str, point: dict[str, float]
) -> list[dict[str, Any]]:
    """Return exercises with their solutions, chosen from this network."""
    p = LatexTermPrinter(net)
    out: list[dict[str, Any]] = []
    first = (
        net.neurons[net.weight_edges[showcase][0][1]] if net.kind(showcase) == "weight" else None
    )
    siblings = [w for s, w in first.inputs if w != showcase] + [first.bias] if first else []
    siblings = [w for w in siblings if w] or [x for x in net.parameters if x != showcase]
    for w in siblings[:2]:
        d = derive(net, net.loss, w, max_paths=NOTE_PATHS)
        out.append({"kind": "expand", **_derivative_values(d, p, None)})
    if first is not None:
        layer = net.layers[first.layer - 1]
        other = next(
            (n for n in layer if n != first.name and derive(net, n, showcase).is_zero), None
        )
        if other:
            fed = [p.name(d) for _, d in net.weight_edges[showcase]]
            out.append(
                {
                    "kind": "zero",
                    "lhs": p.partial(other, showcase),
                    "fed": fed,
                    "wrt": p.name(showcase),
                    "other": p.name(other),
                }
            )
    last = next((s for s in reversed(sections) if s["kind"] == "weight"), sections[-1])
    out.append(
        {
            "kind": "number",
            "lhs": last["lhs"],
            "wrt": last["wrt_tex"],
            "factors": last["path_factors"],
            "value": last["value_tex"],
            "old": last["old"],
            "new": last["new"],
            "lr": num(LR),
            "sum": last["path_products"],
        }
    )
    if first is not None and first.layer < len(net.layers):
        d = derive(net, net.loss, first.name, max_paths=NOTE_PATHS)
        out.append(
            {
                "kind": "delta",
                **_derivative_values(d, p, None),
                "neuron": p.name(first.name),
                "weights": [p.name(w) for _, w in first.inputs],
                "wrt_name": first.name,
            }
        )
    return out


# -- one note ----------------------------------------------------------------------------


def covered(net: Network, wrt: list[str]) -> list[str]:
    """Return the parameters a note covers: ``wrt`` in network order, or all of them.

    Raises
    ------
    DeriveError
        When a name is not a weight or bias of the network.
    """
    if not wrt:
        return net.parameters
    for name in wrt:
        if name not in net.parameters:
            what = (
                f"'{name}' is a {net.kind(name)} of the network '{net.name}', not a weight or bias"
                if name in net.names
                else f"the network '{net.name}' has no '{name}'"
            )
            raise DeriveError(
                f"--wrt {name}: {what}",
                hint="its weights and biases are " + ", ".join(net.parameters),
            )
    return [n for n in net.parameters if n in wrt]


def check_user_text(net: Network) -> None:
    """Raise DeriveError when a ``latex:`` override could break or take over a document."""
    for name, tex in net.spec.latex.items():
        problem = check_latex_name(tex)
        if problem:
            raise DeriveError(
                f"latex: {name}: {problem}",
                file=str(net.file),
                hint="use letters, ^, _, braces and commands such as \\hat or \\alpha",
            )


def build_note(net: Network, wrt: list[str] | None = None, lr: float = LR) -> dict[str, Any]:
    """Return every value one note shows, finished, for the templates."""
    check_user_text(net)
    params = covered(net, wrt or [])
    point, source = example_point(net)
    p = LatexTermPrinter(net)
    sections = [weight_section(net, w, point, lr) for w in params]
    ranked = sorted(sections, key=lambda s: (-s["path_count"], -len(s["derivative"].nodes)))
    showcase = ranked[0]["wrt"]
    single = next(
        (s for s in sections if s["path_count"] == 1 and len(s["derivative"].nodes) >= 4),
        next((s for s in sections if s["path_count"] == 1), None),
    )
    mistake = next((m for m in (classic_mistake(net, s["wrt"], point) for s in ranked) if m), None)
    if mistake and mistake["right"]:
        # Where the lanes are wrong; write_course points this at a note of the same course.
        mistake["see"] = {"name": LANES_WRONG, "title": "", "md": "", "tex": ""}
    t = net.latex_names
    layers = []
    for i, layer in enumerate(net.layers, 1):
        act = ACTIVATIONS[net.neurons[layer[0]].activation]
        layers.append(
            {
                "label": "output" if i == len(net.layers) else f"hidden {i}",
                "neurons": [t[n] for n in layer],
                "activation": act.name,
                "formula": act.formula,
                "slope": act.slope_formula,
            }
        )
    loss = LOSSES[net.loss_kind]
    loss_value = loss.value([symbol(o) for o in net.outputs], [symbol(y) for y in net.targets])
    first_w = params[0]
    L, W = t[net.loss], t[first_w]
    old, new = _decorate(W, "old"), _decorate(W, "new")
    n0 = net.neurons[net.layers[0][0]]
    fixed = {
        "old": old,
        "new": new,
        "eta": r"\eta",
        "slope": rf"\frac{{\partial {L}}}{{\partial {W}}}",
        "partial": r"\partial",
        "delta": rf"\frac{{\partial {L}}}{{\partial v}}",
        "circle": r"A = \pi r^{2}",
        "circle_rate": r"\frac{dA}{dt} = \frac{dA}{dr} \cdot \frac{dr}{dt} = 2 \pi r \cdot \frac{dr}{dt}",
        "multivar": r"\frac{df}{dt} = \frac{\partial f}{\partial u} \frac{du}{dt}"
        r" + \frac{\partial f}{\partial v} \frac{dv}{dt}",
        "z_rule": f"{t[n0.preact]} = "
        + " + ".join([f"{t[w]} {t[s]}" for s, w in n0.inputs] + ([t[n0.bias]] if n0.bias else [])),
        "act_rule": (
            f"{t[n0.name]} = {ACT_SYMBOL[n0.activation]}({t[n0.preact]})"
            if n0.activation not in ("linear", "softmax")
            else ""
        ),
    }
    return {
        "tex": fixed,
        "name": net.name,
        "title": net.title,
        "description": net.description.strip(),
        "loss_name": t[net.loss],
        "outputs": [t[o] for o in net.outputs],
        "targets": [t[y] for y in net.targets],
        "inputs": [t[x] for x in net.inputs],
        "layers": layers,
        "weights_table": [
            (t[w], t[s], t[d]) for w, pairs in net.weight_edges.items() for s, d in pairs
        ],
        "biases_table": [(t[b], t[n]) for b, n in net.biases.items()],
        "tied": [t[w] for w, pairs in net.weight_edges.items() if len(pairs) > 1],
        "loss": {
            "kind": LOSS_WORDS[net.loss_kind],
            "general": f"{t[net.loss]} = {loss.formula}",
            "here": f"{t[net.loss]} = {formula_latex(loss_value, net)}",
        },
        "update": rf"{new} = {old} - \eta \frac{{\partial {L}}}{{\partial {old}}}",
        "first": t[first_w],
        "first_name": first_w,
        "diagram": diagram(net),
        "weights": sections,
        "showcase": showcase,
        "single": single,
        "mistake": mistake,
        "backprop": backprop_section(net, sections),
        "detail": detail_section(net, point),
        "example": example_section(net, sections, point, source, lr),
        "exercises": exercises(net, sections, showcase, point),
        "covered_all": len(params) == len(net.parameters),
        "covered": [p.name(w) for w in params],
        "check": f'derive check "d{net.loss}/d{params[-1]} = ..." --net {net.name}',
    }


# -- rendering and writing ------------------------------------------------------------


def _and_list(items: list[str], wrap: Callable[[str], str]) -> str:
    words = [wrap(x) for x in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def render_note(
    note: dict[str, Any], fmt: str, flavor: str = "github", templates: str | None = None
) -> str:
    """Return one note as Markdown (``flavor`` github or portable) or LaTeX."""
    env = environment(templates)
    if fmt == "markdown":
        inline = (
            (lambda tex: math_inline(tex, flavor))
            if flavor == "github"
            else (lambda tex: math_inline(portable_math(tex), flavor))
        )
        env.filters.update(
            {
                "m": inline,
                "block": (
                    lambda tex: math_block(
                        tex if flavor == "github" else portable_math(tex), flavor
                    )
                ),
                "lines": lambda lines, lhs: math_lines(lhs, lines, flavor),
                "t": markdown_text,
                "code": lambda text: f"`{text}`",
                "names": lambda items: _and_list(items, inline),
            }
        )
        return render_template(env, "notes.md.j2", **note, flavor=flavor)
    env.filters.update(
        {
            "m": lambda tex: rf"\({tex}\)",
            "block": lambda tex: f"\\[\n\\fitdisplay{{{tex}}}\n\\]",
            "lines": lambda lines, lhs: math_lines(lhs, lines, "latex"),
            "t": tex_text,
            # In typewriter type "--" would print as one dash.
            "code": lambda text: r"\texttt{" + tex_text(text).replace("-", "-{}") + "}",
            "names": lambda items: _and_list(items, lambda tex: rf"\({tex}\)"),
        }
    )
    return render_template(env, "notes.tex.j2", **note)


def render_index(notes: list[dict[str, Any]], fmt: str, templates: str | None = None) -> str:
    """Return the course's ``index.md``: every note, in the order given."""
    env = environment(templates)
    env.filters["t"] = markdown_text
    items = [
        {
            "name": n["name"],
            "title": n["title"],
            "description": n["description"],
            "md": fmt in ("markdown", "both"),
            "tex": fmt in ("latex", "both"),
        }
        for n in notes
    ]
    return render_template(env, "notes_index.md.j2", notes=items)


def target(out: Path, name: str) -> Path:
    """Return ``out/name``, refusing a name that could land outside ``out``."""
    if not SAFE_NAME.match(name) or ".." in name:
        raise DeriveError(
            f"'{name}' cannot be a file name in --out",
            hint="a network name is letters, digits and _",
        )
    path = (out / name).resolve()
    if path.parent != out.resolve():
        raise DeriveError(f"'{name}' would be written outside {out}")
    return path


def file_mode() -> int:
    """Return the mode a new file gets from ``open()``: 0o666 less the process's umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a file whole or not at all: a temporary file beside it, then a rename.

    The temporary file (made 0600 by ``mkstemp``) is given the mode an ordinary new
    file would have, 0o666 less the umask, before it takes the file's name.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def compile_pdf(tex: str, name: str) -> bytes | None:
    """Return the PDF pdflatex makes of ``tex`` (run twice, for the references).

    Returns None, with a warning on stderr, when pdflatex is not installed.
    """
    if shutil.which("pdflatex") is None:
        click.echo("derive: pdflatex is not installed, so no PDF was made", err=True)
        return None
    with tempfile.TemporaryDirectory(prefix="derive-pdf-") as tmp:
        source = Path(tmp) / "notes.tex"
        source.write_text(tex, encoding="utf-8")
        for _ in range(2):
            proc = subprocess.run(
                [
                    "pdflatex",
                    "-halt-on-error",
                    "-interaction=nonstopmode",
                    "-no-shell-escape",
                    source.name,
                ],
                cwd=tmp,
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=300,
            )
            if proc.returncode != 0:
                lines = [x for x in proc.stdout.decode("latin-1").splitlines() if x.startswith("!")]
                raise DeriveError(f"pdflatex could not build {name}: " + "; ".join(lines[:3]))
        return (Path(tmp) / "notes.pdf").read_bytes()


def build_pdf(tex: str, pdf: Path) -> bool:
    """Compile LaTeX with pdflatex and write the PDF atomically; False without pdflatex."""
    data = compile_pdf(tex, pdf.name)
    if data is None:
        return False
    write_atomic(pdf, data)
    return True


def link_notes(notes: list[dict[str, Any]], fmt: str) -> None:
    """Point each note's "see the other network" remark at a note of the same course.

    A note whose lane formula happens to be right (a tied network) refers to a network where
    it is wrong: the course's own note on one (a relative link) when the course has one,
    else the bundled network :data:`LANES_WRONG`, named with the command that writes it.
    """
    wrong = [n for n in notes if n["mistake"] and not n["mistake"]["right"]]
    for note in notes:
        k = note["mistake"]
        if not k or not k["right"]:
            continue
        other = next((n for n in wrong if n["name"] != note["name"]), None)
        k["see"] = (
            {
                "name": other["name"],
                "title": other["title"],
                "md": f"{other['name']}.md" if fmt in ("markdown", "both") else "",
                "tex": f"{other['name']}.tex" if fmt in ("latex", "both") else "",
            }
            if other
            else {"name": LANES_WRONG, "title": "", "md": "", "tex": ""}
        )


def write_course(
    sources: list[str],
    out_dir: str,
    fmt: str = "markdown",
    wrt: list[str] | None = None,
    templates: str | None = None,
    flavor: str = "github",
    pdf: bool = False,
    progress: bool = False,
) -> list[Path]:
    """Write one note per network into ``out_dir``, and ``index.md`` for several; return the paths.

    Every note, the index and every PDF are made before any file is written, so a mistake
    in one network or template leaves the folder as it was; each file is replaced
    atomically and gets the mode of an ordinary new file.

    Raises
    ------
    DeriveError
        For an unknown network, a ``--wrt`` name no network has, two networks with one
        name, a ``latex:`` override that is not safe to typeset, or a broken template.
    """
    if fmt not in FORMATS:
        raise DeriveError(f"unknown notes format '{fmt}'", hint="use markdown, latex or both")
    if flavor not in FLAVORS:
        raise DeriveError(f"unknown Markdown flavor '{flavor}'", hint="use github or portable")
    if not sources:
        raise DeriveError("no network given", hint="derive notes --net two_hidden --out notes/")
    wrt = list(wrt or [])
    nets = [load_network(s) for s in sources]
    names = [n.name for n in nets]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DeriveError(
            f"two networks are named {twice[0]}: their notes would overwrite each other"
        )
    if wrt and len(nets) > 1:
        unknown = [w for w in wrt if not any(w in n.parameters for n in nets)]
        if unknown:
            raise DeriveError(f"--wrt {unknown[0]} is a weight or bias of none of the networks")
    out = Path(out_dir)
    notes: list[dict[str, Any]] = []
    bar = click.progressbar(nets, label="Writing notes", file=sys.stderr) if progress else None
    with bar if bar is not None else nullcontext(nets) as items:
        for net in items:
            mine = [w for w in wrt if w in net.parameters] if len(nets) > 1 else wrt
            if wrt and not mine:
                raise DeriveError(
                    f"none of --wrt {', '.join(wrt)} is in the network '{net.name}'",
                    hint="its weights and biases are " + ", ".join(net.parameters),
                )
            notes.append(build_note(net, mine))
    if len(nets) > 1:
        link_notes(notes, fmt)
    files: list[tuple[str, str | bytes]] = []
    for note in notes:
        name = note["name"]
        if fmt in ("markdown", "both"):
            files.append((f"{name}.md", render_note(note, "markdown", flavor, templates)))
        tex = render_note(note, "latex", flavor, templates) if fmt != "markdown" or pdf else None
        if tex is not None and fmt in ("latex", "both"):
            files.append((f"{name}.tex", tex))
        if pdf and tex is not None:
            data = compile_pdf(tex, f"{name}.pdf")
            if data is not None:
                files.append((f"{name}.pdf", data))
    if len(nets) > 1:
        files.append(("index.md", render_index(notes, fmt, templates)))
    paths = [(target(out, file), data) for file, data in files]
    out.mkdir(parents=True, exist_ok=True)
    for path, data in paths:
        write_atomic(path, data)
    return [out / file for file, _ in files]
