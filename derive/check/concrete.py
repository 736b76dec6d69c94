"""Grade an answer written as a formula (``2*(O2 - y)*O2*(1 - O2)*O1``) or as a number.

A formula is compared with the true derivative at random points where every
neuron holds its forward-pass value. The points are chosen so that every relu
neuron's z is seen on both sides of 0 (a missing Heaviside factor shows), and
targets are drawn from their real range. When the values differ, the report
says how: a constant factor, a missing or extra factor it can name (a
neuron's slope, a weight), the sigmoid slope used for a tanh neuron, or the
region where they differ. SymPy is used only to add that two equal formulas
are also equal symbolically, and only on formulas small enough that its work
is bounded by their size: no time limits, no signals.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator
from fractions import Fraction
from typing import TYPE_CHECKING

import sympy as sp

from derive.check.results import Reason
from derive.errors import DeriveError
from derive.evaluate import at, forward, random_point
from derive.expand import expanded_terms, local_partial, symbol
from derive.formula.tree import (
    Deriv,
    Name,
    Node,
    Number,
    derivs,
    evaluate,
    size,
    small_powers,
    walk,
)
from derive.formula.tree import to_sympy as tree_to_sympy
from derive.printing.formulas import formula_text
from derive.printing.words import num
from derive.rules import ACTIVATIONS, number

if TYPE_CHECKING:
    from derive.check.grade import Grader

POINTS = 5  # random points for the numeric comparison (more are added to cover every relu)
REL_TOL = 1e-7
SYMBOLIC_OPS = 150  # formulas larger than this are compared numerically only
SYMBOLIC_NODES = 80  # nor are answers with more nodes than this
EXPAND_TERMS = 400  # sp.expand is asked only for a formula with at most this many terms
SLOPES = ("sigmoid", "tanh")  # slopes a student may swap for each other


def grade_concrete(g: Grader, side: Node, of: str, wrt: str) -> list[Reason]:
    """Return the reasons a formula or number differs from d(of)/d(wrt) (none when it matches)."""
    zero = g.zero_factors(side)
    points = samples(g)
    pairs: list[tuple[float, float]] = []
    for index, (_, env) in enumerate(points):
        truth = _truth(g, of, wrt, index)
        got = evaluate(side, env, lambda a, b, i=index: _factor_value(g, a, b, i))
        if not math.isfinite(got):
            return zero + [
                Reason(
                    "not_finite", f"the answer is not a finite number at random point {index + 1}"
                )
            ]
        pairs.append((got, truth))
    if all(close(a, t) for a, t in pairs):
        relus = _relus(g)
        both = ", with every relu's z on both sides of 0" if relus else ""
        g.notes.append(
            f"equal at {len(pairs)} random points{both}" + _symbolic_note(g, side, of, wrt)
        )
        return zero
    if is_constant(side):
        return zero + grade_number(g, side, of, wrt)
    lhs_zero = [g.zero_lhs(of, wrt)] if of != wrt and not g.count(of, wrt) else []
    return zero + lhs_zero + [_value_reason(g, side, points, pairs, of, wrt)]


def expected_formula(g: Grader, of: str, wrt: str) -> str:
    """Return the derivative as one formula (with its ``where`` definitions when it has them)."""
    d = g.derived(of, wrt)
    text = formula_text(d.concrete)
    if d.where:
        text += "  where " + "; ".join(f"{s} = {formula_text(e)}" for s, e in d.where)
    return text


# -- the points -------------------------------------------------------------------------


def sample_point(g: Grader, seed: int) -> dict[str, float]:
    """Return random values for the network's leaves, with targets from their real range.

    bce's targets are probabilities in [0, 1] (not only 0 and 1, where ``y**2`` is ``y``);
    cross-entropy's targets are a distribution (they sum to 1, as softmax's O - y needs).
    """
    point = random_point(g.net, seed)
    rng = random.Random(f"targets {seed}")
    if g.net.loss_kind == "bce":
        point.update({t: round(rng.uniform(0, 1), 3) for t in g.net.targets})
    elif g.net.loss_kind == "cross_entropy":
        weights = [rng.uniform(0.05, 1) for _ in g.net.targets]
        point.update({t: w / sum(weights) for t, w in zip(g.net.targets, weights, strict=True)})
    return point


def samples(g: Grader) -> list[tuple[dict[str, float], dict[str, float]]]:
    """Return (point, forward values) for each sample, made once per grader.

    After ``g.points`` random points, a relu neuron whose z was seen on one side
    of 0 only gets a point with its incoming weights and bias negated, which
    puts z on the other side.
    """
    if g.sampled is None:
        found = []
        for seed in range(1, g.points + 1):
            point = sample_point(g, seed)
            found.append((point, forward(g.net, point)))
        for neuron in _relus(g):
            z = g.net.neurons[neuron].preact
            if len(_signs(found, z)) == 2:
                continue
            for point, _ in list(found):
                flipped = dict(point)
                for name in _incoming(g, neuron):
                    flipped[name] = -flipped[name]
                env = forward(g.net, flipped)
                if _signs([*found, (flipped, env)], z) == {-1, 1}:
                    found.append((flipped, env))
                    break
        g.sampled = found
    return g.sampled


def _signs(samples, z: str) -> set[int]:
    return {1 if env[z] > 0 else -1 for _, env in samples if z in env and abs(env[z]) > 1e-9}


def _incoming(g: Grader, neuron: str) -> list[str]:
    n = g.net.neurons[neuron]
    return [w for _, w in n.inputs] + ([n.bias] if n.bias else [])


def _relus(g: Grader) -> list[str]:
    return [n for n, neuron in g.net.neurons.items() if neuron.activation == "relu"]


def _truth(g: Grader, of: str, wrt: str, index: int) -> float:
    """Return the whole derivative d(of)/d(wrt) at sample ``index`` (computed once)."""
    key = ("whole", of, wrt, index)
    if key not in g.values:
        g.values[key] = at(g.derived(of, wrt), g.sampled[index][0]).value
    return g.values[key]


def _factor_value(g: Grader, of: str, wrt: str, index: int) -> float:
    """Return a written factor's value at a sample: a local partial over an edge, else whole."""
    if of == wrt:
        return 1.0
    if not g.is_edge(of, wrt):
        return _truth(g, of, wrt, index)
    key = ("local", of, wrt, index)
    if key not in g.values:
        g.values[key] = number(local_partial(g.net, of, wrt), g.sampled[index][1])
    return g.values[key]


