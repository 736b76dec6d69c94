"""derive: chain-rule expansions, checks and study notes for small neural networks.

The layout is the pipeline, in order; each module has one job and imports only
modules above it:

=====================  ==========================================================
``errors``             DeriveError: a user's mistake, with file, line, column, hint
``words``              the one number format, plurals, why a derivative is 0: words for all
``rules``              one row per activation and loss: forward, slope, TeX, words
``formula/``           formulas as syntax trees: the one parser of files and answers
``yamlread``           YAML with line and column on every value; fast point files
``texnames``           the ``latex:`` allow-list: which TeX may typeset a name
``graphfile``          a file's graph part: inputs, params, formula nodes, examples
``netfile``            YAML -> a checked spec (names, counts, the latex: values)
``graph``              spec -> the networkx graph and its thin Network view; dA/dB
``kinds``              one rule per node kind: value and local partial, symbolic and on floats
``paths``              paths between two nodes: count, list lazily, one generic sweep
``expand``             terms as data: the expansion over paths, the factored form
``evaluate``           numbers at a point: the point read, dA/dB's value and update
``sweep``              the backward sweep as data and numbers (``derive backprop``)
``batch``              a batch of examples: each one's sweep, the cost as their mean
``layers``             the sweep per layer: W^(l), delta^(l), the matrix form
``check/``             grade a hand-written answer (read, never evaluated)
``printing/``          one printer per output language: text, JSON, Markdown, LaTeX, MathML
``notes/``             study notes: content, diagrams, the HTML page, writing files
``show``, ``data``     ``derive show``'s table; where the shipped files are
``api``                the notebook API over the stages
``cli``                click commands only, each a thin call into the library
=====================  ==========================================================

The package imports nothing heavy until used, so ``derive --help`` starts fast:
``derive.load``, ``derive.differentiate``, ``derive.backprop``, ``derive.check_answer`` and
``derive.write_notes`` are looked up on first access, and so is each module of the
layout (``derive.sweep.backward(net)`` works after ``import derive``). (No submodule
shares those five names, so importing a submodule never hides one of them.)
"""

from __future__ import annotations

from typing import Any

__all__ = ["load", "differentiate", "Result", "backprop", "check_answer", "write_notes"]
# The modules of the layout above, reachable as attributes on first use.
_MODULES = (
    "errors words rules formula yamlread texnames graphfile netfile graph kinds paths expand evaluate sweep batch"
    " layers check printing notes show data api cli"
).split()


def __getattr__(name: str) -> Any:
    if name in ("load", "differentiate", "Result", "backprop"):
        from derive import api

        return getattr(api, name)
    if name == "check_answer":
        from derive.check import check

        return check
    if name == "write_notes":
        from derive.notes import write_course

        return write_course
    if name in _MODULES:  # derive.sweep.backward(net) without importing derive.sweep first
        import importlib

        return importlib.import_module(f"derive.{name}")
    raise AttributeError(f"module 'derive' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
