"""Nielsen's four equations, derived: each one is a line of this network's sweep, read per layer.

What δ means (nudge z by ε and the loss moves by δ·ε), shown with a forward pass of
the nudged network; BP1 and BP4 read as Nielsen reads them, with this network's
numbers; and one path written over neurons split into 3Blue1Brown's z-level factors.
Every number comes from the sweep through the pre-activations (``derive.sweep.values``
with ``detail``), except the nudge, which runs the forward pass again.
"""

from __future__ import annotations

from derive.evaluate import forward
from derive.graph import Network
from derive.notes.chain import local, whole
from derive.notes.content import Equations, factor, sum_tex, tex_num
from derive.notes.layerform import SLOPE
from derive.printing import LatexTermPrinter
from derive.rules import ACTIVATIONS, cancels

# The nudge of z that shows what delta means: small against z, large enough to read.
NUDGE = 0.01


def general(net: Network) -> list[str]:
    """Return BP1-BP4 in Nielsen's index form, with this network's loss and slope."""
    L = net.latex_names[net.loss]
    top = "N" if L == "L" else "L"  # Nielsen's L is the output layer; here it may be the loss
    acts = {m.activation for m in net.neurons.values() if not ACTIVATIONS[m.activation].couples}
    f = SLOPE.get(acts.pop(), "f'") if len(acts) == 1 else "f'"
    out = net.neurons[net.outputs[0]]
    if ACTIVATIONS[out.activation].couples:
        bp1 = (
            rf"\delta^{{({top})}}_k = \sum_j \frac{{\partial {L}}}{{\partial a^{{({top})}}_j}}"
            rf" \frac{{\partial a^{{({top})}}_j}}{{\partial z^{{({top})}}_k}}"
        )
    else:
        g = SLOPE.get(out.activation, "f'")
        bp1 = rf"\delta^{{({top})}}_j = \frac{{\partial {L}}}{{\partial a^{{({top})}}_j}} \, {g}(z^{{({top})}}_j)"
    return [
        bp1,
        rf"\delta^{{(l)}}_k = \Big( \sum_j w^{{(l+1)}}_{{jk}} \, \delta^{{(l+1)}}_j \Big) \, {f}(z^{{(l)}}_k)",
        rf"\frac{{\mathrm{{d}}{L}}}{{\mathrm{{d}}b^{{(l)}}_j}} = \delta^{{(l)}}_j",
        rf"\frac{{\mathrm{{d}}{L}}}{{\mathrm{{d}}w^{{(l)}}_{{jk}}}} = a^{{(l-1)}}_k \, \delta^{{(l)}}_j",
    ]


def _sweep_line(net: Network, p, vals, node: str) -> str:
    """Return dL/dnode = its sweep terms = the numbers = its value, as one equation."""
    terms = vals.sweep.line(node).terms
    parts, nums = [], []
    for c, v in terms:
        if c == net.loss:
            parts.append(local(p, c, v))
            nums.append(factor(vals.local[(c, v)]))
        else:
            parts.append(rf"{whole(p, net.loss, c)} \cdot {local(p, c, v)}")
            nums.append(rf"{factor(vals.delta[c])} \cdot {factor(vals.local[(c, v)])}")
    lhs = whole(p, net.loss, node)
    numbers = f" = {sum_tex(nums)}" if len(nums) > 1 or terms[0][0] != net.loss else ""
    return f"{lhs} = {sum_tex(parts)}{numbers} = {tex_num(vals.delta[node])}"


def _nudged_loss(net: Network, point: dict[str, float], neuron: str, eps: float):
    """Return the loss with the neuron's z moved by ``eps``, the parameter moved to do it, by
    how much, and the input it multiplies (None for a bias).

    z is linear in each weight and bias, so moving a bias by eps (or a weight by
    eps / its input) moves z by eps exactly, and nothing else changes.
    """
    n = net.neurons[neuron]
    env = forward(net, point)
    src = None
    if n.bias:
        moved, by = n.bias, eps
    else:
        src, moved = max(n.inputs, key=lambda sw: abs(env[sw[0]]))
        by = eps / env[src]
    nudged = {**point, moved: point[moved] + by}
    return forward(net, nudged)[net.loss], moved, by, src


def has_hidden(net: Network) -> bool:
    """Return whether the network has a hidden neuron, so that BP2 can be shown on one."""
    return _hidden(net) is not None


def _hidden(net: Network) -> str | None:
    """Return the hidden neuron BP2 is shown on: the one feeding the most neurons."""
    hidden = [n for n in net.neurons if n not in net.outputs and net.neurons[n].inputs]
    if not hidden:
        return None
    children = {n: 0 for n in hidden}
    for m in net.neurons.values():
        for src, _ in m.inputs:
            if src in children:
                children[src] += 1
    return max(hidden, key=lambda n: (children[n], -net.rank(n)))


def _packed(net: Network, path: tuple[str, ...]) -> str:
    """Return a neuron-to-neuron factor of the path split at its z: ∂O21/∂O11 = ∂O21/∂z21 · ∂z21/∂O11."""
    p = LatexTermPrinter(net)
    for a, b in zip(path[1:], path[2:], strict=False):
        if a in net.neurons and b in net.neurons:
            z = net.neurons[a].preact
            return rf"{local(p, a, b)} = {local(p, a, z)} \cdot {local(p, z, b)}"
    return ""


