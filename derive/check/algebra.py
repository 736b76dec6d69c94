"""Polynomials in local partials: the algebra the grader of expansions works in.

A polynomial is a dict from a monomial (a sorted tuple of variables, repeats
allowed) to an exact Fraction coefficient. The variables are written factors
``(A, B)`` before reading and graph edges ``(top, bottom)`` after.

Why not ``sympy.polys.rings``: its monomials are dense exponent tuples, one
entry per generator, and the generators here are every edge of the network.
Multiplying three 30-term factors (bench_rings in the check team's notes):
20 edges, dict 625 ms vs rings 458 ms; 200 edges, 647 vs 1978 ms; 1000 edges,
788 vs 11325 ms. Networks have hundreds of edges, so the sparse dict stays.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from fractions import Fraction

from derive.errors import DeriveError
from derive.formula.tree import MAX_EXPONENT, Binary, Deriv, Neg, Node, Number

MAX_TERMS = 20_000  # monomials an answer may expand to before we give up
PRIME = 2**61 - 1  # for comparing polynomials too large to multiply out

Factor = tuple[str, str]  # a written dA/dB, as (A, B)
Edge = tuple[str, str]  # a local partial d(top)/d(bottom), as (top, bottom)
Poly = dict[tuple, Fraction]  # sorted tuple of variables (with repeats) -> coefficient


class TooManyTerms(DeriveError):
    """An expansion too large to multiply out (the grader then samples instead)."""


def written_poly(side: Node) -> Poly | None:
    """Return a right-hand side as a polynomial in its factors; None for a formula or a huge one."""
    try:
        return factor_poly(side)
    except TooManyTerms:
        return None  # graded by value instead, which works at any size


def factor_poly(node: Node) -> Poly | None:
    """Return the answer as a polynomial in its written factors, or None if it is a formula."""
    match node:
        case Number(value=v):
            return {(): v} if v else {}
        case Deriv(of=a, wrt=b):
            return {((a, b),): Fraction(1)}
        case Neg(operand=x):
            p = factor_poly(x)
            return None if p is None else {m: -c for m, c in p.items()}
        case Binary(op="+" | "-" as op, left=x, right=y):
            p, q = factor_poly(x), factor_poly(y)
            if p is None or q is None:
                return None
            return add(p, q if op == "+" else {m: -c for m, c in q.items()})
        case Binary(op="*", left=x, right=y):
            p, q = factor_poly(x), factor_poly(y)
            return None if p is None or q is None else mul(p, q)
        case Binary(op="/", left=x, right=y):
            p, q = factor_poly(x), constant(factor_poly(y))
            if p is None or not q:
                return None  # a formula; dividing by 0 then shows as "not a finite number"
            return {m: c / q for m, c in p.items()}
        case Binary(op="^", left=x, right=y):
            p, n = factor_poly(x), constant(factor_poly(y))
            if p is None or n is None or n.denominator != 1 or not 0 <= n <= MAX_EXPONENT:
                return None
            if _too_big(constant(p), n):
                return None
            if not p:
                return {(): Fraction(1)} if n == 0 else {}  # 0^0 is 1, as in the formulas
            if math.comb(len(p) + int(n) - 1, int(n)) > MAX_TERMS:
                raise TooManyTerms("the answer expands to too many terms to compare")
            out: Poly = {(): Fraction(1)}
            for _ in range(int(n)):
                out = mul(out, p)
            return out
    return None


def _too_big(base: Fraction | None, n: Fraction) -> bool:
    """Return whether a constant power would be an unreasonably large exact number."""
    if base is None:
        return False
    bits = max(abs(base.numerator).bit_length(), base.denominator.bit_length())
    return bits * n > 4096


class RandomEdges:
    """A random nonzero value mod the prime for each local partial, the same on every ask."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.values: dict[Edge, int] = {}

    def __call__(self, top: str, bottom: str) -> int:
        if (top, bottom) not in self.values:
            self.values[(top, bottom)] = self.rng.randrange(1, PRIME)
        return self.values[(top, bottom)]


