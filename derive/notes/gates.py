"""A computational graph's notes: the gate view first (CS231n's circuit figure), then paths and the sweep.

The gate view draws each formula node as a gate and each edge with two
numbers: the value flowing forward along it (above) and the gradient flowing
back along it, d(output)/d(source) (below), as CS231n draws its circuits: in
TikZ for LaTeX, and for Markdown as an SVG file (:mod:`derive.notes.figures`,
the HTML page's drawing).
Then one derivative worked through its paths, the backward sweep with
numbers, and exercises whose answers ``derive check`` grades. The sections
below the figure are the reports of ``derive dA/dB`` and ``derive backprop``,
so a graph's note says what the commands say.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from derive.evaluate import at
from derive.expand import derive
from derive.graph import Network
from derive.notes.content import Link
from derive.notes.figures import Figure
from derive.printing import AsciiPrinter, LatexTermPrinter, formula_latex, formula_text, report
from derive.printing.backprop import Shown, document
from derive.sweep import Values, backward, values
from derive.words import in_sentence, num

# A note works in full the derivative of the output by the first reported name with at most
# this many paths (else the first one).
WORKED_PATHS = 12
# The gate view gives the gradient of at most this many inputs (each is one derivative).
INPUT_GRADIENTS = 12
# The gate view's width in cm, at most (the notes' text is 17 cm wide).
WIDTH = 15.5
# ... and its height, where a small scale still keeps its numbers legible (at least 0.8:
# they are scaled with it, transform shape).
HEIGHT = 7.0
# The TikZ style of each kind of node that is given a value (the rest are gates: "neuron").
STYLES = {"input": "input", "param": "input", "weight": "input", "bias": "input", "target": "input"}


def gate_values(net: Network, v: Values) -> list[dict[str, Any]]:
    """Return each edge of the graph with its forward value and its gradient d(output)/d(source).

    >>> from derive.graph import load_network
    >>> net = load_network("circuit")
    >>> from derive.sweep import values
    >>> [(e["src"], e["dst"], e["value"], e["grad"]) for e in gate_values(net, values(net, net.values))][:2]
    [('x', 'q', -2.0, -4.0), ('y', 'q', 5.0, -4.0)]
    """
    g = net.graph()
    grads = {**v.delta, **v.gradients}
    # An input is no parameter, so the sweep gives no gradient for it; CS231n's figures do
    # (dx of its neuron): d(output)/d(input) from its own derivative, for a few inputs.
    missing = [n for n in net.inputs if n in g and n not in grads and g.succ[n]]
    if len(missing) <= INPUT_GRADIENTS and net.output in v.forward:
        for n in missing:
            d = derive(net, v.sweep.of, n)
            grads[n] = at(d, v.point).value if not d.is_zero else 0.0
    out = []
    for src, dst in g.edges:
        if src in v.forward:
            out.append({"src": src, "dst": dst, "value": v.forward[src], "grad": grads.get(src)})
    return out


def tikz_gates(
    net: Network, fig: Figure, height: float = HEIGHT, smallest: float = 0.8
) -> dict[str, Any]:
    """Return a graph's gate view for ``notes_tikz.tex.j2``: the HTML page's drawing, in TikZ.

    The nodes, the bent edges and every number sit where :func:`derive.notes.svg.draw`
    put them for the gate figure ``fig`` (where no line, node or other number is), the
    output's value and its gradient of 1 included; the picture is scaled to fit the page,
    and ``height`` cm high where a scale of ``smallest`` or more allows (a neuron's figure,
    one of a long note's, is kept lower).
    """
    from derive.notes.svg import SCALE, draw, layout

    drawing = draw(net, fig.forward, grads=fig.grads)
    placed, lines, _, _ = layout(net)
    x0, y1 = drawing.origin

    def at(x: float, y: float) -> tuple[float, float]:  # pixels -> the layout's units
        return x0 + x / SCALE, y1 - y / SCALE

    xs = [n["x"] for n in placed.values()] + [at(x, y)[0] for *_, x, y, _ in drawing.texts]
    ys = [n["y"] for n in placed.values()] + [at(x, y)[1] for *_, x, y, _ in drawing.texts]
    wide, tall = max(xs) - min(xs) + 1.0, max(ys) - min(ys) + 1.0
    scale = round(min(1.25, WIDTH / wide, max(height / tall, smallest)), 2)
    p = LatexTermPrinter(net)
    kinds = {**STYLES, "bias": "coordinate"}  # a bias is its label, over the end of its line
    nodes = [
        {"id": n["id"], "kind": kinds.get(n["kind"], "neuron"), "x": f"{n['x']:.2f}",
         "y": f"{n['y']:.2f}", "tikz": f"\\({p.name(n['name'])}\\)", "on": n["name"] == net.output}
        for n in placed.values()
    ]  # fmt: skip
    edges = [
        {"a": e["a"], "b": e["b"], "kind": "bias" if e["bias"] else "weight", "on": False,
         "tex": "", "bend": e["bend"]}
        for e in lines
    ]  # fmt: skip
    pills = []
    for param, cx, cy in drawing.pills:  # a weight's or bias's label, its gradient beside it
        x, y = at(cx, cy)
        grad = fig.grads.get(param, "")
        pills.append({"x": f"{x:.2f}", "y": f"{y:.2f}", "tex": p.name(param), "grad": grad})
    labels = [
        {"x": f"{x:.2f}", "y": f"{y:.2f}", "tex": text, "grad": kind == "grad"}
        for kind, _, *xy, text in drawing.texts
        if text
        for x, y in [at(*xy)]
    ]
    return {"nodes": nodes, "edges": edges, "labels": labels, "pills": pills, "scale": scale}


def gate_figure(net: Network, v: Values, file: str, what: str) -> Figure:
    """Return a gate figure: ``what`` drawn as the HTML page draws a graph, each node's forward
    value above a line leaving it and its gradient d(output)/d(node) below."""
    grads = {e["src"]: num(e["grad"]) for e in gate_values(net, v) if e["grad"] is not None}
    grads[net.output] = num({**v.delta, **v.gradients}.get(net.output, 1.0))
    alt = f"{what} as gates: each line's forward value above it, its gradient below"
    return Figure(file, alt, net, forward=dict(v.forward), grads=grads)


def gates_figure(net: Network, point: dict[str, float]) -> Figure:
    """Return a graph note's gate figure (its first example's, for a batch): an SVG file."""
    if net.examples:
        point = {**point, **net.examples[0]}
    v = values(net, point, sweep=backward(net))
    return gate_figure(net, v, f"{net.name}.gates.svg", f"The graph {net.name}")


def worked(net: Network) -> str:
    """Return the name whose derivative the note works through its paths."""
    for name in net.reported:
        if derive(net, net.output, name, max_paths=0).path_count <= WORKED_PATHS:
            return name
    return net.reported[0]


def exercises(net: Network, v: Values) -> list[dict[str, str]]:
    """Return exercises with the command that grades each answer (the answer matches)."""
    sweep = v.sweep
    ascii_ = AsciiPrinter(net)
    out = []
    for g in [g for g in sweep.gradients if g.terms][:3]:
        lhs = ascii_.whole(sweep.of, g.param)
        if all(c == sweep.of for c, _ in g.terms):
            # Fed straight into the output: its line is its own local partial, which
            # the answer's spelling would write df/dz = df/dz; ask for the formula instead.
            answer = f"{lhs} = " + " + ".join(formula_text(sweep.formula(e)) for e in g.terms)
            task = f"Write d{sweep.of}/d{g.param} as a formula of the graph's names"
        else:
            answer = f"{lhs} = " + " + ".join(
                ascii_.local(c, g.param) if c == sweep.of else
                f"{ascii_.whole(sweep.of, c)}*{ascii_.local(c, g.param)}"
                for c, _ in g.terms
            )  # fmt: skip
            task = f"Write d{sweep.of}/d{g.param} as one line of the backward sweep"
        out.append(
            {
                "task": f"{task}, and find its value ({num(v.gradients[g.param])} at the point "
                "above).",
                "command": f"derive check {shlex.quote(answer)} --net {net.argument}",
            }
        )
    return out


def gate_note(
    net: Network,
    point: dict[str, float],
    fmt: str,
    flavor: str = "github",
    lr: float = 0.1,
    general: bool = True,
    figure: Figure | None = None,
) -> dict:
    """Return everything a graph note's template shows, already typeset for ``fmt``;
    ``general=False`` (a note in a course) leaves to the introduction what every note says.
    ``figure`` is the note's :func:`gates_figure`, when the caller has made it already."""
    params = point
    if net.examples:  # the figure and the sweep work the first example; the mean comes after
        point = {**point, **net.examples[0]}
    sweep = backward(net)
    v = values(net, point, sweep=sweep)
    name = worked(net)
    d = derive(net, net.output, name)
    figure = figure or gate_figure(net, v, f"{net.name}.gates.svg", f"The graph {net.name}")
    from derive.printing.languages import language

    lang = language(fmt, flavor)
    p = LatexTermPrinter(net)
    inline, text = lang.inline, lang.escape
    formulas = [
        inline(f"{p.name(n)} = {formula_latex(_formula(net, n), net)}")
        for n in net.formulas_in_order[:40]
    ]
    return {
        "name": net.name,
        "title": text(net.title),
        "title_in_text": text(in_sentence(net.title)),
        "description": text(" ".join(net.description.split())),
        "output": inline(p.name(net.output)),
        "formulas": formulas,
        "more_formulas": max(0, len(net.formulas) - 40),
        "figure": figure,
        "picture": tikz_gates(net, figure),
        "worked": report(d, lang.name, at(d, point), flavor=flavor, general=general),
        "sweep": document(Shown(sweep, v), lang.name, flavor, general),
        "general": general,
        "leaves": _leaves(net, point, inline),
        "size": len(net.formulas),
        "exercises": exercises(net, v),
        "batch": _batch_rows(net, point, inline) if net.examples else None,
        "training": _training(net, params, lr, inline) if net.examples else None,
    }


