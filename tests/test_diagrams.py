"""The network diagrams: what is drawn, what is highlighted, and that a browser and pdflatex
render them."""

import re
import xml.etree.ElementTree as ET
from functools import cache
from itertools import pairwise
from pathlib import Path

import networkx as nx
import pytest
from conftest import graph_networks, small_networks
from randomnets import seeded_files
from renderers import ROOT, render_markdown, render_mermaid, tikz_bend
from test_page import chromium  # noqa: F401 (the session's browser)

from derive.expand import derive
from derive.graph import load_network
from derive.notes.diagram import WIDE, diagram, unicode_name
from derive.printing.document import environment
from derive.printing.network import mermaid as jupyter_mermaid

GRAPHS = graph_networks()
NETWORKS = small_networks()  # mnist.yaml's 79,510 parameters are tested on their own


def wide_yaml(inputs: int = 12, hidden: int = 10, outputs: int = 3) -> str:
    """A network with listed names, too wide to draw neuron by neuron (one layer > WIDE)."""
    xs = ", ".join(f"x{i}" for i in range(1, inputs + 1))
    hs = ", ".join(f"h{i}" for i in range(1, hidden + 1))
    os_ = ", ".join(f"O{i}" for i in range(1, outputs + 1))
    return (
        f"name: wide\nlayers:\n  - inputs: [{xs}]\n  - neurons: [{hs}]\n    activation: relu\n"
        f"    bias: true\n  - neurons: [{os_}]\n    activation: softmax\n"
        "loss:\n  kind: cross_entropy\n"
    )


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    path = tmp_path_factory.mktemp("nets") / "wide.yaml"
    path.write_text(wide_yaml())
    return load_network(path)


@cache
def macros():
    env = environment()
    return (
        env.get_template("notes_mermaid.md.j2").module.mermaid,
        env.get_template("notes_tikz.tex.j2").module.tikz,
    )


def mermaid(pic) -> str:
    """The Mermaid block the notes print for a diagram, fences stripped."""
    return fences_off(macros()[0](pic))


def tikz(pic) -> str:
    return macros()[1](pic)


# --- reading a Mermaid flowchart back -------------------------------------------------------

NODE = re.compile(r'^  (n\d+)(?:\(\(|\(|\[)"([^"]*)"(?:\)\)|\)|\])$', re.M)
EDGE = re.compile(r'^  (n\d+) (?:-- "([^"]*)" -->|-\.->|-->) (n\d+)$', re.M)


def drawn(block: str):
    """The node labels, the edges (from, to, label) in order, and the highlighted ones."""
    labels = dict(NODE.findall(block))
    edges = [(a, b, label) for a, label, b in EDGE.findall(block)]
    styled = re.search(r"linkStyle ([\d,]+) ", block)
    on_edges = {edges[int(i)] for i in styled.group(1).split(",")} if styled else set()
    on = re.search(r"^  class ([\w,]+) on$", block, re.M)
    on_nodes = set(on.group(1).split(",")) if on else set()
    return labels, edges, on_edges, on_nodes


def expected_on(net, pic, paths) -> tuple[set, set]:
    """The drawn edges and nodes the paths run along, from the network and the paths alone.

    A path is a list of names from the loss down to the parameter. A step from a neuron to
    what it depends on runs, in the drawing, into the neuron (or, for softmax, into the z
    of the neuron in its layer whose formula holds the lower name, then along the coupling
    edge from that z to the neuron).
    """
    ids = {n["name"]: n["id"] for n in pic.nodes}
    for n in pic.nodes:
        for m in n.get("members", []):
            ids[m] = n["id"]
    drawn_z = {n["name"] for n in pic.nodes if n["kind"] == "preact"}
    edges, nodes = set(), set()
    for path in paths:
        nodes |= {ids[name] for name in path if name in ids}
        for top, bottom in zip(path, path[1:], strict=False):
            if top == net.loss:
                edges.add((ids[bottom], ids[top]))
                continue
            for k in net.group(top):
                neuron = net.neurons[k]
                feeds = [s for s, w in neuron.inputs if bottom in (s, w)]
                if neuron.bias == bottom:
                    feeds.append(bottom)
                if not feeds:
                    continue
                into = neuron.preact if neuron.preact in drawn_z else k
                edges |= {(ids[s], ids[into]) for s in feeds}
                if into != k:
                    edges.add((ids[into], ids[top]))
                    nodes.add(ids[into])
    # Block drawings carry one arrow for a whole layer's weights.
    return {e for e in edges if e[0] != e[1]}, nodes


