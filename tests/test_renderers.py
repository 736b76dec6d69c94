"""The rendering helpers that the notes tests stand on: if these are wrong, those prove nothing."""

import pytest
from renderers import (
    extract_markdown_math,
    markdown_escapes,
    markdown_math_errors,
    mermaid_blocks,
    need_tool,
    pdf_to_png,
    render_mermaid,
)

# --- KaTeX ---------------------------------------------------------------------------------


def test_valid_formulas_render_inline_and_display(katex):
    formulas = [
        (r"\frac{\partial L}{\partial W_{1}} = \sigma(z_{11})\,(1 - \sigma(z_{11}))", False),
        (r"\begin{aligned} a &= b \\ c &= d \end{aligned}", True),
    ]
    assert katex(formulas) == [None, None]


def test_undefined_control_sequence_fails(katex):
    [error] = katex([(r"\Heaviside(z)", False)])
    assert "Undefined control sequence" in error
    assert r"\Heaviside" in error


def test_empty_batch_starts_no_process(katex):
    assert katex([]) == []


def test_batch_results_stay_in_order(katex):
    results = katex([("x", False), (r"\nope", True), ("y^2", False)])
    assert results[0] is None and results[2] is None
    assert "nope" in results[1]


STRICT = [
    ("é", "unicodeTextInMathMode"),  # accented letters need \text{} (or \acute{e})
    (r"\'e", "mathVsTextAccents"),  # text accents are text-mode only
    ("x % a comment", "commentAtEnd"),  # LaTeX would comment out the closing $
    (r"\begin{array}{c} a & b \end{array}", "textEnv"),  # too few columns declared
    (r"\htmlClass{a}{x}", "htmlExtension"),
    ("’", "unknownSymbol"),  # a curly quote in math
    (r"\text{∂}", "unknownSymbol"),  # ∂ is a math symbol only: write \partial
]


def test_strict_mode_rejects_what_latex_would_not_accept(katex):
    # One KaTeX process for every case, each with its own error code.
    errors = katex([(latex, False) for latex, _ in STRICT])
    for (latex, code), error in zip(STRICT, errors, strict=True):
        assert error is not None and code in error, (latex, error)


# --- Markdown math ------------------------------------------------------------------------

GITHUB_MD = """\
# Notes

The rule $`W_{new} = W_{old} - \\eta \\frac{\\partial L}{\\partial W}`$ updates a weight.

```math
\\frac{\\partial L}{\\partial W_{1}}
  = \\sum_{p} \\prod_{e \\in p} \\frac{\\partial h}{\\partial t}
```

```mermaid
flowchart LR
  x1 -->|$W_1$| O11
```

Run `derive dL/dW1 --net $NET` to see it; ``a `$x$` span`` is code too.
```python
cost = "$5"  # $not math$
```
A stray $\\{a\\}$ and a stray
$$
b
$$
"""


def test_github_flavor_finds_fences_inline_and_stray_dollars():
    assert extract_markdown_math(GITHUB_MD, "github") == [
        (r"W_{new} = W_{old} - \eta \frac{\partial L}{\partial W}", False, 3),
        (
            "\\frac{\\partial L}{\\partial W_{1}}\n"
            "  = \\sum_{p} \\prod_{e \\in p} \\frac{\\partial h}{\\partial t}",
            True,
            5,
        ),
        (r"\{a\}", False, 19),
        ("b", True, 20),
    ]


def test_github_flavor_skips_mermaid_code_blocks_and_code_spans():
    formulas = [latex for latex, _, _ in extract_markdown_math(GITHUB_MD, "github")]
    assert not any("W_1" in f or "not math" in f or "NET" in f or "x" == f for f in formulas)


def test_github_flavor_tilde_fence_and_double_backtick_inline():
    md = "~~~~math\n\\alpha\n~~~~\nand $``a `b` c``$ here\n"
    assert extract_markdown_math(md, "github") == [
        (r"\alpha", True, 1),
        ("a `b` c", False, 4),
    ]


PORTABLE_MD = """\
The rule $W_{new} = W_{old} - \\eta g$ updates a weight,
costs $5 and $10 are not math, nor is \\$x\\$ or `$y$`.

$$
\\frac{\\partial L}{\\partial W_{1}}
$$

```mermaid
flowchart LR
  x1 -->|$W_1$| O11
```
Inline $a$, $$b$$ on one line, and $c
d$ across a line break.
"""


def test_portable_flavor_finds_dollar_math_only():
    assert extract_markdown_math(PORTABLE_MD, "portable") == [
        (r"W_{new} = W_{old} - \eta g", False, 1),
        (r"\frac{\partial L}{\partial W_{1}}", True, 4),
        ("a", False, 12),
        ("b", True, 12),
        ("c\nd", False, 12),
    ]


