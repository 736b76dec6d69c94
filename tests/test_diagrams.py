"""The network diagrams: what is drawn, what is highlighted, and that a browser renders them."""

import pytest
from renderers import render_mermaid

from derive.expand import derive
from derive.graph import bundled_networks, load_network
from derive.notes.diagram import diagram
from derive.printing.document import environment

NETWORKS = [path.stem for path in bundled_networks()]


def mermaid(pic) -> str:
    """The Mermaid block the notes print for a diagram, fences stripped."""
    block = environment().get_template("notes_mermaid.md.j2").module.mermaid(pic)
    return block.strip().removeprefix("```mermaid").removesuffix("```").lstrip("\n")


def drawings(name: str) -> list[str]:
    """The network's diagram, and the ones highlighting its first and its last parameter.

    Highlighted diagrams differ from each other only in which indices the style lines
    name (tested on the text below); a browser renders each kind once, since each
    diagram costs it about a fifth of a second.
    """
    net = load_network(name)
    ends = {net.parameters[0], net.parameters[-1]}
    pics = [diagram(net)] + [diagram(net, derive(net, net.loss, p)) for p in sorted(ends)]
    return [mermaid(pic) for pic in pics]


@pytest.mark.browser
def test_bundled_diagrams_render_in_a_browser():
    blocks = [(name, block) for name in NETWORKS for block in drawings(name)]
    results = render_mermaid([block for _, block in blocks])
    failed = [
        f"{name}:\n{block}\n{error}"
        for (name, block), error in zip(blocks, results, strict=True)
        if error
    ]
    assert not failed, "\n\n".join(failed)
