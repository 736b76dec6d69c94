"""Stage 7: grade a hand-written answer against the derived one (SPEC section 4).

Each written factor dA/dB stands for the whole derivative of A with respect
to B: the sum over the paths from B up to A of the product of the local
partials (one per graph edge). Expanding every factor turns the answer into a
polynomial whose variables are the edges; it is right when that polynomial is
the derived expansion. Whatever differs is named in the network's own words:
a missing path, a path counted twice, a broken chain, a factor that is 0.

An answer with no dA/dB factors is a formula; it is compared with the
concrete derivative at random forward-consistent points, and symbolically
when SymPy can show it quickly.
"""

from __future__ import annotations

import json
import math
import random
import re
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

import networkx as nx
import sympy as sp

from derive.check.answer import (
    MAX_EXPONENT,
    Answer,
    Binary,
    Deriv,
    Name,
    Neg,
    Node,
    Number,
    derivs,
    evaluate,
    format_node,
    parse_answer,
    size,
    small_powers,
    to_sympy,
    walk,
)
from derive.errors import DeriveError
from derive.evaluate import at, forward, random_point
from derive.expand import Derivative, derive
from derive.graph import Network
from derive.paths import between, count_paths, iter_paths

MAX_TERMS = 20_000  # monomials an answer may expand to before we give up
MAX_LISTED = 8  # reasons of one kind listed before "and N more"
POINTS = 5  # random points for the numeric comparison
SYMBOLIC_OPS = 150  # formulas larger than this are compared numerically only
SYMBOLIC_NODES = 80  # nor are answers with more nodes than this
SYMBOLIC_SECONDS = 0.5  # time SymPy may take to show equality or a ratio
REL_TOL = 1e-7

_PRIME = 2**61 - 1  # for comparing polynomials too large to multiply out

Factor = tuple[str, str]  # a written dA/dB, as (A, B)
Edge = tuple[str, str]  # a local partial d(top)/d(bottom), as (top, bottom)
Poly = dict[tuple, Fraction]  # sorted tuple of variables (with repeats) -> coefficient


class TooManyTerms(DeriveError):
    """An expansion too large to multiply out (the grader then samples instead)."""


class NoLeftSide(DeriveError):
    """An answer without ``dA/dB =`` in front: it does not say which derivative it answers.

    ``derivative`` is the one its factors chain into (``dL/dW4``), or '' when they do not.
    """

    def __init__(self, derivative: str, written: str) -> None:
        self.derivative = derivative
        self.suggestion = (
            f"{derivative} = {written}" if derivative and written != derivative else
            f"{derivative or 'dA/dB'} = ..."
        )  # fmt: skip
        super().__init__(f"write the derivative being checked first: {self.suggestion}")


@dataclass(frozen=True)
class Reason:
    """One way the answer differs: a ``kind`` for programs, a ``message`` for people.

    Kinds: restated (the right side is the left side again), zero_factor,
    zero_derivative, missing_path, duplicate_path, wrong_coefficient,
    extra_path, broken_chain, wrong_lhs, not_the_expansion (too many paths to
    say more), value_mismatch, not_finite.
    """

    kind: str
    message: str
    path: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one answer, with every reason it does not match."""

    network: str
    of: str
    wrt: str
    match: bool
    mode: str  # "expansion" (dA/dB factors) or "concrete" (a formula)
    reasons: tuple[Reason, ...]
    expected: str
    answer: str  # how the answer was read
    text: str  # the answer as written
    notes: tuple[str, ...] = ()
    path_count: int = 0

    @property
    def ok(self) -> bool:
        """Return whether the answer matches (the same as ``match``)."""
        return self.match


@dataclass(frozen=True)
class LineResult:
    """One line of a file: its verdict is match, mismatch, unreadable, no_answer or skipped.

    ``no_answer`` is a line meant as an answer that has no ``=`` (``dL/dW7``);
    ``skipped`` is Markdown prose that mentions a derivative but is not an
    answer: listed so that nothing is left out silently, and not a failure.
    """

    line: int
    text: str
    verdict: str
    reason: str
    derivative: str = ""
    result: CheckResult | None = None

    @property
    def ok(self) -> bool:
        """Return whether this line's answer matches (a skipped prose line is no failure)."""
        return self.verdict in ("match", "skipped")


@dataclass(frozen=True)
class BatchResult:
    """Every graded line of a file, and how many of each verdict."""

    network: str
    lines: tuple[LineResult, ...]
    source: str = ""

    def __iter__(self) -> Iterator[LineResult]:
        return iter(self.lines)

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def ok(self) -> bool:
        """Return whether every answer matched (the same as ``match``)."""
        return self.match

    @property
    def summary(self) -> dict[str, int]:
        """Return how many lines have each verdict; ``total`` counts the answers (not skipped)."""
        counts = dict.fromkeys(("match", "mismatch", "unreadable", "no_answer", "skipped"), 0)
        for line in self.lines:
            counts[line.verdict] += 1
        return {"total": len(self.lines) - counts["skipped"], **counts}

    @property
    def graded(self) -> tuple[LineResult, ...]:
        """Return the lines that are answers (every line but skipped prose)."""
        return tuple(line for line in self.lines if line.verdict != "skipped")

    @property
    def match(self) -> bool:
        """Return whether every answer matched (a file with no answers matches nothing)."""
        return bool(self.graded) and all(line.ok for line in self.lines)


# -- entry points ------------------------------------------------------------------


def check(
    net: Network, text: str, *, detail: bool | None = None, points: int = POINTS
) -> CheckResult:
    """Return the verdict on a hand-written answer such as ``dL/dW1 = dL/dO2*dO2/dO1*dO1/dW1``.

    Raises
    ------
    DeriveError
        When the answer cannot be read (with its column).
    NoLeftSide
        When the answer does not start with the derivative it answers
        (``dL/dW1 = ...``): without it, restating the question would pass.

    Examples
    --------
    >>> from derive.graph import load_network
    >>> check(load_network("simple"), "dL/dW4 = dL/dO2 * dO2/dW4").match
    True
    """
    answer = parse_answer(text, net.names, net.latex_names)
    return grade(net, answer, detail=detail, points=points)


