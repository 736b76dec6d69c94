"""Stage 8: printing. One printer per output language over the same data.

The package, a module a job (imports run down this list, never up):

- :mod:`~derive.printing.languages`: one object per output language (text, Markdown
  by flavor, LaTeX, Mermaid, HTML/SVG), each with ``escape``: the one escaping policy
  for every string from a file, used by ``printing`` and ``notes`` alike.
- :mod:`~derive.printing.sandbox`: templates in Jinja's sandbox, their work bounded.
- :mod:`~derive.printing.terms`: term printers (ASCII, Unicode, LaTeX) with
  ``_print_<Class>`` dispatch over :mod:`derive.expand`'s terms; they implement
  the notation (∂ a local partial, d a whole derivative; see the module).
- :mod:`~derive.printing.formulas`: SymPy's printers for concrete formulas,
  with the network's typesetting of names.
- :mod:`~derive.words` (a bottom module, read by check and notes too): the one
  number format (:func:`num`), the notation's one-line explanation, reasons in sentences.
- :mod:`~derive.printing.text`: the text report, streamable.
- :mod:`~derive.printing.json`: the JSON of ``--format json``, whole or streamed.
- :mod:`~derive.printing.mathml`: MathML for the HTML page, from the same terms
  (``_print_<Class>`` like the LaTeX printer) and SymPy formulas, names read from
  their typesetting, never from LaTeX strings of whole formulas.
- :mod:`~derive.printing.document`: the Jinja environment and its filters (the
  languages' escapes); Markdown and LaTeX documents.

:func:`report` lays out a whole derivative in any of the formats; :func:`stream`
writes one with every path in constant memory.
"""

from __future__ import annotations

from typing import IO, Any

from derive.printing.formulas import FormulaLatex, formula_latex, formula_text
from derive.printing.json import dumps, expansion_terms, stream_json, to_json
from derive.printing.terms import (
    AsciiPrinter,
    LatexTermPrinter,
    TermPrinter,
    UnicodePrinter,
    sweep_line,
)
from derive.printing.text import stream_text, text_lines, text_report
from derive.words import NOTATION, NOTATION_TEX, num, significant, why_zero

__all__ = [
    "AsciiPrinter",
    "FormulaLatex",
    "LatexTermPrinter",
    "NOTATION",
    "NOTATION_TEX",
    "TermPrinter",
    "UnicodePrinter",
    "expansion_terms",
    "formula_latex",
    "formula_text",
    "num",
    "report",
    "significant",
    "stream",
    "sweep_line",
    "text_lines",
    "to_json",
    "why_zero",
]

FORMATS = ("text", "markdown", "latex", "json")


def report(
    d: Any, fmt: str = "text", numbers: Any = None, flavor: str = "github", general: bool = True
) -> str:
    """Return the whole derivative as ``text``, ``markdown``, ``latex`` or ``json``.

    ``general=False`` leaves out what explains the notation (a course's note, whose
    introduction explains it once).

    >>> from derive.expand import derive
    >>> from derive.graph import load_network
    >>> print(report(derive(load_network("chain_3b1b"), "C0", "w2")).splitlines()[0])
    dC0/dw2 = ∂C0/∂a2 · ∂a2/∂w2
    """
    if fmt == "json":
        return dumps(to_json(d, numbers), indent=2)
    if fmt == "text":
        return text_report(d, numbers)
    from derive.printing.document import derivative_document  # Jinja only when needed

    return derivative_document(d, numbers, fmt, flavor, general)


def stream(d: Any, fmt: str, numbers: Any, out: IO[str]) -> None:
    """Write a derivative with every path (``--max-paths all``) as text or JSON, path by path."""
    if fmt == "json":
        stream_json(d, numbers, out)
    else:
        stream_text(d, numbers, out)
