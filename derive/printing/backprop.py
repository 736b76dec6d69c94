"""The backward sweep's printers: text, Markdown (both flavors), LaTeX and JSON.

They print :mod:`derive.backprop`'s data (and :mod:`derive.layers`' with
``--matrix``) with the term printers, so the notation is the package's: d for
the whole derivatives dL/dv the sweep computes, ∂ for the local partials it
multiplies them by. Nothing here computes a derivative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from derive.graph import COMPUTED_KINDS
from derive.printing.formulas import formula_latex, formula_text
from derive.printing.json import dumps
from derive.printing.terms import AsciiPrinter, LatexTermPrinter, TermPrinter, UnicodePrinter
from derive.rules import ACTIVATIONS
from derive.sweep import Gradient, Line, Sweep, Values, row_node
from derive.words import NOTATION, NOTATION_TEX, notation, num, plural

# Human output lists at most this many lines and gradients; JSON lists every one.
SHOWN = 40
# JSON gives every local partial's formula (SymPy) for sweeps up to this many edges;
# human output gives those of the lines it shows.
FORMULAS = 4000


@dataclass
class Shown:
    """What one report shows: the sweep, its numbers, the update, the layer form, the point."""

    sweep: Sweep
    values: Values | None = None
    lr: float | None = None
    layers: Any = None  # derive.layers.LayerForm, with --matrix
    layer_values: Any = None  # its numbers at the point
    origin: str = ""  # where the point came from (a random point's seed and rule)
    batch: Any = None  # derive.batch.Batch: every example's numbers and their mean


def rhs(
    p: TermPrinter, sweep: Sweep, row: Line | Gradient, wholes: dict[str, str] | None = None
) -> str:
    """Return a line's right side: ``dL/dO21 · ∂O21/∂O11 + ...`` (``∂L/∂O31`` under the loss).

    ``wholes`` caches each child's ``dL/dc`` and the times sign (a wide network
    writes the same few tens of thousands of times).

    >>> from derive.sweep import backward
    >>> from derive.graph import load_network
    >>> s = backward(load_network("two_hidden"))
    >>> rhs(UnicodePrinter(), s, s.line("O11"))
    'dL/dO21 · ∂O21/∂O11 + dL/dO22 · ∂O22/∂O11'
    """
    if wholes is None:
        wholes = {}
    terms = []
    for c, v in row.terms:
        if c == sweep.of:
            terms.append(p.local(c, v))
            continue
        if c not in wholes:
            wholes[c] = p.whole(sweep.of, c) + p.times
        terms.append(wholes[c] + p.local(c, v))
    return p.plus.join(terms) or "0"


def _numbers(p: TermPrinter, sweep: Sweep, v: Values, row: Line | Gradient) -> str:
    """Return a line's terms with their numbers: ``(-0.1234)·(0.05000) + ...``."""
    parts = []
    for edge in row.terms:
        local = f"({num(v.local[edge])})"
        parts.append(local if edge[0] == sweep.of else f"({num(v.delta[edge[0]])}){p.times}{local}")
    return p.plus.join(parts)


def _rows(sweep: Sweep) -> tuple[list[Line], list[Gradient], int, int]:
    lines, grads = sweep.lines[:SHOWN], sweep.gradients[:SHOWN]
    return lines, grads, len(sweep.lines) - len(lines), len(sweep.gradients) - len(grads)


def _formulas(sweep: Sweep) -> bool:
    return sum(len(row.terms) for row in [*sweep.lines, *sweep.gradients]) <= FORMULAS


def cost_sentence(sweep: Sweep) -> str:
    """Return the cost of the sweep against the path-by-path expansions, and why, in one go."""
    m = sweep.multiplications
    learned = "parameter" if sweep.net.parameters else "input"
    params = plural(len(sweep.gradients), learned)
    return (
        f"Cost: the sweep takes {plural(m['sweep'], 'multiplication')}; the path-by-path "
        f"expansions of all {params} take {m['paths']:,}. Each d{sweep.of}/dv is computed once and "
        f"reused by everything below it, instead of once for every path through v."
    )


# -- text ---------------------------------------------------------------------------