def highlighted(net, wrt):
    d = derive(net, net.loss, wrt, max_paths=None)
    pic = diagram(net, d)
    _, _, on_edges, on_nodes = drawn(mermaid(pic))
    return {(a, b) for a, b, _ in on_edges}, on_nodes, expected_on(net, pic, d.paths)


@pytest.mark.parametrize("name", NETWORKS)
def test_each_parameters_diagram_highlights_exactly_the_edges_and_nodes_of_its_paths(name):
    net = load_network(name)
    assert drawn(mermaid(diagram(net)))[2:] == (set(), set())
    for wrt in net.parameters:
        edges, nodes, (want_edges, want_nodes) = highlighted(net, wrt)
        assert edges == want_edges, wrt
        assert nodes == want_nodes, wrt


def test_wide_diagram_highlights_the_blocks_a_weights_paths_run_through(wide):
    for wrt in ("W1", "b3", net_last_weight(wide)):
        edges, nodes, (want_edges, want_nodes) = highlighted(wide, wrt)
        assert edges == want_edges, wrt
        assert nodes == want_nodes, wrt


def net_last_weight(net) -> str:
    return net.weights[-1]


def test_mermaid_text_draws_every_edge_of_the_diagram_in_order():
    net = load_network("softmax")
    pic = diagram(net)
    labels, edges, _, _ = drawn(mermaid(pic))
    assert len(labels) == len(pic.nodes)
    assert [(a, b) for a, b, _ in edges] == [(e["a"], e["b"]) for e in pic.edges]


# --- softmax: the coupling is drawn ----------------------------------------------------------


def test_softmax_layer_draws_each_z_feeding_every_output():
    net = load_network("softmax")
    pic = diagram(net)
    name = {n["id"]: n["name"] for n in pic.nodes}
    coupling = {(name[e["a"]], name[e["b"]]) for e in pic.edges if e["kind"] == "coupling"}
    assert coupling == {(z, o) for z in ("z1", "z2", "z3") for o in ("O1", "O2", "O3")}
    # The weights and biases of the softmax layer arrive at its z's, not at its outputs.
    into = {name[e["b"]] for e in pic.edges if e["weight"] in ("W5", "W10") or e["src"] == "b3"}
    assert into == {"z1", "z3"}


def test_softmax_weight_highlights_its_z_and_the_coupling_to_every_output():
    net = load_network("softmax")
    pic = diagram(net, derive(net, net.loss, "W5"))
    on = {(e["src"], e["dst"]) for e in pic.edges if e["on"]}
    assert on == {("h1", "z1"), ("z1", "O1"), ("z1", "O2"), ("z1", "O3")} | {
        (o, "L") for o in ("O1", "O2", "O3")
    }


# --- labels in the note's own notation -------------------------------------------------------


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        ("a^{(L-1)}", "a⁽ᴸ⁻¹⁾"),
        ("w_{01}^{(L)}", "w₀₁⁽ᴸ⁾"),
        ("a^{(1)}_{12}", "a⁽¹⁾₁₂"),
        ("C_{0}", "C₀"),
        ("O_{11}", "O₁₁"),
        (r"\hat{y}", "ŷ"),
        (r"\sigma_{2}", "σ₂"),
        ("x_{b}", "x_b"),  # no subscript b in Unicode
        ("a^{(Q)}", "a^(Q)"),
        (r"\mathrm{out}", "out"),
    ],
)
def test_unicode_name_reads_tex_names(tex, text):
    assert unicode_name(tex) == text