def grade(
    net: Network, answer: Answer, *, detail: bool | None = None, points: int = POINTS
) -> CheckResult:
    """Return the verdict on a parsed answer (see :func:`check`).

    ``detail`` puts the z nodes in the graph; by default they are there
    exactly when the answer names a pre-activation.
    """
    return _Grader(net, answer, points, detail).run()


def check_exit_code(result: CheckResult | BatchResult) -> int:
    """Return the command's exit status: 0 when everything matches, 1 otherwise."""
    return 0 if result.match else 1


# -- the grader --------------------------------------------------------------------


class _Grader:
    """Grades every right-hand side of one answer against its left-hand side."""

    def __init__(self, net: Network, answer: Answer, points: int, detail: bool | None) -> None:
        self.net = net
        self.answer = answer
        self.points = points
        self.detail = _needs_detail(net, answer) or bool(detail)
        self.graph: nx.DiGraph = net.graph(self.detail)
        self.order = {
            name: i for i, name in enumerate(net.names)
        }  # paths listed as notes list them
        self._paths: dict[Factor, Poly] = {}
        self._derived: dict[Factor, Derivative] = {}
        self._values: dict[tuple[str, str, int], float] = {}
        self.notes: list[str] = []

    def run(self) -> CheckResult:
        written = [_written_poly(side) for side in self.answer.rhs]
        of, wrt = self._target(written)
        reasons: list[Reason] = []
        modes = []
        for index, (side, poly) in enumerate(zip(self.answer.rhs, written, strict=True)):
            if poly is not None and derivs(side):
                found, mode = self._grade_expansion(side, poly, of, wrt), "expansion"
            else:
                found, mode = self._grade_concrete(side, of, wrt), "concrete"
            modes.append(mode)
            prefix = f"right-hand side {index + 1}: " if len(self.answer.rhs) > 1 else ""
            reasons += [Reason(r.kind, prefix + r.message, r.path) for r in found]
        mode = modes[0] if len(set(modes)) == 1 else "mixed"
        expected = self._expected_expansion(of, wrt) if "expansion" in modes else ""
        if expected in ("", f"d{of}/d{wrt}"):  # one local partial: its formula says more
            expected = self._expected_concrete(of, wrt)
        return CheckResult(
            network=self.net.name,
            of=of,
            wrt=wrt,
            match=not reasons,
            mode=mode,
            reasons=tuple(reasons),
            expected=expected,
            answer=" = ".join(format_node(side) for side in self.answer.rhs),
            text=self.answer.text,
            notes=tuple(dict.fromkeys(self.notes)),
            path_count=self._count(of, wrt),
        )

    # -- what is being checked --

    def _target(self, written: list[Poly | None]) -> Factor:
        if self.answer.lhs is not None:
            return self.answer.lhs.of, self.answer.lhs.wrt
        ends = None
        for mono in written[0] or ():
            ends = _chain_ends(mono)
            if ends:
                break
        shown = format_node(self.answer.rhs[0])
        raise NoLeftSide(f"d{ends[0]}/d{ends[1]}" if ends else "", shown)

    def _count(self, of: str, wrt: str) -> int:
        return 1 if of == wrt else count_paths(self.graph, of, wrt)

    def paths_poly(self, factor: Factor) -> Poly:
        """Return the expansion of one whole derivative: the sum of its paths' edge products."""
        if factor not in self._paths:
            of, wrt = factor
            if of == wrt:
                self._paths[factor] = {(): Fraction(1)}
            else:
                if count_paths(self.graph, of, wrt) > MAX_TERMS:
                    raise TooManyTerms(
                        f"d{of}/d{wrt} has too many paths to compare term by term",
                        hint="check a smaller derivative, or write the answer as a formula",
                    )  # fmt: skip
                self._paths[factor] = {
                    tuple(sorted(_edges(p))): Fraction(1)
                    for p in iter_paths(self.graph, of, wrt, self.order)
                }
        return self._paths[factor]

    # -- expansion mode --

    def _grade_expansion(self, side: Node, written: Poly, of: str, wrt: str) -> list[Reason]:
        if of != wrt and _restates(written, of, wrt):
            return [self._restated(of, wrt)]
        zero = self._zero_factors(side)
        try:
            expected = self.paths_poly((of, wrt))
            got = self._substitute(written)
        except TooManyTerms:
            return zero + self._grade_by_sampling(written, of, wrt)
        if got == expected and not zero:
            return []
        wrong_side = self._wrong_lhs(got, of, wrt, written)
        if not expected and of != wrt:
            return zero + [self._zero_lhs(of, wrt)] + ([wrong_side] if wrong_side else [])
        if wrong_side:
            return zero + [wrong_side]
        scaled = _scale(got, expected)
        if scaled is not None:
            return zero + [self._scaled_reason(scaled, of, wrt)]
        broken = self._broken_chains(written, of, wrt, side)
        return zero + broken + self._path_reasons(got, expected, of, wrt, bool(broken))

    def _substitute(self, written: Poly) -> Poly:
        out: Poly = {}
        for mono, coef in written.items():
            term: Poly = {(): coef}
            for factor in mono:
                term = _mul(term, self.paths_poly(factor))
            out = _add(out, term)
        return out

    def _grade_by_sampling(self, written: Poly, of: str, wrt: str) -> list[Reason]:
        """Compare as polynomials without multiplying out, by evaluating at random edge values.

        Two different polynomials of degree d agree at a random point modulo a
        61-bit prime with probability at most d / 2^61 (Schwartz-Zippel); each
        whole derivative is evaluated by one sweep over the graph, so the size
        of the network does not matter.
        """
        ratios = set()
        for seed in range(3):
            edge = _RandomEdges(seed)
            truth = self._sampled(of, wrt, edge)
            got = (
                sum(
                    _mod(coef) * math.prod(self._sampled(a, b, edge) for a, b in mono)
                    for mono, coef in written.items()
                )
                % _PRIME
            )
            ratios.add(got * pow(truth, -1, _PRIME) % _PRIME if truth else (None if got else 1))
        if ratios == {1}:
            return []
        broken = self._broken_chains(written, of, wrt)
        constant = _small_fraction(ratios)
        if constant is not None and not broken:
            return [self._scaled_reason(constant, of, wrt)]
        count = self._count(of, wrt)
        return broken + [
            Reason(
                "not_the_expansion",
                f"the answer is not the expansion of ∂{of}/∂{wrt} ({count} paths, "
                "too many to list which differ)",
            )
        ]

    def _sampled(self, of: str, wrt: str, edge: _RandomEdges) -> int:
        """Return d(of)/d(wrt) with every local partial set to ``edge(top, bottom)``, mod a prime."""
        nodes = between(self.graph, of, wrt)
        if not nodes:
            return 0
        inside = set(nodes)
        ways = {wrt: 1}
        for node in nodes[1:]:
            below = (p for p in self.graph.predecessors(node) if p in inside)
            ways[node] = sum(ways[p] * edge(node, p) for p in below) % _PRIME
        return ways[of]

    def _restated(self, of: str, wrt: str) -> Reason:
        """Return the reason for ``dL/dW1 = dL/dW1``: a restatement is no expansion."""
        message = f"the answer restates ∂{of}/∂{wrt} instead of expanding it"
        if self._count(of, wrt) == 1 and len(next(iter(self.paths_poly((of, wrt))))) == 1:
            formula = sp.sstr(self.derived(of, wrt).concrete)
            message += f"; it is one local partial, so write its formula: {formula}"
        elif self._count(of, wrt):
            message += f": write the product of local partials along each path from {of} to {wrt}"
        else:
            message += f"; it is 0: {self._why_zero(of, wrt)}"
        return Reason("restated", message)

    def _zero_factors(self, side: Node) -> list[Reason]:
        out = []
        for factor in dict.fromkeys((d.of, d.wrt) for d in derivs(side)):
            of, wrt = factor
            if of != wrt and not self._count(of, wrt):
                out.append(Reason("zero_factor", f"∂{of}/∂{wrt} is 0: {self._why_zero(of, wrt)}"))
        return out

    def _zero_lhs(self, of: str, wrt: str) -> Reason:
        why = self._why_zero(of, wrt)
        return Reason("zero_derivative", f"∂{of}/∂{wrt} is 0, so the answer should be 0: {why}")

    def _why_zero(self, of: str, wrt: str) -> str:
        if of in nx.ancestors(self.graph, wrt):
            return f"{of} comes before {wrt}, so it cannot depend on {wrt}"
        feeds = sorted(self.graph.successors(wrt), key=self.net.rank)
        if 0 < len(feeds) <= 3:
            return f"{of} does not depend on {wrt} ({wrt} feeds only {' and '.join(feeds)})"
        return f"{of} does not depend on {wrt}"

    def _wrong_lhs(self, got: Poly, of: str, wrt: str, written: Poly) -> Reason | None:
        ends = {_chain_ends(mono) for mono in got}
        if len(ends) != 1 or None in ends:
            return None
        (top, bottom) = ends.pop()
        if (top, bottom) == (of, wrt) or got != self.paths_poly((top, bottom)):
            return None
        what = "" if _restates(written, top, bottom) else "the expansion of "
        return Reason(
            "wrong_lhs",
            f"the right-hand side is {what}∂{top}/∂{bottom}, but the left-hand side is ∂{of}/∂{wrt}",
        )

    def _scaled_reason(self, factor: Fraction, of: str, wrt: str) -> Reason:
        if factor == -1:
            return Reason("wrong_coefficient", f"wrong sign: the answer is -1 times ∂{of}/∂{wrt}")
        if factor == 0:
            return Reason("wrong_coefficient", f"the answer is 0, but ∂{of}/∂{wrt} is not")
        return Reason("wrong_coefficient", f"the answer is {_frac(factor)} times ∂{of}/∂{wrt}")

    def _broken_chains(
        self, written: Poly, of: str, wrt: str, side: Node | None = None
    ) -> list[Reason]:
        # Factors are shown in the order the user wrote them (first appearance in the side).
        place = (
            {(d.of, d.wrt): i for i, d in reversed(list(enumerate(derivs(side))))} if side else {}
        )
        out: list[Reason] = []
        for mono in written:
            if any(f[0] != f[1] and not self._count(*f) for f in mono):
                continue  # a zero factor, already named
            as_written = tuple(sorted(mono, key=lambda f: place.get(f, len(place))))
            problem = _link(as_written, of, wrt)
            if problem:
                term = "·".join(f"∂{a}/∂{b}" for a, b in as_written if a != b)
                out.append(Reason("broken_chain", f"broken chain {term}: {problem}"))
        return _capped(out, "broken chain", "broken chains")

    def _path_reasons(
        self, got: Poly, expected: Poly, of: str, wrt: str, broken: bool
    ) -> list[Reason]:
        missing, counted, extra = [], [], []
        for mono in expected:
            path = _path_of(mono, of)
            coef = got.get(mono, Fraction(0))
            if coef == 0:
                missing.append(Reason("missing_path", f"missing path {_arrow(path)}", path))
            elif coef != 1:
                counted.append(_coefficient_reason(path, coef))
        if not broken:  # else the broken chains already say where the extra terms come from
            extra = [
                self._extra_reason(mono, coef, of, wrt)
                for mono, coef in got.items()
                if mono not in expected
            ]
        return (
            _capped(missing, "missing path", "missing paths")
            + _capped(counted, "path with a wrong coefficient", "paths with a wrong coefficient")
            + _capped(extra, "extra term", "extra terms")
        )

    def _extra_reason(self, mono: tuple[Edge, ...], coef: Fraction, of: str, wrt: str) -> Reason:
        if not mono:
            return Reason(
                "extra_path",
                f"extra term {_frac(coef)}: a number added to the chain rule's products "
                f"(each term of ∂{of}/∂{wrt} is a product of partials along a path)",
            )
        path = _path_of(mono, None)
        if path is None:
            term = "·".join(f"∂{a}/∂{b}" for a, b in mono)
            return Reason("broken_chain", f"extra term {term} is not a chain of partials")
        where = f"a path from {path[0]} to {path[-1]}, not from {of} to {wrt}"
        return Reason("extra_path", f"extra term {_arrow(path)}: {where}", path)

    def _expected_expansion(self, of: str, wrt: str) -> str:
        if of == wrt:
            return "1"
        paths = list(islice(iter_paths(self.graph, of, wrt, self.order), MAX_LISTED * 2))
        if not paths:
            return "0"
        terms = ["*".join(f"d{a}/d{b}" for a, b in zip(p, p[1:], strict=False)) for p in paths]
        more = " + ..." if self._count(of, wrt) > len(paths) else ""
        return " + ".join(terms) + more

    # -- concrete mode --

    def _grade_concrete(self, side: Node, of: str, wrt: str) -> list[Reason]:
        zero = self._zero_factors(side)
        pairs: list[tuple[float, float]] = []
        for seed in range(1, self.points + 1):
            env = forward(self.net, random_point(self.net, seed))
            truth = self._value_at(of, wrt, seed)
            got = evaluate(side, env, partial(self._value_at, seed=seed))
            if not math.isfinite(got):
                return zero + [
                    Reason(
                        "not_finite", f"the answer is not a finite number at random point {seed}"
                    )
                ]
            pairs.append((got, truth))
        if all(_close(a, t) for a, t in pairs):
            self.notes.append(
                f"equal at {len(pairs)} random points" + self._symbolic_note(side, of, wrt)
            )
            return zero
        if _is_constant(side):
            return zero + self._grade_number(side, pairs[0][0], of, wrt)
        lhs_zero = [self._zero_lhs(of, wrt)] if of != wrt and not self._count(of, wrt) else []
        return zero + lhs_zero + [_value_reason(pairs, of, wrt, self._ratio(side, of, wrt))]

    def _grade_number(self, side: Node, got: float, of: str, wrt: str) -> list[Reason]:
        """Grade a number as the derivative's value at the network's own values (its file's point).

        A derivative that is not constant equals a number only at a point, and
        the one point an answer can mean is the one the network file gives; the
        number is right when it agrees to the digits written.
        """
        truth = self.value(of, wrt, dict(self.net.values))
        digits, count = _written_digits(side, self.answer.text)
        unit = _last_place(truth, digits) if digits else abs(truth) * REL_TOL
        rounded = abs(got - truth) <= 0.5 * unit * max(count, 1) * 1.001 + 1e-12
        cut_off = count == 1 and abs(got) <= abs(truth) and abs(got - truth) < unit
        where = f"∂{of}/∂{wrt} at the network's own values is {truth:.6g}"
        if math.isfinite(truth) and (rounded or cut_off):
            self.notes.append(f"a number: {where}, the same to the digits written")
            return []
        return [
            Reason(
                "value_mismatch",
                f"the answer is a number, {got:.6g}, but {where} "
                f"(∂{of}/∂{wrt} is not a constant: write its formula, or its value there)",
            )
        ]

    def derived(self, of: str, wrt: str) -> Derivative:
        """Return the core's derivative of ``of`` with respect to ``wrt`` (made once)."""
        if (of, wrt) not in self._derived:
            self._derived[(of, wrt)] = derive(self.net, of, wrt, detail=self.detail, max_paths=0)
        return self._derived[(of, wrt)]

    def value(self, of: str, wrt: str, point: dict[str, float]) -> float:
        """Return the true value of d(of)/d(wrt) at a point."""
        return at(self.derived(of, wrt), point).value

    def _value_at(self, of: str, wrt: str, seed: int) -> float:
        """Return d(of)/d(wrt) at random point ``seed``, computed once per factor and point."""
        if (of, wrt, seed) not in self._values:
            self._values[(of, wrt, seed)] = self.value(of, wrt, random_point(self.net, seed))
        return self._values[(of, wrt, seed)]

    def _truth_formula(self, of: str, wrt: str) -> sp.Expr | None:
        d = self.derived(of, wrt)
        return None if d.where else d.concrete

    def _expected_concrete(self, of: str, wrt: str) -> str:
        d = self.derived(of, wrt)
        text = sp.sstr(d.concrete)
        if d.where:
            text += "  where " + "; ".join(f"{s} = {sp.sstr(e)}" for s, e in d.where)
        return text

    def _sympy_side(self, side: Node) -> sp.Expr | None:
        if size(side) > SYMBOLIC_NODES or not small_powers(side):
            return None
        factors = {}
        for d in derivs(side):
            formula = self._truth_formula(d.of, d.wrt)
            if formula is None:
                return None
            factors[(d.of, d.wrt)] = formula
        return to_sympy(side, factors)

    def _symbolic_note(self, side: Node, of: str, wrt: str) -> str:
        pair = self._sympy_pair(side, of, wrt)
        if pair is None:
            return ""
        difference = pair[0] - pair[1]
        same = _bounded(lambda: sp.expand(difference) == 0 or sp.cancel(difference) == 0)
        return ", and equal symbolically" if same else ""

    def _ratio(self, side: Node, of: str, wrt: str) -> sp.Expr | None:
        pair = self._sympy_pair(side, of, wrt)
        if pair is None or pair[1] == 0:
            return None
        ratio = _bounded(lambda: sp.cancel(pair[0] / pair[1]))
        return ratio if ratio is not None and sp.count_ops(ratio) <= 6 else None

    def _sympy_pair(self, side: Node, of: str, wrt: str) -> tuple[sp.Expr, sp.Expr] | None:
        truth = self._truth_formula(of, wrt)
        if truth is None or sp.count_ops(truth) > SYMBOLIC_OPS:
            return None
        mine = self._sympy_side(side)
        if mine is None or sp.count_ops(mine) > SYMBOLIC_OPS:
            return None
        return mine, truth


