"""Templates: the Jinja environment, its filters, and documents for a single derivative.

The escaping policy is :mod:`derive.printing.languages`: a string from a network file
(title, description, a name's words) is user text, and reaches a document only through
the language's ``t`` filter (its ``escape``), which no command or markup survives; formulas are typeset by the printers from identifiers and from
``latex:`` overrides that the file reader checked (:func:`derive.texnames.latex_problem`).

Templates hold wording and layout and receive finished values; this module
builds those values for a single derivative (``--format markdown|latex``).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

from derive.data import data_dir
from derive.errors import DeriveError
from derive.evaluate import path_product
from derive.graph import COMPUTED_KINDS
from derive.printing.formulas import formula_latex
from derive.printing.json import expansion_terms
from derive.printing.languages import (  # latex_escape, portable_math: for this module's users
    LATEX,
    MARKDOWN,
    MERMAID,
    latex_escape,  # noqa: F401
    portable_math,  # noqa: F401
)
from derive.printing.sandbox import BoundedEnvironment, TemplateBound, render_bounded
from derive.printing.terms import LatexTermPrinter, sweep_line
from derive.printing.text import POINT_SHOWN, sweep_children
from derive.texnames import latex_problem
from derive.words import NOTATION_TEX, notation, num, upside_down, why_zero


class OwnFiles(jinja2.FileSystemLoader):
    """Jinja's loader of a list of folders that reads only their own files: a symbolic link in a
    templates folder (evil.j2 -> /etc/passwd, then {% include "evil.j2" %}) is refused, as
    the answers files refuse one, so a shared template pack cannot publish a local file."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple:
        pieces = jinja2.loaders.split_template_path(template)
        for folder in self.searchpath:
            path = Path(folder)
            for piece in pieces:
                path = path / piece
                if path.is_symlink():
                    raise DeriveError(
                        f"the template '{template}' is a symbolic link",
                        file=str(path),
                        hint="put the file itself in the templates folder",
                    )
            if path.is_file():
                break
        return super().get_source(environment, template)