# -- saying how the values differ -------------------------------------------------------


def _value_reason(g: Grader, side, samples, pairs, of: str, wrt: str) -> Reason:
    i, (a, t) = next((i, p) for i, p in enumerate(pairs) if not close(*p))
    name = f"d{of}/d{wrt}"
    where = f"at random point {i + 1} the answer is {num(a)}, {name} is {num(t)}"
    constant = _constant_ratio(pairs)
    if constant == -1:
        return Reason("value_mismatch", f"wrong sign: the answer is -1 times {name} ({where})")
    if constant == 0:
        return Reason("value_mismatch", f"the answer is 0, but {name} is not ({where})")
    if constant is not None:
        return Reason("value_mismatch", f"the answer is {_frac(constant)} times {name} ({where})")
    if g.ambiguous(of, wrt) and all(
        close(a, _factor_value(g, of, wrt, k)) for k, (a, _) in enumerate(pairs)
    ):
        return Reason(
            "local_partial",
            f"the answer is the local partial ∂{of}/∂{wrt} ({wrt} feeds {of} directly), but the "
            f"left side d{of}/d{wrt} is the whole derivative, over all {g.count(of, wrt)} paths "
            f"from {wrt} to {of} ({where})",
        )
    named = _named_factor(g, samples, pairs)
    if named:
        return Reason("value_mismatch", f"{named} ({where})")
    region = _region(g, samples, pairs)
    if region:
        return Reason("value_mismatch", f"{region} ({where})")
    return Reason("value_mismatch", where)


