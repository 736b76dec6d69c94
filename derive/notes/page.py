"""The notes as one interactive HTML page per network, and the course's index.

The page is self-contained: its style, its script and its numbers are inside it,
and it loads nothing from elsewhere. Its math is MathML from
:mod:`derive.printing.mathml` (the same terms and formulas the other languages
print), its diagram inline SVG from :mod:`derive.notes.svg`. Its numbers are
derive's own, embedded once as JSON; the one thing the page computes itself is
the forward pass of a nudged network, in JavaScript written from the rule table
(each row's ``js``, beside its SymPy form in :mod:`derive.rules`).

The wording and layout are in ``templates/notes_page.html.j2`` (and
``notes_page.css.j2``, ``notes_page.js.j2``, ``notes_page_index.html.j2``); this
module hands them finished values, escaped by Jinja's autoescape unless they are
markup this module built (MathML, SVG), whose every piece of user text is escaped.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from markupsafe import Markup

from derive.expand import derive, symbol
from derive.graph import Network
from derive.notes.build import example_point
from derive.notes.pagejs import forward_js
from derive.notes.svg import draw, lit_edges
from derive.printing.document import environment, render_template
from derive.printing.mathml import FormulaMathML, MathMLPrinter, esc, math
from derive.printing.terms import sweep_line
from derive.rules import ACTIVATIONS, LOSSES
from derive.sweep import backward, values
from derive.words import num

# A parameter's expansion lists this many paths; the rest are counted.
TERMS = 12
# A network with more parameters than this gets buttons and sliders for the drawn ones only,
# SELECTABLE_PER_LAYER of each layer.
SELECTABLE_PER_LAYER = 6


@dataclass
class Param:
    """One parameter as the page shows it: its paths, expansion, factored form, gradient."""

    name: str
    label: Markup
    value: str
    gradient: str
    path_count: int
    terms: list[tuple[str, Markup]]
    more: int
    factored: Markup
    line: Markup
    line_rhs: Markup
    local: list[tuple[Markup, Markup]]


@dataclass
class Step:
    """One row of the backward sweep: dL/dv = its terms, and its value."""

    node: str
    lhs: Markup
    rhs: Markup
    value: str


@dataclass
class Page:
    """Everything the page template shows, finished."""

    name: str
    title: str
    description: str
    svg: Markup
    capped: str
    loss: Markup
    loss_words: str
    loss_formula: Markup
    layers: list[tuple[str, int, str, Markup]]
    formulas: list[Markup]
    is_graph: bool
    has_params: bool
    loss_name: str
    examples: int
    params: list[Param]
    all_params: int
    steps: list[Step]
    data: Markup
    script: Markup
    loss_value: str
    notes_before: list[tuple[str, Markup]] = field(default_factory=list)  # up to "The network"
    notes_after: list[tuple[str, Markup]] = field(default_factory=list)  # the notes' other sections
    course: tuple[str, str] | None = None  # (title, href)
    next: tuple[str, str] | None = None
    siblings: list[tuple[str, str]] = field(
        default_factory=list
    )  # the same notes in other languages


def selectable(net: Network, drawn: list[str]) -> list[str]:
    """Return the parameters that get a button and a slider: every drawn one on a small network."""
    if len(drawn) <= 60:
        return drawn
    per_layer: dict[int, list[str]] = {}
    for p in drawn:
        dst = (net.weight_edges.get(p) or [(None, net.biases.get(p))])[0][1]
        per_layer.setdefault(net.neurons[dst].layer, []).append(p)
    return [p for p in drawn if p in {q for ps in per_layer.values() for q in ps[:6]}]


def _param(net: Network, name: str, vals: Any, point: dict[str, float], grad: float) -> Param:
    p = MathMLPrinter(net)
    of = vals.sweep.of
    d = derive(net, of, name, max_paths=TERMS)
    terms = [
        (" ".join(path), Markup(math(p.product(product))))
        for path, product in zip(d.paths, d.expansion, strict=True)
    ]
    line = vals.sweep.gradient(name)
    formula = FormulaMathML(net)
    local = [
        (
            Markup(math(p.local(top, bottom))),
            Markup(math(formula.doprint(vals.sweep.formula((top, bottom))))),
        )
        for top, bottom in line.terms
    ]
    rhs = sweep_line(p, of, name, [c for c, _ in line.terms])
    return Param(
        name=name,
        label=Markup(math(p.name(name))),
        value=num(point[name]),
        gradient=num(grad),
        path_count=d.path_count,
        terms=terms,
        more=d.path_count - len(terms),
        factored=Markup(math(p.whole(of, name) + "<mo>=</mo>" + p.term(d.factored))),
        line=Markup(math(f"{p.whole(of, name)}<mo>=</mo>{rhs}")),
        line_rhs=Markup(math(rhs)),
        local=local,
    )


def _layers(net: Network) -> list[tuple[str, int, str, Markup]]:
    z = sp.Symbol("z")
    rows = []
    for i, layer in enumerate(net.layers, 1):
        act = ACTIVATIONS[net.neurons[layer[0]].activation]
        if act.couples:
            zj, zk = sp.Symbol("z_j"), sp.Symbol("z_k")
            j, k = sp.symbols("j k", integer=True)
            formula = sp.exp(zj) / sp.Sum(sp.exp(zk), (k, 1, len(layer)))
        else:
            formula = act.forward(z)
        label = "output" if i == len(net.layers) else f"hidden {i}"
        rows.append(
            (label, len(layer), act.name, Markup(math(FormulaMathML(None).doprint(formula))))
        )
    return rows


def page_data(
    net: Network, point: dict, of: str, base: float, grads: dict, lit: dict, steps: list
) -> dict:
    """Return the numbers the page's script reads: the point, the examples, the output's value."""
    return {
        "of": of,
        "point": point,
        "examples": [dict(e) for e in net.examples] if net.examples else None,
        "loss": base,
        "gradients": grads,
        "lit": lit,
        "steps": steps,
    }


def json_script(data: dict) -> Markup:
    """Return JSON that can sit inside ``<script type="application/json">``: no ``<`` in it."""
    return Markup(json.dumps(data, separators=(",", ":")).replace("<", "\\u003c"))


def _steps(net: Network, sweep: Any, vals: Any, drawn: set[str], views: list[Param]) -> list[Step]:
    """Return the sweep's rows in the order computed: the drawn nodes, then the gradients."""
    p, of = MathMLPrinter(net), sweep.of
    steps = []
    for row in sweep.lines:
        if row.node in drawn:
            rhs = sweep_line(p, of, row.node, [c for c, _ in row.terms])
            steps.append(
                Step(
                    row.node,
                    Markup(math(p.whole(of, row.node))),
                    Markup(math(rhs)),
                    num(vals.delta[row.node]),
                )
            )
    for view in views:
        line = vals.sweep.gradient(view.name)
        rhs = Markup(math(sweep_line(p, of, view.name, [c for c, _ in line.terms])))
        value = num(vals.gradients[view.name])
        steps.append(Step(view.name, Markup(math(p.whole(of, view.name))), rhs, value))
    return steps


