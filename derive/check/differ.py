"""Say how a formula's values differ from the derivative's, in words a student can act on.

Given the answer's value and the truth at each random point, in order:

- a constant ratio: a sign error, 0, or ``2 times``;
- one name written where another belongs (``x2`` for ``x1``, ``W8`` for
  ``W7``, ``u2`` for ``u1`` in a relu's Heaviside, an output with its
  target), or one function for another (σ for σ', σ' for a softplus's σ):
  the answer with that one change matches at every point;
- a factor missing or extra, when the ratio is one at every point: a name,
  a neuron's slope or the part of it left out (``1 − O11``), a local partial;
- a slope of the wrong kind (the sigmoid slope used for a tanh neuron);
- where a relu's sign of z separates agreeing from differing points, but
  only when that explains the whole difference: one side is 0 wherever
  they differ, and they agree somewhere they are not both 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction

import sympy as sp

from derive.check.points import Sampling, close, factor_value, relus
from derive.check.results import Reason
from derive.expand import local_partial, symbol
from derive.formula.tree import Binary, Call, Name, Neg, Node, evaluate, format_node, size, walk
from derive.paths import between
from derive.rules import ACTIVATIONS, number
from derive.words import num

MAX_TRIES = 400  # answers rewritten (one name or function changed) and evaluated, at most
MAX_NODES = 300  # nor is an answer larger than this rewritten
# A function and the ones a student may write for it (σ for σ', σ' for softplus's σ).
_SWAPS = {
    "sigma": ("sigma_prime",),
    "sigma_prime": ("sigma",),
    "tanh": ("tanh_prime",),
    "tanh_prime": ("tanh",),
    "relu": ("relu_prime",),
    "relu_prime": ("relu",),
}
_SHOWN = {"sigma": "σ", "sigma_prime": "σ'", "tanh": "tanh", "tanh_prime": "tanh'",
          "relu": "relu", "relu_prime": "Heaviside"}  # fmt: skip


def value_reason(
    g: Sampling, side: Node, pairs: list[tuple[float, float]], of: str, wrt: str
) -> Reason:
    """Return the reason a formula's values (answer, truth at each sample) differ."""
    i, (a, t) = next((i, p) for i, p in enumerate(pairs) if not close(*p))
    name = f"d{of}/d{wrt}"
    where = f"at random point {i + 1} the answer is {num(a)}, {name} is {num(t)}"
    constant = constant_ratio(pairs)
    if constant == -1:
        return Reason("value_mismatch", f"sign error: the answer is -1 times {name} ({where})")
    if constant == 0:
        return Reason("value_mismatch", f"the answer is 0, but {name} is not ({where})")
    if constant is not None:
        return Reason("value_mismatch", f"the answer is {_frac(constant)} times {name} ({where})")
    if g.ambiguous(of, wrt) and all(
        close(a, factor_value(g, of, wrt, k)) for k, (a, _) in enumerate(pairs)
    ):
        return Reason(
            "local_partial",
            f"the answer is the local partial ∂{of}/∂{wrt} ({wrt} feeds {of} directly), but the "
            f"left side d{of}/d{wrt} is the whole derivative, over all {g.count(of, wrt)} paths "
            f"from {wrt} to {of} ({where})",
        )
    words = (
        _swapped(g, side, pairs, of, wrt) or _named_factor(g, pairs, of, wrt) or _region(g, pairs)
    )
    return Reason("value_mismatch", f"{words} ({where})" if words else where)


# -- one name or one function changed ----------------------------------------------------


def _swapped(g: Sampling, side: Node, pairs, of: str, wrt: str) -> str:
    """Return ``x2 is written where x1 belongs`` when that one change makes the answer right."""
    if size(side) > MAX_NODES:
        return ""
    tries = 0
    for old, new, words in _changes(g, side, of, wrt):
        tries += 1
        if tries > MAX_TRIES:
            return ""
        changed = _rewrite(side, old, new)
        if changed != side and _agrees(g, changed, pairs):
            return words
    return ""


def _changes(g: Sampling, side: Node, of: str, wrt: str) -> Iterator[tuple[dict, dict, str]]:
    """Yield (names renamed, functions renamed, words) for each one change worth trying."""
    net = g.net
    written = list(dict.fromkeys(n.name for n in walk(side) if isinstance(n, Name)))
    needed = _names_in_truth(g, of, wrt)
    for old in written:
        kind = net.kind(old)
        for new in needed:
            if new == old or net.kind(new) != kind:
                continue
            if kind == "neuron" and old in net.outputs and new in net.outputs:
                y_old = net.targets[net.outputs.index(old)]
                y_new = net.targets[net.outputs.index(new)]
                pair = f"{old} and {y_old} are written where {new} and {y_new} belong"
                yield {old: new, y_old: y_new}, {}, pair
            yield {old: new}, {}, f"{old} is written where {new} belongs"
    calls = {n.func: format_node(n.arg) for n in walk(side) if isinstance(n, Call)}
    for func, arg in calls.items():
        for other in _SWAPS.get(func, ()):
            words = f"{_SHOWN[func]}({arg}) is written where {_SHOWN[other]}({arg}) belongs"
            yield {}, {func: other}, words


def _names_in_truth(g: Sampling, of: str, wrt: str) -> list[str]:
    """Return the names the derivative's formula uses, in network order."""
    d = g.derived(of, wrt)
    used = {s.name for s in d.concrete.free_symbols}
    for _, formula in d.where:
        used |= {s.name for s in formula.free_symbols}
    return sorted((n for n in used if n in g.net.order), key=g.net.rank)


def _rewrite(node: Node, names: dict[str, str], funcs: dict[str, str] | None = None) -> Node:
    """Return a tree with names and functions renamed (the tree is never evaluated as code)."""
    funcs = funcs or {}
    match node:
        case Name(name=n) if n in names:
            return replace(node, name=names[n])
        case Call(func=f, arg=x):
            return replace(node, func=funcs.get(f, f), arg=_rewrite(x, names, funcs))
        case Neg(operand=x):
            return replace(node, operand=_rewrite(x, names, funcs))
        case Binary(left=x, right=y):
            return replace(node, left=_rewrite(x, names, funcs), right=_rewrite(y, names, funcs))
    return node


def _agrees(g: Sampling, tree: Node, pairs) -> bool:
    for index, ((_, env), (_, t)) in enumerate(zip(g.sampled, pairs, strict=True)):
        got = evaluate(tree, env, lambda a, b, i=index: factor_value(g, a, b, i))
        if not close(got, t):
            return False
    return True


# -- a factor missing or extra, a slope of the wrong kind ----------------------------------


def _candidates(g: Sampling, of: str, wrt: str) -> Iterator[tuple[str, list[float], str]]:
    """Yield (words, value at each sample, why) for factors an answer may miss or add."""
    samples = g.sampled
    for neuron, n in g.net.neurons.items():
        row = ACTIVATIONS[n.activation]
        if row.couples or not row.slope(symbol(n.preact), symbol(neuron)).free_symbols:
            continue  # a layer's Jacobian, or a constant slope (linear's 1): no factor to name
        shown = slope_text(n.activation, neuron, n.preact)
        values = [_slope(n.activation, neuron, n.preact, env) for _, env in samples]
        yield f"{shown}, the {n.activation} slope of {neuron},", values, ""
        for part, words in _slope_parts(n.activation, neuron):
            values = [number(part, env) for _, env in samples]
            yield words, values, f": the {n.activation} slope of {neuron} is {shown}"
    for name in g.net.names:
        if g.net.kind(name) in ("input", "weight", "neuron", "preact"):
            if all(name in env for _, env in samples):
                yield name, [env[name] for _, env in samples], ""
    for top in between(g.graph, of, wrt):
        for bottom in g.graph.predecessors(top):
            formula = local_partial(g.net, top, bottom)
            if formula.free_symbols:  # a constant is a constant ratio, said before
                shown = str(formula).replace("**2", "²").replace("*", "·")
                values = [number(formula, env) for _, env in samples]
                yield f"∂{top}/∂{bottom} = {shown}", values, ""


def _slope_parts(activation: str, neuron: str) -> list[tuple[sp.Expr, str]]:
    """Return the halves of a slope a student may leave out: O and 1 − O of O·(1 − O)."""
    return ACTIVATIONS[activation].slope_parts(symbol(neuron))


def _named_factor(g: Sampling, pairs, of: str, wrt: str) -> str:
    """Return the words for a factor the answer misses, adds, or a slope it swaps ('' if none)."""
    if all(abs(t) < 1e-12 for _, t in pairs):
        return ""
    for words, values, why in _candidates(g, of, wrt):
        if all(close(a * f, t) for (a, t), f in zip(pairs, values, strict=True)):
            region = _relu_words(g, words) if "relu slope" in words else ""
            return region or f"a factor {words} is missing{why}"
        if all(close(a, t * f) for (a, t), f in zip(pairs, values, strict=True)):
            return f"an extra factor {words.rstrip(',')}{why}"
    return _wrong_slope(g, pairs)


def _wrong_slope(g: Sampling, pairs) -> str:
    samples = g.sampled
    for neuron, n in g.net.neurons.items():
        mistaken = ACTIVATIONS[n.activation].mistaken_for
        if not mistaken:
            continue
        right = [_slope(n.activation, neuron, n.preact, env) for _, env in samples]
        for other in mistaken:
            used = [_slope(other, neuron, n.preact, env) for _, env in samples]
            if all(
                u != 0 and close(a * r / u, t)
                for (a, t), r, u in zip(pairs, right, used, strict=True)
            ):
                return (
                    f"the {other} slope {slope_text(other, neuron, n.preact)} is used for "
                    f"{neuron}, a {n.activation} neuron: its slope is "
                    f"{slope_text(n.activation, neuron, n.preact)}"
                )
    return ""


def _relu_words(g: Sampling, words: str) -> str:
    neuron = words.rstrip(",").rsplit(" ", 1)[-1]
    z = g.net.neurons[neuron].preact
    return f"they differ where {z} < 0: the relu's slope Heaviside({z}) of {neuron} is missing"


def _region(g: Sampling, pairs) -> str:
    """Return where the two agree and differ, when one relu's sign of z explains it all.

    Only when one side is 0 wherever they differ (the relu's gate is the whole
    difference) and they agree somewhere they are not both 0.
    """
    wrong = [not close(a, t) for a, t in pairs]
    gated = all(abs(t) < 1e-12 for (_, t), w in zip(pairs, wrong, strict=True) if w) or all(
        abs(a) < 1e-12 for (a, _), w in zip(pairs, wrong, strict=True) if w
    )
    real = any(abs(t) > 1e-12 for (_, t), w in zip(pairs, wrong, strict=True) if not w)
    if not (gated and real):
        return ""
    for neuron in relus(g):
        z = g.net.neurons[neuron].preact
        signs = [env.get(z, 0.0) for _, env in g.sampled]
        if all(w == (s < 0) for w, s in zip(wrong, signs, strict=True)):
            return f"they agree where {z} > 0 and differ where {z} < 0"
        if all(w == (s > 0) for w, s in zip(wrong, signs, strict=True)):
            return f"they agree where {z} < 0 and differ where {z} > 0"
    return ""


def _slope(activation: str, neuron: str, preact: str, env: dict[str, float]) -> float:
    return number(ACTIVATIONS[activation].slope(symbol(preact), symbol(neuron)), env)


def slope_text(activation: str, neuron: str, preact: str) -> str:
    """Return a neuron's slope as a student writes it: ``O1·(1 − O1)``, ``1 − O1²``, ``σ(z1)``."""
    if ACTIVATIONS[activation].said:
        return ACTIVATIONS[activation].said.format(z=preact, o=neuron)
    formula = ACTIVATIONS[activation].slope(symbol(preact), symbol(neuron))
    text = sp.sstr(formula).replace("**2", "²").replace("*", "·").replace(" - ", " − ")
    return re.sub(r"Heaviside\((\w+), 0\)", r"Heaviside(\1)", text)


def constant_ratio(pairs: list[tuple[float, float]]) -> Fraction | None:
    """Return the simple constant c != 1 with answer = c * truth at every point, if there is one."""
    usable = [(a, t) for a, t in pairs if abs(t) > 1e-12]
    if len(usable) < 2:
        return None
    guess = Fraction(usable[0][0] / usable[0][1]).limit_denominator(12)
    if guess == 1 or not all(close(a, float(guess) * t) for a, t in pairs):
        return None
    if guess == 0 and any(a != 0 for a, _ in pairs):
        return None  # 2.4e-195 is tiny, not 0: "the answer is 0" would contradict the value shown
    return guess


def _frac(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )
