"""Stage 7: backpropagation as it is computed, one sweep from the loss down.

The expansion of dA/dB is a sum over paths; backpropagation computes
something cheaper. Walking the graph in reverse topological order from the
loss, it defines for every node v the loss depends on

    dL/dv = sum over the children c of v of  dL/dc * ∂c/∂v      (∂c/∂v local)

each from quantities already computed, and then every parameter's gradient
from the node(s) it feeds (a tied weight or a shared bias sums over its
edges). Each dL/dv is computed once and reused by everything below it.

:func:`backward` returns the sweep as data (:class:`Sweep`: lines and
gradients as local-partial edges, and the multiplication counts);
:func:`values` runs it at a point with plain floats (each local partial
by its node kind's rule, :class:`derive.kinds.Slopes`, folded by the one
backward fold, :func:`derive.paths.sweep`), no SymPy on the hot path.
:mod:`derive.printing.backprop` prints it.

>>> from derive.graph import load_network
>>> s = backward(load_network("two_hidden"))
>>> s.lines[1]
Line(node='O21', terms=(('O31', 'O21'),))
>>> s.multiplications
{'sweep': 18, 'paths': 46}
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx
import sympy as sp

from derive.evaluate import needed, require
from derive.graph import LEAF_KINDS, Network
from derive.kinds import Slopes, check_finite, forward, local_partial, overflow
from derive.paths import sweep as fold
from derive.rules import ACTIVATIONS


@dataclass(frozen=True)
class Line:
    """One line of the sweep: dL/d(node) = sum over ``terms`` (c, node) of dL/dc * ∂c/∂node.

    Each term is a graph edge (child, node): the whole derivative dL/dc comes
    from an earlier line (dL/dL = 1 for the loss) and ∂c/∂node is c's local
    partial.
    """

    node: str
    terms: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Gradient:
    """A parameter's gradient: dL/d(param) = sum over ``terms`` (n, param) of dL/dn * ∂n/∂param.

    One term per node the parameter feeds: one for a plain weight, one per
    edge for a tied weight or a bias shared by several neurons, none for a
    parameter the loss does not depend on (its gradient is 0).
    """

    param: str
    terms: tuple[tuple[str, str], ...]


@dataclass
class Sweep:
    """The backward sweep of a network: its lines, its gradients, what it costs.

    ``lines`` are in the order computed (loss side first, reverse topological
    order); every term of a line names a node whose line comes earlier, or the
    loss. ``gradients`` follow, one per parameter in network order.
    """

    net: Network
    detail: bool
    of: str
    lines: list[Line]
    gradients: list[Gradient]

    def __repr__(self) -> str:
        # One line: an MNIST-sized sweep has 89,600 terms, too many to print in a notebook.
        return (
            f"<Sweep of {self.net.name}: {len(self.lines):,} lines, "
            f"{len(self.gradients):,} gradients{', detailed' if self.detail else ''}>"
        )

    @cached_property
    def multiplications(self) -> dict[str, int]:
        """Return ``{"sweep": n, "paths": m}``: the multiplications each way costs.

        ``sweep``: one multiplication per term dL/dc * ∂c/∂v of every line and
        every gradient, except where c is the loss itself (dL/dL = 1 needs
        none). ``paths``: for every parameter, its path-by-path expansion (the
        sum over every path from the loss down to it of the product of the
        local partials along it) costs, per path of k edges, k - 1
        multiplications; ``paths`` is their total over all parameters. Additions
        are not counted, and a local partial counts as one factor whatever its
        formula. Both are counted in the graph of the sweep (with ``detail``,
        the one with the pre-activations).
        """
        sweep = sum(
            sum(1 for child, _ in row.terms if child != self.of)
            for row in [*self.lines, *self.gradients]
        )

        # Paths from the loss down to v and the edges along them, by the one backward fold.
        def down(v: str, above: list[tuple[str, tuple[int, int]]]) -> tuple[int, int]:
            ways = sum(w for _, (w, _) in above)
            return ways, sum(e + w for _, (w, e) in above)

        order = [row_node(row) for row in [*self.lines, *self.gradients]]
        counts = fold(
            self.net.graph(self.detail), {self.of: (1, 0)}, down, order=order, reverse=True
        )
        paths = sum(counts[g.param][1] - counts[g.param][0] for g in self.gradients if g.terms)
        return {"sweep": sweep, "paths": paths}

    @cached_property
    def local(self) -> dict[tuple[str, str], sp.Expr]:
        """Return the formula of every local partial of the sweep (SymPy, built on first use)."""
        return {
            edge: self.formula(edge) for row in [*self.lines, *self.gradients] for edge in row.terms
        }

    def formula(self, edge: tuple[str, str]) -> sp.Expr:
        """Return one local partial's formula (SymPy), built on first use and kept."""
        cache = self.__dict__.setdefault("_formulas", {})
        if edge not in cache:
            cache[edge] = local_partial(self.net, *edge)
        return cache[edge]

    def line(self, node: str) -> Line:
        """Return the line of a node (KeyError when the loss does not depend on it)."""
        return self._by_node[node]

    def gradient(self, param: str) -> Gradient:
        """Return a parameter's gradient row."""
        return self._by_param[param]

    @cached_property
    def _by_node(self) -> dict[str, Line]:
        return {row.node: row for row in self.lines}

    @cached_property
    def _by_param(self) -> dict[str, Gradient]:
        return {g.param: g for g in self.gradients}


