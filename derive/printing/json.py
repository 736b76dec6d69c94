"""The JSON of ``derive dA/dB --format json``, whole or streamed (``--max-paths all``).

``text`` fields use the ASCII printer (``d`` for local partials and whole
derivatives alike, as the JSON's stable keys fix them); ``latex`` fields the LaTeX printer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import IO, Any

from derive.errors import DeriveError
from derive.evaluate import path_product
from derive.printing.formulas import formula_latex, formula_text
from derive.printing.terms import AsciiPrinter, LatexTermPrinter, TermPrinter, sweep_line
from derive.printing.text import batches, sweep_children
from derive.words import upside_down, why_zero


def dumps(value: Any, **options: Any) -> str:
    """Return ``value`` as JSON, which has no NaN or Infinity: such a value is a DeriveError.

    >>> dumps({"value": 0.5})
    '{"value": 0.5}'
    """
    try:
        return json.dumps(value, allow_nan=False, ensure_ascii=False, **options)
    except ValueError:
        raise DeriveError(
            "a value is not a finite number, which JSON cannot hold",
            hint="use smaller values in the point",
        ) from None


def expansion_terms(d: Any, p: TermPrinter) -> list[str]:
    """Return the expansion's terms, one per listed path, ``...`` last when cut."""
    terms = [p.product(t) for t in d.expansion]
    if d.truncated:
        terms.append("...")
    return terms or ["0"]


def to_json(d: Any, numbers: Any = None) -> dict[str, Any]:
    """Return the JSON object for a derivative."""
    ascii_, tex = AsciiPrinter(d.net), LatexTermPrinter(d.net)
    out: dict[str, Any] = {
        "network": d.net.name,
        "of": d.of,
        "wrt": d.wrt,
        "detail": d.detail,
        "path_count": d.path_count,
        "paths": [list(p) for p in d.paths],
        "paths_truncated": d.truncated,
        "expansion": {
            "text": " + ".join(expansion_terms(d, ascii_)),
            "latex": " + ".join(t if t != "..." else r"\dots" for t in expansion_terms(d, tex)),
        },
        "factored": {
            "text": ascii_.term(d.factored) if not d.is_zero else "0",
            "latex": tex.term(d.factored) if not d.is_zero else "0",
        },
        "local": {
            ascii_.local(*e): {"text": formula_text(f), "latex": formula_latex(f, d.net)}
            for e, f in d.local.items()
        },
        "concrete": {"text": formula_text(d.concrete), "latex": formula_latex(d.concrete, d.net)},
    }
    if not d.is_zero and d.of != d.wrt:
        # wrt's line of the backward sweep: d of/d wrt = sum over its children c of d of/dc * dc/d wrt.
        children = sweep_children(d)
        out["sweep"] = {
            "text": sweep_line(ascii_, d.of, d.wrt, children),
            "latex": sweep_line(tex, d.of, d.wrt, children),
        }
    if d.factored_where:
        out["factored"]["where"] = [[ascii_.term(w), ascii_.term(t)] for w, t in d.factored_where]
    if d.where:
        out["concrete"]["where"] = [[s.name, formula_text(f)] for s, f in d.where]
    if d.concrete_onehot is not None:
        out["concrete"]["one_hot"] = {
            "text": formula_text(d.concrete_onehot),
            "latex": formula_latex(d.concrete_onehot, d.net),
        }
    if d.is_zero:
        out["zero_because"] = why_zero(d)
        if upside_down(d):
            out["did_you_mean"] = upside_down(d)
    if numbers is not None:
        out["value"] = numbers.value
        out["point"] = {n: numbers.point[n] for n in numbers.used}
        # Every node the point computes, the loss included (full precision, network order).
        out["forward"] = {
            n: numbers.values[n]
            for n in d.net.names
            if n in numbers.values and n not in numbers.point
        }
        out["path_products"] = numbers.path_products
        if numbers.lr is not None:
            out["update"] = {"lr": numbers.lr, "old": numbers.old, "new": numbers.new}
    return out


def stream_json(d: Any, numbers: Any, out: IO[str]) -> None:
    """Write the JSON with every path, as each is found: constant memory however many.

    The object has every key of the whole object: what grows with the paths (the
    paths, the expansion's terms, their products at a point) is streamed; the
    rest is the derivative's own JSON, which is polynomial in the network's size.
    """

    def array(items: Iterator[str]) -> None:
        out.write("[\n")
        for chunk in batches(items, ",\n"):
            out.write(chunk)
        out.write("\n]")

    def terms(printer: TermPrinter) -> None:
        # Each partial typeset once (JSON-escaped); a term is then its prefix's text plus one.
        partial = {e: json.dumps(printer.local(*e))[1:-1] for e in d.edges}
        times = json.dumps(printer.times)[1:-1]
        out.write('"')
        for chunk in batches(
            d.iter_joined(lambda a, b: partial[a, b] if a == d.of else times + partial[a, b]),
            " + ",
        ):
            out.write(chunk)
        out.write('"')

    def paths() -> None:
        # Names are identifiers, so a path is valid JSON without json.dumps's escaping;
        # each path's closing '"]' comes with the separator after it.
        if d.of == d.wrt:  # the one path has no edge
            out.write(f'[\n["{d.of}"]\n]')
            return
        out.write("[\n")
        for chunk in batches(
            d.iter_joined(lambda a, b: f'["{a}", "{b}' if a == d.of else f'", "{b}'), '"],\n'
        ):
            out.write(chunk)
        out.write('"]\n]')

    def expansion() -> None:
        out.write('{"text": ')
        terms(AsciiPrinter(d.net))
        out.write(', "latex": ')
        terms(LatexTermPrinter(d.net))
        out.write("}")

    streamed: dict[str, Callable[[], None]] = {
        "paths": paths,
        "paths_truncated": lambda: out.write("false"),
        "expansion": expansion,
        "path_products": lambda: array(
            dumps(path_product(path, numbers.local)) for path in d.iter_paths()
        ),
    }
    sep = "{"
    for key, value in to_json(d, numbers).items():
        out.write(f"{sep}{json.dumps(key)}: ")
        if key in streamed and not d.is_zero:
            streamed[key]()
        else:
            out.write(dumps(value))
        sep = ", "
    out.write("}\n")
