"""A batch's backward sweep, printed: the sweep's formulas once, each example's numbers, the mean.

What is printed is :mod:`derive.batch`'s data; the per-example sweep is
:mod:`derive.printing.backprop`'s, so the notation is the same.
"""

from __future__ import annotations

from typing import Any

from derive.batch import Batch
from derive.printing.backprop import Shown, text_report, to_json
from derive.printing.terms import UnicodePrinter
from derive.printing.words import num

# Per-example values listed in a gradient's line before "and N more".
LISTED = 6
# Examples listed one line each before "and N more".
EXAMPLES = 20


def batch_text(shown: Shown, b: Batch) -> str:
    """Return a batch's sweep as text: the formulas, each example's loss, every mean gradient."""
    sweep = shown.sweep
    net = sweep.net
    p = UnicodePrinter(net)
    n = len(b.examples)
    of, cost = sweep.of, net.cost
    body = text_report(Shown(sweep, lr=None)).splitlines()
    out = [
        f"{net.name} has {n:,} examples: the cost {cost} = (1/{n:,}) Σ_i {of}_i is the mean of "
        f"their {of}, so d{cost}/dp = (1/{n:,}) Σ_i d{of}_i/dp for every parameter p.",
        "Each example runs the sweep below at its own inputs and targets "
        "(--example K shows example K's numbers).",
        "",
        *body[:-1],
        "",
        "Examples:",
    ]
    data = [x for x in net.inputs + net.targets]
    for k, run in enumerate(b.examples[:EXAMPLES], start=1):
        given = ", ".join(f"{x} = {num(run.point[x])}" for x in data[:8])
        out.append(f"  {k}. {given}: {of} = {num(run.forward[of])}")
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
    out = to_json(Shown(shown.sweep))
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


def cost_report(d: Any, fmt: str, numbers: Any = None, flavor: str = "github") -> str:
    """Return d(cost)/d(wrt) on a batch: the mean of the examples' d(loss)/d(wrt), then its expansion.

    ``d`` is the derivative of the loss (each example's); ``numbers`` is
    :class:`derive.batch.CostNumbers` or None.
    """
    import json

    from derive.printing import report, to_json

    net = d.net
    n = len(net.examples)
    cost, of, wrt = net.cost, d.of, d.wrt
    if fmt == "json":
        out = to_json(d)
        out["of"], out["loss"], out["examples_count"] = cost, of, n
        if numbers is not None:
            out["value"] = numbers.value
            out["examples"] = [
                {"example": k, "value": run.value} for k, run in enumerate(numbers.examples, 1)
            ]
            if numbers.lr is not None:
                out["update"] = {"lr": numbers.lr, "old": numbers.old, "new": numbers.new}
        return json.dumps(out, ensure_ascii=False) + "\n"
    if fmt != "text":
        raise ValueError(fmt)
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
        given = ", ".join(f"{x} = {num(run.point[x])}" for x in (net.inputs + net.targets)[:8])
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