def _leaves(net: Network, point: dict[str, float], inline: Any) -> str:
    """Return the point the figure is drawn at, its first few leaves: ``x = -2, y = 5``."""
    p = LatexTermPrinter(net)
    names = [n for n in net.order if n in point and n not in net.formulas]
    shown = ", ".join(f"{p.name(n)} = {num(point[n])}" for n in names[:6])
    return inline(shown + (r", \ldots" if len(names) > 6 else ""))


def _training(net: Network, params: dict[str, float], lr: float, inline: Any) -> dict[str, Any]:
    """Return a few steps of gradient descent on the batch's cost (notes.training)."""
    from derive.notes.training import training

    tr = training(net, params, lr)
    return {"tr": tr, "losses": [inline(x) for x in tr.losses], "eta": inline(rf"\eta = {tr.lr}")}


def _batch_rows(net: Network, point: dict[str, float], inline: Any) -> dict[str, Any]:
    """Return the worked average over the examples: each one's gradients, and their mean."""
    from derive.batch import batch

    b = batch(net, point)
    p = LatexTermPrinter(net)
    names = net.reported[:12]
    return {
        "count": len(b.examples),
        "cost": inline(p.name(net.cost)),
        "cost_value": num(b.cost),
        "heads": [inline(p.whole(net.output, n)) for n in names],
        "rows": [
            [str(k), num(run.forward[net.output])] + [num(run.gradients[n]) for n in names]
            for k, run in enumerate(b.examples[:20], start=1)
        ],
        "mean": [num(b.cost)] + [num(b.gradients[n]) for n in names],
    }