def test_portable_flavor_does_not_treat_a_math_fence_as_math():
    assert extract_markdown_math("```math\nx\n```\n", "portable") == []


def test_unknown_flavor_is_an_error():
    with pytest.raises(ValueError, match="flavor"):
        extract_markdown_math("$x$", "gitlab")


def test_markdown_escapes_lists_what_markdown_would_eat():
    assert markdown_escapes(r"\{a\} \, b \\ c \frac{1}{2} \alpha") == ["\\{", "\\}", "\\,", "\\\\"]
    assert markdown_escapes(r"\lbrace a \rbrace \; \quad") == ["\\;"]


def test_markdown_math_errors_names_line_and_formula(katex):
    md = "fine $`x`$\n\n```math\n\\nope\n```\n"
    [message] = markdown_math_errors(md, "github")
    assert message.startswith("line 3: display '\\\\nope'")
    assert "Undefined control sequence" in message


# --- LaTeX ---------------------------------------------------------------------------------

TIKZ_TEX = r"""\documentclass{article}
\usepackage{amsmath}
\usepackage{tikz}
\begin{document}
Section~\ref{s}.
\section{Paths}\label{s}
\[ \frac{\partial L}{\partial W_{1}} = \delta \]
\begin{tikzpicture}
  \node[circle, draw] (a) at (0,0) {$x_1$};
  \node[circle, draw] (b) at (2,0) {$O_{11}$};
  \draw[->, red, thick] (a) -- node[above] {$W_1$} (b);
\end{tikzpicture}
\end{document}
"""


def test_valid_tex_with_tikz_compiles_to_a_pdf(pdflatex, tmp_path):
    tex = tmp_path / "notes.tex"
    tex.write_text(TIKZ_TEX)
    pdf = pdflatex(tex, tmp_path / "build")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert not (tmp_path / "notes.aux").exists(), "build files belong in out_dir"


def test_broken_tex_raises_with_the_error_line(pdflatex, tmp_path):
    tex = tmp_path / "broken.tex"
    tex.write_text(
        "\\documentclass{article}\n\\begin{document}\nok\n\\nosuchmacro\n\\end{document}\n"
    )
    with pytest.raises(AssertionError) as failure:
        pdflatex(tex)
    message = str(failure.value)
    assert "! Undefined control sequence." in message
    assert "l.4 \\nosuchmacro" in message


def test_missing_package_raises_with_the_file_name(pdflatex, tmp_path):
    tex = tmp_path / "pkg.tex"
    tex.write_text("\\documentclass{article}\n\\usepackage{nosuchpackage}\n\\begin{document}\n")
    with pytest.raises(AssertionError, match="nosuchpackage.sty' not found"):
        pdflatex(tex)


def test_pdf_page_becomes_a_png(pdflatex, tmp_path):
    tex = tmp_path / "notes.tex"
    tex.write_text(TIKZ_TEX)
    png = pdf_to_png(pdflatex(tex, tmp_path))
    assert png.read_bytes().startswith(b"\x89PNG")


# --- need_tool -----------------------------------------------------------------------------


def test_missing_tool_skips_locally(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-tool-xyz"):
        need_tool("no-such-tool-xyz")


def test_missing_tool_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI needs no-such-tool-xyz"):
        need_tool("no-such-tool-xyz")


# --- Mermaid -------------------------------------------------------------------------------

GOOD_FLOWCHART = (
    'flowchart LR\n  n0(("x₁")) -- "W₁" --> n1(("O₁₁"))\n  linkStyle 0 stroke:#d97706\n'
)
BROKEN_FLOWCHART = 'flowchart LR\n  n0(("x1") -- "W1" --> n1\n'


@pytest.fixture(scope="module")
def mermaid_batch():
    """One browser start for the module: a good diagram, a broken one, a good one."""
    return render_mermaid([GOOD_FLOWCHART, BROKEN_FLOWCHART, "flowchart TB\n  a --> b\n"])


@pytest.mark.browser
def test_valid_mermaid_renders_and_results_stay_in_order(mermaid_batch):
    assert mermaid_batch[0] is None and mermaid_batch[2] is None


@pytest.mark.browser
def test_mermaid_syntax_error_fails_with_mermaids_message(mermaid_batch):
    assert "Parse error on line 2" in mermaid_batch[1]


def test_empty_mermaid_batch_starts_no_browser(monkeypatch):
    monkeypatch.setattr("renderers.need_tool", lambda name: None)
    assert render_mermaid([]) == []


def test_mermaid_blocks_are_read_from_markdown():
    md = f"# A\n```mermaid\n{GOOD_FLOWCHART}```\n\n```python\nx = 1\n```\n"
    assert mermaid_blocks(md) == [GOOD_FLOWCHART]
