"""The network diagrams: what is drawn, what is highlighted, and that a browser and pdflatex
render them."""

import re
from functools import cache
from pathlib import Path

import pytest
from conftest import small_networks
from randomnets import seeded_files
from renderers import ROOT, mermaid_blocks, render_mermaid
from test_graph_notes import graph_note_documents

from derive import notes
from derive.expand import derive
from derive.graph import load_network
from derive.notes.diagram import WIDE, diagram, unicode_name
from derive.printing.document import environment
from derive.printing.network import mermaid as jupyter_mermaid

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
def test_every_notes_diagram_and_the_wide_ones_render_in_a_browser(wide, tmp_path):
    """Every diagram of the shipped notes (output/, which test_notes keeps equal to what
    the documented command writes), the wide network's, and the one a network shows of
    itself in Jupyter: one browser for all of them."""
    blocks = [
        (f"{md.name} diagram {i}", block)
        for md in sorted((ROOT / "output").glob("*.md"))
        for i, block in enumerate(mermaid_blocks(md.read_text(encoding="utf-8")), 1)
    ]
    assert len(blocks) >= 2 * len(NETWORKS)
    # Random networks' notes (tied weights, skips, softmax): the network and one highlighted
    # path each (their other highlights differ from that one only in which edges are lit).
    for source in seeded_files():
        md = notes.render_note(notes.build_note(load_network(source)), "markdown")
        drawn = mermaid_blocks(md)[:2]
        blocks += [(f"{Path(source).stem} diagram {i}", b) for i, b in enumerate(drawn, 1)]
    blocks += [("wide", mermaid(pic)) for pic in drawings(wide)]
    nets = [load_network(name) for name in NETWORKS] + [wide]
    blocks += [(f"{net.name} (Jupyter)", fences_off(jupyter_mermaid(net))) for net in nets]
    # The computational graphs' notes (their gate view) and their Jupyter pictures.
    for name, md in graph_note_documents(tmp_path).items():
        blocks += [(f"{name} gate view", block) for block in mermaid_blocks(md)]
        blocks.append((f"{name} (Jupyter)", fences_off(jupyter_mermaid(load_network(name)))))
    results = render_mermaid([block for _, block in blocks])
    failed = [
        f"{name}:\n{block}\n{error}"
        for (name, block), error in zip(blocks, results, strict=True)
        if error
    ]
    assert not failed, "\n\n".join(failed)


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
