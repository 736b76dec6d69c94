"""The worked example as backpropagation computes it, and the computational-graph view.

The forward pass, then one sweep from the loss down through every neuron and its
pre-activation z (each dL/dv from the rows above it), every gradient as
dL/dz times what the parameter multiplies, one update step, and what it all costs
against path-by-path sums and finite differences.
"""

from __future__ import annotations

import math

from derive.evaluate import forward
from derive.graph import Network
from derive.notes import counts
from derive.notes.chain import local, whole
from derive.notes.content import Cell, GraphView, SweepSection, factor, rounded, sum_tex, tex_num
from derive.printing import LatexTermPrinter, formula_latex
from derive.rules import ACTIVATIONS, LOSSES

# The learning rate of the update step (derive notes --lr changes it).
LR = 0.1
# The finite-difference step (written epsilon: h is a neuron's name in some networks).
STEP = 1e-6
# Wide layers show this many neurons in the forward and sweep tables.
SHOWN = 3
GIVEN = (("input", "inputs"), ("weight", "weights"), ("bias", "biases"), ("target", "targets"))


def shown(net: Network, layer: list[str]) -> list[str]:
    """Return the neurons of a layer the tables show: all of a narrow layer, a few of a wide one."""
    return layer if len(layer) <= 2 * SHOWN else layer[:SHOWN]


def forward_rows(net: Network, env: dict[str, float]) -> list[Cell]:
    """Return the forward pass, one row per shown neuron: z with the numbers in, then the output."""
    t = net.latex_names
    rows = []
    for layer in net.layers:
        for n in shown(net, layer):
            neuron = net.neurons[n]
            parts = [(t[w], t[s], env[w], env[s]) for s, w in neuron.inputs]
            if len(parts) > 3:
                sym = rf"{parts[0][0]} {parts[0][1]} + \dots + {parts[-1][0]} {parts[-1][1]}"
                nums = ""
            else:
                sym = " + ".join(f"{a} {b}" for a, b, _, _ in parts)
                nums = " + ".join(rf"{factor(x)} \cdot {factor(y)}" for _, _, x, y in parts)
            if neuron.bias:
                sym += f" + {t[neuron.bias]}"
                nums += f" + {factor(env[neuron.bias])}" if nums else ""
            z = t[neuron.preact]
            if ACTIVATIONS[
                neuron.activation
            ].couples:  # one output of the layer's softmax, not of z alone
                zs = [t[net.neurons[k].preact] for k in net.group(n)]
                below = " + ".join(f"e^{{{x}}}" for x in zs) if len(zs) <= 3 else r"\sum_k e^{z_k}"
                out = rf"\frac{{e^{{{z}}}}}{{{below}}}"
            else:
                out = ACTIVATIONS[neuron.activation].tex_of(z)
            rows.append(
                Cell(
                    lhs=f"{z} = {nums or sym} = {tex_num(env[neuron.preact])}",
                    rhs="",
                    value=f"{t[n]} = {out} = {tex_num(env[n])}",
                )
            )
    return rows


def _line(net: Network, p, vals, line) -> list[str]:
    """Return one line of the sweep: dL/dv = its terms = the numbers = its value (two if long)."""
    parts, nums = [], []
    for c, v in line.terms:
        x = vals.local[(c, v)]
        if c == net.loss:
            parts.append(local(p, c, v))
        else:
            parts.append(rf"{whole(p, net.loss, c)} \cdot {local(p, c, v)}")
            nums.append(rf"{factor(vals.delta[c])} \cdot {factor(x)}")
    lhs = whole(p, net.loss, line.node)
    value = tex_num(vals.delta[line.node])
    numbers = " + ".join(nums) if nums and len(nums) <= 3 else ""
    if len(parts) <= 1:
        return [f"{lhs} = {parts[0]}" + (f" = {numbers}" if numbers else "") + f" = {value}"]
    return [
        f"{lhs} = " + sum_tex(parts),
        f"{lhs} = " + (f"{numbers} = " if numbers else "") + value,
    ]


def sweep_rows(net: Network, sweep, vals) -> list[str]:
    """Return the sweep top down, one row per shown neuron: dL/d(output), then dL/dz."""
    p = LatexTermPrinter(net)
    rows = []
    for layer in reversed(net.layers):
        for n in shown(net, layer):
            z = net.neurons[n].preact
            try:
                out, pre = sweep.line(n), sweep.line(z)
            except KeyError:
                continue
            rows += _line(net, p, vals, out) + _line(net, p, vals, pre)
    return rows


