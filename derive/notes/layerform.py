"""The layer (matrix) form of the note: Nielsen's four equations in the network's letters.

Built on :func:`derive.layers.layer_form` (names and shapes) and
:func:`derive.layers.layer_values` (every matrix at the example point). A network
with a skip connection or a tied weight has no layer form; the note says why.
"""

from __future__ import annotations

import re

from derive.errors import DeriveError
from derive.graph import Network
from derive.notes.chain import LINE, visible
from derive.notes.content import Cell, LayerFormSection, sum_tex, tex_num
from derive.rules import ACTIVATIONS

# A matrix wider or taller than this is shown by its shape and corner entries.
SHOWN = 4
SLOPE = {name: a.slope_tex for name, a in ACTIVATIONS.items() if not a.couples}


def _matrix(rows: list[list[str]]) -> str:
    """Return a pmatrix, cut to its corner (with dots) when large."""
    cut = [r[:SHOWN] + ([r"\cdots"] if len(r) > SHOWN else []) for r in rows[:SHOWN]]
    if len(rows) > SHOWN:
        cut.append([r"\vdots"] + [""] * (len(cut[0]) - 1))
    return r"\begin{pmatrix} " + r" \\ ".join(" & ".join(r) for r in cut) + r" \end{pmatrix}"


def _lines(items: list[str], widths: list[int]) -> list[str]:
    """Return the items joined by commas, as many on a line as fit in a display line."""
    lines: list[list[str]] = [[]]
    used = 0
    for item, width in zip(items, widths, strict=True):
        if lines[-1] and used + width > LINE:
            lines.append([])
            used = 0
        lines[-1].append(item)
        used += width
    return [r",\quad ".join(line) for line in lines]


def label(net: Network, neurons: list[str], index: int) -> str:
    """Return a layer's superscript: the one its neurons' names already carry (3Blue1Brown's
    ``L-1`` in ``a^{(L-1)}``), so that W^(L-1) sits beside a^(L-1); else its number.

    >>> from derive.graph import load_network
    >>> net = load_network("chain_3b1b")
    >>> label(net, ["a1"], 1), label(net, ["a0"], 0), label(load_network("two_hidden"), ["O11"], 1)
    ('L-1', 'L-2', '1')
    """
    marks = {m.group(1) if m else None for m in (_SUP.search(net.latex_names[n]) for n in neurons)}
    return marks.pop() or str(index) if len(marks) == 1 else str(index)


_SUP = re.compile(r"\^\{\(([^(){}]+)\)\}")


def _vector(names: list[str]) -> list[list[str]]:
    return [[x] for x in names]


