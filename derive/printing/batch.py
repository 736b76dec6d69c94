"""A batch's backward sweep, printed: the sweep's formulas once, each example's numbers, the mean.

What is printed is :mod:`derive.batch`'s data; the per-example sweep is
:mod:`derive.printing.backprop`'s, so the notation is the same. Text and JSON
are built here; Markdown and LaTeX by the templates ``batch.md.j2`` /
``batch.tex.j2`` and ``cost.md.j2`` / ``cost.tex.j2`` from the finished values
made here (names typeset by the LaTeX printer, user text escaped there by the
language's ``t`` filter).
"""

from __future__ import annotations

import re
from typing import Any

from derive.batch import Batch
from derive.printing.backprop import Shown, text_report, to_json
from derive.printing.terms import LatexTermPrinter, UnicodePrinter
from derive.words import num

# Per-example values listed in a gradient's line before "and N more".
LISTED = 6
# Examples listed one line each before "and N more".
EXAMPLES = 20
# Inputs and targets of an example shown in its line; lines of its sweep shown with it.
DATA = 8
SWEEP_SHOWN = 4
# Gradients listed in Markdown and LaTeX before "and N more".
GRADIENTS = 40


def _data(net: Any) -> list[str]:
    """Return the names an example gives: its inputs and targets."""
    return [*net.inputs, *net.targets]


def _sweep_nodes(b: Batch) -> list[str]:
    """Return the nodes whose dL/dv each example's line shows (the first of the sweep)."""
    return [row.node for row in b.sweep.lines[:SWEEP_SHOWN]]


def batch_text(shown: Shown, b: Batch) -> str:
    """Return a batch's sweep as text: the formulas, each example's sweep, every mean gradient."""
    sweep = shown.sweep
    net = sweep.net
    p = UnicodePrinter(net)
    n = len(b.examples)
    of, cost = sweep.of, net.cost
    body = text_report(Shown(sweep, layers=shown.layers)).rstrip("\n").splitlines()
    out = [
        f"{net.name} has {n:,} examples: the cost {cost} = (1/{n:,}) Σ_i {of}_i is the mean of "
        f"their {of}, so d{cost}/dp = (1/{n:,}) Σ_i d{of}_i/dp for every parameter p.",
        "Each example runs the sweep below at its own inputs and targets "
        "(--example K shows example K's numbers"
        + (", its layer form's matrices too)." if shown.layers is not None else ")."),
        "",
        *body[:-2],  # the cost sentence comes last
        "",
        "Each example's sweep:",
    ]
    nodes = _sweep_nodes(b)
    for k, run in enumerate(b.examples[:EXAMPLES], start=1):
        given = ", ".join(f"{x} = {num(run.point[x])}" for x in _data(net)[:DATA])
        deltas = "".join(f", {p.whole(of, v)} = {num(run.delta[v])}" for v in nodes)
        out.append(f"  {k}. {given}: {of} = {num(run.forward[of])}{deltas}")
    if n > EXAMPLES:
        out.append(f"  ... and {n - EXAMPLES:,} more (--format json lists every one)")
    out.append(f"  {cost} = mean of {of} = {num(b.cost)}")
    out += ["", f"Gradients of the cost (the mean over the {n:,} examples):"]
    updates = b.update(shown.lr) if shown.lr is not None else {}
    for param, grad in b.gradients.items():
        each = [num(run.gradients[param]) for run in b.examples[:LISTED]]
        more = f", ... and {n - LISTED:,} more" if n > LISTED else ""
        out.append(f"  {p.whole(cost, param)} = mean of [{', '.join(each)}{more}] = {num(grad)}")
        if param in updates:
            step = updates[param]
            out.append(
                f"      update: {param} ← {param} − η·{p.whole(cost, param)} = {num(step['old'])}"
                f" − {num(step['lr'])}·({num(grad)}) = {num(step['new'])}"
            )
    out += ["", body[-1]]
    return "\n".join(out) + "\n"