def _formulas(net: Network) -> list[Markup]:
    from derive.formula.tree import to_sympy

    p, f = MathMLPrinter(net), FormulaMathML(net)
    return [
        Markup(math(f"{p.name(n)}<mo>=</mo>{f.doprint(to_sympy(net.formulas[n].tree))}"))
        for n in net.formulas_in_order[:40]
    ]


def build_page(net: Network, at: str | None = None, note: Any = None) -> Page:
    """Return one network's page content at the notes' example point (``at`` as ``--at``).

    A layered network's page holds its notes' sections too (``note``, built if not given),
    in the words of the Markdown notes.
    A batch's diagram and sweep work its first example, as its notes do; its nudges move
    the cost, the mean of every example's loss.
    """
    point = example_point(net, at)[0]
    shown = {**point, **net.examples[0]} if net.examples else point
    sweep = backward(net)
    of = sweep.of
    vals = values(net, shown, sweep=sweep)
    base, mean = vals.forward[of], vals.gradients
    if net.examples:
        from derive.batch import batch

        b = batch(net, point, sweep=sweep)
        base, mean = b.cost, b.gradients
    drawing0 = draw(net)
    params = selectable(net, drawing0.params)
    lit = {q: lit_edges(net, q, drawing0.edges, of) for q in params}
    views = [_param(net, q, vals, shown, mean[q]) for q in params]
    steps = _steps(net, sweep, vals, set(drawing0.nodes), views)
    drawing = draw(net, vals.forward, grads={s.node: s.value for s in steps})
    p = MathMLPrinter(net)
    data = page_data(
        net, shown, of, base, {q: mean[q] for q in params}, lit, [s.node for s in steps]
    )
    loss_formula = Markup("")
    if net.loss and not net.is_graph:
        outs, ys = [symbol(o) for o in net.outputs], [symbol(t) for t in net.targets]
        value = LOSSES[net.loss_kind].value(outs, ys)
        loss_formula = Markup(
            math(f"{p.name(net.loss)}<mo>=</mo>" + FormulaMathML(net).doprint(value))
        )
    before, after = _note_sections(net, at, note)
    return Page(
        notes_before=before,
        notes_after=after,
        name=net.name,
        title=net.title or net.name,
        description=net.description or "",
        svg=Markup(drawing.svg),
        capped=drawing.capped,
        loss=Markup(math(p.name(of))),
        loss_words=LOSSES[net.loss_kind].words if net.loss and not net.is_graph else "",
        loss_formula=loss_formula,
        layers=_layers(net) if not net.is_graph else [],
        formulas=_formulas(net),
        is_graph=net.is_graph,
        has_params=bool(net.parameters),
        loss_name=of,
        examples=len(net.examples or ()),
        params=views,
        all_params=len(net.reported),
        steps=steps,
        data=json_script(data),
        script=Markup(forward_js(net).replace("</", "<\\/")),
        loss_value=num(base),
    )


