"""The chain-rule sections: one path, several paths, weights worked in full, the table.

Every number comes from one backward sweep at the example point
(:func:`derive.sweep.values`): a path's product is the product of the sweep's
local partials along it, a gradient is the sweep's.
"""

from __future__ import annotations

import math
import re

import sympy as sp

from derive.expand import (
    Derivative,
    Local,
    Product,
    Sum,
    Term,
    derive,
    local_partial,
    one_hot,
    symbol,
    tidy,
)
from derive.graph import Network
from derive.notes.content import (
    Cell,
    Mistake,
    OnePath,
    SeveralPaths,
    Worked,
    factor,
    sum_tex,
    tex_num,
)
from derive.notes.diagram import diagram
from derive.printing import LatexTermPrinter, formula_latex
from derive.rules import ACTIVATIONS, cancels, targets

# A worked derivative lists at most this many paths (the count stays exact).
NOTE_PATHS = 4
# A formula longer than this (in visible characters) is not written out: the sweep carries it.
LONGEST = 190


def visible(tex: str) -> int:
    """Return about how many characters wide a formula prints (a fraction as its wider part)."""
    frac = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")
    tex = frac.sub(lambda m: "x" * max(_chars(m.group(1)), _chars(m.group(2))), tex)
    return _chars(tex)


def _chars(tex: str) -> int:
    return len(re.sub(r"\\[A-Za-z]+|[{}_^]|\s", "", tex))


# A display line holds about this many visible characters (17 cm of 10 pt math, measured).
LINE = 68
_PAREN = re.compile(r"\\left\(|\\right\)")


def fold(tex: str, limit: int = LINE) -> str:
    r"""Return a display formula that is too wide with its widest bracketed sum one term a line.

    The terms go in an ``aligned`` block inside the brackets, which then span the lines.

    >>> fold(r"x \left(a + b\right)", limit=3)
    'x \\left(\\begin{aligned} &a \\\\ &+ b \\end{aligned}\\right)'
    """
    if visible(tex) <= limit:
        return tex
    best: tuple[int, int, list[str]] | None = None
    stack: list[int] = []
    for m in _PAREN.finditer(tex):
        if m.group() == r"\left(":
            stack.append(m.end())
        elif stack:
            start = stack.pop()
            terms = _terms(tex[start : m.start()])
            if len(terms) > 1 and (best is None or m.start() - start > best[1] - best[0]):
                best = (start, m.start(), terms)
    if best is None:
        return tex
    start, end, terms = best
    room = max(limit - visible(tex[:start]), 20)  # what is left of the line after the bracket
    body = " \\\\ ".join("&" + fold(t, room) for t in terms)
    return tex[:start] + rf"\begin{{aligned}} {body} \end{{aligned}}" + tex[end:]


def _terms(tex: str) -> list[str]:
    """Return a sum's top-level terms, each after the first with its sign: ['a', '+ b', '- c']."""
    terms, depth, start = [], 0, 0
    i = 0
    while i < len(tex):
        if tex.startswith(r"\left", i):
            depth += 1
        elif tex.startswith(r"\right", i):
            depth -= 1
        elif tex[i] == "{":
            depth += 1
        elif tex[i] == "}":
            depth -= 1
        elif (
            depth == 0
            and tex[i] in "+-"
            and i > 0
            and tex[i - 1] == " "
            and tex[i + 1 : i + 2] == " "
        ):
            terms.append(tex[start:i].strip())
            start = i
        i += 1
    terms.append(tex[start:].strip())
    return [t for t in terms if t]


# A factored form folded into more rows than this is left to the sweep.
FOLDED_ROWS = 5
# The table of the other parameters has at most this many rows.
TABLE_ROWS = 40


def whole(p: LatexTermPrinter, top: str, bottom: str) -> str:
    """Return the whole derivative dtop/dbottom (the sum over every path), typeset with d."""
    if hasattr(p, "whole"):
        return p.whole(top, bottom)
    return rf"\frac{{\mathrm{{d}}{p.name(top)}}}{{\mathrm{{d}}{p.name(bottom)}}}"