def text_report(shown: Shown) -> str:
    """Return the sweep as a text report (Unicode, for a terminal)."""
    sweep, v = shown.sweep, shown.values
    net = sweep.net
    p = UnicodePrinter(net)
    view = ", through the pre-activations" if sweep.detail else ""
    of = sweep.of
    top = "the loss" if of == net.loss else of
    out = [
        f"The backward sweep of {net.name}{view}: d{of}/dv for every node v, from {top} down.",
        f"Each line is d{of}/dv = Σ over the children c of v of d{of}/dc · ∂c/∂v, using lines above it.",
        NOTATION,
    ]
    if v is not None:
        out += ["", *_text_point(shown)]
    lines, grads, more_lines, more_grads = _rows(sweep)
    for title, rows, more in (("Sweep:", lines, more_lines), ("Gradients:", grads, more_grads)):
        out += ["", title]
        for row in rows:
            out += _text_row(p, shown, row)
        if more:
            out.append(f"  ... and {more:,} more (--format json lists every one)")
    if shown.layers is not None:
        out += ["", *text_layers(shown)]
    out += ["", cost_sentence(sweep)]
    return "\n".join(out) + "\n"


def _text_point(shown: Shown) -> list[str]:
    v = shown.values
    net = shown.sweep.net
    out = [f"At the point{': ' + shown.origin if shown.origin else ''}:"]
    if len(v.point) <= SHOWN:
        out.append("  values:  " + ", ".join(f"{k} = {num(x)}" for k, x in v.point.items()))
    computed = [k for k in net.names if k in v.forward and net.kind(k) in COMPUTED_KINDS]
    if len(computed) <= SHOWN:
        out.append("  forward: " + ", ".join(f"{k} = {num(v.forward[k])}" for k in computed))
    else:
        out.append(f"  forward: {shown.sweep.of} = {num(v.forward[shown.sweep.of])}")
    return out


def _text_row(p: TermPrinter, shown: Shown, row: Line | Gradient) -> list[str]:
    sweep, v = shown.sweep, shown.values
    node = row_node(row)
    lhs = p.whole(sweep.of, node)
    out = [f"  {lhs} = {rhs(p, sweep, row)}"]
    pad = " " * (len(lhs) + 2)
    if v is not None:
        value = v.delta[node] if isinstance(row, Line) else v.gradients[node]
        shown_terms = row.terms and (len(row.terms) > 1 or row.terms[0][0] != sweep.of)
        terms = f" = {_numbers(p, sweep, v, row)}" if shown_terms else ""
        out.append(f"{pad}{terms} = {num(value)}")
    for edge in row.terms:
        text = f"      {p.local(*edge)} = {formula_text(sweep.formula(edge))}"
        if v is not None:
            text += f" = {num(v.local[edge])}"
        out.append(text)
    if shown.lr is not None and v is not None and isinstance(row, Gradient):
        old, grad = v.point[node], v.gradients[node]
        new = old - shown.lr * grad
        out.append(
            f"      update: {node} ← {node} − η·{lhs} = {num(old)} − {num(shown.lr)}·({num(grad)})"
            f" = {num(new)}"
        )
    return out


# -- JSON -------------------------------------------------------------------------


def to_json(shown: Shown) -> dict[str, Any]:
    """Return the JSON object of ``derive backprop --format json``.

    ``text`` fields are the right sides in the ASCII spelling of ``derive dA/dB``'s JSON, ``latex``
    fields in LaTeX; ``local`` (the formula of each local partial) is given for sweeps of
    up to ``FORMULAS`` edges. ``value`` and ``update`` only with numbers; ``matrix`` only
    with the layer form.
    """
    sweep, v = shown.sweep, shown.values
    ascii_, tex = AsciiPrinter(sweep.net), LatexTermPrinter(sweep.net)
    out: dict[str, Any] = {"network": sweep.net.name, "of": sweep.of, "detail": sweep.detail}
    lines = []
    text_wholes: dict[str, str] = {}
    tex_wholes: dict[str, str] = {}
    for row in sweep.lines:
        item: dict[str, Any] = {
            "node": row.node,
            "text": rhs(ascii_, sweep, row, text_wholes),
            "latex": rhs(tex, sweep, row, tex_wholes),
        }
        if v is not None:
            item["value"] = v.delta[row.node]
        lines.append(item)
    grads = []
    updates = v.update(shown.lr) if v is not None and shown.lr is not None else {}
    for row in sweep.gradients:
        item = {
            "param": row.param,
            "text": rhs(ascii_, sweep, row, text_wholes),
            "latex": rhs(tex, sweep, row, tex_wholes),
        }
        if v is not None:
            item["value"] = v.gradients[row.param]
        if row.param in updates:
            item["update"] = updates[row.param]
        grads.append(item)
    out["sweep"] = lines
    out["gradients"] = grads
    out["multiplications"] = sweep.multiplications
    if _formulas(sweep):
        out["local"] = {
            ascii_.local(*e): {"text": formula_text(f), "latex": formula_latex(f, sweep.net)}
            for e, f in sweep.local.items()
        }
    if v is not None:
        out["point"] = v.point
        # Every node the point computes, the loss included (full precision, network order).
        out["forward"] = {
            n: v.forward[n] for n in sweep.net.names if n in v.forward and n not in v.point
        }
        if shown.origin:
            out["point_origin"] = shown.origin
    if shown.layers is not None:
        out["matrix"] = json_layers(shown)
    return out


