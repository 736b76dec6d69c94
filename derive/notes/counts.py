"""Operation counts: what the sweep, the path-by-path expansions and finite differences cost.

Counted the way :attr:`derive.sweep.Sweep.multiplications` counts them, so the
numbers of the note's network and of the bigger networks in the scaling table are
comparable: the sweep pays one multiplication per edge below the loss, a path of
``k`` edges costs ``k - 1``.
"""

from __future__ import annotations

import functools

import networkx as nx

from derive.graph import Network

# The fully connected networks of the scaling table: (neurons per layer, hidden layers).
BIGGER = ((2, 2), (4, 4), (8, 4), (8, 8), (16, 8), (32, 8))


def costs(
    graph: nx.DiGraph, loss: str, params: list[str], inputs: list[str] = ()
) -> tuple[int, int]:
    """Return (sweep, paths): the multiplications of one sweep and of every path-by-path sum.

    ``inputs`` (and targets) get no line of the sweep, so their edges cost nothing.

    >>> g = nx.DiGraph([("w", "a"), ("a", "b"), ("a", "c"), ("b", "L"), ("c", "L")])
    >>> costs(g, "L", ["w"])
    (3, 4)
    """
    keep = (nx.ancestors(graph, loss) | {loss}) - set(inputs)
    ways, edges = path_counts(graph, loss)
    sweep = sum(1 for v, c in graph.subgraph(keep).edges if c != loss)
    paths = sum(edges[p] - ways[p] for p in params if p in ways)
    return sweep, paths


def path_counts(graph: nx.DiGraph, loss: str) -> tuple[dict[str, int], dict[str, int]]:
    """Return, for every node below ``loss``, its number of paths up to it and their total length.

    >>> g = nx.DiGraph([("w", "a"), ("a", "b"), ("a", "c"), ("b", "L"), ("c", "L")])
    >>> path_counts(g, "L")[0]["w"], path_counts(g, "L")[1]["w"]
    (2, 6)
    """
    keep = nx.ancestors(graph, loss) | {loss}
    ways, edges = {loss: 1}, {loss: 0}
    for v in reversed(list(nx.topological_sort(graph.subgraph(keep)))):
        if v != loss:
            up = [c for c in graph.successors(v) if c in ways]
            ways[v] = sum(ways[c] for c in up)
            edges[v] = sum(edges[c] + ways[c] for c in up)
    return ways, edges


def fully_connected(width: int, hidden: int) -> tuple[nx.DiGraph, list[str]]:
    """Return the dependency graph of ``hidden`` layers of ``width`` and one output, and its weights."""
    g = nx.DiGraph()
    weights = []
    below = [f"x{i}" for i in range(width)]
    for layer in range(1, hidden + 2):
        here = ["out"] if layer == hidden + 1 else [f"h{layer}_{j}" for j in range(width)]
        for j, n in enumerate(here):
            for k, s in enumerate(below):
                w = f"w{layer}_{j}_{k}"
                weights.append(w)
                g.add_edge(w, n)
                g.add_edge(s, n)
        below = here
    g.add_edge("out", "L")
    return g, weights


@functools.cache
def scaling() -> tuple[dict[str, str], ...]:
    """Return the scaling table: bigger networks, the path-by-path cost against the sweep's.

    >>> scaling()[0], scaling()[1]["paths"]
    ({'width': '2', 'hidden': '2', 'params': '10', 'paths': '34', 'sweep': '16'}, '6{,}372')
    """
    rows = []
    for width, hidden in BIGGER:
        g, weights = fully_connected(width, hidden)
        sweep, paths = costs(g, "L", weights, [f"x{i}" for i in range(width)])
        rows.append(
            {
                "width": f"{width}",
                "hidden": f"{hidden}",
                "params": f"{len(weights):,}",
                "paths": _big(paths),
                "sweep": f"{sweep:,}",
            }
        )
    return tuple(rows)


def _big(n: int) -> str:
    # {,} keeps TeX from spacing a thousands comma in math mode as punctuation ("6, 372").
    return (
        f"{n:,}".replace(",", "{,}")
        if n < 10**9
        else rf"{n / 10 ** (len(str(n)) - 1):.1f} \times 10^{{{len(str(n)) - 1}}}"
    )


def forward_multiplications(net: Network) -> int:
    """Return the multiplications of one forward pass: one per weighted edge (w times its source)."""
    return sum(len(n.inputs) for n in net.neurons.values())
