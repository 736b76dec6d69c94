"""One rule per kind of node: its forward value and its local partials, symbolic and on floats.

Like micrograd's ``_backward`` beside each operation, each kind of node says in
one place how it is computed from what feeds it and what its local partial
d(node)/d(feeder) is, as a SymPy formula (for printing and grading) and as a
float at a point (for the sweep), side by side:

============  =======================================================  ==========================
kind          value                                                    local partial
============  =======================================================  ==========================
leaves        given by the point (input, weight, bias, param, target)  none (nothing feeds them)
``preact``    z = sum(w * s) + b, the neuron's weighted sum            dz/ds = w, dz/dw = s, dz/db = 1
``neuron``    a = act(z), the activation's row (softmax: the layer's)  act'(z) (softmax: its Jacobian)
``loss``      the loss's row over the outputs and targets              dL/dO_j, dL/dy_j
``formula``   the formula's tree (``nodes:``)                          its tree differentiated by one name
============  =======================================================  ==========================

In the compact graph (no z's) a neuron's local partial by what feeds its z is
act'(z) * dz/d(feeder), summed over its group for softmax. :func:`forward` is
the one forward pass, :class:`Slopes` the local partials on floats and
:func:`local_partial` their formulas; every command reads them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from derive.errors import DeriveError
from derive.formula import calculus
from derive.graph import LEAF_KINDS, Network
from derive.rules import ACTIVATIONS, LOSSES

if TYPE_CHECKING:  # SymPy is imported by the symbolic rules only, when first asked
    import sympy as sp


def overflow(name: str) -> DeriveError:
    """Return the error for a value too large for a float: it names the value.

    >>> print(overflow("dL/dW1"))
    dL/dW1 overflows at this point: it is past the largest float, about 1.8e308; use smaller values in the point
    """
    return DeriveError(
        f"{name} overflows at this point: it is past the largest float, about 1.8e308",
        hint="use smaller values in the point",
    )


def check_finite(values: Iterable[tuple[str, float]]) -> None:
    """Raise :func:`overflow` for the first ``(name, value)`` that is not a finite number."""
    for name, value in values:
        if not math.isfinite(value):
            raise overflow(name)


def no_value(net: Network, node: str, env: dict[str, float], err: Exception) -> DeriveError:
    """Return the error for a formula node with no value (or no slope) at a point."""
    formula = net.formulas[node]
    why = {
        OverflowError: "its value overflows (too large for a float)",
        ZeroDivisionError: "it divides by 0",
    }.get(
        type(err),
        "it takes the log or square root of a negative number, or a negative number to a fractional power",
    )
    shown = ", ".join(f"{u} = {env[u]:.6g}" for u in formula.uses[:6] if u in env)
    return DeriveError(
        f"{node} = {formula.text} has no value at this point: {why} ({shown})",
        file=net.file,
        line=formula.line,
        col=formula.col,
        hint="give other values with --at, or change the formula",
    )


def _symbol(name: str) -> sp.Symbol:
    import sympy as sp

    return sp.Symbol(name)


# -- the rules ------------------------------------------------------------------


class Leaf:
    """An input, weight, bias, parameter or target: the point gives its value; nothing feeds it."""

    given = True  # a point gives it a value; the forward pass computes none
    what = "a leaf"

    def value(self, net: Network, name: str, env: dict[str, float]) -> None:
        return None  # given, or missing (require() says which values are)


class WeightedSum:
    """A neuron's pre-activation z = sum(w * s) + b."""

    given = False
    what = "a pre-activation"

    def value(self, net: Network, z: str, env: dict[str, float]) -> None:
        n = net.neurons[net.preacts[z]]
        if z in env or not all(a in env for a in net.args(n.name)):
            return
        total = sum(env[s] * env[w] for s, w in n.inputs)
        env[z] = total + (env[n.bias] if n.bias else 0.0)
        check_finite([(z, env[z])])

    def partial(self, net: Network, z: str, bottom: str) -> sp.Expr:
        return _dz(net, net.preacts[z], bottom)

    def slope(self, s: Slopes, z: str, bottom: str) -> float:
        return s.dz(s.net.preacts[z]).get(bottom, 0.0)