def row_node(row: Line | Gradient) -> str:
    """Return the node a line or gradient defines dL/d(node) of."""
    return row.node if isinstance(row, Line) else row.param


def order(net: Network, detail: bool = False) -> list[str]:
    """Return the neurons (and with ``detail`` their z's) from the loss down, as the sweep visits them.

    Layers from the last to the first, each in its listed order; with
    ``detail`` each z right after its neuron, or after the whole layer for
    softmax (every output of a softmax layer depends on every z of it).

    >>> from derive.graph import load_network
    >>> order(load_network("two_hidden"), detail=True)[:4]
    ['O31', 'z31', 'O21', 'z21']
    """
    if net.formulas:  # a graph: any reverse topological order (formula nodes and layers mixed)
        g = net.graph(detail)
        key = "reverse_topological"
        if key not in g.graph:
            ordered = reversed(list(nx.topological_sort(g)))
            g.graph[key] = [v for v in ordered if g.nodes[v]["kind"] not in LEAF_KINDS]
        return [v for v in g.graph[key] if v != net.output]
    out: list[str] = []
    for layer in reversed(net.layers):
        if not detail:
            out += layer
        elif ACTIVATIONS[net.neurons[layer[0]].activation].couples:
            out += layer + [net.neurons[n].preact for n in layer]
        else:
            out += [name for n in layer for name in (n, net.neurons[n].preact)]
    return out


def backward(net: Network, detail: bool = False) -> Sweep:
    """Return the backward sweep of a network as data: its lines, then every gradient.

    A node the loss does not depend on (a neuron whose output feeds nothing)
    has no line; terms through it are left out.

    Examples
    --------
    >>> from derive.graph import load_network
    >>> s = backward(load_network("two_hidden"))
    >>> [row.node for row in s.lines]
    ['O31', 'O21', 'O22', 'O11', 'O12']
    >>> s.line("O11").terms
    (('O21', 'O11'), ('O22', 'O11'))
    >>> s.gradient("W1").terms
    (('O11', 'W1'),)
    """
    g = net.graph(detail)
    live = {net.output}
    lines: list[Line] = []
    for v in order(net, detail):
        terms = _terms(net, g, v, live)
        if terms:
            live.add(v)
            lines.append(Line(v, terms))
    gradients = [Gradient(p, _terms(net, g, p, live)) for p in net.reported]
    return Sweep(net, detail, net.output, lines, gradients)


def gradient_line(net: Network, param: str, detail: bool = False) -> Gradient:
    """Return a parameter's line of the sweep, dL/dp = sum dL/dn * ∂n/∂p over the nodes n it feeds.

    For ``derive dA/dB``, which shows the weight's line without the whole sweep.

    >>> from derive.graph import load_network
    >>> gradient_line(load_network("two_hidden_tied"), "W1").terms
    (('O11', 'W1'), ('O12', 'W1'))
    """
    g = net.graph(detail)
    reaches = nx.ancestors(g, net.output) | {net.output}
    return Gradient(param, _terms(net, g, param, reaches))