# -- the answer as a polynomial in its dA/dB factors ----------------------------------


def _written_poly(side: Node) -> Poly | None:
    """Return a right-hand side as a polynomial in its factors; None for a formula or a huge one."""
    try:
        return _factor_poly(side)
    except TooManyTerms:
        return None  # graded by value instead, which works at any size


def _factor_poly(node: Node) -> Poly | None:
    """Return the answer as a polynomial in its written factors, or None if it is a formula."""
    match node:
        case Number(value=v):
            return {(): v} if v else {}
        case Deriv(of=a, wrt=b):
            return {((a, b),): Fraction(1)}
        case Neg(operand=x):
            p = _factor_poly(x)
            return None if p is None else {m: -c for m, c in p.items()}
        case Binary(op="+" | "-" as op, left=x, right=y):
            p, q = _factor_poly(x), _factor_poly(y)
            if p is None or q is None:
                return None
            return _add(p, q if op == "+" else {m: -c for m, c in q.items()})
        case Binary(op="*", left=x, right=y):
            p, q = _factor_poly(x), _factor_poly(y)
            return None if p is None or q is None else _mul(p, q)
        case Binary(op="/", left=x, right=y):
            p, q = _factor_poly(x), _constant(_factor_poly(y))
            if p is None or not q:
                return None  # a formula; dividing by 0 then shows as "not a finite number"
            return {m: c / q for m, c in p.items()}
        case Binary(op="^", left=x, right=y):
            p, n = _factor_poly(x), _constant(_factor_poly(y))
            if p is None or n is None or n.denominator != 1 or not 0 <= n <= MAX_EXPONENT:
                return None
            if _too_big(_constant(p), n):
                return None
            if math.comb(len(p) + int(n) - 1, int(n)) > MAX_TERMS:
                raise TooManyTerms("the answer expands to too many terms to compare")
            out: Poly = {(): Fraction(1)}
            for _ in range(int(n)):
                out = _mul(out, p)
            return out
    return None


