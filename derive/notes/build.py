"""One note's content, assembled: the network, the chain rule, the sweep, code, exercises.

Every gradient and every local partial's value comes from one backward sweep
(:func:`derive.sweep.values`); SymPy is used only for the formulas of the few
derivatives worked in full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from derive.errors import DeriveError
from derive.evaluate import at, file_point, random_seed, read_at, read_point
from derive.expand import derive, symbol
from derive.graph import Network
from derive.notes import (
    chain,
    code,
    counts,
    exercises,
    layerform,
    neuron,
    nielsen,
    sweep,
    training,
    vanishing,
)
from derive.notes.chain import whole
from derive.notes.content import Layer, Note, intro, prose, tex_num
from derive.notes.diagram import diagram
from derive.printing import LatexTermPrinter, formula_latex
from derive.printing.document import check_latex_name
from derive.rules import ACTIVATIONS, LOSSES
from derive.sweep import backward, values
from derive.words import in_sentence

# The seed of the random point used when the file's values: are incomplete.
SEED = 0
# The network section writes at most this many neuron equations.
EQUATIONS = 12
# The exercise that expands a weight by hand picks one with at most this many paths.
EXERCISE_PATHS = 12


def example_point(net: Network, at_: str | None = None) -> tuple[dict[str, float], str, int]:
    """Return the worked example's point, where it comes from, and the seed of its random part.

    Where: ``file`` (the file's ``values:``), ``random`` (the file gives none), ``mixed`` (the
    file gives some), ``drawn`` (``at_`` is ``random:SEED``) or ``given`` (``at_`` is a point
    file or name=value pairs, over the file's values).
    """
    seed = random_seed(at_)
    if seed is not None:  # random:SEED, maybe with name=value pairs after it
        return read_at(at_, net)[0], "drawn", seed
    if at_ is not None:
        return read_point(at_, net), "given", SEED
    point, drawn = file_point(net, SEED)
    if not drawn:
        return point, "file", SEED
    return point, "random" if not net.values else "mixed", SEED


def covered(net: Network, wrt: list[str]) -> list[str]:
    """Return the parameters worked in full that ``--wrt`` names (network order).

    Raises
    ------
    DeriveError
        When a name is not a weight or bias of the network.
    """
    for name in wrt:
        if name not in net.parameters:
            what = (
                f"'{name}' is a {net.kind(name)} of the network '{net.name}', not a weight or bias"
                if name in net.names
                else f"the network '{net.name}' has no '{name}'"
            )
            raise DeriveError(
                what, hint="its weights and biases are " + ", ".join(net.parameters[:20])
            )
    return [n for n in net.parameters if n in wrt]


def check_user_text(net: Network) -> None:
    """Raise DeriveError when a ``latex:`` override could break or take over a document."""
    for name, tex in net.spec.latex.items():
        problem = check_latex_name(tex)
        if problem:
            raise DeriveError(
                f"latex: {name}: {problem}",
                file=str(net.file),
                hint="use letters, ^, _, braces and commands such as \\hat or \\alpha",
            )


def general_loss(net: Network) -> str:
    r"""Return the loss summed over j, in the network's letters: a_{j}^{(L)}, not O_j.

    The outputs' (and targets') index is the one part their names differ in; names
    with no such common pattern keep the table's O_j and y_j.

    >>> from derive.graph import load_network
    >>> general_loss(load_network("multi_3b1b"))
    'C_{0} = \\sum_j (a_{j}^{(L)} - y_{j})^2'
    """
    t = net.latex_names

    def indexed(names: list[str], fallback: str) -> str:
        forms = {re.sub(r"_\{\d+\}", "_{j}", t[n], count=1) for n in names}
        return forms.pop() if len(forms) == 1 and "_{j}" in next(iter(forms)) else fallback

    formula = LOSSES[net.loss_kind].formula
    return f"{t[net.loss]} = " + formula(indexed(net.outputs, "O_j"), indexed(net.targets, "y_j"))


def layers(net: Network) -> list[Layer]:
    """Return the layer table: neurons (a few of a wide layer), activation, formula, slope."""
    t = net.latex_names
    out = []
    for i, layer in enumerate(net.layers, 1):
        act = ACTIVATIONS[net.neurons[layer[0]].activation]
        names = [t[n] for n in sweep.shown(net, layer)]
        if len(names) < len(layer):
            names.append(rf"\dots, {t[layer[-1]]}")
        out.append(
            Layer(
                label="output" if i == len(net.layers) else f"hidden {i}",
                neurons=names,
                size=len(layer),
                activation=act.name,
                formula=act.formula,
                slope=act.slope_formula,
            )
        )
    return out


def equations(net: Network) -> list[str]:
    """Return each neuron's weighted sum, one equation per neuron (at most :data:`EQUATIONS`)."""
    t = net.latex_names
    out = []
    for layer in net.layers:
        for n in sweep.shown(net, layer):
            neuron = net.neurons[n]
            parts = [f"{t[w]} {t[s]}" for s, w in neuron.inputs]
            if len(parts) > 4:
                parts = [parts[0], r"\dots", parts[-1]]
            if neuron.bias:
                parts.append(t[neuron.bias])
            out.append(f"{t[neuron.preact]} = " + " + ".join(parts))
    return out


