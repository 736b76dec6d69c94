"""Grade one answer: its written factors read as local partials or whole derivatives, compared.

A written factor dA/dB over an edge B -> A of the graph is the **local
partial** ∂A/∂B, one variable; any other dA/dB is the **whole derivative**,
the sum over the paths from B up to A of the products of local partials.
Reading every factor so turns an answer into a polynomial in the local
partials; it is right when that polynomial is the derived expansion. Whatever
differs is named in the network's own words: a missing path, a path counted
twice, paths multiplied instead of added, a factor that is 0, or an edge
factor that the answer needed to mean the whole derivative.

A right-hand side with no dA/dB factors is a formula, graded by
:mod:`derive.check.concrete`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from fractions import Fraction
from itertools import islice

import networkx as nx

from derive.check import concrete
from derive.check.algebra import (
    PRIME,
    Edge,
    Factor,
    Poly,
    RandomEdges,
    TooManyTerms,
    add,
    chain_ends,
    edges,
    link,
    mod,
    mul,
    path_of,
    restates,
    scale,
    small_fraction,
    split_branches,
    with_constants,
    written_poly,
)
from derive.check.answer import parse_answer
from derive.check.points import POINTS
from derive.check.results import CheckResult, NoLeftSide, Reason
from derive.check.views import Shared, View
from derive.errors import DeriveError
from derive.expand import Local, Product, Sum
from derive.formula.tree import Answer, Deriv, Name, Node, derivs, format_node, walk
from derive.graph import Network
from derive.paths import between, iter_paths, sweep
from derive.printing.formulas import formula_text
from derive.printing.terms import UnicodePrinter
from derive.words import why_zero, word_for

MAX_LISTED = 8  # reasons of one kind listed before "and N more"


def check(
    net: Network,
    text: str,
    *,
    detail: bool | None = None,
    points: int = POINTS,
    shared: Shared | None = None,
    at: Mapping[str, float] | None = None,
) -> CheckResult:
    """Return the verdict on a hand-written answer such as ``dL/dW1 = dL/dO2*dO2/dO1*dO1/dW1``.

    Raises
    ------
    DeriveError
        When the answer cannot be read (with its column).
    NoLeftSide
        When the answer does not start with the derivative it answers
        (``dL/dW1 = ...``): without it, restating the question would pass.

    ``shared`` keeps what grading on ``net`` computes for the next answer (a
    class's files); ``at`` is the point a number is graded at (default: the
    network file's ``values:``).

    Examples
    --------
    >>> from derive.graph import load_network
    >>> check(load_network("simple"), "dL/dW4 = dL/dO2 * dO2/dW4").match
    True
    """
    table = shared.table if shared is not None and not net.examples else None
    names = [*net.names, net.cost] if net.examples else net.names  # a batch's dC/dW reads
    answer = parse_answer(text, names, net.latex_names, table=table)
    return grade(net, answer, detail=detail, points=points, shared=shared, at=at)


def grade(
    net: Network,
    answer: Answer,
    *,
    detail: bool | None = None,
    points: int = POINTS,
    shared: Shared | None = None,
    at: Mapping[str, float] | None = None,
) -> CheckResult:
    """Return the verdict on a parsed answer (see :func:`check`).

    ``detail`` puts the z nodes in the graph; by default they are there
    exactly when the answer names a pre-activation.
    """
    of_cost = bool(net.examples) and answer.lhs is not None and answer.lhs.of == net.cost
    if of_cost:
        assert answer.lhs is not None
        if any(net.cost in (d.of, d.wrt) for side in answer.rhs for d in derivs(side)):
            raise DeriveError(
                f"d{net.cost}/d... on the right-hand side",
                hint=f"write the chain of one example's d{net.output}/d...: d{net.cost}/d"
                f"{answer.lhs.wrt} is its mean over the examples",
            )
        answer = replace(answer, lhs=replace(answer.lhs, of=net.output))
    grader = Grader(net, answer, points, detail, shared, at)
    grader.of_cost = of_cost
    return grader.run()


_PRINTER = UnicodePrinter()  # the report writes derive's notation: ∂ local, d whole


def local(a: str, b: str) -> str:
    """Return how a local partial is written: ∂A/∂B."""
    return _PRINTER.local(a, b)


def whole(a: str, b: str) -> str:
    """Return how a whole derivative is written: dA/dB."""
    return _PRINTER.whole(a, b)


def path_sum(paths: list[tuple[str, ...]], more: bool, inner: str = " · ") -> str:
    """Return paths as derive writes an expansion: a sum of products of local partials."""
    terms = Sum(tuple(Product(tuple(Local(a, b) for a, b in edges(p))) for p in paths))
    text = _PRINTER.doprint(terms)
    return (text if inner == _PRINTER.times else text.replace(_PRINTER.times, inner)) + (
        " + ..." if more else ""
    )


class Grader:
    """Grades every right-hand side of one answer against its left-hand side."""

    def __init__(
        self,
        net: Network,
        answer: Answer,
        points: int,
        detail: bool | None,
        shared: Shared | None = None,
        at: Mapping[str, float] | None = None,
    ) -> None:
        self.net = net
        self.answer = answer
        self.points = points
        self.detail = needs_detail(net, answer) or bool(detail)
        self.view: View = (shared or Shared(net)).view(self.detail)
        self.graph: nx.DiGraph = self.view.graph
        self.order = self.view.order
        self.at = at  # the point a number is graded at (default: the file's values)
        self.of_cost = False  # the answer is a batch's dC/dW, read as dL/dW (see grade)
        self.notes: list[str] = []
        self.values = self.view.values  # concrete mode's values, made once per view
        self.count = self.view.count
        self.is_edge = self.view.is_edge
        self.ambiguous = self.view.ambiguous
        self.reading = self.view.reading
        self.paths_poly = self.view.paths_poly
        self.derived = self.view.derived

    @property
    def sampled(self) -> list | None:
        """Return concrete mode's points, (point, forward values), once they are made."""
        return self.view.samples.get(self.points)

    @sampled.setter
    def sampled(self, found: list) -> None:
        self.view.samples[self.points] = found

    def run(self) -> CheckResult:
        written = [written_poly(side) for side in self.answer.rhs]
        of, wrt = self._target(written)
        # A batch's cost: a number is its mean at the point; a formula or a chain is
        # graded as each example's d(loss)/d(wrt), the one the mean is taken of.
        cost = self.net.cost if self.of_cost else of
        if of != cost:
            self.notes.append(
                f"d{cost}/d{wrt} is the mean of d{of}/d{wrt} over the"
                f" {len(self.net.examples)} examples: a formula is graded as d{of}/d{wrt}"
                " at each example, a number as the mean at the point"
            )
        reasons: list[Reason] = []
        modes = []
        for index, (side, poly) in enumerate(zip(self.answer.rhs, written, strict=True)):
            if of != cost and concrete.is_constant(side):
                found, mode = concrete.grade_number(self, side, cost, wrt), "concrete"
            elif poly is not None and derivs(side):
                found, mode = self._grade_expansion(side, poly, of, wrt), "expansion"
            else:
                found, mode = concrete.grade_concrete(self, side, of, wrt), "concrete"
            modes.append(mode)
            prefix = f"right-hand side {index + 1}: " if len(self.answer.rhs) > 1 else ""
            reasons += [Reason(r.kind, prefix + r.message, r.path) for r in found]
        mode = modes[0] if len(set(modes)) == 1 else "mixed"
        expected = self.expected_expansion(of, wrt) if "expansion" in modes else ""
        if expected in ("", local(of, wrt)):  # one local partial: its formula says more
            expected = concrete.expected_formula(self, of, wrt)
        times = " · " if mode == "expansion" else "*"
        return CheckResult(
            network=self.net.name,
            of=cost,
            wrt=wrt,
            match=not reasons,
            mode=mode,
            reasons=tuple(reasons),
            expected=expected,
            answer=" = ".join(format_node(s, self.shown, times) for s in self.answer.rhs),
            text=self.answer.text,
            notes=tuple(dict.fromkeys(self.notes)),
            path_count=self.count(of, wrt),
        )

    # -- what is being checked, and how a factor reads --

    def _target(self, written: list[Poly | None]) -> Factor:
        if self.answer.lhs is not None:
            return self.answer.lhs.of, self.answer.lhs.wrt
        ends = None
        for mono in written[0] or ():
            ends = chain_ends(mono)
            if ends:
                break
        shown = format_node(self.answer.rhs[0])
        raise NoLeftSide(f"d{ends[0]}/d{ends[1]}" if ends else "", shown)

    def shown(self, d: Deriv) -> str:
        """Return a written factor as it is read: ∂A/∂B for a local partial, dA/dB for a whole."""
        return local(d.of, d.wrt) if self.is_edge(d.of, d.wrt) else whole(d.of, d.wrt)

    # -- expansion mode --

    def _grade_expansion(self, side: Node, written: Poly, of: str, wrt: str) -> list[Reason]:
        if of != wrt and restates(written, of, wrt):
            return [self._restated(of, wrt)]
        zero = self.zero_factors(side)
        try:
            expected = self.paths_poly((of, wrt))
            got = self._substitute(written, self.reading)
        except TooManyTerms:
            return zero + self._grade_by_sampling(written, of, wrt)
        got, left_out = with_constants(got, expected, self.view.constant)
        if got == expected and not zero:
            self.notes += [self._constant_note(edge) for edge in left_out]
            return []
        wrong_side = self._wrong_lhs(got, of, wrt, written)
        if not expected and of != wrt:
            return zero + [self.zero_lhs(of, wrt)] + ([wrong_side] if wrong_side else [])
        if wrong_side:
            return zero + [wrong_side]
        as_whole = self._whole_reading(side, written, expected)
        if as_whole:
            return zero + as_whole + self._path_reasons(got, expected, of, wrt, True)
        scaled = scale(got, expected)
        if scaled is not None:
            return zero + [self._scaled_reason(scaled, of, wrt)]
        multiplied, terms, named = self._multiplied_paths(written, of, wrt, side)
        broken = self._broken_chains(written, of, wrt, side, skip=terms)
        problems = multiplied + broken
        # A path written but multiplied by another is not missing: "paths add" says it all.
        paths = self._path_reasons(got, expected, of, wrt, bool(problems))
        paths = [r for r in paths if r.kind != "missing_path" or _edges_of(r.path) not in named]
        return zero + problems + paths

    def _constant_note(self, edge: Edge) -> str:
        value = self.view.constant(edge)
        return f"{local(*edge)} is left out: it is identically {frac(value)}"

    def _substitute(self, written: Poly, read) -> Poly:
        out: Poly = {}
        for mono, coef in written.items():
            term: Poly = {(): coef}
            for factor in mono:
                term = mul(term, read(factor))
            out = add(out, term)
        return out

    def _whole_reading(self, side: Node, written: Poly, expected: Poly) -> list[Reason]:
        """Return the reasons for an answer that matches only if its edge factors were whole.

        ``dL/dx1 = dL/dyhat*dyhat/dx1`` where x1 feeds yhat directly and through
        h1: dyhat/dx1 is the local partial, so the path through h1 is missing.
        """
        doubtful = [f for f in dict.fromkeys((d.of, d.wrt) for d in derivs(side))]
        doubtful = [f for f in doubtful if self.ambiguous(*f)]
        if not doubtful:
            return []

        def as_whole(factor: Factor) -> Poly:
            return self.paths_poly(factor) if factor in doubtful else self.reading(factor)

        if self._substitute(written, as_whole) != expected:
            return []
        return [self._local_reason(a, b) for a, b in doubtful]

    def _local_reason(self, a: str, b: str) -> Reason:
        """Return the reason naming an edge factor read as the local partial, and its whole sum."""
        # A compact edge in the detailed view: what a's formula holds fixed is in the compact one.
        graph = self.graph if self.graph.has_edge(b, a) else self.view.compact
        beside = sorted(
            {p for p in graph.predecessors(a) if p != b and p in between(graph, a, b)},
            key=self.net.rank,
        )
        held = f", {' and '.join(beside)} held fixed" if beside else ""
        paths = list(islice(iter_paths(self.graph, a, b, self.order), MAX_LISTED))
        terms = path_sum(paths, self.count(a, b) > len(paths), inner="·")
        return Reason(
            "local_partial",
            f"{local(a, b)} is read as the local partial ({b} feeds {a} directly: {a}'s own "
            f"formula differentiated by {b}{held}); the answer would match only if it meant "
            f"the whole derivative {whole(a, b)} = {terms}, "
            f"so write that sum in its place",
        )

    def _grade_by_sampling(self, written: Poly, of: str, wrt: str) -> list[Reason]:
        """Compare as polynomials without multiplying out, by evaluating at random edge values.

        Two different polynomials of degree d agree at a random point modulo a
        61-bit prime with probability at most d / 2^61 (Schwartz-Zippel); each
        whole derivative is evaluated by one sweep over the graph, so the size
        of the network does not matter.
        """
        ratios = set()
        for seed in range(3):
            edge = RandomEdges(seed)
            truth = self._sampled(of, wrt, edge)
            got = (
                sum(
                    mod(coef) * math.prod(self._factor_sampled(a, b, edge) for a, b in mono)
                    for mono, coef in written.items()
                )
                % PRIME
            )
            ratios.add(got * pow(truth, -1, PRIME) % PRIME if truth else (None if got else 1))
        if ratios == {1}:
            return []
        broken = self._broken_chains(written, of, wrt)
        constant = small_fraction(ratios)
        if constant is not None and not broken:
            return [self._scaled_reason(constant, of, wrt)]
        count = self.count(of, wrt)
        return broken + [
            Reason(
                "not_the_expansion",
                f"the answer is not the expansion of {whole(of, wrt)} ({count} paths, "
                "too many to list which differ)",
            )
        ]

    def _factor_sampled(self, of: str, wrt: str, edge: RandomEdges) -> int:
        if of != wrt and self.is_edge(of, wrt):
            return (
                sum(
                    mod(coef) * math.prod(self._edge_sampled(e, edge) for e in mono)
                    for mono, coef in self.view.local_poly(of, wrt).items()
                )
                % PRIME
            )
        return self._sampled(of, wrt, edge)

    def _edge_sampled(self, e: Edge, edge: RandomEdges) -> int:
        """Return a local partial's sampled value: its constant where it is one, else random."""
        value = self.view.constant(e)
        return edge(*e) if value is None else mod(value)

    def _sampled(self, of: str, wrt: str, edge: RandomEdges) -> int:
        """Return d(of)/d(wrt) with every local partial set to ``edge(top, bottom)``, mod a prime."""
        nodes = between(self.graph, of, wrt)
        if not nodes:
            return 0

        def combine(node: str, below: list[tuple[str, int]]) -> int:
            return sum(w * self._edge_sampled((node, p), edge) for p, w in below) % PRIME

        return sweep(self.graph, {wrt: 1}, combine, order=nodes)[of]

    def _restated(self, of: str, wrt: str) -> Reason:
        """Return the reason for ``dL/dW1 = dL/dW1``: a restatement is no expansion."""
        message = f"the answer restates {whole(of, wrt)} instead of expanding it"
        if self.count(of, wrt) == 1 and self.is_edge(of, wrt):
            formula = formula_text(self.derived(of, wrt).concrete)
            message += f"; it is one local partial, so write its formula: {formula}"
        elif self.count(of, wrt):
            message += f": write the product of local partials along each path from {of} to {wrt}"
        else:
            message += f"; it is 0 ({self._why_zero(of, wrt)})"
        return Reason("restated", message)

    def zero_factors(self, side: Node) -> list[Reason]:
        out = []
        for factor in dict.fromkeys((d.of, d.wrt) for d in derivs(side)):
            of, wrt = factor
            if of != wrt and not self.count(of, wrt):
                out.append(
                    Reason("zero_factor", f"{whole(of, wrt)} is 0 ({self._why_zero(of, wrt)})")
                )
        return out

    def zero_lhs(self, of: str, wrt: str) -> Reason:
        why = self._why_zero(of, wrt)
        return Reason(
            "zero_derivative", f"{whole(of, wrt)} is 0, so the answer should be 0 ({why})"
        )

    def _why_zero(self, of: str, wrt: str) -> str:
        """Return why d(of)/d(wrt) is 0, in printing's words (the one place they are made)."""
        return why_zero(self.derived(of, wrt)) or f"{of} does not depend on {wrt}"

    def _wrong_lhs(self, got: Poly, of: str, wrt: str, written: Poly) -> Reason | None:
        ends = {chain_ends(mono) for mono in got}
        if len(ends) != 1 or None in ends:
            return None
        (top, bottom) = ends.pop()
        if (top, bottom) == (of, wrt) or got != self.paths_poly((top, bottom)):
            return None
        what = "" if restates(written, top, bottom) else "the expansion of "
        return Reason(
            "wrong_lhs",
            f"the right-hand side is {what}{whole(top, bottom)}, "
            f"but the left-hand side is {whole(of, wrt)}",
        )

    def _scaled_reason(self, factor: Fraction, of: str, wrt: str) -> Reason:
        if factor == -1:
            return Reason(
                "wrong_coefficient", f"sign error: the answer is -1 times {whole(of, wrt)}"
            )
        if factor == 0:
            return Reason("wrong_coefficient", f"the answer is 0, but {whole(of, wrt)} is not")
        return Reason("wrong_coefficient", f"the answer is {frac(factor)} times {whole(of, wrt)}")

    def _in_written_order(self, side: Node | None):
        place = (
            {(d.of, d.wrt): i for i, d in reversed(list(enumerate(derivs(side))))} if side else {}
        )
        return lambda mono: tuple(sorted(mono, key=lambda f: place.get(f, len(place))))

    def _term(self, factors) -> str:
        return "·".join(self.shown(Deriv(a, b, 0)) for a, b in factors if a != b)

    def _multiplied_paths(
        self, written: Poly, of: str, wrt: str, side: Node
    ) -> tuple[list[Reason], set, set]:
        """Return reasons for terms that multiply paths together, those terms, and the paths."""
        ordered = self._in_written_order(side)
        out, seen, paths = [], set(), set()
        for mono in written:
            found = split_branches(ordered(mono), of, wrt)
            if found:
                top, bottom, pieces, wholes = found
                seen.add(mono)
                paths |= {tuple(sorted(p)) for p in wholes}
                shown = " and ".join(self._term(p) for p in pieces)
                count = "these two paths" if len(pieces) == 2 else f"these {len(pieces)} paths"
                out.append(
                    Reason(
                        "multiplied_paths",
                        f"{shown}: {count} from {top} to {bottom} are multiplied; paths add "
                        "(write + between them)",
                    )
                )
        return capped(out, "term multiplying paths", "terms multiplying paths"), seen, paths

    def _broken_chains(
        self, written: Poly, of: str, wrt: str, side: Node | None = None, skip: set = frozenset()
    ) -> list[Reason]:
        ordered = self._in_written_order(side)
        out: list[Reason] = []
        for mono in written:
            if mono in skip or any(f[0] != f[1] and not self.count(*f) for f in mono):
                continue  # multiplied paths or a zero factor, already named
            as_written = ordered(mono)
            problem = link(as_written, of, wrt)
            if problem:
                out.append(
                    Reason("broken_chain", f"broken chain {self._term(as_written)}: {problem}")
                )
        return capped(out, "broken chain", "broken chains")

    def _path_reasons(
        self, got: Poly, expected: Poly, of: str, wrt: str, explained: bool
    ) -> list[Reason]:
        missing, counted, extra = [], [], []
        for mono in expected:
            path = path_of(mono, of)
            coef = got.get(mono, Fraction(0))
            if coef == 0:
                missing.append(Reason("missing_path", f"missing path {arrow(path)}", path))
            elif coef != 1:
                counted.append(coefficient_reason(path, coef))
        if not explained:  # else the reasons before say where the extra terms come from
            extra = [
                self._extra_reason(mono, coef, of, wrt)
                for mono, coef in got.items()
                if mono not in expected
            ]
        return (
            capped(missing, "missing path", "missing paths")
            + capped(counted, "path with a wrong coefficient", "paths with a wrong coefficient")
            + capped(extra, "extra term", "extra terms")
        )

    def _extra_reason(self, mono: tuple[Edge, ...], coef: Fraction, of: str, wrt: str) -> Reason:
        if not mono:
            return Reason(
                "extra_path",
                f"extra term {frac(coef)}: a number added to the chain rule's products "
                f"(each term of {whole(of, wrt)} is a product of partials along a path)",
            )
        path = path_of(mono, None)
        if path is None:
            term = "·".join(local(a, b) for a, b in mono)
            return Reason("broken_chain", f"extra term {term} is not a chain of partials")
        where = f"a path from {path[0]} to {path[-1]}, not from {of} to {wrt}"
        return Reason("extra_path", f"extra term {arrow(path)}: {where}", path)

    def expected_expansion(self, of: str, wrt: str) -> str:
        """Return derive's expansion of the left side, in local partials (∂), as text."""
        if of == wrt:
            return "1"
        paths = list(islice(iter_paths(self.graph, of, wrt, self.order), MAX_LISTED * 2))
        if not paths:
            return "0"
        return path_sum(paths, self.count(of, wrt) > len(paths))


def _edges_of(path: tuple[str, ...] | None) -> tuple[Edge, ...]:
    return tuple(sorted(edges(path or ())))


# -- words ------------------------------------------------------------------------------


def arrow(path: tuple[str, ...] | None) -> str:
    """Return a path as ``L ← O2 ← W4``."""
    return " ← ".join(path or ())


def coefficient_reason(path: tuple[str, ...] | None, coef: Fraction) -> Reason:
    """Return the reason for a path that occurs with a coefficient other than 1."""
    if coef.denominator == 1 and coef > 1:
        times = "twice" if coef == 2 else f"{coef} times"
        return Reason("duplicate_path", f"path {arrow(path)} is counted {times}", path)
    message = f"path {arrow(path)} has coefficient {frac(coef)}, expected 1"
    return Reason("wrong_coefficient", message, path)


def capped(reasons: list[Reason], one: str, many: str) -> list[Reason]:
    """Return at most ``MAX_LISTED`` reasons, and one saying how many more there are."""
    if len(reasons) <= MAX_LISTED:
        return reasons
    more = len(reasons) - MAX_LISTED
    kind = reasons[MAX_LISTED].kind
    return reasons[:MAX_LISTED] + [Reason(kind, f"... and {more} more {word_for(more, one, many)}")]


def frac(value: Fraction) -> str:
    """Return a fraction as ``3`` or ``1/2``."""
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def needs_detail(net: Network, answer: Answer) -> bool:
    """Return whether the answer names a pre-activation (so the z nodes must be in the graph)."""
    sides = [*answer.rhs, *([answer.lhs] if answer.lhs else [])]
    used = {n.name for s in sides for n in walk(s) if isinstance(n, Name)}
    used |= {x for s in sides for d in derivs(s) for x in (d.of, d.wrt)}
    return any(net.kind(name) == "preact" for name in used)