def json_report(shown: Shown) -> str:
    """Return the JSON as text (one object)."""
    return dumps(to_json(shown)) + "\n"


# -- Markdown and LaTeX ------------------------------------------------------------


def _doc_rows(shown: Shown, p: LatexTermPrinter, rows: list) -> list[dict[str, Any]]:
    sweep, v = shown.sweep, shown.values
    out = []
    for row in rows:
        node = row_node(row)
        item: dict[str, Any] = {"lhs": p.whole(sweep.of, node), "rhs": rhs(p, sweep, row)}
        item["numbers"] = ""
        item["value"] = ""
        if v is not None:
            value = v.delta[node] if isinstance(row, Line) else v.gradients[node]
            if row.terms and (len(row.terms) > 1 or row.terms[0][0] != sweep.of):
                item["numbers"] = _numbers(p, sweep, v, row)
            item["value"] = num(value)
            item["result"] = (
                f"= {item['numbers']} " if item["numbers"] else ""
            ) + f"= {num(value)}"
        item["local"] = [
            (
                p.local(*e),
                formula_latex(sweep.formula(e), sweep.net),
                num(v.local[e]) if v is not None else "",
            )
            for e in row.terms
        ]
        item["step"] = ""
        if shown.lr is not None and v is not None and isinstance(row, Gradient):
            old, grad = v.point[node], v.gradients[node]
            name = p.name(node)
            item["step"] = (
                rf"{name} \leftarrow {name} - \eta \cdot {item['lhs']} = {num(old)} - "
                rf"{num(shown.lr)} \cdot ({num(grad)}) = {num(old - shown.lr * grad)}"
            )
        out.append(item)
    return out


def document(shown: Shown, fmt: str, flavor: str = "github", general: bool = True) -> str:
    """Return the sweep as a Markdown section (``flavor`` github or portable) or LaTeX fragment;
    ``general=False`` leaves out what every sweep says (a course's introduction says it once)."""
    from derive.printing.document import latex_escape, math_inline, shipped_environment
    from derive.printing.languages import MARKDOWN

    sweep = shown.sweep
    net = sweep.net
    p = LatexTermPrinter(net)
    lines, grads, more_lines, more_grads = _rows(sweep)
    if fmt == "markdown":
        escape = MARKDOWN[flavor].escape
        marks = notation(math_inline(r"\partial", flavor), math_inline(r"\mathrm{d}", flavor))
    else:
        escape = latex_escape
        marks = NOTATION_TEX
    values = {
        "title": escape(f"The backward sweep of {net.title or net.name}"),
        "detail": sweep.detail,
        "notation": marks if general else "",
        "general": general,
        "loss": p.name(sweep.of),
        # What the sweep starts from (a graph's output need not be a loss), and what it ends at.
        "top": "loss" if sweep.of == net.loss else "cost" if sweep.of == net.cost else "output",
        "leaf": "parameter" if net.parameters else "input",
        "lines": _doc_rows(shown, p, lines),
        "gradients": _doc_rows(shown, p, grads),
        "more_lines": more_lines,
        "more_gradients": more_grads,
        "cost": escape(cost_sentence(sweep)),
        "origin": escape(shown.origin),
        "numbers": shown.values is not None,
        "layers": "",
    }
    if shown.layers is not None:
        values["layers"] = document_layers(shown, fmt, flavor)
    env = shipped_environment(fmt, flavor)  # compiled once per process
    name = "backprop.md.j2" if fmt == "markdown" else "backprop.tex.j2"
    return env.get_template(name).render(**values)


