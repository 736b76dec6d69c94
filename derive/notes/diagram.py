"""The network diagram: nodes placed in columns, weight labels no line crosses, highlights.

Markdown draws it with Mermaid and LaTeX with TikZ; both get the same
:class:`Diagram` from :func:`diagram`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

from derive.expand import Derivative
from derive.graph import Network


@dataclass
class Diagram:
    """A drawing of the network: nodes placed in columns, edges, and what is highlighted."""

    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    on_nodes: list[str] = field(default_factory=list)
    on_edges: list[int] = field(default_factory=list)


@functools.lru_cache(maxsize=8)
def _layout(net: Network) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
    """Return the network's drawn nodes and edges, labels placed: the same for every weight."""
    columns = [net.inputs, *net.layers, [net.loss]]
    nodes: list[dict[str, Any]] = []
    ids: dict[str, str] = {}

    def add(name: str, kind: str, x: float, y: float) -> None:
        ids[name] = f"n{len(nodes)}"
        nodes.append(
            {
                "id": ids[name],
                "name": name,
                "tex": net.latex_names[name],
                "kind": kind,
                "x": round(x, 2),
                "y": round(y, 2),
                "on": False,
            }
        )

    # Names with superscripts (a^{(L-1)}) are wide, and biases sit above their neuron: more room.
    wide = any("^" in net.latex_names[n] for names in columns for n in names)
    dx, dy = (4.2 if wide else 3.0), (2.2 if wide or net.biases else 1.7)
    for col, names in enumerate(columns):
        for row, name in enumerate(names):
            add(name, net.kind(name), dx * col, dy * ((len(names) - 1) / 2 - row))
    loss_x = dx * (len(columns) - 1)
    bottom = min(node["y"] for node in nodes if node["x"] >= loss_x - dx) - 1.3
    for row, t in enumerate(net.targets):
        add(t, "target", loss_x + 1.1 * (row - (len(net.targets) - 1) / 2), min(-1.4, bottom))
    for b, n in net.biases.items():
        owner = next(node for node in nodes if node["name"] == n)
        add(b, "bias", owner["x"], owner["y"] + 0.95)
    edges: list[dict[str, Any]] = []
    for w, pairs in net.weight_edges.items():
        for src, dst in pairs:
            edges.append(
                {
                    "a": ids[src],
                    "b": ids[dst],
                    "src": src,
                    "dst": dst,
                    "weight": w,
                    "tex": net.latex_names[w],
                    "kind": "weight",
                }
            )
    edges.sort(key=lambda e: (net.rank(e["dst"]), net.rank(e["src"])))
    for b, n in net.biases.items():
        edges.append(
            {"a": ids[b], "b": ids[n], "src": b, "dst": n, "weight": "", "tex": "", "kind": "bias"}
        )
    for name in [*net.outputs, *net.targets]:
        edges.append(
            {
                "a": ids[name],
                "b": ids[net.loss],
                "src": name,
                "dst": net.loss,
                "weight": "",
                "tex": "",
                "kind": "loss",
            }
        )
    for i, e in enumerate(edges):
        e["index"], e["on"] = i, False
    place_labels(nodes, edges)
    return tuple(nodes), tuple(edges)


def diagram(net: Network, d: Derivative | None = None) -> Diagram:
    """Return the network's diagram; with ``d``, the edges and nodes of its paths highlighted.

    An edge is highlighted when the loss's dependence on ``d.wrt`` runs along it, which is
    exact without listing a single path: it joins two nodes of ``d.nodes``.
    """
    base_nodes, base_edges = _layout(net)
    # The layout is the network's; each diagram only highlights, on its own copies.
    nodes = [dict(node) for node in base_nodes]
    edges = [dict(e) for e in base_edges]
    pic = Diagram(nodes, edges)
    if d is None or d.is_zero:
        return pic
    inside = set(d.nodes)
    g = d.graph
    for node in nodes:
        node["on"] = node["name"] in inside
    pic.on_nodes = [node["id"] for node in nodes if node["on"]]
    for e in edges:
        dst, src, w = e["dst"], e["src"], e["weight"]
        via = [x for x in (src, w) if x and x in inside and g.has_edge(x, dst)]
        e["on"] = dst in inside and bool(via)
    pic.on_edges = [e["index"] for e in edges if e["on"]]
    return pic