def _candidates(g: Grader) -> Iterator[tuple[str, str, list[float]]]:
    """Yield (kind, words, value at each sample) for factors an answer may miss or add."""
    samples = g.sampled
    for neuron, n in g.net.neurons.items():
        if n.activation in ("linear", "softmax"):
            continue
        shown = slope_text(n.activation, neuron, n.preact)
        values = [_slope(n.activation, neuron, n.preact, env) for _, env in samples]
        yield "slope", f"{shown}, the {n.activation} slope of {neuron},", values
    for name in g.net.names:
        if g.net.kind(name) in ("input", "weight", "neuron", "preact"):
            if all(name in env for _, env in samples):
                yield "name", name, [env[name] for _, env in samples]


def _named_factor(g: Grader, samples, pairs) -> str:
    """Return the words for a factor the answer misses, adds, or a slope it swaps ('' if none)."""
    if all(abs(t) < 1e-12 for _, t in pairs):
        return ""
    for _kind, words, values in _candidates(g):
        if all(close(a * f, t) for (a, t), f in zip(pairs, values, strict=True)):
            region = _relu_words(g, words) if "relu slope" in words else ""
            return region or f"a factor {words} is missing"
        if all(close(a, t * f) for (a, t), f in zip(pairs, values, strict=True)):
            return f"an extra factor {words.rstrip(',')}"
    for neuron, n in g.net.neurons.items():
        if n.activation not in SLOPES:
            continue
        right = [_slope(n.activation, neuron, n.preact, env) for _, env in samples]
        for other in SLOPES:
            if other == n.activation:
                continue
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


def _relu_words(g: Grader, words: str) -> str:
    neuron = words.rstrip(",").rsplit(" ", 1)[-1]
    z = g.net.neurons[neuron].preact
    return f"they differ where {z} < 0: the relu's slope Heaviside({z}) of {neuron} is missing"


def _region(g: Grader, samples, pairs) -> str:
    """Return where the two agree and differ, when one relu's sign of z separates them."""
    wrong = [not close(a, t) for a, t in pairs]
    for neuron in _relus(g):
        z = g.net.neurons[neuron].preact
        signs = [env.get(z, 0.0) for _, env in samples]
        if all(w == (s < 0) for w, s in zip(wrong, signs, strict=True)):
            return f"they agree where {z} > 0 and differ where {z} < 0"
        if all(w == (s > 0) for w, s in zip(wrong, signs, strict=True)):
            return f"they agree where {z} < 0 and differ where {z} > 0"
    return ""


def _slope(activation: str, neuron: str, preact: str, env: dict[str, float]) -> float:
    formula = ACTIVATIONS[activation].slope(symbol(preact), symbol(neuron))
    if activation == "tanh" or activation == "sigmoid":  # in the output, whatever act it has
        return number(formula, {neuron: env[neuron]})
    return number(formula, env)


def slope_text(activation: str, neuron: str, preact: str) -> str:
    """Return a neuron's slope as a student writes it: ``O1·(1 − O1)``, ``1 − O1²``."""
    formula = ACTIVATIONS[activation].slope(symbol(preact), symbol(neuron))
    text = sp.sstr(formula).replace("**2", "²").replace("*", "·").replace(" - ", " − ")
    return re.sub(r"Heaviside\((\w+), 0\)", r"Heaviside(\1)", text)


def _constant_ratio(pairs: list[tuple[float, float]]) -> Fraction | None:
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


# -- numbers ----------------------------------------------------------------------------


def grade_number(g: Grader, side: Node, of: str, wrt: str) -> list[Reason]:
    """Grade a number as the derivative's value at the network's own values (its file's point).

    A derivative that is not constant equals a number only at a point, and the
    one point an answer can mean is the one the network file gives. The number
    is right when it agrees within what its own digits allow: each decimal
    written is off by at most half a unit in its last place, and those errors
    carried through the answer's arithmetic bound how far it may be.
    """
    truth = _value_at_point(g, of, wrt)
    got = evaluate(side, {}, None)
    slack = _slack(side, g.answer.text, got) * 1.001 + 1e-15 + REL_TOL * abs(truth)
    off = abs(got - truth)
    single = sum(isinstance(n, Number) for n in walk(side)) == 1
    # Cut off rather than rounded (0.00184 for 0.001848): the digits kept must be right,
    # so at least one of them is not 0 and the sign is the truth's (0.0 is not 0.067).
    cut_off = single and 0 < got * truth and abs(got) <= abs(truth) and off <= 2 * slack
    point = "at the point given" if g.at is not None else "at the network's own values"
    where = f"d{of}/d{wrt} {point} is {num(truth)}"
    # A lone 0.0 says the derivative is zero: rounding does not excuse that.
    zero = single and got == 0 and abs(truth) > 1e-12
    if math.isfinite(truth) and (off <= slack or cut_off) and not zero:
        g.notes.append(f"a number: {where}, the same to the digits written")
        return []
    if math.isfinite(truth) and truth and abs(got + truth) <= slack:
        return [Reason("value_mismatch", f"sign error: the answer is {num(got)}, but {where}")]
    return [Reason("value_mismatch", f"the answer is a number, {num(got)}, but {where}")]