@pytest.mark.parametrize("tex", [r"\frac{a}{b}", "x_{", r"\unknown{x}", "a}b"])
def test_unicode_name_gives_up_on_what_it_cannot_read(tex):
    assert unicode_name(tex) is None


@pytest.mark.parametrize(
    ("name", "mermaid_labels", "tex_labels"),
    [
        (
            "chain_3b1b",
            {"a⁽ᴸ⁻¹⁾", "a⁽ᴸ⁾", "b⁽ᴸ⁾", "C₀", "w⁽ᴸ⁾", "w⁽ᴸ⁻¹⁾"},
            {"a^{(L-1)}", "w^{(L)}", "b^{(L)}", "C_{0}"},
        ),
        (
            "multi_3b1b",
            {"a₀⁽ᴸ⁻¹⁾", "a₁⁽ᴸ⁾", "w₀₁⁽ᴸ⁾", "w₁₀⁽ᴸ⁻¹⁾", "C₀", "y₀"},
            {"a_{0}^{(L-1)}", "w_{01}^{(L)}"},
        ),
        ("two_hidden", {"x₁", "O₁₁", "O₃₁", "W₁₂", "L", "y"}, {"O_{11}", "W_{12}"}),
    ],
)
def test_labels_are_the_notes_notation_not_file_names(name, mermaid_labels, tex_labels):
    net = load_network(name)
    pic = diagram(net)
    labels, edges, _, _ = drawn(mermaid(pic))
    shown = set(labels.values()) | {label for _, _, label in edges if label}
    assert mermaid_labels <= shown
    assert not shown & (set(net.names) - {"L", "y"}), "a file name is drawn"
    picture = tikz(pic)
    assert all(rf"{{\({t}\)}}" in picture for t in tex_labels)


# --- wide networks: layer blocks ----------------------------------------------------------


def test_wide_network_is_drawn_as_one_block_per_layer(wide):
    pic = diagram(wide)
    assert pic.blocks
    labels, edges, _, _ = drawn(mermaid(pic))
    assert sorted(labels.values()) == sorted(
        [
            "x₁ … x₁₂<br/>12 inputs",
            "h₁ … h₁₀<br/>10 relu",
            "O₁ … O₃<br/>3 softmax",
            "b₁ … b₁₀<br/>10 biases",
            "y₁ … y₃<br/>3 targets",
            "L",
        ]
    )
    assert {label for _, _, label in edges if label} == {"W⁽¹⁾ 10×12", "W⁽²⁾ 3×10"}
    picture = tikz(pic)
    assert r"{\(W^{(1)}\)} node[blabel, midway, below] {\(10 \times 12\)}" in picture
    assert r"\(h_{1} \ldots h_{10}\)\\10 relu" in picture


def test_a_layer_of_WIDE_neurons_is_still_drawn_neuron_by_neuron(tmp_path):
    path = tmp_path / "eight.yaml"
    path.write_text(wide_yaml(inputs=WIDE, hidden=3, outputs=2))
    pic = diagram(load_network(path))
    assert not pic.blocks
    assert sum(n["kind"] == "input" for n in pic.nodes) == WIDE


def test_partly_connected_layers_are_labelled_with_their_weight_count(tmp_path):
    path = tmp_path / "skip.yaml"
    inputs = ", ".join(f"x{i}" for i in range(1, 11))
    path.write_text(
        f"layers:\n  - inputs: [{inputs}]\n  - neurons: [h1]\n  - neurons: [O1]\n"
        "edges:\n  x1 -> h1: W1\n  x2 -> h1: W2\n  h1 -> O1: W3\n  x3 -> O1: W4\n"
    )
    pic = diagram(load_network(path))
    assert {e["label"] for e in pic.edges if e["label"]} == {"2 weights", "W⁽²⁾ 1×1", "1 weight"}


# --- rendering: a browser for Mermaid, pdflatex for TikZ ----------------------------------