def mod(value: Fraction) -> int:
    return value.numerator * pow(value.denominator, -1, PRIME) % PRIME


def small_fraction(ratios: set) -> Fraction | None:
    """Return the small fraction n/d (|n|, d <= 12) every sampled ratio equals, if one does."""
    if len(ratios) != 1 or None in ratios:
        return None
    (ratio,) = ratios
    for d in range(1, 13):
        for n in range(-12, 13):
            if mod(Fraction(n, d)) == ratio:
                return Fraction(n, d)
    return None


def constant(p: Poly | None) -> Fraction | None:
    if p is None or any(p.keys() - {()}):
        return None
    return p.get((), Fraction(0))


def add(p: Poly, q: Poly) -> Poly:
    out = dict(p)
    for mono, coef in q.items():
        total = out.get(mono, Fraction(0)) + coef
        if total:
            out[mono] = total
        else:
            out.pop(mono, None)
    return out


def mul(p: Poly, q: Poly) -> Poly:
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


def fold(mono: tuple[Edge, ...], constant: Callable[[Edge], Fraction | None]) -> tuple:
    """Return a monomial without its constant variables (∂z/∂b = 1), and their product.

    >>> fold((("L", "z2"), ("z2", "b4")), {("z2", "b4"): Fraction(1)}.get)
    ((('L', 'z2'),), Fraction(1, 1))
    """
    kept, value = [], Fraction(1)
    for edge in mono:
        c = constant(edge)
        if c is None:
            kept.append(edge)
        else:
            value *= c
    return tuple(kept), value


def with_constants(
    got: Poly, expected: Poly, constant: Callable[[Edge], Fraction | None]
) -> tuple[Poly, list[Edge]]:
    """Return ``got`` with each term that is an expected one short of constant factors made it.

    ``dL/db4 = dL/dz2`` leaves out ∂z2/∂b4 = 1: its terms become the expected
    ones, so what still differs is named as usual. The edges left out are
    returned too, for the report.
    """
    folded: dict[tuple, tuple[tuple, Fraction]] = {}
    for mono in expected:
        kept, value = fold(mono, constant)
        folded.setdefault(kept, (mono, value))
    out: Poly = {}
    left_out: list[Edge] = []
    for mono, coef in got.items():
        if mono not in expected:
            kept, value = fold(mono, constant)
            if kept in folded:
                target, target_value = folded[kept]
                left_out += [e for e in target if e not in mono]
                mono, coef = target, coef * value / target_value
        out = add(out, {mono: coef})
    return out, list(dict.fromkeys(left_out))


def scale(got: Poly, expected: Poly) -> Fraction | None:
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


def edges(path: tuple[str, ...]) -> Iterator[Edge]:
    return zip(path, path[1:], strict=False)


def chain_ends(mono: tuple[Factor, ...]) -> Factor | None:
    """Return (top, bottom) when the factors link into one chain, else None."""
    real = [f for f in mono if f[0] != f[1]]
    if not real:
        return None
    tops = [a for a, _ in real]
    bottoms = [b for _, b in real]
    starts = [a for a in tops if a not in bottoms]
    if len(starts) != 1:
        return None
    order = chain_order(tuple(real), starts[0])
    linked = all(x[1] == y[0] for x, y in zip(order, order[1:], strict=False))
    return (order[0][0], order[-1][1]) if linked and len(order) == len(real) else None


def chain_order(mono: tuple[Factor, ...], start: str | None) -> list[Factor]:
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


def link(written: tuple[Factor, ...], of: str, wrt: str) -> str:
    """Return what breaks the chain of factors from ``of`` to ``wrt`` ('' if nothing).

    ``written`` is in the user's order; the chain is followed link by link from
    ``of`` whatever the order, and the factor blamed is the first written one
    left over where it stops.

    >>> link((("L", "O2"), ("O1", "W1")), "L", "W1")
    'the chain stops at O2, and ∂O1/∂W1 does not start there'
    """
    order = chain_order(written, of)
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


