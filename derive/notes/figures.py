"""The Markdown notes' figures: SVG files beside the note, drawn by the page's drawer.

Markdown links each figure as an image (``![alt](NAME.network.svg)``); the drawing is
:func:`derive.notes.svg.draw`'s, the HTML page's own, made a file by
:func:`derive.notes.svg.standalone`. A derivative's figure has its paths lit: the edges
the page lights when that parameter is chosen (:func:`derive.notes.svg.lit_edges`).
A gate figure writes each node's forward value above a line leaving it and its
gradient below.

>>> from derive.graph import load_network
>>> from derive.notes.diagram import diagram
>>> f = network_figure(diagram(load_network("simple")))
>>> f.file, f.alt
('simple.network.svg', 'The network simple: 3 inputs, layers of 1, 1')
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from typing import Any

from derive.graph import Network
from derive.notes.svg import draw, lit_edges, standalone


@dataclass(eq=False)
class Figure:
    """One figure file: its name beside the note, the image's alt text (plain), and how to draw it."""

    file: str
    alt: str
    net: Network
    wrt: str = ""  # a derivative's parameter: its paths lit
    of: str = ""
    forward: dict[str, float] | None = None  # a gate figure's values, above the lines
    grads: dict[str, str] | None = None  # and each node's d(output)/d(node), below them

    @functools.cached_property
    def svg(self) -> str:
        """Return the figure as a standalone SVG document."""
        if self.forward is not None:
            grads = self.grads or {}
            return standalone(draw(self.net, self.forward, grads=grads, swept=set(grads)))
        if not self.wrt:
            return standalone(draw(self.net))
        lit = set(lit_edges(self.net, self.wrt, draw(self.net).edges, self.of or None))
        return standalone(draw(self.net, lit=lit))


def network_figure(pic: Any) -> Figure:
    """Return the figure of a :class:`derive.notes.diagram.Diagram`: the network, or a
    derivative's paths lit."""
    return Figure(pic.file, pic.alt, pic.net, pic.wrt, pic.of)


IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+\.svg)\)")


def linked(markdown: str, figures: list[Figure]) -> list[tuple[str, str]]:
    """Return the files of the figures a Markdown note links (each once), as (name, SVG)."""
    by_file = {f.file: f for f in figures}
    wanted = dict.fromkeys(m for m in IMAGE.findall(markdown) if m in by_file)
    return [(name, by_file[name].svg) for name in wanted]


def note_figures(note: Any) -> list[Figure]:
    """Return every figure a note's sections hold: its diagrams and its gate figure."""
    from derive.notes.diagram import Diagram

    out: list[Figure] = []
    seen: set[int] = set()

    def walk(x: Any) -> None:
        if id(x) in seen or isinstance(x, (str, int, float, Network)) or x is None:
            return
        seen.add(id(x))
        if isinstance(x, Diagram):
            out.append(network_figure(x))
        elif isinstance(x, Figure):
            out.append(x)
        elif isinstance(x, (list, tuple)):
            for item in x:
                walk(item)
        elif isinstance(x, dict):
            for item in x.values():
                walk(item)
        elif dataclasses.is_dataclass(x) and type(x).__module__.startswith("derive.notes"):
            for f in dataclasses.fields(x):
                walk(getattr(x, f.name))

    walk(note)
    return out
