"""Stages 4 and 5: expand a derivative over its paths, factor it, make it concrete.

The expansion of dA/dB is the sum over every path from A down to B of the
product of the local partials along it. The factored form pulls out the
factors every path shares (the nodes all paths go through), which is the
form backpropagation computes. The concrete form puts each local partial's
formula in.

All of it is data (:class:`Local`, :class:`Whole`, :class:`Product`,
:class:`Sum`); :mod:`derive.printing` turns it into text, LaTeX or JSON.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import islice

import networkx as nx
import sympy as sp

from derive.errors import DeriveError
from derive.graph import Network
from derive.kinds import local_partial
from derive.paths import ancestors, between, count_paths, iter_joined, iter_paths, sweep, ways
from derive.rules import targets

# A factored subterm with more local partials than this is named (dA/dB) and defined apart.
FACTOR_BUDGET = 24
# Past this many nodes between A and B, the factored form is the backward sweep (linear).
FACTOR_NODES = 400
# A single concrete formula is given up to this many paths; past it, backpropagated deltas.
CONCRETE_PATHS = 16
# Simplification is tried only on formulas up to this many operations (it can take long).
SIMPLIFY_OPS = 120
# One-hot simplification multiplies a formula out; only up to this many terms (a product of
# n two-term factors has 2^n).
EXPAND_TERMS = 256
# A fraction and the factors it shares symbols with are cancelled only up to this size.
CANCEL_OPS = 40


# -- the terms of an expansion ---------------------------------------------------


@dataclass(frozen=True)
class Local:
    """The local partial d(top)/d(bottom) of one graph edge."""

    top: str
    bottom: str


@dataclass(frozen=True)
class Whole:
    """A whole derivative d(top)/d(bottom), defined elsewhere (a sum over its own paths)."""

    top: str
    bottom: str


@dataclass(frozen=True)
class Product:
    factors: tuple


@dataclass(frozen=True)
class Sum:
    terms: tuple


Term = Local | Whole | Product | Sum


@dataclass(frozen=True)
class ZeroReason:
    """Why d(of)/d(wrt) is 0, for printing to put in words.

    ``kind`` is ``leaf`` (of is an input, parameter or target: it depends on
    nothing), ``reversed`` (wrt is computed from of), ``unused`` (nothing is
    computed from wrt) or ``elsewhere`` (wrt feeds only ``feeds``, none of
    which reaches of). ``of_kind`` is what ``of`` is (input, neuron, ...);
    ``reverse`` is whether d(wrt)/d(of) is not 0 (``dW1/dL`` for ``dL/dW1``).
    """

    kind: str
    of: str
    wrt: str
    feeds: tuple[str, ...] = ()
    of_kind: str = ""
    reverse: bool = False


def symbol(name: str) -> sp.Symbol:
    """Return the plain SymPy symbol for a network name (``E``, ``I``, ``pi`` stay symbols)."""
    return sp.Symbol(name)


# -- the derivative ---------------------------------------------------------------


class Derivative:
    """The chain-rule expansion of d(of)/d(wrt): paths, expansion, factored form, concrete.

    Build one with :func:`derive`. Everything is computed on first use, so
    asking for the path count of a huge network never lists a path.
    """

    def __init__(
        self, net: Network, of: str, wrt: str, detail: bool = False, max_paths: int | None = 1000
    ) -> None:
        self.net = net
        self.of = of
        self.wrt = wrt
        self.detail = detail
        self.max_paths = max_paths
        self.graph: nx.DiGraph = net.span_graph(wrt, detail)
        self.nodes = between(self.graph, of, wrt)

    # -- paths --

    @cached_property
    def path_count(self) -> int:
        """Return the exact number of paths, counted without listing them."""
        return count_paths(self.graph, self.of, self.wrt, self.nodes) if self.of != self.wrt else 1

    def iter_paths(self) -> Iterator[tuple[str, ...]]:
        """Yield every path from ``of`` down to ``wrt``, lazily, in network order."""
        return iter_paths(self.graph, self.of, self.wrt, self.net.order, self.nodes)

    def iter_joined(self, piece: Callable[[str, str], str]) -> Iterator[str]:
        """Yield each path's edges rendered by ``piece`` and joined, lazily, in network order."""
        return iter_joined(self.graph, self.of, self.wrt, piece, self.net.order, self.nodes)

    @cached_property
    def paths(self) -> list[tuple[str, ...]]:
        """Return the listed paths: all of them, or the first ``max_paths``."""
        return list(islice(self.iter_paths(), self.max_paths))

    @property
    def truncated(self) -> bool:
        """Return whether ``paths`` holds fewer paths than there are."""
        return len(self.paths) < self.path_count

    @property
    def is_zero(self) -> bool:
        """Return whether no path joins the two nodes (the derivative is 0)."""
        return self.path_count == 0

    @cached_property
    def zero_reason(self) -> ZeroReason | None:
        """Return why the derivative is 0, as data (None when it is not 0).

        >>> from derive.graph import load_network
        >>> derive(load_network("two_hidden"), "O11", "W5").zero_reason
        ZeroReason(kind='elsewhere', of='O11', wrt='W5', feeds=('O12',), of_kind='neuron', reverse=False)
        """
        if not self.is_zero or self.of == self.wrt:
            return None
        net, of, wrt = self.net, self.of, self.wrt
        of_kind = net.kind(of)
        # The span graph holds only what is above wrt: ask the whole network's lists.
        adj = net.adjacency(self.detail)
        reverse = of in ancestors(adj, wrt)
        if of_kind in ("input", "weight", "bias", "target"):
            return ZeroReason("leaf", of, wrt, (), of_kind, reverse)
        if reverse:
            return ZeroReason("reversed", of, wrt, (), of_kind, True)
        feeds = tuple(sorted({adj.edges[i][1] for i in adj.out[wrt]}, key=net.rank))
        return ZeroReason("elsewhere" if feeds else "unused", of, wrt, feeds, of_kind)

    # -- expansion and factored form --

    @cached_property
    def expansion(self) -> list[tuple[Local, ...]]:
        """Return the listed terms: for each path, its local partials, ``of`` first."""
        return [tuple(Local(a, b) for a, b in zip(p, p[1:], strict=False)) for p in self.paths]

    @cached_property
    def edges(self) -> list[tuple[str, str]]:
        """Return each local partial (top, bottom) that occurs, in the order the paths meet them."""
        seen: dict[tuple[str, str], None] = {}
        for p in self.paths:
            for edge in zip(p, p[1:], strict=False):
                seen.setdefault(edge, None)
        # Past the listed paths, in the order the rest of the paths would meet them: down
        # from `of`, each node's edges in network order, the edges below a node the first
        # time it is reached (a path through it again meets no new one).
        inside = set(self.nodes)
        if self.of not in inside:
            return list(seen)
        rank = self.net.rank
        below = {
            n: sorted((b for b in self.graph.predecessors(n) if b in inside), key=rank)
            for n in inside
        }
        walk, reached = [(self.of, iter(below[self.of]))], {self.of}
        while walk:
            top, bottoms = walk[-1]
            bottom = next(bottoms, None)
            if bottom is None:
                walk.pop()
                continue
            seen.setdefault((top, bottom), None)
            if bottom not in reached:
                reached.add(bottom)
                walk.append((bottom, iter(below[bottom])))
        return list(seen)

    @cached_property
    def local(self) -> dict[tuple[str, str], sp.Expr]:
        """Return the formula of each local partial that occurs."""
        return {edge: local_partial(self.net, *edge) for edge in self.edges}

    @cached_property
    def _factored(self) -> tuple[Term, list[tuple[Whole, Term]]]:
        return _Factorer(self).run()

    @property
    def factored(self) -> Term:
        """Return the sum with common factors pulled out (what backpropagation computes)."""
        return self._factored[0]

    @property
    def factored_where(self) -> list[tuple[Whole, Term]]:
        """Return the named whole derivatives the factored form uses, each defined before use."""
        return self._factored[1]

    # -- concrete --

    @cached_property
    def _concrete(self) -> tuple[sp.Expr, list[tuple[sp.Symbol, sp.Expr]]]:
        if self.is_zero:
            return sp.Integer(0), []
        if self.of == self.wrt:
            return sp.Integer(1), []
        if self.path_count <= CONCRETE_PATHS and not self.factored_where:
            return tidy(self.to_sympy(self.factored)), []
        return self._deltas()

    @property
    def concrete(self) -> sp.Expr:
        """Return the derivative as one formula (it may use the ``where`` deltas)."""
        return self._concrete[0]

    @property
    def where(self) -> list[tuple[sp.Symbol, sp.Expr]]:
        """Return the backpropagated quantities ``delta_<node>`` the concrete form uses, in order."""
        return self._concrete[1]

    @cached_property
    def concrete_onehot(self) -> sp.Expr | None:
        """Return the concrete formula with one-hot targets (their sum is 1), if that is simpler."""
        if targets(self.net.loss_kind) != "onehot" or len(self.net.targets) < 2 or self.where:
            return None
        if expanded_terms(self.concrete) > EXPAND_TERMS:
            return None
        simpler = one_hot(self.concrete, [symbol(t) for t in self.net.targets])
        return simpler if sp.count_ops(simpler) < sp.count_ops(self.concrete) else None

    def to_sympy(self, term: Term) -> sp.Expr:
        """Return a factored or expanded term with each local partial's formula put in."""
        if isinstance(term, Local):
            return self.local[(term.top, term.bottom)]
        if isinstance(term, Whole):
            return sp.Symbol(f"d{term.top}_d{term.bottom}")
        if isinstance(term, Product):
            return sp.Mul(*[self.to_sympy(f) for f in term.factors])
        return sp.Add(*[self.to_sympy(t) for t in term.terms])

    def _deltas(self) -> tuple[sp.Expr, list[tuple[sp.Symbol, sp.Expr]]]:
        """Return the concrete form as one reverse sweep: delta_v = d(of)/dv for each node."""
        taken = set(self.net.names)
        where: list[tuple[sp.Symbol, sp.Expr]] = []

        def combine(v: str, above: list[tuple[str, sp.Expr]]) -> sp.Expr:
            value = sp.Add(*[delta * self.local[(s, v)] for s, delta in above])
            if v == self.wrt:
                return value
            if len(above) == 1 and above[0][1] == 1:
                value = tidy(value)
            name = f"delta_{v}"
            while name in taken:
                name += "_"
            where.append((sp.Symbol(name), value))
            return where[-1][0]

        delta = sweep(
            self.graph, {self.of: sp.Integer(1)}, combine, order=reversed(self.nodes), reverse=True
        )
        return delta[self.wrt], where