def restates(written: Poly, of: str, wrt: str) -> bool:
    """Return whether a side is just dA/dB again, perhaps times 1 or dB/dB (``dL/dW1 = dL/dW1``)."""
    if len(written) != 1:
        return False
    ((mono, coef),) = written.items()
    return coef == 1 and [f for f in mono if f[0] != f[1]] == [(of, wrt)]


def path_of(mono: tuple[Edge, ...], start: str | None) -> tuple[str, ...] | None:
    """Return the path a product of edges walks (from ``start``, or its only top), or None."""
    ends = chain_ends(mono)
    if ends is None or (start is not None and ends[0] != start):
        return None
    order = chain_order(mono, ends[0])
    return (order[0][0], *(b for _, b in order))


def arrow(path: tuple[str, ...] | None) -> str:
    return " ← ".join(path or ())


def split_paths(mono: tuple[Factor, ...], of: str, wrt: str) -> list[tuple[Factor, ...]] | None:
    """Return the two or more whole chains from ``of`` to ``wrt`` a product is made of, or None.

    ``(dL/dO2*dO2/dW1)*(dL/dO3*dO3/dW1)`` multiplies two paths that should be added.

    >>> split_paths((("L", "O2"), ("O2", "W1"), ("L", "O3"), ("O3", "W1")), "L", "W1")
    [(('L', 'O2'), ('O2', 'W1')), (('L', 'O3'), ('O3', 'W1'))]
    """
    rest = [f for f in mono if f[0] != f[1]]
    pieces: list[tuple[Factor, ...]] = []
    while rest:
        chain = [next((f for f in rest if f[0] == of), None)]
        while chain[-1] is not None:
            rest.remove(chain[-1])
            if chain[-1][1] == wrt:
                break
            chain.append(next((f for f in rest if f[0] == chain[-1][1]), None))
        if chain[-1] is None:
            return None
        pieces.append(tuple(chain))
    return pieces if len(pieces) >= 2 else None


def split_branches(
    mono: tuple[Factor, ...], of: str, wrt: str
) -> tuple[str, str, list[tuple[Factor, ...]], list[tuple[Factor, ...]]] | None:
    """Return paths multiplied inside one chain: (X, Y, the pieces from X to Y, the whole paths).

    ``dL/dO31*(dO31/dO21*dO21/dO11 * dO31/dO22*dO22/dO11)*dO11/dW1`` shares
    ∂L/∂O31 and ∂O11/∂W1 but multiplies the two ways from O31 to O11, which
    add. With nothing shared it is :func:`split_paths` (X, Y are ``of``, ``wrt``).

    >>> split_branches((("L", "O2"), ("O2", "O1"), ("L", "O3"), ("O3", "O1"), ("O1", "W1")),
    ...                "L", "W1")[:2]
    ('L', 'O1')
    """
    real = [f for f in mono if f[0] != f[1]]
    tops = [a for a, _ in real]
    bottoms = [b for _, b in real]
    for x in dict.fromkeys(t for t in tops if tops.count(t) > 1):
        for y in dict.fromkeys(b for b in bottoms if bottoms.count(b) > 1):
            prefix = _only_chain(real, of, x)
            rest = list(real)
            for f in prefix or ():
                rest.remove(f)
            suffix = _only_chain(rest, y, wrt) if prefix is not None else None
            if suffix is None:
                continue
            for f in suffix:
                rest.remove(f)
            pieces = split_paths(tuple(rest), x, y)
            if pieces:
                return x, y, pieces, [(*prefix, *p, *suffix) for p in pieces]
    return None


def _only_chain(factors: list[Factor], start: str, end: str) -> list[Factor] | None:
    """Return the one chain of factors from ``start`` to ``end`` (no branching), or None."""
    chain: list[Factor] = []
    current = start
    while current != end:
        nxt = [f for f in factors if f[0] == current]
        if len(nxt) != 1:
            return None
        chain.append(nxt[0])
        current = nxt[0][1]
    return chain
