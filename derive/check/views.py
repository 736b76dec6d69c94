"""How a written factor reads in one view of a network, and what grading there reuses.

A :class:`View` is the compact or the detailed graph of a network with every
result the grader computes on it kept: the paths of each whole derivative,
the core's derivations, the local partials that are constants, the random
points of the numeric comparison and the values there. Grading a class's
files on one network (``derive check --file 'subs/*.md'``) makes these
once, through one :class:`Shared`, instead of once per answer.

How a factor dA/dB reads: where B -> A is an edge it is the
local partial. In the detailed view an edge of the compact view stays an
edge: ``dyhat/dx`` with x -> yhat is ``∂yhat/∂z_yhat · ∂z_yhat/∂x`` even when
x also reaches yhat through h1, so naming a z in one factor does not change
how another reads.
"""

from __future__ import annotations

from fractions import Fraction

import networkx as nx
import sympy as sp

from derive.check import algebra
from derive.check.algebra import Edge, Factor, Poly, TooManyTerms, edges
from derive.check.names import NameTable
from derive.expand import Derivative, derive, local_partial
from derive.graph import Network
from derive.paths import count_paths, iter_paths

Sample = tuple[dict[str, float], dict[str, float]]  # (point, forward-pass values)


class View:
    """One view of a network (``detail`` puts the z nodes in), with what grading reuses."""

    def __init__(self, net: Network, detail: bool) -> None:
        self.net = net
        self.detail = detail
        self.graph: nx.DiGraph = net.graph(detail)
        self.compact: nx.DiGraph = net.graph(False)
        self.order = {name: i for i, name in enumerate(net.names)}  # paths as notes list them
        self.paths: dict[Factor, Poly] = {}
        self.counts: dict[Factor, int] = {}
        self.derivations: dict[Factor, Derivative] = {}
        self.constants: dict[Edge, Fraction | None] = {}
        self.samples: dict[int, list[Sample]] = {}  # by the number of random points
        self.values: dict[tuple, float] = {}  # the numeric comparison's values, made once

    def count(self, of: str, wrt: str) -> int:
        """Return the number of paths from ``of`` down to ``wrt`` (1 from a node to itself)."""
        if of == wrt:
            return 1
        if (of, wrt) not in self.counts:
            self.counts[(of, wrt)] = count_paths(self.graph, of, wrt)
        return self.counts[(of, wrt)]

    def is_edge(self, of: str, wrt: str) -> bool:
        """Return whether a factor d(of)/d(wrt) is a local partial: wrt -> of is an edge.

        An edge of the compact view is one in the detailed view too.
        """
        return self.graph.has_edge(wrt, of) or (self.detail and self.compact.has_edge(wrt, of))

    def local_poly(self, of: str, wrt: str) -> Poly:
        """Return a local partial in this view's edges: itself, or ∂A/∂z_A · ∂z_A/∂B."""
        if self.graph.has_edge(wrt, of):
            return {((of, wrt),): Fraction(1)}
        # A compact edge B -> A in the detailed view: through each z that A's formula reads
        # (one, or every z of a softmax layer).
        out: Poly = {}
        for z in self.graph.predecessors(of):
            if self.net.kind(z) == "preact" and self.graph.has_edge(wrt, z):
                out[tuple(sorted(((of, z), (z, wrt))))] = Fraction(1)
        return out

    def ambiguous(self, of: str, wrt: str) -> bool:
        """Return whether a factor's two readings differ: an edge with other paths beside it."""
        return self.is_edge(of, wrt) and self.count(of, wrt) > len(self.local_poly(of, wrt))

    def reading(self, factor: Factor) -> Poly:
        """Return what a written factor stands for, in local partials."""
        of, wrt = factor
        if of != wrt and self.is_edge(of, wrt):
            return self.local_poly(of, wrt)
        return self.paths_poly(factor)

    def paths_poly(self, factor: Factor) -> Poly:
        """Return the expansion of one whole derivative: the sum of its paths' edge products."""
        if factor not in self.paths:
            of, wrt = factor
            if of == wrt:
                self.paths[factor] = {(): Fraction(1)}
            else:
                if self.count(of, wrt) > algebra.MAX_TERMS:
                    raise TooManyTerms(
                        f"d{of}/d{wrt} has too many paths to compare term by term",
                        hint="check a smaller derivative, or write the answer as a formula",
                    )  # fmt: skip
                self.paths[factor] = {
                    tuple(sorted(edges(p))): Fraction(1)
                    for p in iter_paths(self.graph, of, wrt, self.order)
                }
        return self.paths[factor]

    def constant(self, edge: Edge) -> Fraction | None:
        """Return the value of a local partial that is identically a constant (∂z/∂b = 1), or None.

        Only an edge from a bias or a pre-activation can be one in a layered
        network (a weight's or a source's partial is a name); anything else
        is asked of its formula.
        """
        if edge not in self.constants:
            top, bottom = edge
            found = None
            if self.net.kind(bottom) in ("bias", "preact") or self.net.kind(top) not in (
                "neuron",
                "preact",
                "loss",
            ):
                formula = local_partial(self.net, top, bottom)
                if isinstance(formula, sp.Rational):
                    found = Fraction(int(formula.p), int(formula.q))
            self.constants[edge] = found
        return self.constants[edge]

    def derived(self, of: str, wrt: str) -> Derivative:
        """Return the core's derivative of ``of`` with respect to ``wrt`` (made once)."""
        if (of, wrt) not in self.derivations:
            self.derivations[(of, wrt)] = derive(self.net, of, wrt, detail=self.detail, max_paths=0)
        return self.derivations[(of, wrt)]


class Shared:
    """Everything grading answers on one network reuses, per view: make one per class."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self._views: dict[bool, View] = {}
        self._table: NameTable | None = None

    @property
    def table(self) -> NameTable:
        """Return every way an answer may write each of the network's names (made once)."""
        if self._table is None:
            self._table = NameTable(self.net.names, self.net.latex_names)
        return self._table

    def view(self, detail: bool) -> View:
        """Return the compact (``detail`` false) or detailed view, made on first use."""
        if detail not in self._views:
            self._views[detail] = View(self.net, detail)
        return self._views[detail]