class Neuron:
    """A neuron's output a = act(z): its activation's row (softmax: the whole layer's z's)."""

    given = False
    what = "a neuron"

    def value(self, net: Network, name: str, env: dict[str, float]) -> None:
        if name in env:
            return
        group = net.group(name)  # the whole layer for softmax: every z first
        for k in group:
            WEIGHTED_SUM.value(net, net.neurons[k].preact, env)
        if not all(net.neurons[k].preact in env for k in group):
            return
        neuron = net.neurons[name]
        rule = ACTIVATIONS[neuron.activation]
        try:
            if rule.couples:
                outs = rule.value([env[net.neurons[k].preact] for k in group])
                env.update(zip(group, outs, strict=True))
            else:
                env[name] = rule.value(env[neuron.preact])
        except (OverflowError, ValueError):
            raise overflow(f"the activation of layer {neuron.layer}") from None
        check_finite((k, env[k]) for k in group if k in env)

    def partial(self, net: Network, top: str, bottom: str) -> sp.Expr:
        if net.kind(bottom) == "preact":
            return _da_dz(net, top, net.preacts[bottom])
        import sympy as sp

        # Compact view: through every z of the group that depends on bottom.
        return sp.Add(
            *[
                _da_dz(net, top, k) * _dz(net, k, bottom)
                for k in net.group(top)
                if net.takes(k, bottom)
            ]
        )

    def slope(self, s: Slopes, top: str, bottom: str) -> float:
        net = s.net
        if bottom in net.preacts:
            return s.act(top, net.preacts[bottom])
        group = s.group(top)
        if len(group) == 1:
            return s.act(top, top) * s.dz(top)[bottom]
        return math.fsum(s.act(top, k) * s.dz(k)[bottom] for k in group if bottom in s.dz(k))


class Loss:
    """The loss over the outputs and their targets: its row of the rule table."""

    given = False
    what = "the loss"

    def value(self, net: Network, name: str, env: dict[str, float]) -> None:
        if name in env or not all(n in env for n in net.outputs + net.targets):
            return
        outs, targets = [env[o] for o in net.outputs], [env[t] for t in net.targets]
        try:
            env[name] = LOSSES[net.loss_kind].number(outs, targets)
        except (ValueError, ZeroDivisionError, OverflowError):
            env[name] = math.inf
        if not math.isfinite(env[name]) and not any(o in (0.0, 1.0) for o in outs):
            raise overflow(f"the loss {name}")  # a target or an output far out of range
        if not math.isfinite(env[name]):
            shown = ", ".join(f"{o} = {env[o]!r}" for o in net.outputs[:4])
            raise DeriveError(
                f"the loss is infinite at this point: {shown} "
                "(an output at 0 or 1 to machine precision, against a target that is not)",
                hint="use smaller weights or inputs, so that no neuron saturates",
            )

    def partial(self, net: Network, top: str, bottom: str) -> sp.Expr:
        loss = LOSSES[net.loss_kind]
        n = len(net.outputs)
        if bottom in net.outputs:
            j = net.outputs.index(bottom)
            return loss.by_output(_symbol(bottom), _symbol(net.targets[j]), n)
        j = net.targets.index(bottom)
        return loss.by_target(_symbol(net.outputs[j]), _symbol(bottom), n)

    def slope(self, s: Slopes, top: str, bottom: str) -> float:
        net, env = s.net, s.env
        j = s.outputs.get(bottom)
        if j is None:  # a target: no float row (the sweep never needs one), the formula's value
            from derive.rules import number

            return number(self.partial(net, top, bottom), env)
        return LOSSES[net.loss_kind].by_output_value(
            env[bottom], env[net.targets[j]], len(s.outputs)
        )


class Formula:
    """A formula node (``nodes:``): its tree, and the tree differentiated by one name it uses."""

    given = False
    what = "a formula node"

    def value(self, net: Network, name: str, env: dict[str, float]) -> None:
        if name not in env and all(u in env for u in net.formulas[name].uses):
            env[name] = formula_value(net, name, env)

    def partial(self, net: Network, top: str, bottom: str) -> sp.Expr:
        return calculus.partial_sympy(net.formulas[top].tree, bottom, _symbol(top))

    def slope(self, s: Slopes, top: str, bottom: str) -> float:
        if top not in s.formula:
            try:
                s.formula[top] = calculus.partials(s.net.formulas[top].tree, s.env)[1]
            except (OverflowError, ZeroDivisionError, ValueError) as err:
                raise no_value(s.net, top, s.env, err) from None
        return s.formula[top][bottom]


WEIGHTED_SUM = WeightedSum()
LEAF = Leaf()
RULES: dict[str, Leaf | WeightedSum | Neuron | Loss | Formula] = {
    **dict.fromkeys(LEAF_KINDS, LEAF),
    "preact": WEIGHTED_SUM,
    "neuron": Neuron(),
    "loss": Loss(),
    "formula": Formula(),
}
"""The rule of every kind of node (Network.kind): a leaf's value is given, the others computed."""


def formula_value(net: Network, node: str, env: dict[str, float]) -> float:
    """Return a formula node's value at ``env``, or raise a one-line error saying why it has none."""
    try:
        return calculus.value(net.formulas[node].tree, env)
    except (OverflowError, ZeroDivisionError, ValueError) as err:
        raise no_value(net, node, env, err) from None