def _too_big(base: Fraction | None, n: Fraction) -> bool:
    """Return whether a constant power would be an unreasonably large exact number."""
    if base is None:
        return False
    bits = max(abs(base.numerator).bit_length(), base.denominator.bit_length())
    return bits * n > 4096


class _RandomEdges:
    """A random nonzero value mod the prime for each local partial, the same on every ask."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.values: dict[Edge, int] = {}

    def __call__(self, top: str, bottom: str) -> int:
        if (top, bottom) not in self.values:
            self.values[(top, bottom)] = self.rng.randrange(1, _PRIME)
        return self.values[(top, bottom)]


def _mod(value: Fraction) -> int:
    return value.numerator * pow(value.denominator, -1, _PRIME) % _PRIME


def _small_fraction(ratios: set) -> Fraction | None:
    """Return the small fraction n/d (|n|, d <= 12) every sampled ratio equals, if one does."""
    if len(ratios) != 1 or None in ratios:
        return None
    (ratio,) = ratios
    for d in range(1, 13):
        for n in range(-12, 13):
            if _mod(Fraction(n, d)) == ratio:
                return Fraction(n, d)
    return None


def _constant(p: Poly | None) -> Fraction | None:
    if p is None or any(p.keys() - {()}):
        return None
    return p.get((), Fraction(0))


def _add(p: Poly, q: Poly) -> Poly:
    out = dict(p)
    for mono, coef in q.items():
        total = out.get(mono, Fraction(0)) + coef
        if total:
            out[mono] = total
        else:
            out.pop(mono, None)
    return out


def _mul(p: Poly, q: Poly) -> Poly:
    if len(p) * len(q) > MAX_TERMS:
        raise TooManyTerms(
            "the answer expands to too many terms to compare",
            hint=f"expected at most {MAX_TERMS} terms once multiplied out",
        )  # fmt: skip
    out: Poly = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            mono = tuple(sorted(m1 + m2))
            total = out.get(mono, Fraction(0)) + c1 * c2
            if total:
                out[mono] = total
            else:
                out.pop(mono, None)
    return out


def _scale(got: Poly, expected: Poly) -> Fraction | None:
    """Return c when ``got`` is c times ``expected`` (c != 1), else None."""
    if not expected:
        return None
    if not got:
        return Fraction(0)
    if got.keys() != expected.keys():
        return None
    ratios = {got[m] / expected[m] for m in expected}
    return ratios.pop() if len(ratios) == 1 and 1 not in ratios else None


# -- chains and paths -----------------------------------------------------------------


def _edges(path: tuple[str, ...]) -> Iterator[Edge]:
    return zip(path, path[1:], strict=False)


def _chain_ends(mono: tuple[Factor, ...]) -> Factor | None:
    """Return (top, bottom) when the factors link into one chain, else None."""
    real = [f for f in mono if f[0] != f[1]]
    if not real:
        return None
    tops = [a for a, _ in real]
    bottoms = [b for _, b in real]
    starts = [a for a in tops if a not in bottoms]
    if len(starts) != 1:
        return None
    order = _chain_order(tuple(real), starts[0])
    linked = all(x[1] == y[0] for x, y in zip(order, order[1:], strict=False))
    return (order[0][0], order[-1][1]) if linked and len(order) == len(real) else None


def _chain_order(mono: tuple[Factor, ...], start: str | None) -> list[Factor]:
    """Return the factors in chain order from ``start``, the unlinked ones after."""
    rest = [f for f in mono if f[0] != f[1]]
    order: list[Factor] = []
    current = start
    while rest:
        nxt = next((f for f in rest if f[0] == current), None)
        if nxt is None:
            break
        order.append(nxt)
        rest.remove(nxt)
        current = nxt[1]
    return order + rest


def _link(written: tuple[Factor, ...], of: str, wrt: str) -> str:
    """Return what breaks the chain of factors from ``of`` to ``wrt`` ('' if nothing).

    ``written`` is in the user's order; the chain is followed link by link from
    ``of`` whatever the order, and the factor blamed is the first written one
    left over where it stops.

    >>> _link((("L", "O2"), ("O1", "W1")), "L", "W1")
    'the chain stops at O2, and ∂O1/∂W1 does not start there'
    """
    order = _chain_order(written, of)
    if not order:
        return ""
    if order[0][0] != of:
        return f"no factor starts at {of}"
    linked = 1
    while linked < len(order) and order[linked - 1][1] == order[linked][0]:
        linked += 1
    stop = order[linked - 1][1]
    if linked < len(order):
        rest = set(order[linked:])
        culprit = next(f for f in written if f in rest)
        return f"the chain stops at {stop}, and ∂{culprit[0]}/∂{culprit[1]} does not start there"
    if stop != wrt:
        return f"the chain ends at {stop}, not at {wrt}"
    return ""


def _restates(written: Poly, of: str, wrt: str) -> bool:
    """Return whether a side is just dA/dB again, perhaps times 1 or dB/dB (``dL/dW1 = dL/dW1``)."""
    if len(written) != 1:
        return False
    ((mono, coef),) = written.items()
    return coef == 1 and [f for f in mono if f[0] != f[1]] == [(of, wrt)]


def _path_of(mono: tuple[Edge, ...], start: str | None) -> tuple[str, ...] | None:
    """Return the path a product of edges walks (from ``start``, or its only top), or None."""
    ends = _chain_ends(mono)
    if ends is None or (start is not None and ends[0] != start):
        return None
    order = _chain_order(mono, ends[0])
    return (order[0][0], *(b for _, b in order))


def _arrow(path: tuple[str, ...] | None) -> str:
    return " ← ".join(path or ())


def _coefficient_reason(path: tuple[str, ...] | None, coef: Fraction) -> Reason:
    if coef.denominator == 1 and coef > 1:
        times = "twice" if coef == 2 else f"{coef} times"
        return Reason("duplicate_path", f"path {_arrow(path)} is counted {times}", path)
    message = f"path {_arrow(path)} has coefficient {_frac(coef)}, expected 1"
    return Reason("wrong_coefficient", message, path)


def _capped(reasons: list[Reason], one: str, many: str) -> list[Reason]:
    if len(reasons) <= MAX_LISTED:
        return reasons
    more = len(reasons) - MAX_LISTED
    kind = reasons[MAX_LISTED].kind
    return reasons[:MAX_LISTED] + [Reason(kind, f"... and {more} more {_plural(more, one, many)}")]


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _frac(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def _needs_detail(net: Network, answer: Answer) -> bool:
    """Return whether the answer names a pre-activation (so the z nodes must be in the graph)."""
    sides = [*answer.rhs, *([answer.lhs] if answer.lhs else [])]
    used = {n.name for s in sides for n in walk(s) if isinstance(n, Name)}
    used |= {x for s in sides for d in derivs(s) for x in (d.of, d.wrt)}
    return any(net.kind(name) == "preact" for name in used)


class _OutOfTime(BaseException):
    """Raised by the timer. A BaseException, because SymPy has ``except Exception`` blocks
    that would swallow an ordinary one and carry on past the time limit."""


def _bounded(work: Callable[[], Any], seconds: float = SYMBOLIC_SECONDS) -> Any:
    """Return ``work()``, or None if SymPy fails or takes longer than ``seconds``.

    The time limit is a timer signal, so it applies only in the main thread of
    a Unix process; elsewhere the size limits on formulas are the only bound.
    """
    timed = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()

    def stop(signum: int, frame: Any) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, stop) if timed else None
    try:
        if timed:
            # Fires again every 0.05 s until cleared, in case one is caught somewhere inside.
            signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
        return work()
    except (_OutOfTime, TypeError, ValueError, ZeroDivisionError, RecursionError):
        return None
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def _is_constant(side: Node) -> bool:
    """Return whether a side is made of numbers only (``0.001848``, ``0.0058 + (-0.0040)``)."""
    return not any(isinstance(n, Name | Deriv) for n in walk(side))


def _written_digits(side: Node, text: str) -> tuple[int, int]:
    """Return the fewest significant digits among a side's decimal numbers (0 if all are exact).

    Whole numbers (the 2 in ``2*0.5``) count as exact. Also returns how many
    decimal numbers there are, as their rounding errors add up.
    """
    fewest = decimals = 0
    for node in walk(side):
        if isinstance(node, Number):
            found = _NUMBER_TEXT.match(text, node.col - 1)
            written = found.group() if found else ""
            if "." in written or "e" in written.lower():
                mantissa = re.split("[eE]", written)[0].replace(".", "").lstrip("0")
                count = max(len(mantissa), 1)
                fewest = count if not fewest else min(fewest, count)
                decimals += 1
    return fewest, decimals


_NUMBER_TEXT = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _last_place(value: float, digits: int) -> float:
    """Return one unit in the last of ``digits`` significant places of ``value`` (rounding or cutting off)."""
    if not value or not math.isfinite(value):
        return 0.0
    return 10.0 ** (math.floor(math.log10(abs(value))) - digits + 1)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)


def _value_reason(
    pairs: list[tuple[float, float]], of: str, wrt: str, ratio: sp.Expr | None
) -> Reason:
    first = next(((i, a, t) for i, (a, t) in enumerate(pairs, 1) if not _close(a, t)))
    where = (
        f"at random point {first[0]} the answer is {first[1]:.6g}, ∂{of}/∂{wrt} is {first[2]:.6g}"
    )
    constant = _constant_ratio(pairs)
    if constant is not None:
        if constant == -1:
            return Reason(
                "value_mismatch", f"wrong sign: the answer is -1 times ∂{of}/∂{wrt} ({where})"
            )
        if constant == 0:
            return Reason("value_mismatch", f"the answer is 0, but ∂{of}/∂{wrt} is not ({where})")
        return Reason(
            "value_mismatch", f"the answer is {_frac(constant)} times ∂{of}/∂{wrt} ({where})"
        )
    if ratio is not None and ratio != 1:
        return Reason("value_mismatch", f"{_ratio_words(ratio, of, wrt)} ({where})")
    return Reason("value_mismatch", where)


def _ratio_words(ratio: sp.Expr, of: str, wrt: str) -> str:
    """Return how answer / truth = ``ratio`` reads: a missing factor, an extra one, or the ratio."""
    top, bottom = sp.fraction(ratio)
    if top == 1:
        return f"a factor {sp.sstr(bottom)} is missing: the answer is ∂{of}/∂{wrt} divided by it"
    if bottom == 1:
        return f"an extra factor {sp.sstr(top)}: the answer is ∂{of}/∂{wrt} times it"
    return f"the answer is ∂{of}/∂{wrt} times {sp.sstr(ratio)}"


def _constant_ratio(pairs: list[tuple[float, float]]) -> Fraction | None:
    """Return the simple constant c with answer = c * truth at every point, if there is one."""
    usable = [(a, t) for a, t in pairs if abs(t) > 1e-12]
    if len(usable) < 2:
        return None
    ratios = [a / t for a, t in usable]
    guess = Fraction(ratios[0]).limit_denominator(12)
    if all(math.isclose(r, float(guess), rel_tol=1e-6, abs_tol=1e-12) for r in ratios):
        return guess
    return None


# -- many answers: a file ---------------------------------------------------------------

_GITHUB_MATH = re.compile(r"\$`(.+?)`\$")
_DISPLAY = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$")
_CODE = re.compile(r"`([^`]+)`")
_LIST_MARKER = re.compile(r"(?:[-*+]|\d{1,3}[.)])\s+")
_D = r"(?:d|∂|\\partial|\\mathrm\{d\})"
# A derivative as written: dL/dW1, ∂L/∂W1, \partial L / \partial W_1, \frac{\partial L}{...}.
_DERIVATIVE = re.compile(
    rf"(?<![A-Za-z0-9]){_D}\s*[A-Za-z][A-Za-z0-9_{{}}]*\s*/\s*{_D}\s*[A-Za-z]"
    rf"|\\[dt]?frac\s*\{{\s*{_D}\s*[A-Za-z\\]"
)
_FENCE = re.compile(r"(`{3,}|~{3,})\s*(\w*)")


def answers_in(text: str, markdown: bool = False) -> list[tuple[int, str]]:
    """Return (line number, answer) for each answer in a file's text.

    Blank lines and ``#`` comments are skipped, and so are list markers
    (``- ``, ``* ``, ``1. ``) in front of an answer. Math between ``$`` or
    ``$$`` (also a block over several lines, and GitHub's ``$`...`$`` and
    ```` ```math ```` blocks) and code in backquotes is taken out of a line.
    In Markdown an answer is math whose left side is a derivative, or a line
    that starts with one (``dL/dW1 = ...``, ``∂L/∂W1 = ...``); a line that is
    only a derivative (``dL/dW7``) is returned too, to be reported as having
    no answer. Markdown prose that mentions a derivative is not an answer;
    :func:`skipped_in` lists it.

    >>> answers_in("# two\\n\\ndL/dW4 = dL/dO2*dO2/dW4\\nSee $dL/dW1 = 0$.")
    [(3, 'dL/dW4 = dL/dO2*dO2/dW4'), (4, 'dL/dW1 = 0')]
    """
    return [(n, t) for n, t, kind in _entries(text, markdown) if kind == "answer"]


def skipped_in(text: str) -> list[tuple[int, str]]:
    """Return (line number, line) for each Markdown line that mentions a derivative but is no answer.

    >>> skipped_in("The slope $dL/dW1$ has two paths.\\n\\ndL/dW1 = 0")
    [(1, 'The slope $dL/dW1$ has two paths.')]
    """
    return [(n, t) for n, t, kind in _entries(text, True) if kind == "skipped"]


def _entries(text: str, markdown: bool) -> Iterator[tuple[int, str, str]]:
    """Yield (line number, text, "answer" or "skipped") for every line that is not left out."""
    lines = iter(enumerate(text.splitlines(), 1))
    for number, line in lines:
        stripped = line.strip()
        if not stripped or (stripped.startswith("#") and not markdown):
            continue
        if markdown and stripped.startswith("#") and not _DERIVATIVE.search(stripped):
            continue  # a heading
        fence = _FENCE.fullmatch(stripped) if markdown else None
        if fence:
            body = _fenced(fence.group(1), lines)
            if fence.group(2) == "math":
                yield from _from_math(number, body, markdown, whole=True)
            elif markdown and _DERIVATIVE.search(body):
                yield number, stripped, "skipped"  # code, not an answer
            continue
        opener = _block_opener(stripped)
        if opener:
            yield from _from_math(
                number, _math_block(stripped, opener, lines), markdown, whole=True
            )
            continue
        yield from _from_line(number, stripped, markdown)


def _from_line(number: int, line: str, markdown: bool) -> Iterator[tuple[int, str, str]]:
    bare = _unwrapped(_LIST_MARKER.sub("", line, count=1))
    if _DERIVATIVE.match(bare) or (not markdown and "$" not in bare and "`" not in bare):
        yield number, bare, "answer"  # an answer line, with or without math around it
        return
    maths = _math_in(line)
    found = [m for m in maths if "=" in m and (not markdown or _answer_like(m))]
    if found:
        yield from ((number, m, "answer") for m in found)
    elif not markdown:
        yield number, bare, "answer"  # in a plain text file every line is an answer
    elif _DERIVATIVE.search(line):
        yield number, line, "skipped"


def _from_math(
    number: int, math: str, markdown: bool, whole: bool
) -> Iterator[tuple[int, str, str]]:
    if not markdown or _answer_like(math) or (whole and _DERIVATIVE.match(math)):
        yield number, math, "answer"
    elif _DERIVATIVE.search(math):
        yield number, math, "skipped"


def _unwrapped(text: str) -> str:
    """Return a line without the math or code markers around all of it (``$dL/dW7$``)."""
    for left, right in (("$`", "`$"), ("$$", "$$"), ("$", "$"), ("`", "`")):
        inner = text[len(left) : -len(right)]
        if text.startswith(left) and text.endswith(right) and len(text) > 2 * len(left):
            if left not in inner and right not in inner:
                return inner.strip()
    return text


def _fenced(marker: str, lines: Iterator[tuple[int, str]]) -> str:
    parts = []
    for _, line in lines:
        if line.strip().startswith(marker):
            break
        parts.append(line.strip())
    return " ".join(parts).strip()


def _block_opener(line: str) -> str:
    """Return the delimiter ($ or $$) a line opens a math block with, or ''."""
    for delimiter in ("$$", "$"):
        if line.startswith(delimiter) and line.count(delimiter) == 1:
            return delimiter
    return ""


def _math_block(first: str, delimiter: str, lines: Iterator[tuple[int, str]]) -> str:
    parts = [first[len(delimiter) :]]
    for _, line in lines:
        stripped = line.strip()
        if stripped.endswith(delimiter):
            parts.append(stripped[: -len(delimiter)])
            break
        if stripped.startswith(delimiter):
            # "$$ and more": the block closes here too, so the lines after it are still read.
            parts.append(stripped[len(delimiter) :])
            break
        parts.append(stripped)
    return " ".join(parts).strip()


def _math_in(line: str) -> list[str]:
    maths = _GITHUB_MATH.findall(line)
    line = _GITHUB_MATH.sub(" ", line)
    maths += [a or b for a, b in _DISPLAY.findall(line)]
    maths += _CODE.findall(_DISPLAY.sub(" ", line))
    return [m.strip() for m in maths]


def _answer_like(math: str) -> bool:
    return "=" in math and bool(_DERIVATIVE.match(math.partition("=")[0].strip()))


def check_text(net: Network, text: str, *, markdown: bool = False, source: str = "") -> BatchResult:
    """Return the verdict on every answer in a text, one per line (see :func:`answers_in`).

    Markdown prose that mentions a derivative is listed as ``skipped``.
    """
    lines = [
        _check_line(net, number, answer)
        if kind == "answer"
        else LineResult(number, answer, "skipped", _skip_reason(answer), _mentioned(answer))
        for number, answer, kind in _entries(text, markdown)
    ]
    return BatchResult(net.name, tuple(lines), source)


def check_file(net: Network, path: str | Path) -> BatchResult:
    """Return the verdict on every answer in a file; ``.md`` files are read as Markdown.

    Raises
    ------
    DeriveError
        When the file cannot be read or holds no answers.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DeriveError(f"cannot read {path}: {err}", file=str(path)) from err
    markdown = path.suffix.lower() in (".md", ".markdown")
    batch = check_text(net, text, markdown=markdown, source=str(path))
    if not batch.graded:
        raise DeriveError(
            f"no answers found in {path}", file=str(path),
            hint="write one dA/dB = ... per line (in Markdown, at the start of a line or in $...$)",
        )  # fmt: skip
    return batch


def _check_line(net: Network, number: int, text: str) -> LineResult:
    try:
        result = check(net, text)
    except NoLeftSide as err:
        return LineResult(number, text, "no_answer", f"write {err.suggestion}", err.derivative)
    except DeriveError as err:
        return LineResult(number, text, "unreadable", f"unreadable: {err}", _lhs_guess(text))
    verdict = "match" if result.match else "mismatch"
    reason = "; ".join(r.message for r in result.reasons)
    return LineResult(number, text, verdict, reason, f"d{result.of}/d{result.wrt}", result)


_MENTION = re.compile(r"(?<![A-Za-z0-9])[d∂][A-Za-z][A-Za-z0-9_]*/[d∂][A-Za-z][A-Za-z0-9_]*")


def _mentioned(line: str) -> str:
    found = _MENTION.search(line)
    return found.group() if found else ""


def _skip_reason(line: str) -> str:
    return "not graded: prose; an answer starts its line (or its $...$) with dA/dB = ..."


def _lhs_guess(text: str) -> str:
    lhs = text.partition("=")[0].strip()
    return lhs if _DERIVATIVE.match(lhs) and len(lhs) <= 40 else _mentioned(lhs)


# -- printers ------------------------------------------------------------------------------


def format_check_text(result: CheckResult) -> str:
    """Return the report the command line prints for one answer.

    >>> from derive.graph import load_network
    >>> print(format_check_text(check(load_network("simple"), "dL/dW4 = dL/dO2*dO2/dW4")))
    dL/dW4 (simple): matches, 1 path
    """
    what = f"d{result.of}/d{result.wrt} ({result.network})"
    paths = f", {result.path_count} path{'s' * (result.path_count != 1)}"
    if result.match:
        notes = "".join(f"\n  {n}" for n in result.notes)
        return f"{what}: matches{paths if result.mode == 'expansion' else ''}{notes}"
    lines = [f"{what}: does not match"]
    lines += [f"  - {r.message}" for r in result.reasons]
    lines += [f"  {n}" for n in result.notes]
    lines.append(f"  expected: {result.expected}")
    lines.append(f"  read as:  {result.answer}")
    return "\n".join(lines)


def check_to_json(result: CheckResult) -> dict[str, Any]:
    """Return one answer's verdict as a JSON-ready dict."""
    return {
        "network": result.network,
        "of": result.of,
        "wrt": result.wrt,
        "match": result.match,
        "verdict": "match" if result.match else "mismatch",
        "mode": result.mode,
        "reasons": [_reason_json(r) for r in result.reasons],
        "notes": list(result.notes),
        "expected": result.expected,
        "answer": result.answer,
        "text": result.text,
        "path_count": result.path_count,
    }


def _reason_json(reason: Reason) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": reason.kind, "message": reason.message}
    if reason.path is not None:
        out["path"] = list(reason.path)
    return out


def format_batch_text(batch: BatchResult) -> str:
    """Return the table (line, derivative, verdict, reason) and summary for a file."""
    rows = [("line", "derivative", "verdict", "reason")]
    rows += [
        (str(r.line), r.derivative or "?", r.verdict.replace("_", " "), r.reason)
        for r in batch.lines
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[3]]).rstrip()
        for row in rows
    ]
    lines.append(summary_line(batch.summary))
    return "\n".join(lines)