class _Factorer:
    """Builds the factored form: chains of cut vertices, sums between them, memoized."""

    def __init__(self, d: Derivative) -> None:
        self.d = d
        self.g = d.graph
        # Every span factored lies inside the whole derivative's, in this topological order.
        self.order = d.nodes
        self.memo: dict[tuple[str, str], Term] = {}
        self.sizes: dict[tuple[str, str], int] = {}
        self.where: list[tuple[Whole, Term]] = []
        self.named: dict[tuple[str, str], Whole] = {}

    def run(self) -> tuple[Term, list[tuple[Whole, Term]]]:
        d = self.d
        if d.is_zero or d.of == d.wrt:
            return Product(()), []
        if len(self.order) > FACTOR_NODES:
            return self.swept()
        return self.factor(d.of, d.wrt, top=True), self.where

    def swept(self) -> tuple[Term, list[tuple[Whole, Term]]]:
        """Return the factored form as the backward sweep: one named dA/dv per node, from A down.

        Linear in the span, where factoring chain by chain is quadratic (an RNN
        unrolled over 1,000 steps has a span of 4,000 nodes).
        """
        d, g = self.d, self.g
        inside = set(self.order)
        named: dict[str, Whole] = {}
        for v in reversed(self.order):
            if v == d.of:
                continue
            children = sorted((c for c in g.successors(v) if c in inside), key=d.net.rank)
            terms = [
                Local(c, v) if c == d.of else _product(named[c], Local(c, v)) for c in children
            ]
            term = terms[0] if len(terms) == 1 else Sum(tuple(terms))
            if v == d.wrt:
                return term, self.where
            named[v] = Whole(d.of, v)
            self.where.append((named[v], term))
        raise AssertionError("wrt is in the span")  # pragma: no cover

    def factor(self, a: str, b: str, top: bool = False) -> Term:
        key = (a, b)
        if key in self.named:
            return self.named[key]
        if key not in self.memo:
            self.memo[key] = self._build(a, b)
            self.sizes[key] = _size(self.memo[key])
        term = self.memo[key]
        if not top and self.sizes[key] > FACTOR_BUDGET:
            whole = Whole(a, b)
            self.named[key] = whole
            self.where.append((whole, term))
            return whole
        return term

    def _build(self, a: str, b: str) -> Term:
        up = ways(self.g, b, self.order)
        down = ways(self.g, a, reversed(self.order), up=False)
        inside = up.keys() & down.keys()
        total = up[a]
        cuts = [n for n in reversed(self.order) if n in inside and up[n] * down[n] == total]
        factors: list[Term] = []
        for p, q in zip(cuts, cuts[1:], strict=False):
            # Every path from b to p passes q, so up[p] / up[q] paths lead from q to p.
            if self.g.has_edge(q, p) and up[p] == up[q]:
                factors.append(Local(p, q))
                continue
            # Every path from b to a passes through both cuts, so each predecessor of p
            # inside the span is reached from q: no reachability search is needed.
            below = sorted((u for u in self.g.predecessors(p) if u in inside), key=self.d.net.rank)
            terms = [
                Local(p, q) if u == q else _product(Local(p, u), self.factor(u, q)) for u in below
            ]
            factors.append(Sum(tuple(terms)))
        return factors[0] if len(factors) == 1 else Product(tuple(factors))