def drawings(net) -> list:
    """The network's diagram, and the ones highlighting its first and its last parameter.

    Highlighted diagrams differ from each other only in which indices the style lines
    name (tested on the text above); a browser renders each kind once, since each
    diagram costs it about a fifth of a second.
    """
    ends = {net.parameters[0], net.parameters[-1]}
    return [diagram(net)] + [diagram(net, derive(net, net.loss, p)) for p in sorted(ends)]


def fences_off(block: str) -> str:
    return block.strip().removeprefix("```mermaid").removesuffix("```").lstrip("\n")


@pytest.mark.browser
def test_the_mermaid_derive_still_writes_renders_in_a_browser(wide):
    """The one Mermaid derive still writes: the diagram a network shows of itself in Jupyter
    (the notes' figures are SVG files, tested below), one browser for all of them."""
    nets = [load_network(name) for name in [*NETWORKS, *GRAPHS]] + [wide]
    blocks = [(f"{net.name} (Jupyter)", fences_off(jupyter_mermaid(net))) for net in nets]
    results = render_mermaid([block for _, block in blocks])
    failed = [
        f"{name}:\n{block}\n{error}"
        for (name, block), error in zip(blocks, results, strict=True)
        if error
    ]
    assert not failed, "\n\n".join(failed)


# --- the Markdown notes' figures: SVG files, the page's drawing ------------------------------

SVG = "{http://www.w3.org/2000/svg}"
IMAGE = re.compile(r"!\[([^\]]+)\]\(([^)\s]+)\)")


def figure_problems(path: Path) -> list[str]:
    """What keeps an SVG file from standing alone (namespace, size, style, nothing external)."""
    root = ET.parse(path).getroot()  # raises on XML that does not parse
    style = "".join(e.text or "" for e in root.iter(f"{SVG}style"))
    problems = [
        f"{path.name}: {what}"
        for what, bad in [
            ("not an svg element in the SVG namespace", root.tag != f"{SVG}svg"),
            ("no viewBox, width or height", not all(map(root.get, ("viewBox", "width", "height")))),
            ("no dark-scheme rule", "prefers-color-scheme: dark" not in style),
            ("a script", any(e.tag == f"{SVG}script" for e in root.iter())),
            ("an external reference", "url(" in style or "@import" in style),
        ]
        if bad
    ]
    problems += [
        f"{path.name}: {e.tag} has {a}" for e in root.iter() for a in e.attrib
        if a.endswith("href") or a.startswith("on")
    ]  # fmt: skip
    families = re.findall(r"font(?:-family)?:\s*([^;}]+)", style)
    generic = {"sans-serif", "serif", "monospace"}
    problems += [
        f"{path.name}: font {f!r}"
        for f in families
        if not {w.strip() for w in re.sub(r"^[\d.]+px\s+", "", f).split(",")} <= generic
    ]
    return problems


def test_every_image_a_markdown_note_links_is_there_and_every_figure_stands_alone():
    output = ROOT / "output"
    linked = {
        target
        for md in output.glob("*.md")
        for alt, target in IMAGE.findall(md.read_text(encoding="utf-8"))
    }
    assert {"two_hidden.network.svg", "two_hidden.W1.svg", "two_hidden.gates.svg"} <= linked
    assert "circuit.gates.svg" in linked and "```mermaid" not in (output / "softmax.md").read_text()
    assert [t for t in linked if not (output / t).is_file()] == []
    figures = sorted(output.glob("*.svg"))
    assert {f.name for f in figures} == linked  # nothing written that no note links
    assert [p for f in figures if "training" not in f.name for p in figure_problems(f)] == []
    # The gate view writes each value above a line leaving its node, its gradient below
    # (CS231n's circuit: x = -2 flows into q, and df/dx = -4).
    flow = ET.parse(output / "circuit.gates.svg").getroot().find(f".//{SVG}g[@data-flow='x']")
    assert [t.text for t in flow] == ["-2.000", "-4.000"]