def local(p: LatexTermPrinter, top: str, bottom: str) -> str:
    """Return the local partial ∂top/∂bottom (top's own formula differentiated)."""
    return p.local(top, bottom)


def product(p: LatexTermPrinter, path: tuple[str, ...]) -> str:
    """Return a path's product of local partials, loss first."""
    return r" \cdot ".join(local(p, a, b) for a, b in zip(path, path[1:], strict=False))


def path_value(path: tuple[str, ...], values: dict[tuple[str, str], float]) -> float:
    """Return a path's product of local partial values."""
    return math.prod(values[e] for e in zip(path, path[1:], strict=False))


def sweep_line(p: LatexTermPrinter, net: Network, wrt: str, terms: tuple) -> str:
    """Return the right side of a gradient's line of the sweep: sum of dL/dn times ∂n/∂wrt."""
    parts = [
        local(p, c, v) if c == net.loss else rf"{whole(p, net.loss, c)} \cdot {local(p, c, v)}"
        for c, v in terms
    ]
    return " + ".join(parts) or "0"


# -- one path ---------------------------------------------------------------------------------


def one_path(net: Network, ds: dict[str, Derivative], values) -> OnePath | None:
    """Return the cancelling picture on the longest one-path derivative, None if there is none."""
    single = [d for d in ds.values() if d.path_count == 1 and len(d.paths[0]) >= 3]
    if not single:
        return None
    d = max(single, key=lambda d: len(d.paths[0]))
    p = LatexTermPrinter(net)
    path = d.paths[0]
    lhs = whole(p, d.of, d.wrt)
    tops = " ".join(rf"\mathrm{{d}}{p.name(a)}" for a in path[:-1])
    bottoms = " ".join(rf"\mathrm{{d}}{p.name(b)}" for b in path[1:])
    return OnePath(
        lhs=lhs,
        product=product(p, path),
        path=p.path(path),
        cancelled=rf"\frac{{{tops}}}{{{bottoms}}}",
        factors=r" \cdot ".join(factor(values.local[e]) for e in zip(path, path[1:], strict=False)),
        value=tex_num(values.gradients[d.wrt]),
    )


# -- several paths ----------------------------------------------------------------------------


def several_paths(
    net: Network, d: Derivative, values, point, truth: float | None = None
) -> SeveralPaths | None:
    """Return the multivariable chain rule on ``d``, and seed 000's lane mistake where it errs.

    ``values`` holds the local partials' values (the sweep's, or :func:`derive.evaluate.at`'s
    for an input, which the sweep does not reach); ``truth`` is d's value when d is not a
    parameter's gradient.
    """
    if d.path_count < 2 or d.truncated:
        return None
    p = LatexTermPrinter(net)
    products = [path_value(path, values.local) for path in d.paths]
    parameter = truth is None
    truth = values.gradients[d.wrt] if parameter else truth
    lanes = lane_formula(net, d, values) if parameter else None
    mistake, lanes_right = None, False
    if lanes is not None:
        terms, wrong = lanes
        if abs(wrong - truth) > 1e-9 * max(abs(truth), 1e-12):
            mistake = Mistake(
                lhs=whole(p, d.of, d.wrt),
                lines=[product(p, t) for t in terms],
                wrong=tex_num(wrong),
                right=tex_num(truth),
            )
        else:
            lanes_right = True
    zeros = list(
        dict.fromkeys(
            e
            for path in d.paths
            for e in zip(path, path[1:], strict=False)
            if values.local.get(e, 1.0) == 0
        )
    )
    return SeveralPaths(
        zero_paths=sum(1 for x in products if x == 0),
        zero_factors=[rf"{local(p, *e)} = 0" for e in zeros],
        lhs=whole(p, d.of, d.wrt),
        wrt_tex=p.name(d.wrt),
        path_count=d.path_count,
        terms=[
            rf"\underbrace{{{product(p, path)}}}_{{{factor(x)}}}"
            for path, x in zip(d.paths, products, strict=True)
        ],
        products=" + ".join(factor(x) for x in products),
        value=tex_num(truth),
        mistake=mistake,
        lanes_right=lanes_right,
        parameter=parameter,
    )


