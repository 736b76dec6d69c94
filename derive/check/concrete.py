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
import re
from collections.abc import Mapping
from typing import Protocol

import sympy as sp

from derive.batch import cost_numbers
from derive.check.differ import value_reason
from derive.check.points import (
    REL_TOL,
    Sampling,
    close,
    factor_value,
    relus,
    samples,
    truth,
)
from derive.check.points import sample_point as sample_point
from derive.check.results import Reason
from derive.errors import DeriveError
from derive.evaluate import at, file_point
from derive.expand import expanded_terms, local_partial
from derive.formula.tree import (
    Answer,
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
from derive.words import num


class Grader(Sampling, Protocol):
    """What concrete mode reads of a grader (a check.grade.Grader is one).

    A protocol, so that this module need not import the grader that imports it.
    """

    answer: Answer
    at: Mapping[str, float] | None
    notes: list[str]

    def zero_lhs(self, of: str, wrt: str) -> Reason: ...
    def zero_factors(self, side: Node) -> list[Reason]: ...


SYMBOLIC_OPS = 150  # formulas larger than this are compared numerically only
SYMBOLIC_NODES = 80  # nor are answers with more nodes than this
EXPAND_TERMS = 400  # sp.expand is asked only for a formula with at most this many terms


def grade_concrete(g: Grader, side: Node, of: str, wrt: str) -> list[Reason]:
    """Return the reasons a formula or number differs from d(of)/d(wrt) (none when it matches)."""
    zero = g.zero_factors(side)
    points = samples(g)
    pairs: list[tuple[float, float]] = []
    for index, (_, env) in enumerate(points):
        t = truth(g, of, wrt, index)
        got = evaluate(side, env, lambda a, b, i=index: factor_value(g, a, b, i))
        if not math.isfinite(got):
            return zero + [
                Reason(
                    "not_finite", f"the answer is not a finite number at random point {index + 1}"
                )
            ]
        pairs.append((got, t))
    if all(close(a, t) for a, t in pairs):
        both = ", with every relu's z on both sides of 0" if relus(g) else ""
        g.notes.append(
            f"equal at {len(pairs)} random points{both}" + _symbolic_note(g, side, of, wrt)
        )
        return zero
    if is_constant(side):
        return zero + grade_number(g, side, of, wrt)
    lhs_zero = [g.zero_lhs(of, wrt)] if of != wrt and not g.count(of, wrt) else []
    return zero + lhs_zero + [value_reason(g, side, pairs, of, wrt)]


def expected_formula(g: Grader, of: str, wrt: str) -> str:
    """Return the derivative as one formula (with its ``where`` definitions when it has them)."""
    d = g.derived(of, wrt)
    text = formula_text(d.concrete)
    if d.where:
        text += "  where " + "; ".join(f"{s} = {formula_text(e)}" for s, e in d.where)
    return text


# -- numbers ----------------------------------------------------------------------------


def grade_number(g: Grader, side: Node, of: str, wrt: str) -> list[Reason]:
    """Grade a number as the derivative's value at the network's own values (its file's point).

    A derivative that is not constant equals a number only at a point, and the
    one point an answer can mean is the one the network file gives. The number
    is right when it agrees within what its own digits allow: each decimal
    written is off by at most half a unit in its last place, and those errors
    carried through the answer's arithmetic bound how far it may be.
    """
    if g.at is not None:
        point, where_at = dict(g.at), "at the point given"
    else:  # the notes' point: the file's values, drawn where it gives none (drawn once here)
        point, drawn = file_point(g.net)
        where_at = (
            "at the notes' example point (the file's values:, random with seed 0 for the rest)"
            if drawn
            else "at the network's own values"
        )
    truth = _value_at_point(g, of, wrt, point)
    got = evaluate(side, {}, None)
    slack = _slack(side, g.answer.text, got) * 1.001 + 1e-15 + REL_TOL * abs(truth)
    off = abs(got - truth)
    single = sum(isinstance(n, Number) for n in walk(side)) == 1
    # Cut off rather than rounded (0.00184 for 0.001848): the digits kept must be right,
    # so at least one of them is not 0 and the sign is the truth's (0.0 is not 0.067).
    cut_off = single and 0 < got * truth and abs(got) <= abs(truth) and off <= 2 * slack
    where = f"d{of}/d{wrt} {where_at} is {num(truth)}"
    # A lone 0.0 says the derivative is zero: rounding does not excuse that.
    zero = single and got == 0 and abs(truth) > 1e-12
    if math.isfinite(truth) and (off <= slack or cut_off) and not zero:
        g.notes.append(f"a number: {where}, the same to the digits written")
        return []
    if math.isfinite(truth) and truth and got and abs(got + truth) <= slack:  # (0 has no sign)
        return [Reason("value_mismatch", f"sign error: the answer is {num(got)}, but {where}")]
    return [Reason("value_mismatch", f"the answer is a number, {num(got)}, but {where}")]


def _value_at_point(g: Grader, of: str, wrt: str, point: dict[str, float]) -> float:
    """Return the derivative's value at the point a number is graded at."""
    try:
        if g.net.examples and of == g.net.cost:  # the mean over the examples
            return cost_numbers(g.derived(g.net.output, wrt), point).value
        return at(g.derived(of, wrt), point).value
    except DeriveError as err:
        if g.at is not None:
            raise
        raise DeriveError(
            f"a number is graded at a point: {err.message}",
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