def _value_at_point(g: Grader, of: str, wrt: str) -> float:
    """Return the derivative's value at the point a number is graded at (``--at``, or ``values:``)."""
    point = dict(g.net.values) if g.at is None else dict(g.at)
    try:
        return at(g.derived(of, wrt), point).value
    except DeriveError as err:
        if g.at is not None:
            raise
        raise DeriveError(
            f"a number is graded at a point, and the network has no values to make one "
            f"({err.message})",
            hint="give the point with --at name=value,... (or a YAML file), "
            "or in the network file's values:",
        ) from None


def _slack(side: Node, text: str, got: float) -> float:
    """Return how far the answer's value can be from the true one given the digits written.

    Each decimal is moved by half a unit in its last place; the largest change
    of the answer's value is the slack, which is the rule of significant
    figures: ``0.1*0.1*0.1`` is 0.001 to one figure (0.0005 either way), and
    ``0.005808 + (-0.00396)`` is good to the fifth decimal place.
    """
    largest = 0.0
    for node in walk(side):
        unit = _unit(node, text)
        if unit:
            moved = evaluate(side, {}, None, {id(node): float(node.value) + unit / 2})
            largest = max(largest, abs(moved - got) if math.isfinite(moved) else math.inf)
    return largest


_NUMBER_TEXT = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _unit(node: Node, text: str) -> float:
    """Return one unit in the last written place of a decimal number (0 for a whole number)."""
    if not isinstance(node, Number):
        return 0.0
    found = _NUMBER_TEXT.match(text, node.col - 1)
    written = found.group() if found else ""
    if "." not in written and "e" not in written.lower():
        return 0.0
    mantissa, _, exponent = written.lower().partition("e")
    places = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - places)


def is_constant(side: Node) -> bool:
    """Return whether a side is made of numbers only (``0.001848``, ``0.0058 + (-0.0040)``)."""
    return not any(isinstance(n, Name | Deriv) for n in walk(side))


# -- symbolic ---------------------------------------------------------------------------


def _symbolic_note(g: Grader, side: Node, of: str, wrt: str) -> str:
    """Return ', and equal symbolically' when SymPy shows it within bounded work, else ''."""
    d = g.derived(of, wrt)
    if d.where or sp.count_ops(d.concrete) > SYMBOLIC_OPS:
        return ""
    if size(side) > SYMBOLIC_NODES or not small_powers(side):
        return ""
    factors = {}
    for f in derivs(side):
        if f.of == f.wrt:
            continue
        if g.is_edge(f.of, f.wrt):
            factors[(f.of, f.wrt)] = local_partial(g.net, f.of, f.wrt)
        else:
            inner = g.derived(f.of, f.wrt)
            if inner.where:
                return ""
            factors[(f.of, f.wrt)] = inner.concrete
    try:
        mine = tree_to_sympy(side, factors)
        if sp.count_ops(mine) > SYMBOLIC_OPS:
            return ""
        top = sp.fraction(sp.together(mine - d.concrete))[0]
        if expanded_terms(top) > EXPAND_TERMS:
            return ""
        return ", and equal symbolically" if sp.expand(top) == 0 else ""
    except (TypeError, ValueError, ZeroDivisionError, RecursionError):
        return ""


# -- small helpers ----------------------------------------------------------------------


def close(a: float, b: float) -> bool:
    """Return whether two values are equal up to rounding."""
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)


def _frac(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )
