"""Shared fixtures. Renderer fixtures skip when a tool is missing, and fail in CI."""

import os

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


def pytest_collection_modifyitems(items):
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            if fixture in _MARKERS:
                item.add_marker(_MARKERS[fixture])