def gradient_rows(
    net: Network, sweep, vals, limit: int, paths: dict[str, int], lr: float = LR
) -> list[Cell]:
    """Return every gradient: its paths, dL/dz times what the parameter multiplies, its update."""
    p = LatexTermPrinter(net)
    rows = []
    for g in _spread(net, sweep.gradients, limit):
        parts, nums = [], []
        for z, w in g.terms:
            what = vals.local[(z, w)]
            src = _multiplies(net, z, w)
            parts.append(rf"{whole(p, net.loss, z)} \cdot {src}")
            nums.append(rf"{factor(vals.delta[z])} \cdot {factor(what)}")
        grad = vals.gradients[g.param]
        new = vals.point[g.param] - lr * grad
        rows.append(
            Cell(
                lhs=whole(p, net.loss, g.param),
                rhs=" + ".join(parts) or "0",
                value=tex_num(grad),
                extra=" + ".join(nums),
                formula=stepped(new, lr * grad),
                count=f"{paths[g.param]:,}",
            )
        )
    return rows


def stepped(new: float, step: float) -> str:
    """Return a parameter after a step, with enough decimals that the step shows.

    Four significant figures would print W2 = -0.4000 both before and after a step of
    0.00004; this keeps two significant figures of the step (and four of the value).

    >>> stepped(-0.40003697, 3.697e-5), stepped(-0.0015520, 0.10155), stepped(0.6969, 0.0313)
    ('-0.400037', '-0.001552', '0.6969')
    """
    decimals = 4
    if new:
        decimals = max(decimals, 3 - math.floor(math.log10(abs(new))))
    if step:
        decimals = max(decimals, 1 - math.floor(math.log10(abs(step))))
    return f"{new:.{min(decimals, 12)}f}"


def _spread(net: Network, gradients: list, limit: int) -> list:
    """Return at most ``limit`` gradient rows, as many from each layer as fit, in order.

    A wide network's table would otherwise hold 40 weights of one neuron (mnist's
    w1_1_1 to w1_1_40) and nothing of the layers above.
    """
    if len(gradients) <= limit:
        return list(gradients)
    by_layer: dict[int, list] = {}
    for g in gradients:
        neuron = net.neurons[net.preacts.get(g.terms[0][0], g.terms[0][0])] if g.terms else None
        by_layer.setdefault(neuron.layer if neuron else 0, []).append(g)
    share = max(1, limit // len(by_layer))
    keep = {id(g) for rows in by_layer.values() for g in rows[:share]}
    return [g for g in gradients if id(g) in keep][:limit]


def _multiplies(net: Network, z: str, param: str) -> str:
    """Return what a parameter multiplies in z: its source (a weight) or 1 (a bias)."""
    t = net.latex_names
    if net.kind(param) == "bias":
        return "1"
    neuron = net.neurons[net.preacts[z]]
    return " + ".join(t[s] for s, w in neuron.inputs if w == param)


def given(net: Network, point: dict[str, float]) -> list[tuple[str, list[str]]]:
    """Return the example point's values by kind, at most a dozen of each."""
    t = net.latex_names
    out = []
    for kind, plural in GIVEN:
        names = [n for n in net.names if net.kind(n) == kind]
        if names:
            items = [f"{t[n]} = {tex_num(point[n])}" for n in names[:12]]
            if len(names) > 12:
                items.append(rf"\dots\ ({len(names):,} \text{{ in all}})")
            out.append((plural if len(names) > 1 else kind, items))
    return out


def worked_sweep(
    net: Network,
    sweep,
    vals,
    point,
    source: str,
    showcase: str,
    limit: int,
    paths: dict[str, int],
    compact=None,
    seed: int = 0,
    lr: float = LR,
) -> SweepSection:
    """Return the backward sweep as the worked example, with its costs."""
    env = vals.forward
    t = net.latex_names
    loss = LOSSES[net.loss_kind].value(
        [_sym(o) for o in net.outputs], [_sym(y) for y in net.targets]
    )
    loss_tex = (
        f"{t[net.loss]} = {formula_latex(loss, net)} = {tex_num(env[net.loss])}"
        if len(net.outputs) <= 4
        else f"{t[net.loss]} = {tex_num(env[net.loss])}"
    )
    up, down = dict(point), dict(point)
    up[showcase] += STEP
    down[showcase] -= STEP
    numeric = (forward(net, up)[net.loss] - forward(net, down)[net.loss]) / (2 * STEP)
    exact = vals.gradients[showcase]
    error = abs(numeric - exact) / max(abs(numeric), abs(exact), 1e-300)
    fwd = counts.forward_multiplications(net)
    params = len(net.parameters)
    w = t[showcase]
    L = t[net.loss]
    old, g = rounded(point[showcase]), rounded(exact)
    # Counted in the compact graph, like derive backprop and the scaling table.
    m = (compact or sweep).multiplications
    return SweepSection(
        source=source,
        seed=seed,
        given=given(net, point),
        forward=forward_rows(net, env),
        loss=loss_tex,
        detail=sweep.detail,
        rows=sweep_rows(net, sweep, vals),
        gradients=gradient_rows(net, sweep, vals, limit, paths, lr),
        more_gradients=max(0, len(sweep.gradients) - limit),
        lr=f"{lr:g}",
        update_example=rf"{_new(w)} = {tex_num(old)} - {lr:g} \cdot {factor(g)} = {stepped(point[showcase] - lr * exact, lr * exact)}",
        mul_sweep=m["sweep"],
        mul_paths=m["paths"],
        mul_shown=sweep.multiplications["sweep"] if compact is not None and sweep.detail else 0,
        forward_mul=fwd,
        fd_passes=2 * params,
        fd_mul=2 * params * fwd,
        params=params,
        fd_check=(
            rf"\frac{{{L}({w} + \varepsilon) - {L}({w} - \varepsilon)}}{{2 \varepsilon}}"
            rf" = {tex_num(numeric)}, \quad \varepsilon = 10^{{-6}},"
            rf" \quad \text{{relative error }} {tex_num(error)}"
        ),
        scaling=counts.scaling(),
    )


def _new(tex: str) -> str:
    r"""Return a name marked new: ``W_{1}^{\text{new}}``, parenthesised if it has a superscript."""
    return rf"\left({tex}\right)^{{\text{{new}}}}" if "^" in tex else rf"{tex}^{{\text{{new}}}}"


def _sym(name: str):
    from derive.expand import symbol

    return symbol(name)


def graph_view(net: Network, sweep, vals) -> GraphView:
    """Return the computational-graph view, on the first neuron of the first layer.

    A neuron that feeds nothing has no dL/dz (the sweep never reaches it), so the view
    takes the first neuron, layer by layer, that the loss depends on.
    """
    p = LatexTermPrinter(net)
    t = net.latex_names
    n = next(
        net.neurons[m] for layer in net.layers for m in layer if net.neurons[m].preact in vals.delta
    )
    z = n.preact
    dz = whole(p, net.loss, z)
    src, w = n.inputs[0]
    multiply = [
        rf"{whole(p, net.loss, w)} = {dz} \cdot {t[src]} = {factor(vals.delta[z])} \cdot {factor(vals.forward[src])} = {tex_num(vals.gradients[w])}",
    ]
    # The fork: a neuron whose output feeds several neurons (its dL/dv adds their parts).
    fork = next(
        (row for row in sweep.lines if len(row.terms) > 1 and row.node in net.neurons), None
    )
    fork_tex, parts = "", 0
    if fork is not None:
        nums = " + ".join(rf"{factor(vals.term(e))}" for e in fork.terms)
        fork_tex = rf"{whole(p, net.loss, fork.node)} = {nums} = {tex_num(vals.delta[fork.node])}"
        parts = len(fork.terms)
    relu = next((m for m in net.neurons.values() if ACTIVATIONS[m.activation].gates), None)
    gate, test, result = "", "", ""
    if relu is not None:
        zr = vals.forward[relu.preact]
        gate = rf"{t[relu.name]} = \max(0, {t[relu.preact]})"
        sign = ">" if zr > 0 else r"\le"
        test = rf"{t[relu.preact]} = {tex_num(zr)} {sign} 0"
        result = rf"{whole(p, net.loss, relu.preact)} = " + (
            whole(p, net.loss, relu.name) if zr > 0 else "0"
        )
    return GraphView(
        neuron=t[n.name],
        z_rule=f"{t[z]} = "
        + " + ".join(
            [f"{t[w_]} {t[s_]}" for s_, w_ in n.inputs[:3]]
            + ([r"\dots"] if len(n.inputs) > 3 else [])
            + ([t[n.bias]] if n.bias else [])
        ),
        upstream=rf"{dz} = {tex_num(vals.delta[z])}",
        multiply=multiply,
        fork=fork_tex,
        fork_parts=parts,
        gate=gate,
        gate_test=test,
        gate_result=result,
        params=len(net.parameters),
        forward_mode=rf"\frac{{\mathrm{{d}}{t[net.loss]}}}{{\mathrm{{d}}{t[w]}}}",
    )