# Sizes in the TikZ picture, in cm: half a weight label's length and height, and how far
# a node reaches from its centre (TikZ draws an arrow from border to border).
LABEL_HALF = (0.3, 0.14)
NODE_REACH = {"input": 0.45, "neuron": 0.45, "loss": 0.4, "target": 0.35, "bias": 0.2}
# Where on its arrow a label may sit (0 at the tail), in the order they are tried.
LABEL_POS = (0.25, 0.3, 0.2, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.15, 0.8)

Point = tuple[float, float]


def _segment_distance(p: Point, a: Point, b: Point) -> float:
    """Return the distance from point ``p`` to the segment from ``a`` to ``b``."""
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / ((dx * dx + dy * dy) or 1.0)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def _reach(node: dict[str, Any]) -> float:
    """Return how far a drawn node reaches from its centre (names with superscripts are wider)."""
    wide = 0.1 if "^" in node["tex"] and node["kind"] in ("input", "neuron") else 0.0
    return NODE_REACH.get(node["kind"], 0.45) + wide


def drawn_arrow(a: dict[str, Any], b: dict[str, Any]) -> tuple[Point, Point]:
    """Return where the arrow from node ``a`` to node ``b`` starts and ends: at their borders."""
    length = math.hypot(b["x"] - a["x"], b["y"] - a["y"]) or 1.0
    ux, uy = (b["x"] - a["x"]) / length, (b["y"] - a["y"]) / length
    ra, rb = _reach(a), _reach(b)
    return (a["x"] + ra * ux, a["y"] + ra * uy), (b["x"] - rb * ux, b["y"] - rb * uy)


def label_line(arrow: tuple[Point, Point], pos: float) -> tuple[Point, Point]:
    """Return the segment a weight label at ``pos`` covers along its (sloped) arrow."""
    (ax, ay), (bx, by) = arrow
    length = math.hypot(bx - ax, by - ay) or 1.0
    ux, uy = (bx - ax) / length, (by - ay) / length
    cx, cy = ax + pos * (bx - ax), ay + pos * (by - ay)
    w = LABEL_HALF[0]
    return (cx - w * ux, cy - w * uy), (cx + w * ux, cy + w * uy)


def label_clearance(
    label: tuple[Point, Point], lines: list[tuple[Point, Point]], nodes: list[dict[str, Any]]
) -> float:
    """Return how far a label's box keeps from the given lines (other arrows, other labels)
    and from the nodes; negative when something touches or crosses it."""
    (ax, ay), (bx, by) = label
    samples = [(ax + t * (bx - ax), ay + t * (by - ay)) for t in (0, 0.25, 0.5, 0.75, 1)]
    h = LABEL_HALF[1]
    near = min((_segment_distance(q, *seg) for q in samples for seg in lines), default=9.0) - h
    ends = min(math.hypot(q[0] - n["x"], q[1] - n["y"]) - _reach(n) for q in samples for n in nodes)
    return min(near, ends)


def place_labels(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> None:
    """Set each labelled edge's ``pos``: where on its arrow no other line or label touches it.

    The first position of :data:`LABEL_POS` where the label keeps clear of every other
    arrow, every node and every label placed before it is taken; if none is clear, the one
    with the most room.
    """
    by_id = {n["id"]: n for n in nodes}
    arrows = [drawn_arrow(by_id[e["a"]], by_id[e["b"]]) for e in edges]
    placed: list[tuple[Point, Point]] = []
    for i, e in enumerate(edges):
        e["pos"] = LABEL_POS[0]
        if not e["tex"]:
            continue
        others = [arrow for j, arrow in enumerate(arrows) if j != i] + placed

        def room(pos: float, i: int = i, others: list = others) -> float:
            return label_clearance(label_line(arrows[i], pos), others, nodes)

        e["pos"] = next((pos for pos in LABEL_POS if room(pos) > 0.04), max(LABEL_POS, key=room))
        # A label is a thick line: another label must keep its half-height from it, too.
        (ax, ay), (bx, by) = label_line(arrows[i], e["pos"])
        placed.append(((ax, ay), (bx, by)))
