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
from derive.notes.svg import draw
from derive.paths import ancestors, descendants
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
    params: list[Param]
    all_params: int
    steps: list[Step]
    data: Markup
    script: Markup
    loss_value: str
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


def lit_edges(net: Network, param: str, drawn: set[str], of: str | None = None) -> list[str]:
    """Return the drawn edges on the paths from ``param`` up to ``of`` (default: the loss)."""
    g = net.span_graph(param)  # on a wide network, only what the parameter feeds
    between = {param} | descendants(g, param)
    if of is not None and of != net.loss:
        between &= {of} | ancestors(g, of)
    edges = {f"{u}->{v}" for u, v in g.edges(between) if v in between}
    # Where the weights are not drawn (too many lines), a weight's own line stands for it.
    edges.update(
        f"{s}->{d}" for s, d in net.weight_edges.get(param, ()) if f"{param}->{d}" not in drawn
    )
    return sorted(edges & drawn)


def _param(net: Network, name: str, vals: Any, point: dict[str, float]) -> Param:
    p = MathMLPrinter(net)
    d = derive(net, net.loss, name, max_paths=TERMS)
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
    rhs = sweep_line(p, net.loss, name, [c for c, _ in line.terms])
    return Param(
        name=name,
        label=Markup(math(p.name(name))),
        value=num(point[name]),
        gradient=num(vals.gradients[name]),
        path_count=d.path_count,
        terms=terms,
        more=d.path_count - len(terms),
        factored=Markup(math(p.whole(net.loss, name) + "<mo>=</mo>" + p.term(d.factored))),
        line=Markup(math(f"{p.whole(net.loss, name)}<mo>=</mo>{rhs}")),
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


def forward_js(net: Network) -> str:
    """Return the page's forward pass in JavaScript: each activation and the loss from its row.

    >>> from derive.graph import load_network
    >>> print(forward_js(load_network("simple")).splitlines()[1])
      sigmoid: (zs) => zs.map((z) => 1 / (1 + Math.exp(-z))),
    """
    used = dict.fromkeys(net.neurons[layer[0]].activation for layer in net.layers)
    rows = []
    for name in used:
        act = ACTIVATIONS[name]
        body = act.js if act.couples else f"zs.map((z) => {act.js})"
        rows.append(f"  {name}: (zs) => {body},")
    term = LOSSES[net.loss_kind].js
    return "\n".join(["const ACT = {", *rows, "};", f"const TERM = (o, y, n) => {term};"])


def page_data(
    net: Network, point: dict[str, float], vals: Any, params: list[str], lit: dict, steps: list[str]
) -> dict:
    """Return the numbers the page's script reads: the network's forward structure and point."""
    layers = [
        {
            "act": net.neurons[layer[0]].activation,
            "neurons": [
                [n, [list(x) for x in net.neurons[n].inputs], net.neurons[n].bias] for n in layer
            ],
        }
        for layer in net.layers
    ]
    return {
        "net": {"layers": layers, "outputs": net.outputs, "targets": net.targets, "loss": net.loss},
        "point": point,
        "loss": vals.forward[net.loss],
        "gradients": {p: vals.gradients[p] for p in params},
        "lit": lit,
        "steps": steps,
    }


def json_script(data: dict) -> Markup:
    """Return JSON that can sit inside ``<script type="application/json">``: no ``<`` in it."""
    return Markup(json.dumps(data, separators=(",", ":")).replace("<", "\\u003c"))


def build_page(net: Network, at: str | None = None) -> Page:
    """Return one network's page content at the notes' example point (``at`` as ``--at``)."""
    point = example_point(net, at)[0]
    sweep = backward(net)
    vals = values(net, point, sweep=sweep)
    drawing0 = draw(net)
    params = selectable(net, drawing0.params)
    lit = {p: lit_edges(net, p, drawing0.edges) for p in params}
    p = MathMLPrinter(net)
    steps = []
    drawn_nodes = set(drawing0.nodes)
    for row in sweep.lines:
        if row.node in drawn_nodes:
            rhs = sweep_line(p, net.loss, row.node, [c for c, _ in row.terms])
            steps.append(
                Step(
                    row.node,
                    Markup(math(p.whole(net.loss, row.node))),
                    Markup(math(rhs)),
                    num(vals.delta[row.node]),
                )
            )
    param_views = [_param(net, name, vals, point) for name in params]
    for view in param_views:
        steps.append(
            Step(
                view.name, Markup(math(p.whole(net.loss, view.name))), view.line_rhs, view.gradient
            )
        )
    grads = {s.node: f"{num(float(s.value))}" for s in steps}
    drawing = draw(net, vals.forward, grads=grads)
    outs = [symbol(o) for o in net.outputs]
    ys = [symbol(t) for t in net.targets]
    loss = LOSSES[net.loss_kind]
    data = page_data(net, point, vals, params, lit, [s.node for s in steps])
    return Page(
        name=net.name,
        title=net.title or net.name,
        description=net.description or "",
        svg=Markup(drawing.svg),
        capped=drawing.capped,
        loss=Markup(math(p.name(net.loss))),
        loss_words=loss.words,
        loss_formula=Markup(
            math(f"{p.name(net.loss)}<mo>=</mo>" + FormulaMathML(net).doprint(loss.value(outs, ys)))
        ),
        layers=_layers(net),
        params=param_views,
        all_params=len(net.parameters),
        steps=steps,
        data=json_script(data),
        script=Markup(forward_js(net)),
        loss_value=num(vals.forward[net.loss]),
    )


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
    "forward_js",
    "notebook_html",
    "render_page",
    "render_page_index",
]
