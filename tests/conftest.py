"""Shared fixtures. Renderer fixtures skip when a tool is missing, and fail in CI."""

import pytest
from renderers import compile_latex, need_tool, render_katex


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