def _product(*parts: Term) -> Product:
    flat: list[Term] = []
    for part in parts:
        flat.extend(part.factors if isinstance(part, Product) else [part])
    return Product(tuple(flat))


def _size(term: Term) -> int:
    """Return how many partials a term writes out."""
    if isinstance(term, Local | Whole):
        return 1
    parts = term.factors if isinstance(term, Product) else term.terms
    return sum(_size(t) for t in parts)


def multiply_out(term: Term) -> list[tuple[Local, ...]]:
    """Return the products of local partials a factored term stands for (no Whole inside).

    >>> multiply_out(Product((Local("L", "O"), Sum((Local("O", "a"), Local("O", "b"))))))
    [(Local(top='L', bottom='O'), Local(top='O', bottom='a')), (Local(top='L', bottom='O'), Local(top='O', bottom='b'))]
    """
    if isinstance(term, Local):
        return [(term,)]
    if isinstance(term, Sum):
        return [p for t in term.terms for p in multiply_out(t)]
    if isinstance(term, Whole):
        raise ValueError("a named whole derivative has no single product")
    products: list[tuple[Local, ...]] = [()]
    for f in term.factors:
        products = [p + q for p in products for q in multiply_out(f)]
    return products


def tidy(expr: sp.Expr) -> sp.Expr:
    """Return an equal formula with common factors pulled out and fractions cancelled.

    The structure of the factored form is kept (sums are not multiplied out);
    a fraction such as bce's dL/dO is cancelled against the factors it shares
    symbols with (sigmoid's O*(1 - O)), giving the familiar O - y. Work is
    bounded by size: past ``SIMPLIFY_OPS`` operations the formula is returned
    as it is, so SymPy never runs long.

    >>> O, y = sp.symbols("O y")
    >>> tidy((-y / O + (1 - y) / (1 - O)) * O * (1 - O))
    O - y
    """
    if sp.count_ops(expr) > SIMPLIFY_OPS:
        return expr
    args = list(sp.Mul.make_args(sp.factor_terms(expr)))
    for i, f in enumerate(args):
        den = sp.fraction(sp.together(f))[1]
        # Only a loss-style fraction (one output and its target) is worth cancelling; a
        # denominator over many symbols is a common denominator that factoring would blow up.
        if den == 1 or len(den.free_symbols) > 2:
            continue
        partners = [j for j, g in enumerate(args) if j != i and g.free_symbols & den.free_symbols]
        together = sp.Mul(f, *[args[j] for j in partners])
        if sp.count_ops(together) > CANCEL_OPS:
            continue
        combined = sp.factor_terms(sp.factor(sp.cancel(together)))
        if sp.count_ops(combined) <= sp.count_ops(together):
            for j in partners:
                args[j] = sp.Integer(1)
            args[i] = combined
    return sp.Mul(*args)