def lane_formula(net: Network, d: Derivative, values) -> tuple[list[tuple], float] | None:
    """Return seed 000's "one lane per neuron" paths for d(loss)/d(weight) and their sum.

    Lane k runs through the k-th neuron of every layer above the weight: what one
    writes when picturing parallel lanes instead of the network's edges. A lane
    step with no edge has a local partial of 0. None when there are fewer than two
    lanes or the layers above are not equally wide.
    """
    wrt = d.wrt
    if net.kind(wrt) != "weight":
        return None
    first = net.neurons[net.weight_edges[wrt][0][1]].layer
    layers = net.layers[first - 1 :]
    widths = {len(layer) for layer in (layers[:-1] if len(layers[-1]) == 1 else layers)}
    if len(widths) != 1 or widths == {1} or len(layers) < 2:
        return None
    lanes: list[tuple[str, ...]] = []
    for k in range(widths.pop()):
        lane = (net.loss, *(layer[min(k, len(layer) - 1)] for layer in reversed(layers)), wrt)
        if lane not in lanes:
            lanes.append(lane)
    if len(lanes) < 2:
        return None
    g = d.graph
    total = 0.0
    for lane in lanes:
        edges = list(zip(lane, lane[1:], strict=False))
        if all(g.has_edge(b, a) for a, b in edges):
            total += math.prod(values.local.get(e, 0.0) for e in edges)
    return lanes, total


# -- weights worked in full ------------------------------------------------------------------


def chosen(net: Network, wrt: list[str], ds: dict[str, Derivative]) -> list[str]:
    """Return the parameters worked in full: ``wrt``, or one weight per layer (most paths)."""
    if wrt:
        return wrt
    out = []
    for index in range(1, len(net.layers) + 1):
        mine = [w for w in net.weights if net.neurons[net.weight_edges[w][0][1]].layer == index]
        if mine:
            out.append(max(mine, key=lambda w: (ds[w].path_count, -net.rank(w))))
    return out


def _where(net: Network, wrt: str) -> str:
    """Return where a parameter sits: a bias's neuron, or a weight's edges (LaTeX)."""
    t = net.latex_names
    if net.kind(wrt) == "bias":
        return rf"{t[wrt]} \text{{ is added to }} z \text{{ of }} {t[net.biases[wrt]]}"
    return ", ".join(rf"{t[s]} \to {t[n]}" for s, n in net.weight_edges[wrt])