def _terms(net: Network, g: nx.DiGraph, v: str, live: set[str]) -> tuple[tuple[str, str], ...]:
    children = [c for c in g.successors(v) if c in live]
    if len(children) > 1:
        children.sort(key=net.rank)
    return tuple((c, v) for c in children)


# -- numbers at a point -----------------------------------------------------------


@dataclass
class Values:
    """The sweep at a point, in plain floats.

    ``forward``: every node's value; ``delta``: dL/dv for the loss and every
    line's node; ``gradients``: dL/dp for every parameter; ``local``: every
    local partial of the sweep, by edge (top, bottom).
    """

    sweep: Sweep
    point: dict[str, float]
    forward: dict[str, float]
    delta: dict[str, float]
    gradients: dict[str, float]
    local: dict[tuple[str, str], float] = field(repr=False)

    def __repr__(self) -> str:
        loss = self.forward.get(self.sweep.of)
        at = f", {self.sweep.of} = {loss:.6g}" if loss is not None else ""
        return (
            f"<Values of {self.sweep.net.name} at a point{at}: {len(self.gradients):,} gradients>"
        )

    def update(self, lr: float) -> dict[str, dict[str, float]]:
        """Return every parameter's gradient step ``{"lr", "old", "new"}`` (new = old - lr * grad)."""
        from derive.evaluate import check_finite, check_lr

        check_lr(lr)
        check_finite(
            (f"the updated {p}", self.point[p] - lr * g) for p, g in self.gradients.items()
        )
        return {
            p: {"lr": lr, "old": self.point[p], "new": self.point[p] - lr * grad}
            for p, grad in self.gradients.items()
        }

    def term(self, edge: tuple[str, str]) -> float:
        """Return one term's value dL/dc * ∂c/∂v for the edge (c, v)."""
        return self.delta[edge[0]] * self.local[edge]


def values(
    net: Network, point: dict[str, float], detail: bool = False, sweep: Sweep | None = None
) -> Values:
    """Return the forward values, every dL/dv and every gradient at a point, as floats.

    ``point`` gives every input, weight, bias and target the loss depends on.

    Raises
    ------
    DeriveError
        Listing every missing value.

    Examples
    --------
    >>> from derive.graph import load_network
    >>> net = load_network("simple")
    >>> v = values(net, net.values)
    >>> round(v.gradients["W4"], 6)
    -0.125349
    """
    sweep = sweep if sweep is not None else backward(net, detail)
    require(net, needed(net, sweep.of, sweep.detail), point)
    env = forward(net, point)
    slope = Slopes(net, env)
    local: dict[tuple[str, str], float] = {}
    of = sweep.of

    def combine(v: str, above: list[tuple[str, float]]) -> float:
        # dL/dv = sum over v's children c of dL/dc * ∂c/∂v; most rows have one term.
        if len(above) == 1:
            c, d = above[0]
            local[(c, v)] = value = slope(c, v)
            total = d * value
        else:
            parts = []
            for c, d in above:
                local[(c, v)] = value = slope(c, v)
                parts.append(d * value)
            total = math.fsum(parts)
        check_finite([(f"d{of}/d{v}", total)])
        return total

    order = [row.node for row in sweep.lines] + [g.param for g in sweep.gradients]
    try:
        delta = fold(net.graph(sweep.detail), {of: 1.0}, combine, order=order, reverse=True)
    except (ValueError, OverflowError):  # math.fsum: an intermediate overflow, or inf - inf
        raise overflow(f"the sweep of d{of}") from None
    gradients = {g.param: delta.pop(g.param, 0.0) for g in sweep.gradients}
    # Network order, as derive dA/dB lists them, whatever order the point file has.
    ordered = {n: point[n] for n in net.names if n in point}
    return Values(sweep, ordered, env, delta, gradients, local)
