"""A network as Markdown: its diagram (Mermaid) and weight table, for Jupyter."""

from __future__ import annotations

from typing import Any

from derive.printing.languages import MERMAID
from derive.words import num

# Past this many nodes a diagram is a hairball; the table is summarised past as many rows.
DIAGRAM_NODES = 60
TABLE_ROWS = 60


def mermaid(net: Any) -> str:
    """Return the network as a Mermaid flowchart, inputs on the left, the loss on the right.

    >>> from derive.graph import load_network
    >>> print(mermaid(load_network("simple")).splitlines()[2])
      n0(("x1"))
    """
    # Mermaid ids are n0, n1, ...: a network name may be a Mermaid keyword (``end``).
    names = [*net.inputs, *net.params, *(n for layer in net.layers for n in layer)]
    formulas = list(net.formulas_in_order)
    tops = [net.loss] if net.loss else []
    ids = {name: f"n{i}" for i, name in enumerate([*names, *tops, *formulas])}
    lines = ["```mermaid", "flowchart LR"]
    label = MERMAID.escape
    lines += [f'  {ids[n]}(("{label(n)}"))' for n in names]
    lines += [f'  {ids[t]}["{label(t)}"]' for t in tops]
    lines += [f'  {ids[f]}["{label(f + " = " + net.formulas[f].text)}"]' for f in formulas]
    for weight, edges in net.weight_edges.items():
        lines += [f'  {ids[src]} -- "{label(weight)}" --> {ids[dst]}' for src, dst in edges]
    lines += [f"  {ids[o]} --> {ids[net.loss]}" for o in net.outputs]
    for f in formulas:
        lines += [f"  {ids[u]} --> {ids[f]}" for u in net.formulas[f].uses if u in ids]
    lines.append("```")
    return "\n".join(lines)


def network_markdown(net: Any) -> str:
    """Return a network as Markdown: title, diagram, and a table of its weights.

    >>> from derive.graph import load_network
    >>> md = network_markdown(load_network("two_hidden"))
    >>> "| W1 | x1 | O11 | 0.2000 |" in md.splitlines()
    True
    """
    from derive.printing.document import markdown_text

    count = len(net.inputs) + len(net.params) + sum(map(len, net.layers)) + 1 + len(net.formulas)
    out = [f"**{markdown_text(net.name)}**: {markdown_text(net.title)}", ""]
    if count <= DIAGRAM_NODES:
        out += [mermaid(net), ""]
    else:
        out += [f"({count:,} nodes: too many to draw.)", ""]
    rows = [(w, s, d) for w, edges in net.weight_edges.items() for s, d in edges]
    if rows:
        out += ["| Weight | From | To | Value |", "|---|---|---|---|"]
    for w, s, d in rows[:TABLE_ROWS]:
        value = num(net.values[w]) if w in net.values else ""
        out.append(f"| {w} | {s} | {d} | {value} |")
    if len(rows) > TABLE_ROWS:
        out.append(f"| ... | and {len(rows) - TABLE_ROWS:,} more | | |")
    if net.biases:
        out += ["", "Biases: " + ", ".join(f"{b} (of {n})" for b, n in net.biases.items())]
    if net.loss:
        out += ["", f"Loss: {net.loss} ({net.loss_kind}); outputs {', '.join(net.outputs)}"]
    if net.formulas:
        out += ["", "| Node | Formula |", "|---|---|"]
        out += [f"| {f} | `{net.formulas[f].text}` |" for f in net.formulas_in_order[:TABLE_ROWS]]
        out += ["", f"Output: {net.output}"]
    return "\n".join(out) + "\n"