def expanded_terms(expr: sp.Expr) -> int:
    """Return an upper bound on the number of terms ``sp.expand(expr)`` has, without expanding.

    >>> a, b, c = sp.symbols("a b c")
    >>> expanded_terms((a + b) * (b + c) * (1 - a)), expanded_terms((a + b) ** 3)
    (8, 8)
    """
    if expr.is_Add:
        return sum(expanded_terms(t) for t in expr.args)
    if expr.is_Mul:
        return math.prod(expanded_terms(f) for f in expr.args)
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        return expanded_terms(expr.base) ** int(expr.exp)
    return 1


def one_hot(expr: sp.Expr, targets: list[sp.Symbol]) -> sp.Expr:
    """Return ``expr`` simplified using that the targets sum to 1 (one-hot labels).

    Written as c0 + sum_k c_k y_k, the part common to every c_k multiplies the
    sum of the targets and so stands alone.

    >>> O1, y1, y2 = sp.symbols("O1 y1 y2")
    >>> one_hot(O1 * y2 - y1 * (1 - O1), [y1, y2])
    O1 - y1
    """
    poly = sp.Poly(sp.expand(expr), *targets)
    if poly.total_degree() > 1:
        return expr
    coeffs = [poly.coeff_monomial(t) for t in targets]
    common = set(sp.Add.make_args(sp.expand(coeffs[0])))
    for c in coeffs[1:]:
        common &= set(sp.Add.make_args(sp.expand(c)))
    shared = sp.Add(*common)
    rest = poly.coeff_monomial(1) + shared
    rest += sp.Add(*[sp.expand(c - shared) * t for c, t in zip(coeffs, targets, strict=True)])
    return tidy(rest)


def derive(
    net: Network, of: str, wrt: str, *, detail: bool = False, max_paths: int | None = 1000
) -> Derivative:
    """Return the derivative of ``of`` with respect to ``wrt`` in ``net``.

    Raises
    ------
    DeriveError
        When a name is not in the network (the closest names are suggested).

    Examples
    --------
    >>> from derive.graph import load_network
    >>> d = derive(load_network("two_hidden"), "L", "W1")
    >>> d.path_count, d.paths[0]
    (2, ('L', 'O31', 'O21', 'O11', 'W1'))
    """
    net.check_name(of, detail)
    net.check_name(wrt, detail)
    if max_paths is not None and max_paths < 0:
        raise DeriveError("the number of paths to list must be 0 or more, or all of them")
    return Derivative(net, of, wrt, detail=detail, max_paths=max_paths)