def worked(
    net: Network,
    d: Derivative,
    values,
    sweep,
    shown: bool,
    cancel: bool,
    seen: set[tuple[str, str]],
    n_paths: int = NOTE_PATHS,
) -> Worked:
    """Return one derivative worked in full, its numbers from the sweep's ``values``.

    ``seen`` holds the local partials tabulated for earlier weights: they are not
    repeated, and this weight's are added to it.
    """
    p = LatexTermPrinter(net)
    seen_before = bool(seen)  # an earlier weight was worked (and drawn) in full
    listed = d.paths[:n_paths]
    # The local partials of the first two paths: the others have the same forms.
    edges = list(dict.fromkeys(e for path in listed[:2] for e in zip(path, path[1:], strict=False)))
    new = [e for e in edges if e not in seen]
    seen.update(edges)
    cells = [
        Cell(local(p, *e), formula_latex(d.local[e], net, terms=4), tex_num(values.local[e]))
        for e in new
    ]
    factored = d.factored if not d.is_zero else None
    differs = factored is not None and factored != _as_product(d)
    factored_tex = p.term(factored) if differs else ""
    folded = fold(factored_tex) if visible(factored_tex) <= LONGEST else ""
    if folded.count(r"\\") >= FOLDED_ROWS:  # ten rows of a softmax's sum say less than the sweep
        folded = ""
    steps, familiar = cancel_steps(d, p) if cancel else ([], False)
    hot = one_hot_targets(net, values.point)
    # Gathering O_j - y_j is SymPy work that grows with the layer: only for a few outputs,
    # whose formula is written out (mnist's ten are not).
    short = hot and len(net.outputs) <= 4
    concrete = formula_latex(grouped(net, d.concrete) if short else d.concrete, net)
    return Worked(
        wrt=d.wrt,
        wrt_tex=p.name(d.wrt),
        lhs=whole(p, d.of, d.wrt),
        kind=net.kind(d.wrt),
        where_it_is=_where(net, d.wrt),
        path_count=d.path_count,
        paths=[p.path(path) for path in listed],
        truncated=d.path_count > len(listed),
        # One path is read off its list; a picture shows what several paths share.
        diagram=diagram(net, d) if d.path_count > 1 or not seen_before else None,
        # With more paths than listed, two products show the pattern.
        terms=[product(p, path) for path in (listed[:2] if d.path_count > len(listed) else listed)]
        + ([r"\dots"] if d.path_count > len(listed) else []),
        expansion_shown=shown,
        factored=folded if folded else "",
        too_long=not folded
        and bool(factored_tex)
        or visible(concrete) > LONGEST
        or len(d.where) > 2,
        factored_where=[f"{p.term(w)} = {p.term(x)}" for w, x in d.factored_where]
        if differs
        else [],
        local=cells,
        more_local=len(d.local) - len(edges),
        earlier_local=[local(p, *e) for e in edges if e not in new],
        cancel=steps,
        cancel_familiar=familiar,
        split=split_factor(p, d) if steps else "",
        fans=_fans(net, d),
        one_hot=hot if short or steps else "",
        concrete_where=[f"{formula_latex(s, net)} = {formula_latex(f, net)}" for s, f in d.where]
        if len(d.where) <= 2
        else [],
        concrete=fold(concrete) if visible(concrete) <= LONGEST and len(d.where) <= 2 else "",
        value=tex_num(values.gradients[d.wrt]),
        sweep_line=sweep_line(p, net, d.wrt, sweep.gradient(d.wrt).terms),
    )


def one_hot_targets(net: Network, point: dict[str, float]) -> str:
    """Return "y1 + y2 + y3 = 1" (LaTeX) where softmax meets cross-entropy and the
    example's targets add up to 1, the fact that turns its formulas into O - y; else ""."""
    outs = [net.neurons[o] for o in net.outputs]
    if any(
        not (ACTIVATIONS[o.activation].couples and cancels(o.activation, net.loss_kind))
        for o in outs
    ):
        return ""
    if abs(sum(point[y] for y in net.targets) - 1) > 1e-12:
        return ""
    return sum_tex([net.latex_names[y] for y in net.targets]) + " = 1"


def grouped(net: Network, expr: sp.Expr) -> sp.Expr:
    """Return a softmax formula with the targets' sum set to 1 and each weight's
    difference O_j - y_j gathered: h1 (O1 - y1), not h1 (O1 y2 + O1 y3 - y1 (1 - O1))."""
    expr = one_hot(expr, [symbol(y) for y in net.targets])
    weights = [symbol(w) for w in net.weights]
    if not expr.is_Mul:
        return sp.collect(expr, weights) if expr.is_Add else expr
    return sp.Mul(*[sp.collect(f, weights) if f.is_Add else f for f in expr.args], evaluate=False)


def split_factor(p: LatexTermPrinter, d: Derivative) -> str:
    r"""Return the first path's second factor split at the output's z:
    ∂O/∂v = ∂O/∂z · ∂z/∂v (a sum over the layer's z for softmax), which shows that the
    loss's partial and the output's slope meet in every path although ∂O/∂z is no factor."""
    net = d.net
    path = d.paths[0]
    o, v = path[1], path[2]
    zs = [net.neurons[k].preact for k in net.group(o) if net.takes(k, v)]
    parts = [rf"{local(p, o, z)} \cdot {local(p, z, v)}" for z in zs]
    return rf"{local(p, o, v)} = " + sum_tex(parts)


