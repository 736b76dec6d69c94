"""Stage 3: the dependency paths between two nodes, counted and listed lazily; the one sweep.

Paths run from the dependent node down to what it depends on (``L, O31, O21,
O11, W1``), the way lecture notes read a chain. Counting never lists: the
number of paths can be far too large to hold (10^9 in a ten-by-ten network).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import TypeVar

import networkx as nx

T = TypeVar("T")


def between(graph: nx.DiGraph, of: str, wrt: str) -> list[str]:
    """Return the nodes on some path from ``wrt`` up to ``of``, in topological order.

    >>> g = nx.DiGraph([("W1", "O1"), ("O1", "L"), ("W2", "L")])
    >>> between(g, "L", "W1")
    ['W1', 'O1', 'L']
    """
    if of == wrt:
        return [of]
    if wrt not in graph or of not in graph:
        return []
    above = descendants(graph, wrt)
    if of not in above:
        return []
    # What reaches `of` from inside the cone above wrt: a search as small as the span,
    # where nx.ancestors(of) would walk the whole network (80,000 nodes for MNIST).
    keep = {of, wrt}
    stack = [of]
    pred = graph.pred
    while stack:
        for p in pred[stack.pop()]:
            if p in above and p not in keep:
                keep.add(p)
                stack.append(p)
    # Kahn's algorithm by generations from wrt, the span's only source: the order
    # nx.topological_sort gives the span, without the cost of a filtered subgraph view.
    waiting = {n: sum(p in keep for p in graph.predecessors(n)) for n in keep}
    order: list[str] = []
    generation = [wrt]
    while generation:
        order += generation
        following = []
        for node in generation:
            for child in graph.successors(node):
                if child in keep:
                    waiting[child] -= 1
                    if not waiting[child]:
                        following.append(child)
        generation = following
    return order


def descendants(graph: nx.DiGraph, node: Hashable) -> set:
    """Return every node computed from ``node`` (like ``nx.descendants``, a plain search).

    >>> sorted(descendants(nx.DiGraph([("W1", "O1"), ("O1", "L"), ("W2", "L")]), "W1"))
    ['L', 'O1']
    """
    return _reach(graph.succ, node)


def ancestors(graph: nx.DiGraph, node: Hashable) -> set:
    """Return every node ``node`` is computed from (like ``nx.ancestors``, a plain search).

    >>> sorted(ancestors(nx.DiGraph([("W1", "O1"), ("O1", "L"), ("W2", "L")]), "L"))
    ['O1', 'W1', 'W2']
    """
    return _reach(graph.pred, node)


def _reach(adjacency, node: Hashable) -> set:
    seen = {node}
    stack = [node]
    while stack:
        for n in adjacency[stack.pop()]:
            if n not in seen:
                seen.add(n)
                stack.append(n)
    seen.discard(node)
    return seen


def count_paths(graph: nx.DiGraph, of: str, wrt: str, nodes: list[str] | None = None) -> int:
    """Return the exact number of paths from ``of`` down to ``wrt``, without listing them.

    >>> g = nx.DiGraph([("W1", "O11"), ("O11", "O21"), ("O11", "O22"), ("O21", "L"), ("O22", "L")])
    >>> count_paths(g, "L", "W1")
    2
    """
    order = between(graph, of, wrt) if nodes is None else nodes
    if not order:
        return 0
    return sweep(graph, {wrt: 1}, _add_counts, order=order)[of]


def _add_counts(node: Hashable, pairs: list[tuple[Hashable, int]]) -> int:
    return sum(count for _, count in pairs)


def ways(graph: nx.DiGraph, start: str, order: Iterable[str], up: bool = True) -> dict[str, int]:
    """Return the number of paths between ``start`` and each node it reaches, walking ``order``.

    Up the edges from ``start`` (``order`` topological), or with ``up=False`` down
    them (``order`` reversed).

    >>> g = nx.DiGraph([("W1", "O1"), ("O1", "O2"), ("O1", "O3"), ("O2", "L"), ("O3", "L")])
    >>> ways(g, "L", ["L", "O3", "O2", "O1", "W1"], up=False)
    {'L': 1, 'O3': 1, 'O2': 1, 'O1': 2, 'W1': 2}
    """
    return sweep(graph, {start: 1}, _add_counts, order=order, reverse=not up)


def _ways_down(
    graph: nx.DiGraph, of: str, wrt: str, order: dict[str, int] | None, nodes: list[str] | None
) -> tuple[list[str], dict[str, list[str]]]:
    """Return the nodes between the two ends and, for each, the next steps down in ``order``."""
    nodes = between(graph, of, wrt) if nodes is None else nodes
    if order is None:
        order = {n: i for i, n in enumerate(graph.nodes)}
    inside = set(nodes)
    below = {
        n: sorted((p for p in graph.predecessors(n) if p in inside), key=order.__getitem__)
        for n in nodes
    }
    return nodes, below


def iter_paths(
    graph: nx.DiGraph,
    of: str,
    wrt: str,
    order: dict[str, int] | None = None,
    nodes: list[str] | None = None,
) -> Iterator[tuple[str, ...]]:
    """Yield every path from ``of`` down to ``wrt``, in constant memory.

    ``order`` ranks nodes (network order) so that paths come out as notes list
    them; without it, the graph's node order is used. ``nodes``, if given, is
    :func:`between`'s answer, already known.

    >>> g = nx.DiGraph([("W1", "O11"), ("O11", "O21"), ("O11", "O22"), ("O21", "L"), ("O22", "L")])
    >>> list(iter_paths(g, "L", "W1"))
    [('L', 'O21', 'O11', 'W1'), ('L', 'O22', 'O11', 'W1')]
    """
    nodes, below = _ways_down(graph, of, wrt, order, nodes)
    if not nodes:
        return
    # Below a node with a single way down, the rest of every path is fixed: yield it whole
    # rather than walk it (in a layered network, the last steps of every path).
    tail = {wrt: (wrt,)}
    for n in nodes[1:]:
        if len(below[n]) == 1 and below[n][0] in tail:
            tail[n] = (n, *tail[below[n][0]])
    if of in tail:
        yield tail[of]
        return
    # Iterative depth-first search: memory is the depth of the graph, not the path count.
    path = [of]
    stack = [iter(below[of])]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            path.pop()
        elif step in tail:
            yield (*path, *tail[step])
        else:
            path.append(step)
            stack.append(iter(below[step]))


def iter_joined(
    graph: nx.DiGraph,
    of: str,
    wrt: str,
    piece: Callable[[str, str], str],
    order: dict[str, int] | None = None,
    nodes: list[str] | None = None,
) -> Iterator[str]:
    """Yield, for every path, ``piece(top, bottom)`` of its edges joined, in ``iter_paths`` order.

    The text of each prefix is kept as the search goes down, so a path costs one
    concatenation however long it is: this is what streaming 10^7 paths as text needs.
    It repeats :func:`iter_paths`'s search on purpose: one generic walk serving both
    tuples and strings made streamed JSON 10% slower (measured with bench/run.py).

    >>> g = nx.DiGraph([("W1", "O11"), ("O11", "O21"), ("O11", "O22"), ("O21", "L"), ("O22", "L")])
    >>> list(iter_joined(g, "L", "W1", lambda a, b: f" <- {b}"))
    [' <- O21 <- O11 <- W1', ' <- O22 <- O11 <- W1']
    """
    nodes, below = _ways_down(graph, of, wrt, order, nodes)
    if not nodes:
        return
    # The text of the fixed part of every path below a node with a single way down.
    tail = {wrt: ""}
    for n in nodes[1:]:
        if len(below[n]) == 1 and below[n][0] in tail:
            tail[n] = piece(n, below[n][0]) + tail[below[n][0]]
    if of in tail:
        yield tail[of]
        return
    # The endings of every path through a node whose steps down all have a fixed rest:
    # such a node's paths are its prefix plus each ending, with no call per path.
    endings = {
        n: [piece(n, b) + tail[b] for b in below[n]]
        for n in nodes
        if n not in tail and all(b in tail for b in below[n])
    }
    if of in endings:
        yield from endings[of]
        return
    texts = [""]
    path = [of]
    stack = [iter(below[of])]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            path.pop()
            texts.pop()
        elif step in tail:
            yield texts[-1] + piece(path[-1], step) + tail[step]
        elif step in endings:
            yield from map((texts[-1] + piece(path[-1], step)).__add__, endings[step])
        else:
            texts.append(texts[-1] + piece(path[-1], step))
            path.append(step)
            stack.append(iter(below[step]))


def sweep(
    graph: nx.DiGraph,
    seed: Mapping[Hashable, T],
    combine: Callable[[Hashable, list[tuple[Hashable, T]]], T | None],
    *,
    order: Iterable[Hashable] | None = None,
    reverse: bool = False,
) -> dict[Hashable, T]:
    """Return a value for every node reached from ``seed``, folding over a topological order.

    The one fold behind path counts, the factorer's ways, the concrete form's
    deltas, dA/dB's value at a point, the backward sweep's values and its
    multiplication counts (derive backprop, the layer form's deltas), and the
    grader's sums at random edge values. Walking ``order`` (by default
    ``nx.topological_sort(graph)``, reversed when ``reverse``), each node not in
    ``seed`` gets ``combine(node, [(n, value[n]), ...])`` over its neighbours
    that already have a value: its predecessors, or with ``reverse`` its
    successors (a backward sweep, from the loss down). A node none of whose
    neighbours has a value, or for which ``combine`` returns None, gets none.

    Parameters
    ----------
    graph : nx.DiGraph
        The dependency graph; an edge ``u -> v`` means v is computed from u.
    seed : mapping
        The starting values (``{wrt: 1}`` to count paths up from wrt).
    combine : callable
        ``combine(node, pairs) -> value``, ``pairs`` the valued neighbours and
        their values in the graph's adjacency order.
    order : iterable, optional
        The nodes to visit, in walking order (a topological order, or its
        reverse with ``reverse``); nodes outside it get no value.
    reverse : bool
        Fold over successors instead of predecessors.

    Returns
    -------
    dict
        The value of each reached node, ``seed`` included, in the order reached.

    Examples
    --------
    Count the paths up from W1, then backpropagate dL/dv = sum dL/dc * dc/dv:

    >>> g = nx.DiGraph([("W1", "O1"), ("O1", "O2"), ("O1", "O3"), ("O2", "L"), ("O3", "L")])
    >>> sweep(g, {"W1": 1}, lambda v, pairs: sum(x for _, x in pairs))["L"]
    2
    >>> slope = {("L", "O2"): 2.0, ("L", "O3"): 3.0, ("O2", "O1"): 0.5, ("O3", "O1"): 0.25,
    ...          ("O1", "W1"): 4.0}
    >>> dL = sweep(g, {"L": 1.0}, lambda v, pairs: sum(x * slope[c, v] for c, x in pairs),
    ...            reverse=True)
    >>> dL["O1"], dL["W1"]
    (1.75, 7.0)
    """
    if order is None:
        order = nx.topological_sort(graph)
        if reverse:
            order = reversed(list(order))
    neighbours = graph.succ if reverse else graph.pred  # the adjacency itself: no call a node
    value: dict[Hashable, T] = dict(seed)
    for node in order:
        if node in value:
            continue
        pairs = [(n, value[n]) for n in neighbours[node] if n in value]
        if pairs:
            result = combine(node, pairs)
            if result is not None:
                value[node] = result
    return value