def path_edges(net, wrt: str) -> set[str]:
    """The edges on a parameter's paths to the loss, found by networkx in a graph built here
    from the network's layers (a softmax output depends on every input of its layer)."""
    from derive.rules import ACTIVATIONS

    g = nx.DiGraph()
    for layer in net.layers:
        for n in layer:
            group = layer if ACTIVATIONS[net.neurons[n].activation].couples else [n]
            for m in group:
                neuron = net.neurons[m]
                g.add_edges_from((x, n) for pair in neuron.inputs for x in pair)
                if neuron.bias:
                    g.add_edge(neuron.bias, n)
    g.add_edges_from((o, net.loss) for o in [*net.outputs, *net.targets])
    return {
        f"{u}->{v}" for path in nx.all_simple_paths(g, wrt, net.loss) for u, v in pairwise(path)
    }


def test_a_weights_figure_lights_exactly_the_edges_of_its_paths():
    output = ROOT / "output"
    checked = 0
    for md in sorted(output.glob("*.md")):
        for _, target in IMAGE.findall(md.read_text(encoding="utf-8")):
            name, wrt, _ = target.split(".")
            if wrt in ("network", "gates", "training"):
                continue
            root = ET.parse(output / target).getroot()
            lines = {e.get("data-edge"): e.get("class").split() for e in root.iter(f"{SVG}line")}
            lit = {edge for edge, cls in lines.items() if "on" in cls}
            want = path_edges(load_network(name), wrt) & set(lines)
            assert lit == want and lit, target
            checked += 1
    assert checked >= 6


@pytest.mark.browser
def test_every_markdown_note_shows_its_images_in_a_browser(chromium, tmp_path):  # noqa: F811
    """Every note of output/, rendered by marked as GitHub would and opened in Chromium
    beside its files: every image it links loads (a broken SVG has no natural width)."""
    output = ROOT / "output"
    notes_md = sorted(output.glob("*.md"))
    pages = render_markdown([md.read_text(encoding="utf-8") for md in notes_md])
    page = chromium.new_page()
    broken, shown = [], 0
    for md, html in zip(notes_md, pages, strict=True):
        doc = tmp_path / f"{md.stem}.html"
        doc.write_text(f'<base href="{output.as_uri()}/">{html}', encoding="utf-8")
        page.goto(doc.as_uri())
        page.wait_for_load_state("load")
        sizes = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.src, i.naturalWidth])")
        broken += [src for src, width in sizes if not width]
        shown += len(sizes)
    page.close()
    assert broken == [] and shown >= 20


def test_wide_diagrams_compile_with_pdflatex(pdflatex, wide, tmp_path):
    """Layer blocks, highlighted or not (the notes' own PDFs compile the other drawings)."""
    pictures = [tikz(pic) for pic in drawings(wide)]
    tex = tmp_path / "diagrams.tex"
    tex.write_text(
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage{tikz}\n"
        "\\begin{document}\n" + "\n".join(pictures) + "\\end{document}\n",
        encoding="utf-8",
    )
    assert pdflatex(tex, tmp_path / "build").read_bytes().startswith(b"%PDF")


def test_mnist_by_counts_is_three_layer_blocks_in_nielsens_letters():
    pic = diagram(load_network("mnist"))
    labels, edges, _, _ = drawn(mermaid(pic))
    assert "a⁽¹⁾₁ … a⁽¹⁾₁₀₀<br/>100 relu" in labels.values()
    assert {label for _, _, label in edges if label} == {"W⁽¹⁾ 100×784", "W⁽²⁾ 10×100"}
    assert len(pic.nodes) == 7  # inputs, two layers, their two bias blocks, targets, loss


# -- no line through a node ------------------------------------------------------------------

SKIP = """\
layers:
  - inputs: [x1]
  - neurons: [h1]
  - neurons: [E]
  - neurons: [N]
edges: {x1 -> h1: W1, h1 -> E: W2, h1 -> N: W3, E -> N: W4, x1 -> N: W5}
loss: {kind: half_squared_error, target: y}
"""