def _formula(net: Network, node: str) -> Any:
    from derive.formula.tree import to_sympy

    return to_sympy(net.formulas[node].tree)


def render_gate_note(
    net: Network,
    point: dict[str, float],
    fmt: str,
    flavor: str = "github",
    links: dict[str, Link | None] | None = None,
    lr: float = 0.1,
    figure: Figure | None = None,
) -> str:
    """Return a graph's note as a Markdown (``flavor``) or LaTeX document.

    ``links``: in a course, ``course`` (the introduction) and ``next`` (the next note);
    ``figure``: its gate figure, made once for every language.
    """
    import re

    from derive.printing.document import shipped_environment
    from derive.printing.languages import language

    name = f"graph.{language(fmt, flavor).extension}.j2"
    template = shipped_environment(fmt, flavor).get_template(name)
    links = {"course": None, "next": None, **(links or {})}
    general = links["course"] is None
    text = template.render(**gate_note(net, point, fmt, flavor, lr, general, figure), **links)
    return re.sub(r"\n{3,}", "\n\n", text)


# -- a graph's note in a course ------------------------------------------------------------


@dataclass
class GraphNote:
    """A graph's place in a course: what the index lists, and its links (as a Note has them)."""

    net: Network
    name: str
    title: list[tuple[str, str]]
    title_plain: str
    description: list[tuple[str, str]]
    intro: Any = None
    course: Link | None = None
    next: Link | None = None


def graph_note(net: Network) -> GraphNote:
    """Return a graph's entry in a course (its title and description are user text)."""
    text = " ".join(net.description.split())
    return GraphNote(
        net, net.name, [("text", net.title)], net.title, [("text", text)] if text else []
    )


def graph_intro(net: Network) -> Any:
    """Return the course introduction in a graph's letters: its output is what is minimised."""
    from types import SimpleNamespace

    from derive.notes.content import intro

    return intro(SimpleNamespace(loss=net.output, latex_names=net.latex_names))


def graph_documents(
    note: GraphNote,
    point: dict[str, float],
    langs: list[str],
    flavor: str = "github",
    lr: float = 0.1,
    figure: Figure | None = None,
) -> dict[str, str]:
    """Return a graph's note in each of ``langs`` (``markdown`` in ``flavor``, ``latex``), all
    drawn from one gate figure (``figure``, else made here)."""
    links = {"course": note.course, "next": note.next}
    figure = figure or gates_figure(note.net, point)
    return {
        lang: render_gate_note(note.net, point, lang, flavor, links, lr, figure) for lang in langs
    }
