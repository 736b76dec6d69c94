"""A network as Markdown: its diagram (Mermaid) and weight table, for Jupyter."""

from __future__ import annotations

from typing import Any

from derive.printing.languages import MERMAID
from derive.printing.words import num

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
    names = [*net.inputs, *(n for layer in net.layers for n in layer)]
    ids = {name: f"n{i}" for i, name in enumerate([*names, net.loss])}
    lines = ["```mermaid", "flowchart LR"]
    label = MERMAID.escape
    lines += [f'  {ids[n]}(("{label(n)}"))' for n in names]
    lines.append(f'  {ids[net.loss]}["{label(net.loss)}"]')
    for weight, edges in net.weight_edges.items():
        lines += [f'  {ids[src]} -- "{label(weight)}" --> {ids[dst]}' for src, dst in edges]
    lines += [f"  {ids[o]} --> {ids[net.loss]}" for o in net.outputs]
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

    count = len(net.inputs) + sum(map(len, net.layers)) + 1
    out = [f"**{markdown_text(net.name)}**: {markdown_text(net.title)}", ""]
    if count <= DIAGRAM_NODES:
        out += [mermaid(net), ""]
    else:
        out += [f"({count:,} nodes: too many to draw.)", ""]
    out += ["| Weight | From | To | Value |", "|---|---|---|---|"]
    rows = [(w, s, d) for w, edges in net.weight_edges.items() for s, d in edges]
    for w, s, d in rows[:TABLE_ROWS]:
        value = num(net.values[w]) if w in net.values else ""
        out.append(f"| {w} | {s} | {d} | {value} |")
    if len(rows) > TABLE_ROWS:
        out.append(f"| ... | and {len(rows) - TABLE_ROWS:,} more | | |")
    if net.biases:
        out += ["", "Biases: " + ", ".join(f"{b} (of {n})" for b, n in net.biases.items())]
    out += ["", f"Loss: {net.loss} ({net.loss_kind}); outputs {', '.join(net.outputs)}"]
    return "\n".join(out) + "\n"