def _fans(net: Network, d: Derivative) -> str:
    """Return a softmax output on d's paths (the picture lights every z of its layer), or ""."""
    for path in d.paths[:1]:
        for o, v in zip(path, path[1:], strict=False):
            if o in net.neurons and ACTIVATIONS[net.neurons[o].activation].couples:
                fed = [k for k in net.group(o) if net.takes(k, v)]
                # v feeds several z of the layer: the picture lights each z -> O edge.
                return net.latex_names[o] if len(fed) > 1 else ""
    return ""


def _as_product(d: Derivative) -> Term:
    if len(d.expansion) != 1:
        return Sum(tuple(Product(t) for t in d.expansion))
    only = d.expansion[0]
    return only[0] if len(only) == 1 else Product(only)


def _paren(expr: sp.Expr, net: Network) -> str:
    tex = formula_latex(expr, net)
    return rf"\left({tex}\right)" if expr.is_Add or tex.startswith("-") else tex


def cancel_steps(d: Derivative, p: LatexTermPrinter) -> tuple[list[str], bool]:
    """Return the loss's partial times the output's activation slope, simplified by SymPy.

    This product is where the familiar ``O - y`` comes from: bce's fraction cancels
    against sigmoid's ``O (1 - O)``, cross-entropy's against softmax's slopes when the
    targets are one-hot; squared error keeps its ``2 (O - y)``. One line, for the first
    output on the paths, and whether it came out as output minus target.
    """
    net = d.net
    outs = [o for o in net.outputs if o in set(d.nodes)]
    if d.is_zero or not outs:
        return [], False
    loss, o = net.loss, outs[0]
    n = net.neurons[o]
    z = n.preact
    difference = symbol(o) - symbol(net.targets[net.outputs.index(o)])
    # The loss reaches z only through the outputs: the product is a whole derivative.
    lhs = whole(p, loss, z)
    if ACTIVATIONS[n.activation].couples:
        group = [k for k in net.group(o) if k in net.outputs]
        pairs = [(local_partial(net, loss, j), local_partial(net, j, z)) for j in group]
        simple = sp.collect(sp.expand(sp.cancel(sp.Add(*[a * b for a, b in pairs]))), symbol(o))
        hot = one_hot(simple, [symbol(y) for y in net.targets])
        steps = [
            sum_tex([rf"{local(p, loss, j)} \cdot {local(p, j, z)}" for j in group]),
            sum_tex([rf"{_paren(a, net)} \cdot {_paren(b, net)}" for a, b in pairs]),
            formula_latex(simple, net),
        ]
        if targets(net.loss_kind) == "onehot" and hot != simple:
            steps.append(formula_latex(hot, net))
        return [lhs, *steps], sp.expand(hot - difference) == 0
    a, b = sp.factor_terms(local_partial(net, loss, o)), local_partial(net, o, z)
    if b == 1:
        return [], False
    cancels = sp.fraction(sp.together(a))[1] != 1
    simple = tidy(sp.cancel(a * b)) if cancels else tidy(a * b)
    steps = [
        lhs,
        rf"{local(p, loss, o)} \cdot {local(p, o, z)}",
        rf"{_paren(a, net)} \cdot {_paren(b, net)}",
        formula_latex(simple, net),
    ]
    return steps, sp.expand(simple - difference) == 0


def derivatives(net: Network, params: list[str]) -> dict[str, Derivative]:
    """Return d(loss)/d(param) for each parameter, at most :data:`NOTE_PATHS` paths listed."""
    return {w: derive(net, net.loss, w, max_paths=NOTE_PATHS) for w in params}


__all__ = ["Local", "chosen", "derivatives", "one_path", "several_paths", "worked"]
