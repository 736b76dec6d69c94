"""The network diagram: nodes placed in columns, weight labels no line crosses, highlights.

LaTeX draws it with TikZ from the :class:`Diagram` of :func:`diagram`; Markdown links the
same figure as an SVG file (``pic.file``), drawn by :mod:`derive.notes.svg` as the HTML
page draws it (:mod:`derive.notes.figures`). Names are drawn in the network's own
notation (its ``latex:`` names: TeX for TikZ, the same in Unicode for SVG and Mermaid).
A softmax layer's pre-activations are drawn as nodes, each joined to every
output, so that a highlighted path can be followed through the coupling; a
network with a layer of more than :data:`WIDE` nodes is drawn as one block per
layer.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from derive.expand import Derivative
from derive.graph import Network
from derive.rules import ACTIVATIONS

# A layer of more nodes than this makes the whole network a row of layer blocks.
WIDE = 8


@dataclass
class Diagram:
    """A drawing of the network: nodes placed in columns, edges, and what is highlighted.

    Each node has ``id``, ``name`` (the file's), ``tex`` (its TeX), ``label`` (plain Unicode
    text, lines split by ``\n``; each language escapes it, Mermaid with its filter ``mermaid``), ``tikz`` (the TikZ node's text), ``kind``, ``x``, ``y`` and ``on``; each
    edge ``a``, ``b`` (node ids), ``src``, ``dst``, ``weight``, ``tex`` and ``label`` (its
    weight label, empty for none), ``kind``, ``index``, ``pos`` and ``on``.
    """

    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    on_nodes: list[str] = field(default_factory=list)
    on_edges: list[int] = field(default_factory=list)
    blocks: bool = False
    # Markdown's figure: the SVG file beside the note (derive.notes.figures draws it) and
    # the image's alt text; a derivative's diagram has its parameter and what it differentiates.
    file: str = ""
    alt: str = ""
    net: Any = None
    wrt: str = ""
    of: str = ""

    @property
    def width(self) -> float:
        """Return how wide the drawing is in TikZ units (node centres, plus a node)."""
        xs = [n["x"] for n in self.nodes]
        return max(xs) - min(xs) + 1 if xs else 0.0


def describe(net: Network) -> str:
    """Return what a drawing of the network shows, in words (its SVG's label, its image's alt).

    >>> from derive.graph import load_network
    >>> describe(load_network("simple"))
    'The network simple: 3 inputs, layers of 1, 1'
    """
    if not net.layers:
        return f"The graph {net.name}: {len(net.formulas)} formula nodes, output {net.output}"
    return f"The network {net.name}: {len(net.inputs)} inputs, layers of " + ", ".join(
        str(len(layer)) for layer in net.layers
    )


def is_wide(net: Network) -> bool:
    """Return whether the network is drawn as layer blocks: a layer has more than WIDE nodes."""
    return max(len(names) for names in [net.inputs, *net.layers, net.targets]) > WIDE


# -- Unicode names, for SVG and Mermaid ----------------------------------------------------

_SUP = dict(
    zip(
        "0123456789+−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ",
        strict=True,
    )
)
_SUB = dict(
    zip("0123456789+−=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True)
)
_GREEK = {
    g: chr(0x3B1 + i)
    for i, g in enumerate(
        "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi"
        " rho varsigma sigma tau upsilon phi chi psi omega".split()
    )
}
_GREEK.update({g.capitalize(): chr(0x391 + i) for i, g in enumerate(_GREEK) if g != "varsigma"})
_ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304", "vec": "\u20d7", "dot": "\u0307"}
_PLAIN = {"mathrm", "text", "mathit", "mathbf", "operatorname", "boldsymbol"}
_SYMBOLS = {"ell": "ℓ", "prime": "′", "cdot": "·", "times": "×", "ldots": "…", "dots": "…"}


class _NotPlain(ValueError):
    """The TeX has something the Unicode reading does not know."""


def unicode_name(tex: str) -> str | None:
    """Return a name's TeX as Unicode text (``a^{(L-1)}`` is ``a⁽ᴸ⁻¹⁾``), or None if it can't.

    A sub- or superscript with a character Unicode has no small form of is written
    out: ``x_{b}`` is ``x_b``, ``a^{(Q)}`` is ``a^(Q)``.

    >>> unicode_name("w_{jk}^{(L)}"), unicode_name(r"\\hat{y}_{2}"), unicode_name("C_{0}")
    ('wⱼₖ⁽ᴸ⁾', 'ŷ₂', 'C₀')
    >>> unicode_name(r"\\frac{a}{b}") is None
    True
    """
    try:
        text, rest = _read(tex.replace(" ", ""), 0)
    except _NotPlain:
        return None
    # Precomposed where Unicode has it (y and a combining hat are ŷ).
    return unicodedata.normalize("NFC", text) if rest == len(tex.replace(" ", "")) else None


def _read(tex: str, i: int, stop: str = "") -> tuple[str, int]:
    """Read TeX from ``i`` up to ``stop`` (or the end); return its text and where it ended."""
    out = ""
    while i < len(tex) and tex[i] != stop:
        c = tex[i]
        if c in "_^":
            script, i = _atom(tex, i + 1)
            table = _SUB if c == "_" else _SUP
            small = "".join(table.get(ch, "") for ch in script)
            if len(small) == len(script) and script:
                out += small
            else:
                out += c + (script if len(script) == 1 or script.startswith("(") else f"({script})")
            continue
        text, i = _atom(tex, i)
        out += text
    return out, i


def _atom(tex: str, i: int) -> tuple[str, int]:
    """Read one character, command or braced group at ``i``."""
    if i >= len(tex):
        raise _NotPlain(tex)
    c = tex[i]
    if c == "{":
        text, end = _read(tex, i + 1, "}")
        if end >= len(tex):
            raise _NotPlain(tex)
        return text, end + 1
    if c == "\\":
        j = i + 1
        while j < len(tex) and tex[j].isalpha():
            j += 1
        command = tex[i + 1 : j]
        if command in _GREEK:
            return _GREEK[command], j
        if command in _SYMBOLS:
            return _SYMBOLS[command], j
        if command in _ACCENTS or command in _PLAIN:
            text, end = _atom(tex, j)
            return (text + _ACCENTS[command] if command in _ACCENTS else text), end
        raise _NotPlain(command)
    if c in "}&$%#~":
        raise _NotPlain(c)
    return ("−" if c == "-" else c), i + 1


def _label(net: Network, name: str) -> str:
    """Return a name as Mermaid shows it: its TeX in Unicode, else the file's name."""
    return unicode_name(net.latex_names[name]) or name


# -- layout ---------------------------------------------------------------------------


def _node(name: str, kind: str, tex: str, label: str, x: float, y: float) -> dict[str, Any]:
    return {
        "id": "",
        "name": name,
        "tex": tex,
        "label": label,
        "tikz": rf"\({tex}\)",
        "kind": kind,
        "x": round(x, 2),
        "y": round(y, 2),
        "on": False,
    }


def _edge(a: dict, b: dict, kind: str, weight: str = "", tex: str = "", label: str = "") -> dict:
    return {
        "a": a["id"],
        "b": b["id"],
        "src": a["name"],
        "dst": b["name"],
        "weight": weight,
        "tex": tex,
        "label": label,
        "below": "",
        "kind": kind,
        "on": False,
        "pos": 0.5,
    }


def _softmax(net: Network, layer: list[str]) -> bool:
    return ACTIVATIONS[net.neurons[layer[0]].activation].couples and len(layer) > 1


@functools.lru_cache(maxsize=8)
def _layout(net: Network) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
    """Return the network's drawn nodes and edges, labels placed: the same for every weight."""
    nodes, edges = _blocks(net) if is_wide(net) else _neurons(net)
    for i, node in enumerate(nodes):
        node["id"] = f"n{i}"
    by_name = {node["name"]: node for node in nodes}
    for e in edges:
        e["a"], e["b"] = by_name[e["src"]]["id"], by_name[e["dst"]]["id"]
    for i, e in enumerate(edges):
        e["index"] = i
    if not is_wide(net):
        route(nodes, edges)
        place_labels(nodes, edges)
    return tuple(nodes), tuple(edges)


def _neurons(net: Network) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every node drawn: inputs, neurons (a softmax layer's z's too), biases, targets, loss."""
    t = net.latex_names
    # A softmax layer gets a column of its z's just before it: the coupling is drawn.
    columns: list[tuple[str, list[str]]] = [("input", net.inputs)]
    for layer in net.layers:
        if _softmax(net, layer):
            columns.append(("preact", [net.neurons[n].preact for n in layer]))
        columns.append(("neuron", layer))
    columns.append(("loss", [net.loss]))
    nodes: list[dict[str, Any]] = []
    at: dict[str, dict[str, Any]] = {}

    def add(name: str, kind: str, x: float, y: float) -> None:
        at[name] = _node(name, kind, t[name], _label(net, name), x, y)
        nodes.append(at[name])

    # Names with superscripts (a^{(L-1)}) are wide, and biases sit above their neuron: more room.
    wide = any("^" in t[n] for _, names in columns for n in names)
    dx, dy = (4.2 if wide else 3.0), (2.2 if wide or net.biases else 1.7)
    x = 0.0
    for col, (kind, names) in enumerate(columns):
        if col:
            # The coupling fan needs less room than a column of labelled weights.
            x += dx * (0.7 if kind == "neuron" and columns[col - 1][0] == "preact" else 1.0)
        for row, name in enumerate(names):
            add(name, kind, x, dy * ((len(names) - 1) / 2 - row))
    loss_x = x
    bottom = min(node["y"] for node in nodes if node["x"] >= loss_x - dx) - 1.3
    for row, y in enumerate(net.targets):
        add(y, "target", loss_x + 1.1 * (row - (len(net.targets) - 1) / 2), min(-1.4, bottom))
    for b, n in net.biases.items():
        owner = at[net.neurons[n].preact] if net.neurons[n].preact in at else at[n]
        add(b, "bias", owner["x"], owner["y"] + 0.95)

    edges: list[dict[str, Any]] = []

    def into(n: str) -> dict[str, Any]:  # where a neuron's inputs arrive: its z, if drawn
        return at.get(net.neurons[n].preact, at[n])

    for w, pairs in net.weight_edges.items():
        for src, dst in pairs:
            edges.append(_edge(at[src], into(dst), "weight", w, t[w], _label(net, w)))
    edges.sort(key=lambda e: (net.rank(e["dst"]), net.rank(e["src"])))
    for b, n in net.biases.items():
        edges.append(_edge(at[b], into(n), "bias"))
    for layer in net.layers:
        if _softmax(net, layer):
            edges += [
                _edge(at[net.neurons[j].preact], at[k], "coupling") for j in layer for k in layer
            ]
    for name in [*net.outputs, *net.targets]:
        edges.append(_edge(at[name], at[net.loss], "loss"))
    return nodes, edges


def _blocks(net: Network) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One block per layer ("784 inputs", "100 relu"), joined by arrows labelled W^(l)."""
    t = net.latex_names
    layers = [net.inputs, *net.layers]
    nodes: list[dict[str, Any]] = []
    block_of: dict[str, str] = {}
    dx = 4.0

    def add(members: list[str], kind: str, words: str, x: float, y: float) -> dict[str, Any]:
        first, last = members[0], members[-1]
        tex = t[first] if len(members) == 1 else rf"{t[first]} \ldots {t[last]}"
        label = _label(net, first) + ("" if len(members) == 1 else f" … {_label(net, last)}")
        node = _node(f"block{len(nodes)}", kind, tex, f"{label}\n{words}", x, y)
        node["tikz"] = rf"\({tex}\)\\{words}"
        node["members"] = members
        nodes.append(node)
        block_of.update((m, node["name"]) for m in members)
        return node

    def many(n: int, word: str, plural: str = "s") -> str:
        return f"{n} {word}{plural * (n > 1)}"

    add(net.inputs, "input block", many(len(net.inputs), "input"), 0, 0)
    for k, names in enumerate(net.layers, 1):
        add(names, "block", f"{len(names)} {net.neurons[names[0]].activation}", dx * k, 0)
    loss = add([net.loss], "loss", "loss", dx * len(layers) - 1.6, 0)
    loss["tikz"], loss["label"] = rf"\({t[net.loss]}\)", _label(net, net.loss)
    add(net.targets, "target block", many(len(net.targets), "target"), loss["x"], -2.0)
    for k, names in enumerate(net.layers, 1):
        biases = list(dict.fromkeys(net.neurons[n].bias for n in names if net.neurons[n].bias))
        if biases:
            add(biases, "bias block", many(len(biases), "bias", "es"), dx * k - 1.6, 1.9)
    by_name = {node["name"]: node for node in nodes}

    edges: list[dict[str, Any]] = []
    joins: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for w, pairs in net.weight_edges.items():
        for src, dst in pairs:
            joins.setdefault((block_of[src], block_of[dst]), []).append((src, dst, w))
    for (a, b), under in joins.items():
        weights = {w for _, _, w in under}
        sources, dests = by_name[a]["members"], by_name[b]["members"]
        full = len(weights) == len(under) == len(sources) * len(dests)
        k = layers.index(dests)
        if full and layers.index(sources) == k - 1:
            tex, shape = rf"W^{{({k})}}", rf"{len(dests)} \times {len(sources)}"
            label = f"W{''.join(_SUP[c] for c in f'({k})')} {len(dests)}×{len(sources)}"
        else:
            label = many(len(weights), "weight")
            tex, shape = rf"{len(weights)}", r"\text{weight" + "s" * (len(weights) > 1) + "}"
        e = _edge(by_name[a], by_name[b], "block", "", tex, label)
        e["below"] = shape  # TikZ writes the shape under the arrow, the matrix over it
        e["under"] = under
        edges.append(e)
    for node in nodes:
        if node["kind"] == "bias block":
            owner = block_of[net.biases[node["members"][0]]]
            e = _edge(node, by_name[owner], "bias")
            e["under"] = [(b, net.biases[b], "") for b in node["members"]]
            edges.append(e)
    last = by_name[block_of[net.outputs[0]]]
    for source in (last, by_name[block_of[net.targets[0]]]):
        e = _edge(source, loss, "loss")
        e["under"] = [(m, net.loss, "") for m in source["members"]]
        edges.append(e)
    return nodes, edges


# -- highlighting ---------------------------------------------------------------------


def diagram(net: Network, d: Derivative | None = None) -> Diagram:
    """Return the network's diagram; with ``d``, the edges and nodes of its paths highlighted.

    An edge is highlighted when the dependence of ``d.of`` on ``d.wrt`` runs along it,
    which is exact without listing a single path: it ends at a node of ``d.nodes`` (the
    nodes between the two) and starts at one, or carries the weight ``d.wrt``.
    """
    base_nodes, base_edges = _layout(net)
    # The layout is the network's; each diagram only highlights, on its own copies.
    nodes = [dict(node) for node in base_nodes]
    edges = [dict(e) for e in base_edges]
    pic = Diagram(nodes, edges, blocks=is_wide(net), net=net)
    pic.file, pic.alt = f"{net.name}.network.svg", describe(net)
    if d is not None:
        pic.wrt, pic.of, pic.file = d.wrt, d.of, f"{net.name}.{d.wrt}.svg"
        pic.alt = f"The paths from {d.wrt} to {d.of} in the network {net.name}, highlighted"
    if d is None or d.is_zero:
        return pic
    inside = set(d.nodes)
    # A softmax z lies on a path when an argument of it does and an output of its layer does.
    for n, neuron in net.neurons.items():
        if not ACTIVATIONS[neuron.activation].couples:
            continue
        if any(a in inside for a in net.args(n)) and any(k in inside for k in net.group(n)):
            inside.add(neuron.preact)

    def on(src: str, dst: str, weight: str = "") -> bool:
        return dst in inside and (src in inside or weight in inside)

    for node in nodes:
        node["on"] = any(m in inside for m in node.get("members", [node["name"]]))
    for e in edges:
        if "under" in e:
            e["on"] = any(on(*u) for u in e["under"])
        else:
            e["on"] = on(e["src"], e["dst"], e["weight"])
    pic.on_nodes = [node["id"] for node in nodes if node["on"]]
    pic.on_edges = [e["index"] for e in edges if e["on"]]
    return pic


# -- label placement (TikZ) -----------------------------------------------------------

# Sizes in the TikZ picture, in cm: half a weight label's length and height, and how far
# a node reaches from its centre (TikZ draws an arrow from border to border).
LABEL_HALF = (0.4, 0.19)  # \small labels: about 6.5 pt once the picture is drawn at 0.72
NODE_REACH = {
    "input": 0.45,
    "neuron": 0.45,
    "preact": 0.35,
    "loss": 0.4,
    "target": 0.35,
    "bias": 0.2,
    "block": 1.25,
    "input block": 1.25,
    "target block": 0.9,
    "bias block": 0.9,
}
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


# How far TikZ puts a curve's control points from its ends, per unit of the chord (looseness 1).
CONTROL = 0.3915
# The bends an edge that would run through a node may take (TikZ's bend left, in degrees).
BENDS = (22, -22, 32, -32, 45, -45)


def curve(a: Point, b: Point, bend: float) -> tuple[Point, Point, Point, Point]:
    """Return the cubic Bézier TikZ draws for ``(a) to[bend left=bend] (b)`` (negative: right):
    it leaves ``a`` turned ``bend`` degrees off the chord and enters ``b`` symmetrically."""
    (ax, ay), (bx, by) = a, b
    k = CONTROL * math.hypot(bx - ax, by - ay)
    phi = math.atan2(by - ay, bx - ax)
    t = math.radians(bend)
    c1 = (ax + k * math.cos(phi + t), ay + k * math.sin(phi + t))
    c2 = (bx - k * math.cos(phi - t), by - k * math.sin(phi - t))
    return a, c1, c2, b


def on_curve(c: tuple[Point, Point, Point, Point], t: float) -> Point:
    """Return the point of Bézier ``c`` at parameter ``t`` (TikZ's ``pos``)."""
    u = 1 - t
    w = (u**3, 3 * u * u * t, 3 * u * t * t, t**3)
    return sum(k * p[0] for k, p in zip(w, c, strict=True)), sum(
        k * p[1] for k, p in zip(w, c, strict=True)
    )


def edge_line(a: dict[str, Any], b: dict[str, Any], bend: float = 0) -> list[Point]:
    """Return the drawn edge from node ``a`` to node ``b`` as a polyline, border to border."""
    if not bend:
        return list(drawn_arrow(a, b))
    c = curve((a["x"], a["y"]), (b["x"], b["y"]), bend)
    points = [on_curve(c, i / 24) for i in range(25)]
    return [
        p
        for p in points
        if math.hypot(p[0] - a["x"], p[1] - a["y"]) >= _reach(a)
        and math.hypot(p[0] - b["x"], p[1] - b["y"]) >= _reach(b)
    ] or list(drawn_arrow(a, b))


def _segments(line: list[Point]) -> list[tuple[Point, Point]]:
    return list(pairwise(line))


def _blocked(line: list[Point], ends: tuple[str, str], nodes: list[dict[str, Any]]) -> float:
    """Return how far the line keeps from the nodes it does not join (negative: through one)."""
    segments = _segments(line)
    return min(
        (
            min(_segment_distance((n["x"], n["y"]), *seg) for seg in segments) - _reach(n) - 0.15
            for n in nodes
            if n["id"] not in ends
        ),
        default=9.0,
    )


def route(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> None:
    """Set each edge's ``bend``: 0 for a straight line, else the first of :data:`BENDS` that
    keeps it off every node it does not join (a skip edge drawn straight ran through the
    nodes between, and through their bias labels)."""
    by_id = {n["id"]: n for n in nodes}
    for e in edges:
        a, b = by_id[e["a"]], by_id[e["b"]]
        e["bend"] = 0
        if _blocked(edge_line(a, b), (a["id"], b["id"]), nodes) >= 0:
            continue

        def room(bend: float, a: dict = a, b: dict = b) -> float:
            return _blocked(edge_line(a, b, bend), (a["id"], b["id"]), nodes)

        e["bend"] = next((x for x in BENDS if room(x) >= 0), max(BENDS, key=room))


def at_length(line: list[Point], pos: float) -> tuple[Point, Point, float]:
    """Return the segment of a polyline that holds ``pos`` of its length, and how far along
    that segment the point lies."""
    segments = _segments(line)
    lengths = [math.dist(p, q) for p, q in segments]
    goal = pos * sum(lengths)
    i = 0
    while i < len(segments) - 1 and goal > lengths[i]:
        goal -= lengths[i]
        i += 1
    return *segments[i], goal


def label_line(arrow: list[Point], pos: float) -> tuple[Point, Point]:
    """Return the segment a weight label at ``pos`` covers along its (sloped) arrow: a
    straight one's two ends, or a curve's points, at ``pos`` of their length."""
    (ax, ay), (bx, by), goal = at_length(arrow, pos)
    length = math.dist((ax, ay), (bx, by)) or 1.0
    ux, uy = (bx - ax) / length, (by - ay) / length
    cx, cy = ax + goal * ux, ay + goal * uy
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
    arrows = [edge_line(by_id[e["a"]], by_id[e["b"]], e.get("bend", 0)) for e in edges]
    placed: list[tuple[Point, Point]] = []
    for i, e in enumerate(edges):
        e["pos"] = LABEL_POS[0]
        if not e["tex"]:
            continue
        others = [seg for j, arrow in enumerate(arrows) if j != i for seg in _segments(arrow)]
        others += placed

        def room(pos: float, i: int = i, others: list = others) -> float:
            return label_clearance(label_line(arrows[i], pos), others, nodes)

        e["pos"] = next((pos for pos in LABEL_POS if room(pos) > 0.04), max(LABEL_POS, key=room))
        # A label is a thick line: another label must keep its half-height from it, too.
        (ax, ay), (bx, by) = label_line(arrows[i], e["pos"])
        placed.append(((ax, ay), (bx, by)))