def _columns(eqs: list[str]) -> int:
    """Return 2 when more than six equations are each short enough to go two to a line."""
    return 2 if len(eqs) > 6 and max(chain.visible(e) for e in eqs) <= 30 else 1


@dataclass
class _Plan:
    """What a note works: its sweeps at the point, and the derivatives it shows in full."""

    point: dict[str, float]
    compact: object
    detail: object
    cvals: object
    dvals: object
    path_count: dict[str, int]
    names: list[str]
    best: str
    single: str | None
    ds: dict
    several: object
    output_in_bp: bool
    full: bool


def _plan(net: Network, point: dict[str, float], full: list[str]) -> _Plan:
    """Return the sweeps at the point and the derivatives worked in full (``full``: --wrt)."""
    compact = backward(net)
    detail = backward(net, detail=True)
    cvals = values(net, point, sweep=compact)
    dvals = values(net, point, detail=True, sweep=detail)
    ways, lengths = counts.path_counts(net.graph(), net.loss)
    path_count = {w: ways.get(w, 0) for w in net.parameters}
    # One weight per layer (or --wrt), the one with most paths, and the longest single path.
    by_layer = _by_layer(net, path_count)
    # The output layer's weight is BP4 with BP1's delta, worked in "Nielsen's four equations";
    # a network without a hidden neuron has no such section and keeps it.
    output_in_bp = not full and len(by_layer) > 1 and nielsen.has_hidden(net)
    if output_in_bp:
        by_layer = by_layer[:-1]
    names = full or by_layer
    best = max(net.parameters, key=lambda w: (path_count[w], lengths.get(w, 0), -net.rank(w)))
    ones = [w for w in net.parameters if path_count[w] == 1]
    single = max(ones, key=lambda w: (lengths[w], -net.rank(w))) if ones else None
    ds = chain.derivatives(net, list(dict.fromkeys([*names, best, *([single] if single else [])])))
    if path_count[best] > 1:
        several = chain.several_paths(net, ds[best], cvals, point)
    else:
        several = _input_paths(net, ways, point)
    return _Plan(
        point, compact, detail, cvals, dvals, path_count, names, best, single, ds, several,
        output_in_bp, bool(full),
    )  # fmt: skip


def _input_paths(net: Network, ways: dict[str, int], point: dict[str, float]):
    """Every parameter has one path (a skip network): an input or neuron may have more."""
    forks = [v for v in net.order if v != net.loss and ways.get(v, 0) > 1]
    fork = max(forks, key=lambda v: (ways[v], -net.rank(v)), default=None)
    if fork is None or ways[fork] > chain.NOTE_PATHS:
        return None
    d_fork = derive(net, net.loss, fork, max_paths=None)
    numbers = at(d_fork, point)
    return chain.several_paths(net, d_fork, numbers, point, truth=numbers.value)


def _worked(net: Network, plan: _Plan) -> list:
    seen: set[tuple[str, str]] = set()
    return [
        chain.worked(
            net,
            plan.ds[w],
            plan.cvals,
            plan.compact,
            shown=_shown(w, plan.best, plan.single, plan.several),
            cancel=i == 0,
            seen=seen,
        )
        for i, w in enumerate(plan.names)
    ]


def _drills(net: Network, plan: _Plan, seed: int) -> list:
    """The exercises; the weight to expand by hand is the last one with few enough paths to
    write out (its answer lists every path, so that derive check agrees with it)."""
    others = [w for w in net.parameters if w not in plan.names]
    few = [w for w in others if plan.path_count[w] <= EXERCISE_PATHS]
    pick = few[-1] if few else min(others or plan.names, key=lambda w: plan.path_count[w])
    other = derive(net, net.loss, pick, max_paths=None)
    return exercises.exercises(
        net, plan.detail, plan.dvals, plan.cvals, plan.ds[plan.best], other, plan.point, seed
    )


