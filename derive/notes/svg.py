"""The network as inline SVG, laid out by derive: the HTML page's and Jupyter's diagram.

Columns are the graph's topological generations: a node's column is one more than
the furthest of its sources (inputs first, the loss last), so a layered network
gets its layers as columns and any DAG of formula nodes gets a readable order too.
Targets sit under the loss they feed. Weights and biases are drawn as small labels
on the line they multiply, placed by :func:`derive.notes.diagram.place_labels`
(where no other line or label touches them), so that a path from a weight to the
loss starts at the weight itself. An edge that would run through a node bends around it
(:func:`derive.notes.diagram.route`, as the TikZ figures do), and a graph's leaf used in
three columns or more (an unrolled RNN's shared weight) stands under the drawing. The
numbers on the lines are placed by :mod:`derive.notes.flows`; the TikZ gate view
(:func:`derive.notes.gates.tikz_gates`) draws this same picture.

Every node is an element with ``data-node="NAME"`` and every edge of the dependency
graph that is drawn one with ``data-edge="SRC->DST"`` (the page's stable hooks): the line
``x1 -> O11`` and, on it, the part from the weight's label to ``O11`` (``W1->O11``).
A column of more than :data:`COLUMN_CAP` nodes is drawn as its first and last few;
past :data:`LABEL_CAP` weighted lines the weights are not drawn (:attr:`Drawing.capped`
says what was left out).

>>> from derive.graph import load_network
>>> d = draw(load_network("simple"))
>>> sorted(d.edges)[:3], d.params
(['O1->O2', 'O2->L', 'W1->O1'], ['W1', 'W2', 'W3', 'W4'])

:func:`standalone` makes a drawing an SVG file of its own (the Markdown notes' figures):
its namespace, the diagram's style inline (with a dark scheme) and nothing external.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

from derive.graph import SPAN_WHOLE, Network
from derive.notes.diagram import (
    curve,
    describe,
    edge_line,
    label_line,
    on_curve,
    place_labels,
    route,
    unicode_name,
)
from derive.notes.flows import flows, pill_box
from derive.paths import ancestors, descendants
from derive.printing.mathml import esc

# Pixels per unit of the layout (the TikZ picture's centimetres).
SCALE = 52
DX, DY = 4.2, 2.0
COLUMN_CAP = 10  # a longer column draws its first SHOWN_HEAD and last SHOWN_TAIL nodes
SHOWN_HEAD, SHOWN_TAIL = 6, 2
LABEL_CAP = 60
PARAM_KINDS = ("weight", "bias")


@dataclass
class Drawing:
    """An SVG drawing: its markup, the edges and parameters drawn, and what was left out."""

    svg: str
    edges: set[str] = field(default_factory=set)
    nodes: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    capped: str = ""
    # Where the drawing's numbers and weight labels are, in pixels (centres), and the layout
    # point at pixel (0, 0): what the TikZ gate view needs to draw the same picture.
    texts: list[tuple[str, str, float, float, str]] = field(default_factory=list)
    pills: list[tuple[str, float, float]] = field(default_factory=list)
    origin: tuple[float, float] = (0.0, 0.0)


def columns(net: Network) -> list[list[str]]:
    """Return the drawn nodes (not weights, biases or targets) by topological generation.

    >>> from derive.graph import load_network
    >>> columns(load_network("simple"))
    [['x1', 'x2', 'x3'], ['O1'], ['O2'], ['L']]
    """
    g = net.graph() if len(net.order) < SPAN_WHOLE else None
    column: dict[str, int] = {}
    for name in net.names:
        kind = net.kind(name)
        if kind in (*PARAM_KINDS, "target", "preact"):
            continue
        if kind == "input":
            column[name] = 0
        elif kind == "neuron" and g is None:  # a wide network: its layers (no skips to find)
            column[name] = net.neurons[name].layer
        else:
            sources = [s for s in (g.predecessors(name) if g is not None else net.outputs)]
            column[name] = 1 + max((column[s] for s in sources if s in column), default=-1)
    if net.is_graph and g is not None:  # a leaf stands just before the first node using it
        for name, col in list(column.items()):
            users = [column[u] for u in g.successors(name) if u in column]
            if col == 0 and users:
                column[name] = min(users) - 1
    out: list[list[str]] = [[] for _ in range(max(column.values()) + 1)]
    for name, col in column.items():
        out[col].append(name)
    if net.is_graph and g is not None:  # each node level with what it feeds: fewer crossings
        row = {n: i - (len(out[-1]) - 1) / 2 for i, n in enumerate(out[-1])}  # as drawn
        for names in reversed(out[:-1]):
            mean = {n: _mean([row[u] for u in g.successors(n) if u in row]) for n in names}
            names.sort(key=lambda n: mean[n])
            row.update((n, i - (len(names) - 1) / 2) for i, n in enumerate(names))
    return [c for c in out if c]


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("inf")


def _shown(names: list[str]) -> tuple[list[str], int]:
    if len(names) <= COLUMN_CAP:
        return names, 0
    return [*names[:SHOWN_HEAD], *names[-SHOWN_TAIL:]], len(names) - SHOWN_HEAD - SHOWN_TAIL


def label(net: Network, name: str) -> str:
    """Return how the drawing writes a name: in Unicode where it can (W₁), else as named."""
    return unicode_name(net.latex_names.get(name, name)) or name


@functools.lru_cache(maxsize=4)
def layout(net: Network) -> tuple[dict[str, dict], list[dict], list[tuple[str, float, float]], str]:
    """Return the drawn nodes (by name), the edges, the "more" marks and what was left out.

    Kept for the last few networks (a page draws its network twice); nothing changes it.
    """
    nodes: dict[str, dict] = {}
    gaps: list[tuple[str, float, float]] = []
    left_out = []
    cols = columns(net)
    # A long chain (an unrolled RNN) gets narrower columns, so that it stays readable when
    # the page scales the drawing to its width.
    dx = DX if len(cols) <= 6 else max(2.2, DX * 6 / len(cols))
    for c, names in enumerate(cols):
        shown, more = _shown(names)
        rows = len(shown) + (1 if more else 0)
        for r, name in enumerate(shown):
            r += 1 if more and r >= SHOWN_HEAD else 0
            nodes[name] = _node(name, net.kind(name), c * dx, DY * ((rows - 1) / 2 - r))
        if more:
            gaps.append((f"{more:,} more", c * dx, DY * ((rows - 1) / 2 - SHOWN_HEAD)))
            kind = net.kind(names[0])
            what = {"input": "inputs", "neuron": f"neurons of layer {c}"}.get(kind, "nodes")
            left_out.append(f"{more:,} of the {len(names):,} {what}")
    _shared_below(net, cols, nodes, dx)
    loss = nodes.get(net.loss)
    bottom = min(n["y"] for n in nodes.values()) - 1.3
    targets = net.targets if loss else []
    for i, t in enumerate(targets):  # a row under the loss; many make a column beside it
        if len(targets) <= 3:
            nodes[t] = _node(t, "target", loss["x"] + 1.1 * (i - (len(targets) - 1) / 2), bottom)
        else:
            nodes[t] = _node(
                t, "target", loss["x"] + DX * 0.6, DY * 0.6 * ((len(targets) - 1) / 2 - i)
            )
    edges: list[dict] = []
    for w, pairs in net.weight_edges.items():
        for src, dst in pairs:
            if src in nodes and dst in nodes:
                edges.append(_edge(nodes[src], nodes[dst], w))
    labelled = len(edges) <= LABEL_CAP
    if not labelled:
        left_out.append("the weights (too many lines to label)")
        for e in edges:
            e["tex"] = ""
    else:
        for b, owners in net.bias_neurons.items():
            for n in owners:
                if n in nodes:
                    key = f"{b}@{n}"
                    nodes[key] = _node(b, "bias", nodes[n]["x"] - 0.75, nodes[n]["y"] - 0.75)
                    edges.append(_edge(nodes[key], nodes[n], "", bias=True))
    drawn = {(e["src"], e["dst"]) for e in edges}
    g = net.graph() if len(net.order) < SPAN_WHOLE else None
    for u, v in g.edges if g is not None else ():
        if u in nodes and v in nodes and (u, v) not in drawn and net.kind(u) not in PARAM_KINDS:
            edges.append(_edge(nodes[u], nodes[v], ""))
    if g is None:
        edges += [_edge(nodes[o], nodes[net.loss], "") for o in net.outputs if o in nodes]
        edges += [_edge(nodes[t], nodes[net.loss], "") for t in net.targets]
    for i, node in enumerate(nodes.values()):
        node["id"] = f"n{i}"
    for e in edges:
        e["a"], e["b"] = e.pop("_a")["id"], e.pop("_b")["id"]
    # An edge that would run through a node bends around it (a skip connection, an RNN's
    # shared weight), as in the TikZ figures; its label and values then sit on the curve.
    route(list(nodes.values()), edges)
    if labelled:
        place_labels(list(nodes.values()), edges)
    return nodes, edges, gaps, "; ".join(left_out)


def _shared_below(net: Network, cols: list[list[str]], nodes: dict, dx: float) -> None:
    """Move a graph's leaf used in three columns or more (an unrolled RNN's shared weight)
    to a row under the drawing, below the middle of its users: from the first column its
    lines crossed the whole picture."""
    if not net.is_graph or len(net.order) >= SPAN_WHOLE:
        return
    g = net.graph()
    column = {n: c for c, names in enumerate(cols) for n in names}
    shared = [
        n
        for n in cols[0]
        if n in nodes and len({column[u] for u in g.successors(n) if u in column}) >= 3
    ]
    if not shared:
        return
    bottom = min(n["y"] for n in nodes.values()) - DY
    for i, n in enumerate(shared):
        users = [nodes[u]["x"] for u in g.successors(n) if u in nodes]
        x = (min(users) + max(users)) / 2 + dx * (i - (len(shared) - 1) / 2)
        nodes[n].update(x=x, y=bottom, below=True)
    rest = [n for n in cols[0] if n not in shared]  # the first column closes up
    for r, n in enumerate(rest):
        nodes[n]["y"] = DY * ((len(rest) - 1) / 2 - r)


def _node(name: str, kind: str, x: float, y: float) -> dict[str, Any]:
    return {"name": name, "kind": kind, "x": x, "y": y, "tex": name, "id": ""}


def _edge(a: dict, b: dict, weight: str, bias: bool = False) -> dict[str, Any]:
    return {"_a": a, "_b": b, "src": a["name"], "dst": b["name"], "weight": weight,
            "tex": weight, "bias": bias, "pos": 0.5}  # fmt: skip


def draw(
    net: Network,
    forward: dict[str, float] | None = None,
    lit: set[str] | frozenset[str] = frozenset(),
    grads: dict[str, str] | None = None,
    swept: set[str] | frozenset[str] = frozenset(),
) -> Drawing:
    """Return the network drawn as SVG.

    ``forward`` writes each node's value beside it; ``lit`` gives edges the class
    ``on`` (a derivative's paths, in Jupyter); ``grads`` (name -> dL/dv as text)
    marks those nodes ``swept`` and writes their dL/dv under them.
    """
    from derive.words import num

    nodes, edges, gaps, capped = layout(net)
    grads = grads or {}
    by_id = {n["id"]: n for n in nodes.values()}
    x0, y1, width, height = _frame(nodes, edges, by_id)

    def px(node_or_x: Any, y: float | None = None) -> tuple[float, float]:
        if y is None:
            node_or_x, y = node_or_x["x"], node_or_x["y"]
        return round((node_or_x - x0) * SCALE, 1), round((y1 - y) * SCALE, 1)

    lines, labels, shown, params, pills, spans = _edge_lines(
        net, edges, by_id, px, lit, grads, swept
    )
    # A parameter of a softmax layer feeds every output of it: those lines start at its label.
    g = net.graph() if pills else None
    for param, cx, cy in pills:
        for v in g.successors(param):
            if v in nodes and f"{param}->{v}" not in shown:
                shown.add(f"{param}->{v}")
                lines.append(_line(f"{param}->{v}", cx, cy, *px(nodes[v]), lit, "wedge couple"))
    # Forward values ride on the edges (above), each dL/dv under them, as CS231n draws its
    # circuits; a drawing with too many lines to label keeps them beside the nodes.
    on_edges = forward is not None and len(spans) <= LABEL_CAP
    # A shared leaf under the drawing keeps its numbers under it: its lines fan out upward.
    every_line = [line for _, line in spans]
    spans = [(src, line) for src, line in spans if not nodes.get(src, {}).get("below")]
    feeding = {src for src, *_ in spans} if on_edges else set()
    texts: list[tuple[str, str, float, float, str]] = []
    numbers = (
        flows(spans, [pill_box(cx, cy, label(net, q), grads.get(q, "")) for q, cx, cy in pills]
               + [(*px(n), 48, 48) for n in nodes.values() if n["kind"] != "bias"],
               forward, grads, swept, num, {e["dst"] for e in edges}, texts, every_line)
        if on_edges else []
    )  # fmt: skip
    under = _over_a_line(edges, by_id)
    body = []
    for n in nodes.values():
        if n["kind"] != "bias":
            where = (grads, swept, n["name"] not in feeding, n["name"] in under)
            formula = net.formulas[n["name"]].text if n["name"] in net.formulas else ""
            body.append(_circle(n, label(net, n["name"]), *px(n), where, forward, formula, texts))
    marks = [
        f'<text class="more" x="{px(x, y)[0]}" y="{px(x, y)[1] + 4}">⋮ {esc(text)}</text>'
        for text, x, y in gaps
    ]
    svg = (
        f'<svg class="net" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'height="{height:.0f}" role="img" aria-label="{esc(describe(net))}">'
        f'<g class="edges">{"".join(lines)}</g><g class="nodes">{"".join(body)}{"".join(marks)}'
        f'</g><g class="flows">{"".join(numbers)}</g><g class="params">{"".join(labels)}</g></svg>'
    )
    names = [n["name"] for n in nodes.values() if n["kind"] != "bias"]
    params += [p for p in net.reported if p in nodes and p not in params]
    if not params:  # weights not drawn: a weight is chosen by its line, a bias by its neuron
        on_lines = {e["weight"] for e in edges if e["weight"]}
        params = [p for p in on_lines] + [b for b, ns in net.bias_neurons.items() if ns[0] in nodes]
    reported = [p for p in net.reported if p in params]
    return Drawing(svg, shown, names, reported, capped, texts, pills, (x0, y1))


def _frame(nodes: dict, edges: list, by_id: dict) -> tuple[float, float, float, float]:
    """Return the layout point at pixel (0, 0) and the picture's size in pixels: it holds
    every node, every bent edge's curve and the numbers under a shared leaf."""
    bent = [
        on_curve(
            curve(*((n["x"], n["y"]) for n in (by_id[e["a"]], by_id[e["b"]])), e["bend"]), t / 8
        )
        for e in edges
        if e.get("bend")
        for t in range(1, 8)
    ]
    xs = [n["x"] for n in nodes.values()] + [x for x, _ in bent]
    ys = [n["y"] for n in nodes.values()] + [y for _, y in bent]
    ys += [n["y"] - 0.3 for n in nodes.values() if n.get("below")]  # their numbers under them
    pad = 1.0
    x0, y1 = min(xs) - pad, max(ys) + pad
    width, height = (max(xs) - min(xs) + 2 * pad + 0.6) * SCALE, (y1 - min(ys) + 2 * pad) * SCALE
    return x0, y1, width, height


def _over_a_line(edges: list, by_id: dict) -> set[str]:
    """Return the nodes with a line straight down from them (the loss over its target): they
    keep their own numbers beside them, off that line."""
    return {
        e["dst"]
        for e in edges
        if abs(by_id[e["a"]]["x"] - by_id[e["b"]]["x"]) < 0.01
        and by_id[e["a"]]["y"] < by_id[e["b"]]["y"]
    }


def lit_edges(net: Network, param: str, drawn: set[str], of: str | None = None) -> list[str]:
    """Return the drawn edges on the paths from ``param`` up to ``of`` (default: the loss)."""
    g = net.span_graph(param)  # on a wide network, only what the parameter feeds
    between = {param} | descendants(g, param)
    if of is not None and (of != net.loss or net.is_graph):
        between &= {of} | ancestors(g, of)
    edges = {f"{u}->{v}" for u, v in g.edges(between) if v in between}
    # Where the weights are not drawn (too many lines), a weight's own line stands for it.
    edges.update(
        f"{s}->{d}" for s, d in net.weight_edges.get(param, ()) if f"{param}->{d}" not in drawn
    )
    return sorted(edges & drawn)


def _edge_lines(net: Network, edges: list, by_id: dict, px: Any, lit: Any, grads: dict, swept: Any):
    """Return the edges drawn: lines, weight labels, the hooks shown, the parameters drawn, where
    their labels are, and each line from node to node in pixels (where the values go)."""
    lines, labels, shown = [], [], set()
    params: list[str] = []
    pills: list[tuple[str, float, float]] = []
    spans = []  # the lines from node to node, in pixels: where the forward values go
    for e in edges:
        a, b = by_id[e["a"]], by_id[e["b"]]
        bend = e.get("bend", 0)
        c = [px(*q) for q in curve((a["x"], a["y"]), (b["x"], b["y"]), bend)] if bend else None
        if not e["bias"]:
            edge = f"{e['src']}->{e['dst']}"
            shown.add(edge)
            if c:
                lines.append(_path(edge, c, lit, "edge"))
                spans.append((e["src"], [px(*q) for q in edge_line(a, b, bend)]))
            else:
                lines.append(_line(edge, *px(a), *px(b), lit, "edge"))
                spans.append((e["src"], [px(a), px(b)]))
        if e["tex"] or e["bias"]:
            param = e["weight"] or a["name"]
            if e["bias"]:
                cx, cy = px(a)
            else:  # where place_labels found room: on the drawn arrow, border to border
                (p0, p1) = label_line(edge_line(a, b, bend), e["pos"])
                cx, cy = px((p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2)
            shown.add(f"{param}->{e['dst']}")
            kind = "wedge bias" if e["bias"] else "wedge"
            if c:
                lines.append(_path(f"{param}->{e['dst']}", _tail(c, (cx, cy)), lit, kind))
            else:
                lines.append(_line(f"{param}->{e['dst']}", cx, cy, *px(b), lit, kind))
            labels.append(_pill(param, label(net, param), cx, cy, grads, swept))
            pills.append((param, cx, cy))  # every label drawn (a tied weight's on each line)
            if param not in params:
                params.append(param)
    return lines, labels, shown, params, pills, spans


def _tail(c: list, at: tuple[float, float]) -> list:
    """Return the part of Bézier ``c`` from its point nearest ``at`` to its end (de Casteljau)."""
    t = min((i / 200 for i in range(201)), key=lambda t: math.dist(on_curve(c, t), at))
    p0, p1, p2, p3 = c
    lerp = lambda p, q: (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))  # noqa: E731
    q1, q2 = lerp(p1, p2), lerp(p2, p3)
    r1 = lerp(lerp(p0, p1), q1)
    r2 = lerp(q1, q2)
    return [lerp(r1, r2), r2, q2, p3]


def _path(edge: str, c: list, lit: Any, cls: str) -> str:
    on = " on" if edge in lit else ""
    (ax, ay), (bx, by), (cx, cy), (dx, dy) = c
    return (
        f'<path class="{cls}{on}" data-edge="{esc(edge)}" '
        f'd="M{ax:.1f} {ay:.1f}C{bx:.1f} {by:.1f} {cx:.1f} {cy:.1f} {dx:.1f} {dy:.1f}"/>'
    )


def _line(edge: str, ax: float, ay: float, bx: float, by: float, lit: Any, cls: str) -> str:
    on = " on" if edge in lit else ""
    return (
        f'<line class="{cls}{on}" data-edge="{esc(edge)}" x1="{ax}" y1="{ay}" x2="{bx}" y2="{by}"/>'
    )


def _pill(name: str, label: str, cx: float, cy: float, grads: dict, swept: Any) -> str:
    w = 9 + 8 * len(label)
    on = " swept" if name in swept else ""
    return (
        f'<g class="param{on}" data-node="{esc(name)}"><rect x="{cx - w / 2:.1f}" '
        f'y="{cy - 9}" width="{w}" height="18" rx="9"/><text x="{cx}" y="{cy + 4.5}">'
        f'{esc(label)}</text><text class="grad side" data-grad="{esc(name)}" x="{cx + w / 2 + 3:.1f}" '
        f'y="{cy + 4}">{esc(grads.get(name, ""))}</text></g>'
    )


def _circle(
    n: dict, label: str, x: float, y: float, marks: tuple, forward: Any, formula: str, texts: list
) -> str:
    """Return a node: its shape and name; its value and dL/dv too where no edge leaves it."""
    from derive.words import num

    name, (grads, done, own, aside) = n["name"], marks
    swept = " swept" if name in done else ""
    shape = (
        f'<rect x="{x - 21}" y="{y - 21}" width="42" height="42" rx="6"/>'
        if n["kind"] == "loss"
        else f'<circle cx="{x}" cy="{y}" r="{18 if n["kind"] == "target" else 23}"/>'
    )
    value = grad = ""
    above, under = (y + 40, y + 55) if n.get("below") else (y - 29, y + 40)
    tx = x + 52 if aside else x  # beside the node, clear of the line down from it
    if aside:
        above, under = y - 3, y + 12
    if own and forward is not None and name in forward:
        value = (
            f'<text class="fwd" data-value="{esc(name)}" x="{tx}" y="{above}">'
            f"{num(forward[name])}</text>"
        )
        texts.append(("fwd", name, tx, above - 4, num(forward[name])))
    if own:
        texts.append(("grad", name, tx, under - 4, grads.get(name, "")))
        grad = (
            f'<text class="grad" data-grad="{esc(name)}" x="{tx}" y="{under}">'
            f"{esc(grads.get(name, ''))}</text>"
        )
    title = f"<title>{esc(name)} = {esc(formula)}</title>" if formula else ""
    return (
        f'<g class="node {esc(n["kind"])}{swept}" data-node="{esc(name)}">{title}{shape}'
        f'<text x="{x}" y="{y + 5}">{esc(label)}</text>{value}{grad}</g>'
    )


# A standalone drawing's colours (the page sets them as CSS variables; a file sets its own):
# light by default, dark where the reader's scheme is (GitHub's dark theme).
FILE_COLOURS = (
    "svg.net { --fg: #1b1b1f; --bg: #fdfdfc; --line: #9a9aa6; --node: #ffffff; --soft: #eef2f8;"
    " --muted: #5b5b66; --swept: #2a7d4f; --on: #d1495b; font-family: sans-serif; }\n"
    "@media (prefers-color-scheme: dark) { svg.net { --fg: #e6e6ea; --bg: #0d1117;"
    " --line: #8b8b98; --node: #161b22; --soft: #1f2630; --muted: #a8a8b3; --swept: #56d38a;"
    " --on: #ff6b7d; } }\n"
)


def standalone(drawing: Drawing) -> str:
    """Return a drawing as an SVG document of its own: xmlns, its style inline, no script.

    >>> from derive.graph import load_network
    >>> doc = standalone(draw(load_network("simple")))
    >>> doc.startswith('<svg xmlns="http://www.w3.org/2000/svg"'), "<script" in doc
    (True, False)
    """
    from derive.data import data_dir

    css = (data_dir("templates") / "notes_page_svg.css.j2").read_text(encoding="utf-8")
    css = css.replace("system-ui, sans-serif", "sans-serif")  # generic families only
    head, rest = drawing.svg.split(">", 1)
    head = head.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return f"{head}><style>{FILE_COLOURS}{css}</style>{rest}\n"