def build(
    net: Network, point: dict[str, float], example: tuple[str, str] | None
) -> tuple[LayerFormSection | None, str]:
    """Return the layer form of the note, or None and the one sentence saying why not.

    ``example`` is a (weight, its value) worked path by path earlier, whose entry of
    dL/dW^(l) the section points at.
    """
    from derive.layers import layer_form, layer_values

    try:
        form = layer_form(net)
    except DeriveError as err:
        return (
            None,
            f"This network has no layer form: {err.message}. The sweep above is all it needs.",
        )
    vals = layer_values(form, point)
    t = net.latex_names
    L = t[net.loss]
    count = len(form.layers)
    shapes, rows, checks, matrices = [], [], [], []
    widths: list[int] = []  # about how many characters wide each W^(l) prints
    for i, layer in enumerate(form.layers):
        n_l, n_prev = layer.shape
        n = label(net, layer.neurons, layer.index)
        names = [[t[w] if w else "0" for w in row] for row in layer.weights]
        shapes.append(rf"W^{{({n})}} = {_matrix(names)} \quad ({n_l} \times {n_prev})")
        shown = min(n_prev, SHOWN) + (n_prev > SHOWN)
        widths.append(10 + shown * (2 + max(visible(x) for row in names for x in row)))
        a = _matrix(_vector([t[x] for x in layer.neurons]))
        rows.append(rf"a^{{({n})}} = {a}")
        # The shapes of the sweep's two equations for this layer, checked in a table row.
        if i + 1 < count:
            m = form.layers[i + 1].shape[0]
            back = rf"({n_l} \times {m})({m} \times 1) \odot ({n_l} \times 1)"
        elif form.softmax_cross_entropy:  # a - y
            back = rf"({n_l} \times 1) - ({n_l} \times 1)"
        else:  # the gradient in the outputs, times the slopes
            back = rf"({n_l} \times 1) \odot ({n_l} \times 1)"
        checks.append(
            Cell(
                lhs=str(n),
                rhs=rf"{n_l} \times 1 = {back}",
                value=rf"{n_l} \times {n_prev} = ({n_l} \times 1)(1 \times {n_prev})",
            )
        )
        delta = _matrix([[tex_num(x)] for x in vals.delta[i]])
        dW = _matrix([[tex_num(x) for x in row] for row in vals.dW[i]])
        matrices.append(
            rf"\delta^{{({n})}} = {delta}, \quad \frac{{\mathrm{{d}}{L}}}{{\mathrm{{d}}W^{{({n})}}}} = {dW}"
        )
    equations, jacobian = _equations(net, form)
    entry = _entry(net, form, example)
    return (
        LayerFormSection(
            shapes=[*_lines(shapes, widths), r",\quad ".join(rows)],
            equations=equations,
            checks=checks,
            matrices=matrices,
            entry=entry,
            jacobian=jacobian,
            inputs=rf"a^{{({label(net, net.inputs, 0)})}}",
        ),
        "",
    )


def _equations(net: Network, form) -> tuple[list[str], tuple[str, str] | None]:
    """Return the four equations in this network's letters, and softmax's J and targets' sum."""
    t = net.latex_names
    L = t[net.loss]
    last = form.layers[-1]
    top = label(net, last.neurons, len(form.layers))
    jacobian: tuple[str, str] | None = None
    if form.softmax_cross_entropy:
        first = rf"\delta^{{({top})}} = J^T \nabla_a {L} = a^{{({top})}} - y"
        jacobian = (
            rf"J_{{jk}} = \partial a^{{({top})}}_j / \partial z^{{({top})}}_k",
            sum_tex([t[y] for y in net.targets]) + " = 1",
        )
    else:
        first = rf"\delta^{{({top})}} = \nabla_a {L} \odot {SLOPE.get(last.activation, '')}(z^{{({top})}})"
    hidden = {layer.activation for layer in form.layers[:-1]}
    slope = SLOPE.get(hidden.pop(), "f'") if len(hidden) == 1 else "f'"
    return [
        first,
        rf"\delta^{{(l)}} = (W^{{(l+1)}})^T \delta^{{(l+1)}} \odot {slope}(z^{{(l)}})",
        rf"\frac{{\mathrm{{d}}{L}}}{{\mathrm{{d}}b^{{(l)}}}} = \delta^{{(l)}}",
        rf"\frac{{\mathrm{{d}}{L}}}{{\mathrm{{d}}W^{{(l)}}}} = \delta^{{(l)}} (a^{{(l-1)}})^T",
    ], jacobian


def _entry(net: Network, form, example: tuple[str, str] | None) -> list[str]:
    """Return where the weight worked path by path sits in its dL/dW^(l), and its value."""
    t = net.latex_names
    L = t[net.loss]
    entry: list[str] = []
    if example is not None:
        w, value = example
        for layer in form.layers:
            for j, row in enumerate(layer.weights):
                if w in row:
                    k = row.index(w)
                    entry = [
                        f"({j + 1}, {k + 1})",
                        rf"\frac{{\mathrm{{d}}{L}}}{{\mathrm{{d}}W^{{({label(net, layer.neurons, layer.index)})}}}}",
                        rf"\frac{{\mathrm{{d}}{L}}}{{\mathrm{{d}}{t[w]}}} = {value}",
                    ]
    return entry