def batch_json(shown: Shown, b: Batch) -> dict[str, Any]:
    """Return the backprop JSON object of a batch: averaged ``gradients``, and ``examples``."""
    out = to_json(Shown(shown.sweep, layers=shown.layers))
    net = shown.sweep.net
    updates = b.update(shown.lr) if shown.lr is not None else {}
    for item in out["gradients"]:
        item["value"] = b.gradients[item["param"]]
        if item["param"] in updates:
            item["update"] = updates[item["param"]]
    out["cost"] = {"name": net.cost, "value": b.cost, "examples": len(b.examples)}
    out["forward"] = {net.cost: b.cost}
    out["point"] = {p: b.examples[0].point[p] for p in net.parameters if p in b.examples[0].point}
    out["examples"] = [
        {
            "example": k,
            "point": {x: run.point[x] for x in net.inputs + net.targets},
            "forward": run.forward,
            "sweep": [{"node": row.node, "value": run.delta[row.node]} for row in run.sweep.lines],
            "gradients": [{"param": g, "value": v} for g, v in run.gradients.items()],
        }
        for k, run in enumerate(b.examples, start=1)
    ]
    return out


# -- Markdown and LaTeX ------------------------------------------------------------------


def _tidy(text: str) -> str:
    """Return a document with runs of blank lines (where pieces meet) cut to one."""
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def mean_tex(p: LatexTermPrinter, net: Any, of: str, n: int, wrt: str | None = None) -> str:
    r"""Return the cost as the mean of the examples' loss, in LaTeX (``wrt``: of a derivative).

    Without a network name for ``wrt``, ``p`` stands for any parameter.

    >>> from derive.graph import load_network
    >>> net = load_network("xor")
    >>> mean_tex(LatexTermPrinter(net), net, "L", 4)
    'C = \\frac{1}{4} \\sum_{i=1}^{4} {L}_{i}'
    """
    each = f"{{{p.name(of)}}}_{{i}}"
    mean = rf"\frac{{1}}{{{n}}} \sum_{{i=1}}^{{{n}}}"
    if wrt is None:
        return rf"{p.name(net.cost)} = {mean} {each}"
    below = p.name(wrt) if wrt in net.names else wrt
    whole = rf"\frac{{\mathrm{{d}}{p.name(net.cost)}}}{{\mathrm{{d}}{below}}}"
    return rf"{whole} = {mean} \frac{{\mathrm{{d}}{each}}}{{\mathrm{{d}}{below}}}"


def _examples_table(p: LatexTermPrinter, b: Batch, of: str) -> dict[str, Any]:
    """Return the table of the examples: what each gives, its loss, the first lines of its sweep."""
    net = b.sweep.net
    data, nodes = _data(net)[:DATA], _sweep_nodes(b)
    heads = [p.name(x) for x in data] + [p.name(of)] + [p.whole(of, v) for v in nodes]
    rows = [
        [str(k)]
        + [num(run.point[x]) for x in data]
        + [num(run.forward[of])]
        + [num(run.delta[v]) for v in nodes]
        for k, run in enumerate(b.examples[:EXAMPLES], start=1)
    ]
    return {"heads": heads, "rows": rows, "more": max(0, len(b.examples) - EXAMPLES)}


def _gradients_table(p: LatexTermPrinter, b: Batch, lr: float | None) -> dict[str, Any]:
    """Return the table of the cost's gradients: each example's value of one, then their mean."""
    net = b.sweep.net
    n = len(b.examples)
    runs = b.examples[:LISTED]
    updates = b.update(lr) if lr is not None else {}
    heads = [str(k) for k in range(1, len(runs) + 1)] + (["…"] if n > LISTED else []) + ["mean"]
    if updates:
        heads.append("new value")
    rows = []
    for param, grad in list(b.gradients.items())[:GRADIENTS]:
        cells = [num(run.gradients[param]) for run in runs] + (["…"] if n > LISTED else [])
        cells.append(num(grad))
        if updates:
            cells.append(num(updates[param]["new"]))
        rows.append({"lhs": p.whole(net.cost, param), "cells": cells})
    return {"heads": heads, "rows": rows, "more": max(0, len(b.gradients) - GRADIENTS)}