def environment(
    templates: str | Path | None = None, fmt: str | None = None, flavor: str = "github"
) -> jinja2.Environment:
    """Return the Jinja environment: ``templates`` first (if given), then the shipped ones.

    With ``fmt`` (``markdown`` or ``latex``) it has that language's filters: ``t``
    (escape user text), ``inline`` and ``block`` (math).
    """
    folders = [str(templates)] if templates else []
    folders.append(str(data_dir("templates")))
    # Sandboxed and bounded: a course's own templates are code from a file.
    env = BoundedEnvironment(
        loader=OwnFiles(folders),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["mermaid"] = MERMAID.escape  # a diagram's labels, in every language's notes
    if fmt == "markdown":
        env.filters["t"] = markdown_text
        env.filters["inline"] = lambda tex: math_inline(tex, flavor)
        env.filters["block"] = lambda tex: math_block(tex, flavor)
    elif fmt == "latex":
        env.filters["t"] = tex_text
        env.filters["inline"] = lambda tex: rf"\( {tex} \)"
        env.filters["block"] = lambda tex: rf"\[ {tex} \]"
    return env


@functools.lru_cache(maxsize=8)
def shipped_environment(fmt: str, flavor: str) -> jinja2.Environment:
    """Return the shipped templates' environment for a language, kept: Jinja compiles a
    template once per environment (a tenth of a second), not once per document."""
    return environment(fmt=fmt, flavor=flavor)


def _numbers_tex(d: Any, numbers: Any, p: Any) -> dict[str, Any]:
    """Return the numbers at a point, typeset: forward values, local values, path products."""
    if numbers is None:
        return {"forward": [], "local_values": [], "products": []}
    kinds = COMPUTED_KINDS
    # The point's own values, the first POINT_SHOWN of them (a wide network has thousands).
    used = set(numbers.used[:POINT_SHOWN])
    forward = [
        (p.name(k), num(numbers.values[k]))
        for k in d.net.names
        if k in numbers.values and (k in used or d.net.kind(k) in kinds)
    ]
    listed = {e for path in d.paths for e in zip(path, path[1:], strict=False)}
    local_values = [(p.local(*e), num(v)) for e, v in numbers.local.items() if e in listed]
    products = [(p.path(path), num(path_product(path, numbers.local))) for path in d.paths]
    return {"forward": forward, "local_values": local_values, "products": products}


def _update_tex(wrt: str, lhs: str, numbers: Any) -> str:
    """Return the update step W_new = W_old - eta * dL/dW with its numbers, in LaTeX."""
    if not numbers or numbers.lr is None:
        return ""
    return (
        rf"{{{wrt}}}_{{\text{{new}}}} = {{{wrt}}}_{{\text{{old}}}} - \eta \cdot {lhs}"
        rf" = {num(numbers.old)} - {num(numbers.lr)} \cdot ({num(numbers.value)})"
        rf" = {num(numbers.new)}"
    )


def derivative_document(
    d: Any, numbers: Any, fmt: str, flavor: str = "github", general: bool = True
) -> str:
    """Return one derivative as a Markdown section or a LaTeX fragment (``general=False``:
    without the line that explains the notation).

    Every network-file string is escaped for the language (``t``); names are
    typeset from identifiers or checked ``latex:`` overrides.
    """
    p = LatexTermPrinter(d.net)
    lhs = p.whole(d.of, d.wrt)
    terms = expansion_terms(d, p)
    children = sweep_children(d)
    values: dict[str, Any] = {
        "lhs": lhs,
        "zero": why_zero(d) if d.is_zero else "",
        "upside_down": upside_down(d),
        "notation": (
            ""
            if not general
            else notation(math_inline(r"\partial", flavor), math_inline(r"\mathrm{d}", flavor))
            if fmt == "markdown"
            else NOTATION_TEX
        ),
        "terms": terms,
        "aligned_terms": " \\\\\n  &\\quad + ".join(terms),
        "paths": [p.path(path) for path in d.paths],
        "path_count": d.path_count,
        "truncated": d.truncated,
        "factored": p.term(d.factored) if not d.is_zero else "0",
        "factored_where": [(p.term(w), p.term(t)) for w, t in d.factored_where],
        "sweep": sweep_line(p, d.of, d.wrt, children) if any(c != d.of for c in children) else "",
        "local": [(p.local(*e), formula_latex(f, d.net)) for e, f in d.local.items()],
        "where": [(formula_latex(s, d.net), formula_latex(f, d.net)) for s, f in d.where],
        "concrete": formula_latex(d.concrete, d.net),
        "onehot": formula_latex(d.concrete_onehot, d.net) if d.concrete_onehot is not None else "",
        "value": num(numbers.value) if numbers else "",
        "update": _update_tex(p.name(d.wrt), lhs, numbers),
        **_numbers_tex(d, numbers, p),
        "wrt": p.name(d.wrt),
        # One line: the LaTeX fragment has it in a % comment.
        "title": " ".join(f"d{d.of}/d{d.wrt} in {d.net.title}".split()),
    }
    env = shipped_environment(fmt, flavor)
    name = "derivative.md.j2" if fmt == "markdown" else "derivative.tex.j2"
    return env.get_template(name).render(**values)


# -- helpers for the study notes (derive.notes) -------------------------------------


def math_block(tex: str, flavor: str) -> str:
    """Return display math for Markdown: a ```math fence (GitHub) or $$ (portable)."""
    return MARKDOWN[flavor].block(tex)


def math_inline(tex: str, flavor: str) -> str:
    """Return inline math for Markdown: $`...`$ (GitHub) or $...$ (portable)."""
    return MARKDOWN[flavor].inline(tex)


# User text in Markdown and in LaTeX: the languages' own escapes (derive.printing.languages).
markdown_text = MARKDOWN["github"].escape
tex_text = LATEX.escape


def check_latex_name(tex: str) -> str | None:
    r"""Return why a ``latex:`` override is unsafe or broken in a document, or None if it is fine.

    The file reader refuses such an override already (:func:`derive.texnames.latex_problem`,
    the one allow-list); this asks it again for a name typeset from elsewhere.

    >>> check_latex_name(r"a^{(L)}") is None
    True
    >>> check_latex_name(r"\input{secret}")
    'uses \\input, which is not allowed'
    """
    return latex_problem(tex)


def render_template(env: jinja2.Environment, name: str, /, **values: Any) -> str:
    """Render template ``name``; a broken template is a DeriveError naming its file and line.

    A course's own templates (``--templates``) can have a syntax error, a missing file or
    use a value the notes do not have; the error says where, in one line, instead of a
    traceback.

    >>> env = BoundedEnvironment(loader=jinja2.DictLoader({"t.j2": "a\\n{% if x %}"}))
    >>> try:
    ...     render_template(env, "t.j2", x=1)
    ... except Exception as err:
    ...     print(err)
    t.j2:2: template error: Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'.
    """
    try:
        return render_bounded(env.get_template(name), values)
    except TemplateBound as err:
        file, line = _template_frame(err.__traceback__, env)
        raise DeriveError(f"template error: {err}", file=file or name, line=line) from None
    except RecursionError as err:
        file, line = _template_frame(err.__traceback__, env)
        raise DeriveError(
            "template error: a template includes, extends or calls itself without end",
            file=file or name,
            line=line,
            hint="an {% include %} or a macro must not lead back to itself",
        ) from None
    except jinja2.TemplateSyntaxError as err:
        raise DeriveError(
            f"template error: {err.message}", file=err.filename or err.name or name, line=err.lineno
        ) from None
    except jinja2.TemplateNotFound as err:
        raise DeriveError(
            f"template error: no template named '{err.name}'",
            file=_template_frame(err.__traceback__, env)[0] or name,
            line=_template_frame(err.__traceback__, env)[1],
        ) from None
    except (
        jinja2.TemplateError,
        TypeError,
        ValueError,
        AttributeError,
        KeyError,
        IndexError,
        ArithmeticError,
    ) as err:
        file, line = _template_frame(err.__traceback__, env)
        what = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DeriveError(f"template error: {what}", file=file or name, line=line) from None


def _template_frame(tb: Any, env: jinja2.Environment) -> tuple[str | None, int | None]:
    """Return the template file and line of the innermost template frame of a traceback.

    Jinja rewrites tracebacks so that frames of compiled templates carry the template's
    own file name and line number.
    """
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2") or filename == "<template>":
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found
