"""The text report of a derivative (``--format text``), line by line, streamable."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice, repeat
from typing import IO, Any

from derive.evaluate import path_product
from derive.graph import COMPUTED_KINDS
from derive.printing.formulas import formula_text
from derive.printing.terms import TermPrinter, UnicodePrinter, sweep_line
from derive.words import NOTATION, article, num, upside_down, why_zero

# The values of the point listed by name; past this many, a count.
POINT_SHOWN = 40


def text_report(d: Any, numbers: Any = None) -> str:
    """Return the whole text report of a derivative."""
    return "\n".join(text_lines(d, numbers)) + "\n"


def sweep_children(d: Any) -> list[str]:
    """Return the children of ``wrt`` on a path up to ``of``: its terms in the backward sweep."""
    inside = set(d.nodes)
    return sorted((c for c in d.graph.successors(d.wrt) if c in inside), key=d.net.rank)


def text_lines(d: Any, numbers: Any = None, every_path: bool = False) -> Iterator[str]:
    """Yield the text report line by line, the paths thousands of lines to an item; with
    ``every_path`` they come from the lazy iterator, so ``--max-paths all`` streams them
    in constant memory."""
    p = UnicodePrinter(d.net)
    lhs = p.whole(d.of, d.wrt)
    if d.is_zero:
        yield from [f"{lhs} = 0", f"  {why_zero(d)}."]
        yield from [f"  Did you mean {upside_down(d)}? It is not 0."] if upside_down(d) else []
        return
    if d.of == d.wrt:
        yield f"{lhs} = 1"
        yield f"  {d.of} changes one-for-one with itself."
        return
    truncated = d.truncated and not every_path
    yield from _sum_lines(d, p, lhs, every_path, truncated)
    yield from _path_lines(d, p, every_path, truncated)
    yield from _factored_lines(d, p, lhs)
    shown = _shown_locals(d, every_path)
    yield from _local_lines(d, p, shown)
    yield from _concrete_lines(d, lhs)
    if numbers is not None:
        paths = d.iter_paths() if every_path else iter(d.paths)
        yield ""
        yield from _numbers(d, numbers, p, paths, shown, summed=not truncated)


def _sum_lines(
    d: Any, p: UnicodePrinter, lhs: str, every_path: bool, truncated: bool
) -> Iterator[str]:
    """Yield the sum over paths, thousands of terms to a line item, and the notation."""
    # Each local partial is written once; a path's text is then built from its prefix's
    # (there may be billions of paths).
    local = {e: p.local(*e) for e in d.edges}

    def term(a: str, b: str) -> str:
        return local[(a, b)] if a == d.of else p.times + local[(a, b)]

    terms = d.iter_joined(term) if every_path else (p.product(t) for t in d.expansion)
    pad = " " * len(lhs)
    # Lines come in chunks of thousands: a generator step and an f-string per path cost
    # more than finding the path (bench/run.py's streaming rows).
    lead = f"{lhs} = "
    for batch in _chunks(terms):
        yield lead + f"\n{pad} + ".join(batch)
        lead = f"{pad} + "
    if truncated:
        yield f"{lhs} = ..." if not d.paths else f"{pad} + ..."
    yield NOTATION
    yield ""


def _path_lines(d: Any, p: UnicodePrinter, every_path: bool, truncated: bool) -> Iterator[str]:
    """Yield the paths' count and the paths, numbered."""
    name = {n: p.name(n) for n in d.nodes}

    def arrow(a: str, b: str) -> str:
        return p.arrow + name[b]

    if every_path:
        arrows = d.iter_joined(arrow)
    else:
        arrows = (p.path(path)[len(name[d.of]) :] for path in d.paths)
    head = f"Paths: {d.path_count:,}"
    if truncated:
        n = len(d.paths)
        listed = (
            "none are listed"
            if not n
            else "the first is listed"
            if n == 1
            else f"the first {n:,} are listed"
        )
        head += f" ({listed}; --max-paths all lists every one)"
    yield head + f", from {d.of} down to {d.wrt}"
    width = len(str(d.path_count if every_path else len(d.paths)))
    numbered = f"  {{:>{width}}}. {{}}{{}}".format
    first = 1
    for batch in _chunks(arrows):
        yield "\n".join(map(numbered, range(first, first + len(batch)), repeat(name[d.of]), batch))
        first += len(batch)