def _head(net: Network) -> dict:
    """The note's opening: title, the network's table and equations, its diagram, the loss."""
    t = net.latex_names
    loss = LOSSES[net.loss_kind]
    loss_value = loss.value([symbol(o) for o in net.outputs], [symbol(y) for y in net.targets])
    eqs = equations(net)
    return dict(
        name=net.name,
        title=prose(net.title, net),
        title_in_text=prose(in_sentence(net.title), net),
        title_plain=net.title,
        description=prose(net.description.strip(), net),
        loss_tex=t[net.loss],
        intro=intro(net),
        course=None,
        next=None,
        layers=layers(net),
        equations=eqs,
        equation_columns=_columns(eqs),
        more_equations=len(net.neurons) - len(eqs),
        diagram=diagram(net),
        loss_kind=LOSSES[net.loss_kind].words,
        loss_general=general_loss(net) if len(net.outputs) > 1 else "",
        loss_here=f"{t[net.loss]} = {formula_latex(loss_value, net)}"
        if len(net.outputs) <= 4
        else "",
        tied=[t[w] for w, pairs in net.weight_edges.items() if len(pairs) > 1],
        params=len(net.parameters),
        has_biases=bool(net.biases),
        skips=skips(net),
        net_argument=net.argument,
        notation=exercises.notation_examples(net) if net.layers else ("", ""),
    )


def _worked_title(plan: _Plan) -> str:
    if plan.output_in_bp:
        return "One weight per hidden layer, in full"
    return "One weight per layer, in full" if len(plan.names) > 1 else "One weight in full"


def build_note(
    net: Network, wrt: list[str] | None = None, at_: str | None = None, lr: float = sweep.LR
) -> Note:
    """Return everything one note shows, finished, for the templates.

    >>> from derive.graph import load_network
    >>> note = build_note(load_network("two_hidden"))
    >>> [w.wrt for w in note.worked], note.sweep.mul_sweep, note.sweep.mul_paths
    (['W1', 'W7'], 18, 46)
    """
    check_user_text(net)
    point, source, seed = example_point(net, at_)
    plan = _plan(net, point, covered(net, list(wrt or [])))
    names, best, ds, cvals, dvals = plan.names, plan.best, plan.ds, plan.cvals, plan.dvals
    wide = len(net.parameters) > code.INLINE_VALUES
    drills = _drills(net, plan, seed)
    form, why = layerform.build(net, point, (best, tex_num(cvals.gradients[best])))
    showcase = ds[best].paths[0] if ds[best].paths else None
    deepest = max(ds[best].paths, key=len) if ds[best].paths else ()
    return Note(
        **_head(net),
        one_path=chain.one_path(net, {plan.single: ds[plan.single]}, cvals)
        if plan.single
        else None,
        several=plan.several,
        worked=_worked(net, plan),
        others=len(net.parameters) - len(names),
        sweep=sweep.worked_sweep(
            net,
            plan.detail,
            dvals,
            point,
            source,
            best,
            chain.TABLE_ROWS,
            plan.path_count,
            plan.compact,
            seed,
            lr,
        ),  # fmt: skip
        layer_form=form,
        layer_form_why=why,
        graph_view=sweep.graph_view(net, plan.detail, dvals),
        equations_derived=nielsen.equations(net, dvals, point, showcase),
        gates=neuron.neuron_gates(net, dvals),
        training=training.training(net, point, lr, plan.compact),
        vanishing=vanishing.vanishing(net, deepest, cvals.forward, skips(net)),
        code=code.program(net, point, f"{net.name}.point.json" if wide else ""),
        code_every=code.checked_every(net) if wide else 1,
        exercises=drills,
        covered=[net.latex_names[w] for w in names],
        worked_title=_worked_title(plan),
        output_in_bp=plan.output_in_bp,
        graded=any(x.check for x in drills),
    )


def skips(net: Network) -> list[str]:
    """Return the edges that skip a layer, as LaTeX ``x_{1} \\to N``, in network order."""
    t = net.latex_names
    layer = {x: 0 for x in net.inputs} | {n: m.layer for n, m in net.neurons.items()}
    return [
        rf"{t[src]} \to {t[n]}"
        for n, m in net.neurons.items()
        for src, _ in m.inputs
        if src in layer and layer[src] < m.layer - 1
    ]


def _shown(w: str, best: str, single: str | None, several) -> str:
    """Return the section that already shows w's expansion ("" for none)."""
    if several is not None and several.parameter and w == best:
        return "Several paths add"
    return "One path: multiply the local partials" if w == single else ""


def _by_layer(net: Network, path_count: dict[str, int]) -> list[str]:
    out = []
    for index in range(1, len(net.layers) + 1):
        mine = [w for w in net.weights if net.neurons[net.weight_edges[w][0][1]].layer == index]
        if mine:
            out.append(max(mine, key=lambda w: (path_count[w], -net.rank(w))))
    return out


__all__ = ["build_note", "example_point", "whole", "LatexTermPrinter"]