# -- the one forward pass, the local partials --------------------------------------


def forward(net: Network, point: dict[str, float]) -> dict[str, float]:
    """Return every node's value at a point: inputs, parameters, z's, outputs, loss, formulas.

    Each computed node in ``Network.computed`` order, by its kind's rule.
    A node whose inputs the point does not give is left out: a derivative that
    does not involve it needs no value for it (``--at`` asks only for those it does).

    >>> from derive.graph import load_network
    >>> net = load_network("simple")
    >>> round(forward(net, net.values)["L"], 6)
    0.144248
    """
    env = dict(point)
    for name in net.computed:
        RULES[net.kind(name)].value(net, name, env)
    return env


def local_partial(net: Network, top: str, bottom: str) -> sp.Expr:
    """Return the formula of the local partial d(top)/d(bottom), in the network's names.

    ``top`` must be a direct function of ``bottom`` in the compact or detailed graph.

    >>> net = __import__("derive.graph").graph.load_network("two_hidden")
    >>> local_partial(net, "O11", "W1")
    O11*x1*(1 - O11)
    """
    return RULES[net.kind(top)].partial(net, top, bottom)


def _dz(net: Network, neuron: str, bottom: str) -> sp.Expr:
    """Return dz/d(bottom) for a neuron's pre-activation z = sum(w * s) + b."""
    import sympy as sp

    n = net.neurons[neuron]
    if bottom == n.bias:
        return sp.Integer(1)
    terms = []
    for src, weight in n.inputs:
        if bottom == src:
            terms.append(_symbol(weight))
        if bottom == weight:
            terms.append(_symbol(src))
    return sp.Add(*terms)


def _da_dz(net: Network, neuron: str, z_of: str) -> sp.Expr:
    """Return d(output of neuron)/d(z of z_of), in the outputs and z's."""
    n = net.neurons[neuron]
    act = ACTIVATIONS[n.activation]
    if act.couples:
        return act.jacobian(_symbol(neuron), _symbol(z_of), neuron == z_of)
    return act.slope(_symbol(n.preact), _symbol(neuron))


class Slopes:
    """The value of each local partial d(top)/d(bottom) at a point, by top's rule, on floats.

    What differs from neuron to neuron comes from the rule table (an
    activation's slope or softmax's Jacobian, a loss's partial: once per neuron
    or output); what z = sum(w * s) + b gives (dz/ds = w, dz/dw = s, dz/db = 1)
    is plain arithmetic, edge by edge. No SymPy.

    >>> from derive.graph import load_network
    >>> net = load_network("simple")
    >>> round(Slopes(net, forward(net, net.values))("O2", "W4"), 6)
    0.16502
    """

    def __init__(self, net: Network, env: dict[str, float]) -> None:
        self.net, self.env = net, env
        self.outputs = {o: j for j, o in enumerate(net.outputs)}
        self.formula: dict[str, dict[str, float]] = {}  # each formula node's partials, once
        self._dz: dict[str, dict[str, float]] = {}
        self._act: dict[tuple[str, str], float] = {}
        self._group: dict[str, list[str]] = {}

    def __call__(self, top: str, bottom: str) -> float:
        return RULES[self.net.kind(top)].slope(self, top, bottom)

    def group(self, neuron: str) -> list[str]:
        """Return the neurons whose z's the neuron's output depends on (kept)."""
        if neuron not in self._group:
            self._group[neuron] = self.net.group(neuron)
        return self._group[neuron]

    def dz(self, neuron: str) -> dict[str, float]:
        """Return dz/d(arg) for each argument of a neuron's z."""
        if neuron not in self._dz:
            n = self.net.neurons[neuron]
            env = self.env
            out: dict[str, float] = {}
            for src, weight in n.inputs:
                out[src] = out.get(src, 0.0) + env[weight]
                out[weight] = out.get(weight, 0.0) + env[src]
            if n.bias:
                out[n.bias] = out.get(n.bias, 0.0) + 1.0
            self._dz[neuron] = out
        return self._dz[neuron]

    def act(self, neuron: str, of: str) -> float:
        """Return d(neuron's output)/d(z of ``of``), ``of`` in the neuron's group."""
        key = (neuron, of)
        if key not in self._act:
            n = self.net.neurons[neuron]
            rule = ACTIVATIONS[n.activation]
            env = self.env
            if rule.couples:  # softmax: the Jacobian's entry dO_j/dz_k
                self._act[key] = rule.jacobian(env[neuron], env[of], neuron == of)
            else:
                self._act[key] = rule.slope_value(env[n.preact], env[neuron])
        return self._act[key]