def _note_sections(net: Network, at: str | None, note: Any) -> tuple[list, list]:
    """Return the note's sections up to "The network", and those after it (none for a graph)."""
    if net.is_graph or net.examples:
        return [], []
    from derive.notes.build import build_note
    from derive.notes.pagenotes import note_sections

    sections = note_sections(note or build_note(net, [], at))[1]
    cut = next((i + 1 for i, (title, _) in enumerate(sections) if title == "The network"), 0)
    return sections[:cut], sections[cut:]


@functools.lru_cache(maxsize=4)
def _environment(templates: str | None):
    env = environment(templates)
    env.autoescape = True  # every value is escaped unless it is Markup built here
    return env


def render_page(page: Page, templates: str | None = None) -> str:
    """Return one network's page as a complete HTML document."""
    return render_template(_environment(templates), "notes_page.html.j2", page=page)


def render_page_index(pages: list[Page], templates: str | None = None) -> str:
    """Return the course's index page: the reading order, linked."""
    return render_template(_environment(templates), "notes_page_index.html.j2", pages=pages)


def notebook_html(
    net: Network,
    of: str | None = None,
    wrt: str | None = None,
    forward: dict[str, float] | None = None,
    grads: dict[str, float] | None = None,
    caption: str = "",
) -> str:
    """Return the page's diagram for Jupyter: a derivative's paths lit, or the sweep's numbers.

    >>> from derive.graph import load_network
    >>> html = notebook_html(load_network("simple"), "L", "W1")
    >>> html.count('class="edge on"'), html.count('class="wedge on"')
    (2, 1)
    """
    from derive.data import data_dir

    drawing = draw(net)
    lit = set(lit_edges(net, wrt, drawing.edges, of)) if wrt in net.names else set()
    shown = {k: num(v) for k, v in (grads or {}).items()}
    drawing = draw(net, forward, lit=lit, grads=shown, swept=set(shown))
    style = (data_dir("templates") / "notes_page_svg.css.j2").read_text(encoding="utf-8")
    note = f"<p>Not drawn: {esc(drawing.capped)}.</p>" if drawing.capped else ""
    return f'<div class="derive"><style>{style}</style>{caption}{drawing.svg}{note}</div>'


__all__ = [
    "Page",
    "build_page",
    "esc",
    "notebook_html",
    "render_page",
    "render_page_index",
]