def math_only(shown: Shown) -> str:
    """Return the sweep's lines and gradients as one display-math block (for ``_repr_latex_``)."""
    sweep = shown.sweep
    p = LatexTermPrinter(sweep.net)
    lines, grads, _, _ = _rows(sweep)
    rows = [rf"{p.whole(sweep.of, row_node(r))} &= {rhs(p, sweep, r)}" for r in [*lines, *grads]]
    return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"


def report(shown: Shown, fmt: str = "text", flavor: str = "github") -> str:
    """Return the sweep in ``text``, ``markdown``, ``latex`` or ``json``."""
    if fmt == "json":
        return json_report(shown)
    if fmt == "text":
        return text_report(shown)
    return document(shown, fmt, flavor)


# -- the layer form (--matrix) --------------------------------------------------------

# A matrix with more entries than this is summarised in text, Markdown and LaTeX.
MATRIX_ENTRIES = 48


@dataclass(frozen=True)
class _Marks:
    """How the layer form's equations write their operators: in plain text or in TeX."""

    sup: Any  # (symbol, layer) -> the symbol with the layer as superscript
    tr: str  # transpose
    odot: str  # the elementwise product, spaced
    times: str  # between a shape's rows and columns
    delta: str
    grad: str  # the gradient over a layer's outputs, {loss} to fill

    def shape(self, rows: int, cols: int) -> str:
        return f"{rows}{self.times}{cols}"


TEXT_MARKS = _Marks(lambda s, k: f"{s}^({k})", "ᵀ", " ⊙ ", "×", "δ", "∇_a {loss}")
TEX_MARKS = _Marks(
    lambda s, k: f"{s}^{{({k})}}",
    r"^{\mathsf{T}}",
    r" \odot ",
    r" \times ",
    r"\delta",
    r"\nabla_{{a}} {loss}",
)


def layer_equations(form: Any, tex: bool = False) -> list[tuple[str, str]]:
    """Return the layer form's equations, each with the shapes of its factors.

    Plain text (``tex`` False) or LaTeX; one (equation, shapes) pair a line, both
    written with the same marks.
    """
    m = TEX_MARKS if tex else TEXT_MARKS
    sup, tr, odot, d, shape = m.sup, m.tr, m.odot, m.delta, m.shape
    loss = form.net.latex_names[form.net.loss] if tex else form.net.loss
    grad = m.grad.format(loss=loss)
    dl = (
        (lambda x: rf"\frac{{\mathrm{{d}}{loss}}}{{\mathrm{{d}}{x}}}")
        if tex
        else (lambda x: f"d{loss}/d{x}")
    )
    layers = form.layers
    last = len(layers)
    out: list[tuple[str, str]] = []
    for layer in reversed(layers):
        n, prev = layer.shape
        li = layer.index
        act = ACTIVATIONS[layer.activation].tex if tex else ACTIVATIONS[layer.activation].symbol
        slope = f"{act}'({sup('z', li)})"
        if li == last and ACTIVATIONS[layer.activation].couples:
            jac = sup("J", li)
            eq = f"{sup(d, li)} = ({jac}){tr} {grad}"
            out.append((eq, f"{shape(n, 1)} = ({shape(n, n)}){tr} {shape(n, 1)}"))
        elif li == last:
            eq = f"{sup(d, li)} = {grad}{odot}{slope}"
            out.append((eq, f"{shape(n, 1)} = {shape(n, 1)}{odot}{shape(n, 1)}"))
        else:
            above = layers[li]
            eq = f"{sup(d, li)} = ({sup('W', li + 1)}){tr} {sup(d, li + 1)}{odot}{slope}"
            shapes = (
                f"{shape(n, 1)} = ({shape(*above.shape)}){tr} {shape(above.shape[0], 1)}"
                f"{odot}{shape(n, 1)}"
            )
            out.append((eq, shapes))
    for layer in layers:
        n, prev = layer.shape
        li = layer.index
        eq = f"{dl(sup('W', li))} = {sup(d, li)} ({sup('a', li - 1)}){tr}"
        out.append((eq, f"{shape(n, prev)} = {shape(n, 1)} ({shape(prev, 1)}){tr}"))
        if layer.biases:
            out.append((f"{dl(sup('b', li))} = {sup(d, li)}", f"{shape(n, 1)}"))
    return out