@pytest.mark.parametrize("source", [*NETWORKS, *seeded_files(), "skip"], ids=lambda s: Path(s).stem)
def test_no_line_of_a_network_diagram_runs_through_a_node_it_does_not_join(source, tmp_path):
    # A skip edge drawn straight ran through the nodes between and their bias labels (issue 19).
    import math

    if source == "skip":
        source = tmp_path / "skip.yaml"
        source.write_text(SKIP, encoding="utf-8")
    pic = diagram(load_network(str(source)))
    at = {n["id"]: (n["x"], n["y"]) for n in pic.nodes}
    size = {"bias": 0.2, "preact": 0.35, "target": 0.35}  # circles are 9 mm across
    for e in pic.edges:
        points = tikz_bend(at[e["a"]], at[e["b"]], e.get("bend", 0))
        for n in pic.nodes:
            if n["id"] not in (e["a"], e["b"]):
                gap = min(math.dist(p, at[n["id"]]) for p in points) - size.get(n["kind"], 0.45)
                assert gap > 0.05, f"{e['src']} -> {e['dst']} runs through {n['name']}"


def svg_geometry(svg: str):
    """Return an SVG drawing's nodes (name -> centre, radius) and its edges (src, dst, points),
    read off the markup itself: a line's two ends, a path's cubic sampled along it."""
    root = ET.fromstring(svg)
    nodes, edges = {}, []
    for g in root.iter("g"):
        if "node" in g.get("class", "").split():
            shape = next(el for el in g if el.tag.rsplit("}", 1)[-1] in ("circle", "rect"))
            if shape.tag.endswith("circle"):
                at = (float(shape.get("cx")), float(shape.get("cy")))
                nodes[g.get("data-node")] = (at, float(shape.get("r")))
            else:
                x, y, w = (float(shape.get(k)) for k in ("x", "y", "width"))
                nodes[g.get("data-node")] = ((x + w / 2, y + w / 2), w / 2)
    for el in root.iter():
        if "edge" not in el.get("class", "").split():
            continue
        src, dst = el.get("data-edge").split("->")
        if el.tag.endswith("line"):
            a = (float(el.get("x1")), float(el.get("y1")))
            b = (float(el.get("x2")), float(el.get("y2")))
            points = [
                (a[0] + t / 40 * (b[0] - a[0]), a[1] + t / 40 * (b[1] - a[1])) for t in range(41)
            ]
        else:
            numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", el.get("d"))]
            assert el.get("d").startswith("M") and "C" in el.get("d") and len(numbers) == 8
            c = list(zip(numbers[::2], numbers[1::2], strict=True))
            points = [
                tuple(sum(k * p[j] for k, p in zip(w, c, strict=True)) for j in (0, 1))
                for s in (i / 60 for i in range(61))
                for w in [((1 - s) ** 3, 3 * (1 - s) ** 2 * s, 3 * (1 - s) * s * s, s**3)]
            ]
        edges.append((src, dst, points))
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    return nodes, edges, (width, height)


@pytest.mark.parametrize(
    "source", [*NETWORKS, *GRAPHS, *seeded_files(), "skip"], ids=lambda s: Path(s).stem
)
def test_no_edge_of_an_svg_diagram_runs_through_a_node_it_does_not_join(source, tmp_path):
    # The HTML page's and the Markdown notes' drawing drew every edge straight: skip's h -> N
    # ran through E, and rnn3's shared w and u ran through the a's and h's between.
    import math

    from derive.notes.svg import draw

    if source == "skip":
        source = tmp_path / "skip.yaml"
        source.write_text(SKIP, encoding="utf-8")
    nodes, edges, (width, height) = svg_geometry(draw(load_network(str(source))).svg)
    assert edges
    for src, dst, points in edges:
        assert all(-1 <= x <= width + 1 and -1 <= y <= height + 1 for x, y in points), (
            f"{src} -> {dst} leaves the picture"
        )
        for name, (at, r) in nodes.items():
            if name not in (src, dst):
                gap = min(math.dist(p, at) for p in points) - r
                assert gap > 2, f"{src} -> {dst} runs through {name} ({gap:.1f} px)"