def summary_line(counts: dict[str, int]) -> str:
    """Return the last line of a file's report, e.g. ``1 answer: 1 matches, 0 do not match, ...``.

    >>> summary_line({"total": 2, "match": 1, "mismatch": 1, "unreadable": 0})
    '2 answers: 1 matches, 1 does not match, 0 unreadable'
    """
    n = counts["total"]
    parts = [
        f"{counts['match']} {_plural(counts['match'], 'matches', 'match')}",
        f"{counts['mismatch']} {_plural(counts['mismatch'], 'does', 'do')} not match",
        f"{counts['unreadable']} unreadable",
    ]
    if counts.get("no_answer"):
        parts.append(f"{counts['no_answer']} with no answer")
    text = f"{n} {_plural(n, 'answer', 'answers')}: " + ", ".join(parts)
    if counts.get("skipped"):
        k = counts["skipped"]
        text += f"; {k} {_plural(k, 'line', 'lines')} of prose mentioning a derivative not graded"
    return text


def batch_to_json(batch: BatchResult) -> dict[str, Any]:
    """Return a file's verdicts as a JSON-ready dict: per line, and a summary."""
    return {
        "network": batch.network,
        "file": batch.source,
        "match": batch.match,
        "summary": batch.summary,
        "results": [
            {
                "line": r.line,
                "text": r.text,
                "derivative": r.derivative,
                "verdict": r.verdict,
                "reason": r.reason,
                "check": check_to_json(r.result) if r.result else None,
            }
            for r in batch.lines
        ],
    }


def format_report(result: CheckResult, fmt: str = "text") -> str:
    """Return what ``derive check`` prints for one answer: ``text`` or ``json``, newline-ended."""
    if fmt == "json":
        return json.dumps(check_to_json(result), indent=2, ensure_ascii=False) + "\n"
    return format_check_text(result) + "\n"


def format_file_report(batch: BatchResult, fmt: str = "text") -> str:
    """Return what ``derive check --file`` prints: ``text`` or ``json``, newline-ended."""
    if fmt == "json":
        return json.dumps(batch_to_json(batch), indent=2, ensure_ascii=False) + "\n"
    return format_batch_text(batch) + "\n"