def z_path(net: Network, path: tuple[str, ...]) -> str:
    """Return a path over neurons written at z level: each neuron step split at its z.

    ``L <- O31 <- O21 <- W7`` becomes ∂L/∂O31 · ∂O31/∂z31 · ∂z31/∂O21 · ∂O21/∂z21 · ∂z21/∂W7;
    "" when a softmax output is on it (its step sums over the layer's z).
    """
    if any(n in net.neurons and ACTIVATIONS[net.neurons[n].activation].couples for n in path):
        return ""
    p = LatexTermPrinter(net)
    nodes = [path[0]]
    for n in path[1:-1]:
        nodes += [n, net.neurons[n].preact]
    nodes.append(path[-1])
    return r" \cdot ".join(local(p, a, b) for a, b in zip(nodes, nodes[1:], strict=False))


def _output_minus_target(net: Network, vals, name: str) -> str:
    """Return an output's delta as output minus target, in symbols and numbers (where a loss's
    partial cancels the output's slope)."""
    t, n = net.latex_names, net.neurons[name]
    y = net.targets[net.outputs.index(name)]
    o, target = vals.forward[name], vals.point[y]
    lhs = whole(LatexTermPrinter(net), net.loss, n.preact)
    return rf"{lhs} = {t[name]} - {t[y]} = {tex_num(o)} - {factor(target)} = {tex_num(o - target)}"


def equations(net: Network, vals, point: dict[str, float], path=None) -> Equations | None:
    """Return the derivation of BP1-BP4 from this network's sweep (None without a hidden layer)."""
    k = _hidden(net)
    if k is None:
        return None
    p = LatexTermPrinter(net)
    t = net.latex_names
    L = t[net.loss]
    out = net.neurons[net.outputs[0]]
    zo, zk = out.preact, net.neurons[k].preact
    # BP1: the line of the output's z.
    bp1 = _sweep_line(net, p, vals, zo)
    # BP2: the line of a hidden neuron's output (a sum over the neurons it feeds), then its z.
    bp2 = [_sweep_line(net, p, vals, k), _sweep_line(net, p, vals, zk)]
    weights = [
        (w, c) for c, m in net.neurons.items() for s, w in m.inputs if s == k and c in net.neurons
    ]
    bp2_weights = ", ".join(
        rf"{local(p, net.neurons[c].preact, k)} = {t[w]}" for w, c in weights[:3]
    )
    # BP3 and BP4: the gradient lines of a bias and a weight into that neuron.
    src, w = net.neurons[k].inputs[0]
    bp4 = (
        rf"{whole(p, net.loss, w)} = {whole(p, net.loss, zk)} \cdot {local(p, zk, w)}"
        rf" = {whole(p, net.loss, zk)} \cdot {t[src]}"
        rf" = {factor(vals.delta[zk])} \cdot {factor(vals.forward[src])} = {tex_num(vals.gradients[w])}"
    )
    b = net.neurons[k].bias
    bp3 = (
        rf"{whole(p, net.loss, b)} = {whole(p, net.loss, zk)} \cdot {local(p, zk, b)}"
        rf" = {whole(p, net.loss, zk)} \cdot 1 = {tex_num(vals.gradients[b])}"
        if b
        else ""
    )
    does_cancel = cancels(out.activation, net.loss_kind)
    # What delta means: nudge the output's z and run the forward pass again.
    before = vals.forward[net.loss]
    after, moved, by, src = _nudged_loss(net, point, out.name, NUDGE)
    delta = vals.delta[zo]
    # BP4 read: the inputs of one neuron share its delta, so the smallest input learns slowest.
    ins = [(s, x) for s, x in net.neurons[k].inputs]
    lo = min(ins, key=lambda sw: abs(vals.forward[sw[0]]))
    hi = max(ins, key=lambda sw: abs(vals.forward[sw[0]]))
    slope = vals.local[(out.name, zo)]
    return Equations(
        z=t[zo],
        delta=rf"\delta = {whole(p, net.loss, zo)} = {tex_num(delta)}",
        nudge=rf"{t[zo]} + {NUDGE:g}",
        moved=rf"{t[moved]}"
        + (
            rf" \text{{ by }} {NUDGE:g}/{t[src]} = {tex_num(by)}"
            if src
            else ""  # a bias moves its z by what it moves
        ),
        loss_before=rf"{L} = {before:.6f}",
        loss_after=rf"{L} = {after:.6f}",
        change=rf"{tex_num(after - before)} \approx \delta \cdot {NUDGE:g} = {tex_num(delta * NUDGE)}",
        order=rf"{NUDGE:g}^2",
        bp1=bp1,
        bp2=bp2,
        bp2_weights=bp2_weights,
        bp3=bp3,
        bp4=bp4,
        output_slope=rf"{local(p, out.name, zo)} = {tex_num(slope)}",
        saturated=ACTIVATIONS[out.activation].slope_max < 1,
        low=rf"{t[lo[0]]} = {tex_num(vals.forward[lo[0]])}",
        high=rf"{t[hi[0]]} = {tex_num(vals.forward[hi[0]])}",
        low_grad=rf"{whole(p, net.loss, lo[1])} = {tex_num(vals.gradients[lo[1]])}",
        high_grad=rf"{whole(p, net.loss, hi[1])} = {tex_num(vals.gradients[hi[1]])}",
        shared=rf"{whole(p, net.loss, zk)} = {tex_num(vals.delta[zk])}",
        slope_rule=r"\sigma'(z) = \sigma(z)\,(1 - \sigma(z))",
        general=general(net),
        cancels=does_cancel,
        cancelled=_output_minus_target(net, vals, out.name) if does_cancel else "",
        packed=_packed(net, path) if path else "",
        path=LatexTermPrinter(net).path(path) if path else "",
        z_path=z_path(net, path) if path else "",
    )
