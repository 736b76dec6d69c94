"""Templates: the Jinja environment, with a course's own folder over the shipped one.

Templates hold wording and layout and receive finished values; this module
builds those values for a single derivative (``--format markdown|latex``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from derive.data import data_dir


def environment(templates: str | Path | None = None) -> jinja2.Environment:
    """Return the Jinja environment: ``templates`` first (if given), then the shipped ones."""
    folders = [str(templates)] if templates else []
    folders.append(str(data_dir("templates")))
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def math_block(tex: str, flavor: str) -> str:
    """Return display math for Markdown: a ```math fence (GitHub) or $$ (portable)."""
    if flavor == "github":
        return f"```math\n{tex}\n```"
    return f"$$\n{tex}\n$$"


def math_inline(tex: str, flavor: str) -> str:
    """Return inline math for Markdown: $`...`$ (GitHub) or $...$ (portable)."""
    return f"$`{tex}`$" if flavor == "github" else f"${tex}$"


def latex_escape(text: str) -> str:
    r"""Return user text safe inside a LaTeX document (no command can run from it).

    >>> latex_escape(r"50% & #1 \input{x}")
    '50\\% \\& \\#1 \\textbackslash{}input\\{x\\}'
    """
    out = []
    for ch in text:
        if ch == "\\":
            out.append(r"\textbackslash{}")
        elif ch in "%&#_{}$":
            out.append("\\" + ch)
        elif ch == "^":
            out.append(r"\textasciicircum{}")
        elif ch == "~":
            out.append(r"\textasciitilde{}")
        else:
            out.append(ch)
    return "".join(out)


def _update_tex(wrt: str, lhs: str, numbers: Any) -> str:
    """Return the update step W_new = W_old - eta * dL/dW with its numbers, in LaTeX."""
    if not numbers or numbers.lr is None:
        return ""
    return (
        rf"{{{wrt}}}_{{\text{{new}}}} = {{{wrt}}}_{{\text{{old}}}} - \eta \cdot {lhs}"
        rf" = {numbers.old:.6g} - {numbers.lr:.6g} \cdot ({numbers.value:.6g}) = {numbers.new:.6g}"
    )


def derivative_document(d: Any, numbers: Any, fmt: str, flavor: str = "github") -> str:
    """Return one derivative as a Markdown section or a LaTeX fragment."""
    from derive.printing import LatexTermPrinter, expansion, formula_latex

    p = LatexTermPrinter(d.net)
    lhs = p.partial(d.of, d.wrt)
    values: dict[str, Any] = {
        "lhs": lhs,
        "zero": d.why_zero() if d.is_zero else "",
        "terms": expansion(d, p),
        "aligned_terms": " \\\\\n  &\\quad + ".join(expansion(d, p)),
        "paths": [p.path(path) for path in d.paths],
        "path_count": d.path_count,
        "truncated": d.truncated,
        "factored": p.term(d.factored) if not d.is_zero else "0",
        "factored_where": [(p.term(w), p.term(t)) for w, t in d.factored_where],
        "local": [(p.partial(*e), formula_latex(f, d.net)) for e, f in d.local.items()],
        "where": [(formula_latex(s, d.net), formula_latex(f, d.net)) for s, f in d.where],
        "concrete": formula_latex(d.concrete, d.net),
        "onehot": formula_latex(d.concrete_onehot, d.net) if d.concrete_onehot is not None else "",
        "value": f"{numbers.value:.6g}" if numbers else "",
        "update": _update_tex(p.name(d.wrt), lhs, numbers),
        "wrt": p.name(d.wrt),
        "title": f"d{d.of}/d{d.wrt} in {d.net.title}",
    }
    env = environment()
    if fmt == "markdown":
        env.filters["block"] = lambda tex: math_block(tex, flavor)
        env.filters["inline"] = lambda tex: math_inline(tex, flavor)
        return env.get_template("derivative.md.j2").render(**values)
    return env.get_template("derivative.tex.j2").render(**values)