def _factored_lines(d: Any, p: UnicodePrinter, lhs: str) -> Iterator[str]:
    yield from ["", "Factored:", f"  {lhs} = {p.term(d.factored)}"]
    for whole, term_ in d.factored_where:
        yield f"  where {p.term(whole)} = {p.term(term_)}"
    children = sweep_children(d)
    if any(c != d.of for c in children):
        yield from ["", "In the backward sweep (derive backprop):"]
        yield f"  {lhs} = {sweep_line(p, d.of, d.wrt, children)}"


def _shown_locals(d: Any, every_path: bool) -> dict:
    """Return every local partial unless there are very many; then those on the listed paths."""
    if len(d.local) <= 40 or every_path:
        return d.local
    listed = {e for path in d.paths for e in zip(path, path[1:], strict=False)}
    return {e: f for e, f in d.local.items() if e in listed}


def _local_lines(d: Any, p: UnicodePrinter, shown: dict) -> Iterator[str]:
    yield from ["", "Local partials:"]
    width = max((len(p.local(*e)) for e in shown), default=0)
    for edge, f in shown.items():
        yield f"  {p.local(*edge):<{width}} = {formula_text(f)}"
    if len(shown) < len(d.local):
        yield f"  ... and {len(d.local) - len(shown):,} more (--format json lists all)"


def _concrete_lines(d: Any, lhs: str) -> Iterator[str]:
    yield from ["", "Concrete:"]
    for sym, f in d.where:
        yield f"  {sym.name} = {formula_text(f)}"
    yield f"  {lhs} = {formula_text(d.concrete)}"
    if d.concrete_onehot is not None:
        pad = " " * len(lhs)
        yield f"  {pad} = {formula_text(d.concrete_onehot)}   (one-hot targets: they sum to 1)"


def _numbers(
    d: Any,
    n: Any,
    p: TermPrinter,
    paths: Iterator[tuple[str, ...]],
    shown: dict,
    summed: bool,
) -> Iterator[str]:
    # A wide network's point has thousands of values: the first few and a count.
    point = ", ".join(f"{k} = {num(n.point[k])}" for k in n.used[:POINT_SHOWN])
    if len(n.used) > POINT_SHOWN:
        point += f", ... and {len(n.used) - POINT_SHOWN:,} more (--format json lists all)"
    used = set(n.used)  # a set: an MNIST point has 80,000 names
    computed = [
        k
        for k in d.net.names
        if k in n.values and k not in used and d.net.kind(k) in COMPUTED_KINDS
    ]
    lhs = p.whole(d.of, d.wrt)
    yield "At the point:"
    yield f"  values:   {point}"
    yield "  forward:  " + ", ".join(f"{k} = {num(n.values[k])}" for k in computed)
    yield "  local partials:"
    width = max((len(p.local(*e)) for e in shown), default=0)
    for edge in shown:
        yield f"    {p.local(*edge):<{width}} = {num(n.local[edge])}"
    yield "  paths:"
    for i, path in enumerate(paths, 1):
        yield f"    {i}. {p.path(path)}: {num(path_product(path, n.local))}"
    total = "sum of the paths" if summed else "all paths, by backpropagation"
    yield f"  {lhs} = {num(n.value)}   ({total})"
    if n.lr is not None:
        w = d.wrt
        yield (
            f"  update:   {w}_new = {w}_old − η·{lhs} = {num(n.old)} − {num(n.lr)}·"
            f"({num(n.value)}) = {num(n.new)}"
        )
    elif n.kept:
        yield f"  update:   none: {d.wrt} is {article(n.kept)}, data, not a learned parameter"


def _chunks(items: Iterator[str]) -> Iterator[list[str]]:
    """Yield the items in lists of thousands: streaming costs a join per list, not a write per path."""
    while batch := list(islice(items, 4096)):
        yield batch


def batches(lines: Iterator[str], sep: str) -> Iterator[str]:
    """Yield the lines joined by ``sep``, thousands at a time: a write per path costs more than finding it."""
    lead = ""
    for batch in _chunks(lines):
        yield lead + sep.join(batch)
        lead = sep


def stream_text(d: Any, numbers: Any, out: IO[str]) -> None:
    """Write the text report with every path, as each is found: constant memory.

    :func:`text_lines` yields the paths thousands of lines at a time, so each item
    is written as it comes.
    """
    for chunk in text_lines(d, numbers, every_path=True):
        out.write(chunk + "\n")