def batch_document(shown: Shown, b: Batch, fmt: str, flavor: str = "github") -> str:
    """Return a batch's sweep as a Markdown section (``flavor``) or a LaTeX fragment.

    The sweep's formulas once (every example runs them), a table of each example's
    loss and first lines of its sweep, and a table of every gradient of the cost:
    each example's value and their mean (with ``lr``, the new value).
    """
    from derive.printing.backprop import document
    from derive.printing.document import shipped_environment

    sweep = shown.sweep
    net = sweep.net
    p = LatexTermPrinter(net)
    n = len(b.examples)
    values = {
        "title": f"The cost of {net.title or net.name} over its {n:,} examples",
        "count": f"{n:,}",
        "cost": p.name(net.cost),
        "cost_value": num(b.cost),
        "loss": p.name(sweep.of),
        "mean": mean_tex(p, net, sweep.of, n),
        "rule": mean_tex(p, net, sweep.of, n, wrt="p"),
        "sweep": document(Shown(sweep, layers=shown.layers), fmt, flavor),
        "examples": _examples_table(p, b, sweep.of),
        "gradients": _gradients_table(p, b, shown.lr),
        "lr": num(shown.lr) if shown.lr is not None else "",
    }
    name = "batch.md.j2" if fmt == "markdown" else "batch.tex.j2"
    return _tidy(shipped_environment(fmt, flavor).get_template(name).render(**values))


def _cost_text(d: Any, numbers: Any) -> str:
    """Return d(cost)/d(wrt) on a batch as text: the per-example derivative, then the mean."""
    from derive.printing import report

    net = d.net
    n = len(net.examples)
    cost, of, wrt = net.cost, d.of, d.wrt
    p = UnicodePrinter(net)
    head = [
        f"{p.whole(cost, wrt)} = (1/{n:,}) Σ_i {p.whole(of, wrt)} at example i: {cost} is the "
        f"mean of {of} over the {n:,} examples, and for each of them",
        "",
    ]
    body = report(d, "text", None)
    if numbers is None:
        return "\n".join(head) + body
    tail = ["", f"At the {n:,} examples:"]
    for k, run in enumerate(numbers.examples[:EXAMPLES], start=1):
        given = ", ".join(f"{x} = {num(run.point[x])}" for x in _data(net)[:DATA])
        tail.append(f"  {k}. {given}: {p.whole(of, wrt)} = {num(run.value)}")
    if n > EXAMPLES:
        tail.append(f"  ... and {n - EXAMPLES:,} more (--format json lists every one)")
    tail.append(f"  {p.whole(cost, wrt)} = mean = {num(numbers.value)}")
    if numbers.lr is not None:
        tail.append(
            f"  update: {wrt} ← {wrt} − η·{p.whole(cost, wrt)} = {num(numbers.old)} − "
            f"{num(numbers.lr)}·({num(numbers.value)}) = {num(numbers.new)}"
        )
    return "\n".join(head) + body + "\n".join(tail) + "\n"


def _cost_json(d: Any, numbers: Any) -> str:
    import json

    from derive.printing import to_json as derivative_json

    out = derivative_json(d)
    out["of"], out["loss"], out["examples_count"] = d.net.cost, d.of, len(d.net.examples)
    if numbers is not None:
        out["value"] = numbers.value
        out["examples"] = [
            {"example": k, "value": run.value} for k, run in enumerate(numbers.examples, 1)
        ]
        if numbers.lr is not None:
            out["update"] = {"lr": numbers.lr, "old": numbers.old, "new": numbers.new}
    return json.dumps(out, ensure_ascii=False) + "\n"