def _vector(xs: list[float]) -> str:
    if len(xs) > MATRIX_ENTRIES:
        return _summary([xs])
    return "[" + ", ".join(num(x) for x in xs) + "]ᵀ"


def _matrix(rows: list[list[float]]) -> str:
    if sum(len(r) for r in rows) > MATRIX_ENTRIES:
        return _summary(rows)
    return "[" + "; ".join(", ".join(num(x) for x in r) for r in rows) + "]"


def _summary(rows: list[list[float]]) -> str:
    flat = [x for r in rows for x in r]
    nonzero = sum(1 for x in flat if x)
    return (
        f"{len(rows)}×{len(rows[0])}" if len(rows) > 1 else f"{len(flat)}×1"
    ) + f" (from {num(min(flat))} to {num(max(flat))}, {nonzero:,} not 0)"


def text_layers(shown: Shown) -> list[str]:
    """Return the layer form as text lines: the matrices' names, the equations, the numbers."""
    form, lv = shown.layers, shown.layer_values
    net = form.net
    out = [f"Layer form: {len(form.layers)} layers, a^(0) = the inputs ({len(net.inputs):,})."]
    out.append("  z^(l) = W^(l) a^(l−1) + b^(l),  a^(l) = act(z^(l)); W^(l) is n_l × n_(l−1)")
    for layer in form.layers:
        n, prev = layer.shape
        act = layer.activation
        bias = f", b^({layer.index}) {n}×1" if layer.biases else ", no bias"
        out.append(f"  layer {layer.index}: {act}, W^({layer.index}) {n}×{prev}{bias}")
        if n * prev <= MATRIX_ENTRIES:
            rows = "; ".join(", ".join(w or "0" for w in row) for row in layer.weights)
            out.append(f"    W^({layer.index}) = [{rows}]")
            out.append(f"      rows {', '.join(layer.neurons)}; columns {', '.join(layer.sources)}")
        else:
            first = layer.weights[0][0] or "0"
            last = layer.weights[-1][-1] or "0"
            out.append(f"    W^({layer.index}) = [{first} … {last}]")
    out.append("Backward, layer by layer (shapes on the right):")
    eqs = layer_equations(form)
    width = max(len(e) for e, _ in eqs)
    out += [f"  {e:<{width}}   {s}" for e, s in eqs]
    if ACTIVATIONS[form.layers[-1].activation].couples:
        top = form.layers[-1].index
        out.append(f"  J^({top})_jk = ∂a_j/∂z_k = a_j (δ_jk − a_k), the softmax Jacobian")
        if form.softmax_cross_entropy:
            out.append(
                f"  with cross-entropy ∇_a L = −y ⊘ a^({top}), so J^({top})ᵀ ∇_a L = a^({top}) − y"
                " (the targets sum to 1)"
            )
    if lv is None:
        return out
    out.append("At the point:")
    out.append(f"  a^(0) = {_vector(lv.a_in[0])}")
    for i, layer in enumerate(form.layers):
        li = layer.index
        out.append(f"  z^({li}) = {_vector(lv.z[i])},  a^({li}) = {_vector(lv.a[i])}")
    for i in reversed(range(len(form.layers))):
        layer = form.layers[i]
        li = layer.index
        if i == len(form.layers) - 1:
            out.append(f"  ∇_a L = {_vector(lv.grad_a)}")
        if lv.jacobian[i] is not None:
            out.append(f"  J^({li}) = {_matrix(lv.jacobian[i])}")
        else:
            out.append(
                f"  {ACTIVATIONS[layer.activation].symbol}'(z^({li})) = {_vector(lv.slope[i])}"
            )
        out.append(f"  δ^({li}) = {_vector(lv.delta[i])}")
    for i, layer in enumerate(form.layers):
        li = layer.index
        out.append(f"  d{form.net.loss}/dW^({li}) = {_matrix(lv.dW[i])}")
        if layer.biases:
            out.append(f"  d{form.net.loss}/db^({li}) = {_vector(lv.db[i])}")
    return out


