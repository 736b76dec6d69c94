"""Shared fixtures. Renderer fixtures skip when a tool is missing, and fail in CI."""

import os
from pathlib import Path

import pytest
from hypothesis import settings
from renderers import compile_latex, need_tool, render_katex

# Local runs explore new random examples every time; CI replays a fixed sequence, so a
# submission's verdict does not depend on the draw. A failure found locally is kept by
# Hypothesis's example database and pinned with a test of its own.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


@pytest.fixture
def katex():
    """`render_katex`, once node and the repository's KaTeX are known to be there."""
    need_tool("katex")
    return render_katex


@pytest.fixture
def pdflatex():
    """`compile_latex`, once pdflatex is known to be there."""
    need_tool("pdflatex")
    return compile_latex


# Tests that need a renderer carry its marker, so they can be selected or left out
# (`pytest -m "not latex and not katex and not browser"` for a quick run).
_MARKERS = {"katex": "katex", "pdflatex": "latex", "browser": "browser", "chromium": "browser"}


# Modules with the longest tests (a browser, KaTeX and pdflatex runs, sympy oracles) go
# first, each kept whole: the xdist workers then end on short tests and finish together.
_FIRST = ["test_diagrams", "test_notes", "test_math", "test_renderers", "test_formats"]


def pytest_collection_modifyitems(items):
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            if fixture in _MARKERS:
                item.add_marker(_MARKERS[fixture])

    def rank(item) -> int:
        module = Path(str(item.fspath)).stem
        return _FIRST.index(module) if module in _FIRST else len(_FIRST)

    items.sort(key=rank)  # stable: each module's own order is kept


def small_networks() -> list[str]:
    """Return the names of the bundled networks small enough to test every derivative of.

    A wide network (a layer given as a count, SPEC section 1: mnist's 79,510
    parameters) is left out; its behaviour at scale is tested on its own.
    """
    import yaml

    from derive.graph import bundled_networks

    def wide(path) -> bool:
        layers = yaml.safe_load(path.read_text(encoding="utf-8")).get("layers", [])
        sizes = [layer.get("inputs", layer.get("neurons")) for layer in layers]
        return any(type(size) is int for size in sizes)  # a count, not a list of names

    graphs = graph_networks()  # read once: each bundled file is parsed, mnist's too
    return [p.stem for p in bundled_networks() if p.stem not in graphs and not wide(p)]


def graph_networks() -> list[str]:
    """Return the bundled computational graphs (formula nodes or a batch, SPEC section 6).

    They are tested on their own (tests/test_graphs.py), against their published numbers.
    """
    import yaml

    from derive.graph import bundled_networks

    keys = ("nodes", "examples")
    return [
        p.stem
        for p in bundled_networks()
        if any(k in yaml.safe_load(p.read_text(encoding="utf-8")) for k in keys)
    ]


# A skip connection: h feeds N directly and through E, so the local partial ∂N/∂h and the
# whole derivative dN/dh differ (the case that printing and check must keep apart).
SKIP = """\
layers:
  - inputs: [h]
  - neurons: [E]
  - neurons: [N]
loss: {kind: squared_error}
edges:
  h -> E: W1
  h -> N: W2
  E -> N: W3
"""


def matrix_entries(form, lv):
    """Yield (name, matrix entry) for every weight and bias of the layer form."""
    for i, layer in enumerate(form.layers):
        for j, row in enumerate(layer.weights):
            for k, w in enumerate(row):
                if w:
                    yield w, lv.dW[i][j][k]
        for j, b in enumerate(layer.biases or []):
            yield b, lv.db[i][j]