def _cost_document(d: Any, numbers: Any, fmt: str, flavor: str) -> str:
    """Return d(cost)/d(wrt) as Markdown or LaTeX: the rule, each example's derivative, the mean."""
    from derive.printing import report
    from derive.printing.document import shipped_environment

    net = d.net
    n = len(net.examples)
    p = LatexTermPrinter(net)
    data = _data(net)[:DATA]
    values: dict[str, Any] = {
        "title": f"d{net.cost}/d{d.wrt} in {net.title or net.name}, over its {n:,} examples",
        "count": f"{n:,}",
        "cost": p.name(net.cost),
        "loss": p.name(d.of),
        "rule": mean_tex(p, net, d.of, n, wrt=d.wrt),
        "each": report(d, fmt, None, flavor=flavor),
        "heads": [p.name(x) for x in data] + [p.whole(d.of, d.wrt)],
        "rows": [],
        "more": max(0, n - EXAMPLES),
        "value": "",
        "update": "",
    }
    if numbers is not None:
        values["rows"] = [
            [str(k)] + [num(run.point[x]) for x in data] + [num(run.value)]
            for k, run in enumerate(numbers.examples[:EXAMPLES], start=1)
        ]
        lhs = p.whole(net.cost, d.wrt)
        values["value"] = f"{lhs} = {num(numbers.value)}"
        if numbers.lr is not None:
            w = p.name(d.wrt)
            values["update"] = (
                rf"{w} \leftarrow {w} - \eta \cdot {lhs} = {num(numbers.old)} - "
                rf"{num(numbers.lr)} \cdot ({num(numbers.value)}) = {num(numbers.new)}"
            )
    name = "cost.md.j2" if fmt == "markdown" else "cost.tex.j2"
    return _tidy(shipped_environment(fmt, flavor).get_template(name).render(**values))


def cost_report(d: Any, fmt: str, numbers: Any = None, flavor: str = "github") -> str:
    """Return d(cost)/d(wrt) on a batch: the mean of the examples' d(loss)/d(wrt), then its expansion.

    ``d`` is the derivative of the loss (each example's); ``numbers`` is
    :class:`derive.batch.CostNumbers` or None. ``fmt`` is text, markdown (``flavor``),
    latex or json.
    """
    if fmt == "json":
        return _cost_json(d, numbers)
    if fmt == "text":
        return _cost_text(d, numbers)
    if fmt not in ("markdown", "latex"):
        raise ValueError(fmt)
    return _cost_document(d, numbers, fmt, flavor)


def batch_report(shown: Shown, b: Batch | None, fmt: str, flavor: str = "github") -> str:
    """Return a batch's sweep in ``text``, ``markdown`` (``flavor``), ``latex`` or ``json``.

    Without numbers (``b`` None: no point, or ``--example K``'s one example) it is the
    sweep's own report; text says first that the cost is the examples' mean.
    """
    import json

    from derive.printing.backprop import report

    if b is None:
        body = report(shown, fmt, flavor)
        if fmt != "text" or shown.values is not None:
            return body
        net = shown.sweep.net
        n = len(net.examples)
        p = net.parameters[0] if net.parameters else net.inputs[0]
        return (
            f"{net.name} has {n:,} examples: the cost {net.cost} is the mean of their "
            f"{shown.sweep.of}, and every example runs the sweep below. --at gives each "
            f"example's numbers and their mean (--at {p}=0.5 sets {p} and takes the rest from "
            "the file's values:).\n\n" + body
        )
    if fmt == "json":
        return json.dumps(batch_json(shown, b), ensure_ascii=False) + "\n"
    if fmt == "text":
        return batch_text(shown, b)
    if fmt not in ("markdown", "latex"):
        raise ValueError(fmt)
    return batch_document(shown, b, fmt, flavor)