def json_layers(shown: Shown) -> list[dict[str, Any]]:
    """Return the JSON's ``matrix`` list: per layer W, delta, dW, db (names, shapes, values)."""
    form, lv = shown.layers, shown.layer_values
    out = []
    for i, layer in enumerate(form.layers):
        n, prev = layer.shape
        item: dict[str, Any] = {
            "layer": layer.index,
            "activation": layer.activation,
            "rows": layer.neurons,
            "columns": layer.sources,
            "W": {"shape": [n, prev], "names": [[w or 0 for w in row] for row in layer.weights]},
            "delta": {"shape": [n, 1]},
            "dW": {"shape": [n, prev]},
            "db": {"shape": [n, 1]},
        }
        if layer.biases:
            item["b"] = {"shape": [n, 1], "names": [[b] for b in layer.biases]}
        if lv is not None:
            item["W"]["value"] = lv.W[i]
            item["delta"]["value"] = [[d] for d in lv.delta[i]]
            item["dW"]["value"] = lv.dW[i]
            item["db"]["value"] = [[d] for d in lv.db[i]]
            item["z"] = {"shape": [n, 1], "value": [[x] for x in lv.z[i]]}
            item["a"] = {"shape": [n, 1], "value": [[x] for x in lv.a[i]]}
        out.append(item)
    return out


def _tex_matrix(rows: list[list[str]], flavor: str) -> str:
    newline = r" \cr " if flavor == "portable" else r" \\ "
    return r"\begin{bmatrix} " + newline.join(" & ".join(r) for r in rows) + r" \end{bmatrix}"


def document_layers(shown: Shown, fmt: str, flavor: str) -> str:
    """Return the layer form as a Markdown or LaTeX part (matrices as ``bmatrix``)."""
    from derive.printing.document import math_block

    form, lv = shown.layers, shown.layer_values
    p = LatexTermPrinter(form.net)
    loss = form.net.latex_names[form.net.loss]

    def block(tex: str) -> str:
        return math_block(tex, flavor) if fmt == "markdown" else f"\\[ {tex} \\]"

    def matrix(rows: list[list[float]]) -> str:
        if sum(len(r) for r in rows) > MATRIX_ENTRIES:
            return rf"\text{{{_summary(rows).replace('×', 'x')}}}"
        return _tex_matrix([[num(x) for x in r] for r in rows], flavor)

    head = "### Layer form" if fmt == "markdown" else r"\paragraph{Layer form.}"
    out = [head, ""]
    for layer in form.layers:
        li = layer.index
        n, prev = layer.shape
        if n * prev <= MATRIX_ENTRIES:
            names = [[p.name(w) if w else "0" for w in row] for row in layer.weights]
            out += [
                block(rf"W^{{({li})}} = {_tex_matrix(names, flavor)} \quad ({n} \times {prev})"),
                "",
            ]
        else:
            out += [block(rf"W^{{({li})}} \in \mathbb{{R}}^{{{n} \times {prev}}}"), ""]
    out += [
        block(
            r"z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}, \quad a^{(l)} = \operatorname{act}(z^{(l)})"
        ),
        "",
    ]
    for eq, shapes in layer_equations(form, tex=True):
        out += [block(rf"{eq} \qquad {shapes}"), ""]
    if form.softmax_cross_entropy:
        top = form.layers[-1].index
        out += [
            block(
                rf"J^{{({top})}}_{{jk}} = a_j (\delta_{{jk}} - a_k), \quad "
                rf"J^{{({top})\mathsf{{T}}}} \nabla_a {loss} = J^{{({top})\mathsf{{T}}}} (-y \oslash a^{{({top})}})"
                rf" = a^{{({top})}} - y"
            ),
            "",
        ]
    if lv is not None:
        for i, layer in enumerate(form.layers):
            li = layer.index
            out += [
                block(
                    rf"\delta^{{({li})}} = {matrix([[d] for d in lv.delta[i]])}, \quad "
                    rf"\frac{{\mathrm{{d}}{loss}}}{{\mathrm{{d}}W^{{({li})}}}} = {matrix(lv.dW[i])}"
                ),
                "",
            ]
    return "\n".join(out).rstrip() + "\n"
