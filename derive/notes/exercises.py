"""Exercises whose answers are not in the note's text, each with a folded solution.

Questions and answers are lists of (kind, piece) pairs, kind ``text`` or ``math``,
so that both languages word them the same way.
"""

from __future__ import annotations

import shlex

from derive.expand import Derivative
from derive.graph import Network
from derive.notes.chain import lane_formula, whole
from derive.notes.content import Exercise, tex_num
from derive.printing import LatexTermPrinter
from derive.rules import ACTIVATIONS, elementwise, swapped

# A derive check command longer than this (a PDF's code line holds about 110 characters)
# goes on several lines, whole terms on each, a row at most ROW long.
COMMAND_LINE = 96
ROW = 64
# A list of names longer than this shows its first and last few.
LISTED = 8


def check_command(lhs: str, terms: list[str], argument: str) -> tuple[str, str]:
    """Return the ``derive check`` command that grades ``lhs = term + term ...`` and the
    answer on one line; a long answer breaks between terms inside the quotes, so that a
    PDF never breaks it mid-token and it still copies and pastes as one command.

    >>> print(check_command("dL/dh", ["dL/da*da/dh", "dL/db*db/dh"], "net")[0])
    derive check 'dL/dh = dL/da*da/dh + dL/db*db/dh' --net net
    >>> print(check_command("dL/dh", [f"dL/da{i}*da{i}/dh" for i in range(7)], "net")[0])
    derive check 'dL/dh =
        dL/da0*da0/dh + dL/da1*da1/dh + dL/da2*da2/dh
      + dL/da3*da3/dh + dL/da4*da4/dh + dL/da5*da5/dh
      + dL/da6*da6/dh' --net net
    """
    answer = f"{lhs} = " + " + ".join(terms)
    text = answer
    if len(f"derive check '{answer}' --net {argument}") > COMMAND_LINE:
        rows: list[list[str]] = [[]]
        for term in terms:
            if rows[-1] and len("    " + " + ".join([*rows[-1], term])) > ROW:
                rows.append([])
            rows[-1].append(term)
        text = f"{lhs} =\n    " + "\n  + ".join(" + ".join(row) for row in rows)
    return f"derive check {shlex.quote(text)} --net {argument}", answer


def listed(names: list[str]) -> str:
    r"""Return TeX names as a list, its middle elided when it is long.

    >>> listed(["a", "b", "c"])
    'a, b, c'
    >>> listed([f"w_{{{i}}}" for i in range(1, 101)])
    'w_{1}, w_{2}, w_{3}, \\ldots, w_{99}, w_{100}\\ \\text{(100 in all)}'
    """
    if len(names) <= LISTED:
        return ", ".join(names)
    return ", ".join([*names[:3], r"\ldots", *names[-2:]]) + rf"\ \text{{({len(names):,} in all)}}"


def T(text: str) -> tuple[str, str]:
    return ("text", text)


def M(tex: str) -> tuple[str, str]:
    return ("math", tex)


def sign_exercise(net: Network, sweep, vals) -> Exercise | None:
    """Predict the sign of a last-layer gradient from the output, the target and the input."""
    out = net.outputs[0]
    n = net.neurons[out]
    if not n.inputs:
        return None
    src, w = n.inputs[0]
    p = LatexTermPrinter(net)
    t = net.latex_names
    dz, x, g = vals.delta[n.preact], vals.forward[src], vals.gradients[w]
    sign = "positive" if g > 0 else "negative" if g < 0 else "zero"
    return Exercise(
        question=[
            T("Without computing it, predict the sign of "),
            M(whole(p, net.loss, w)),
            T(" from the diagram and the forward pass. (It is "),
            M(rf"{whole(p, net.loss, n.preact)} \cdot {t[src]}"),
            T(".)"),
        ],
        answer=[
            M(rf"{whole(p, net.loss, n.preact)} = {tex_num(dz)}"),
            T(" has the sign of the output's error (the output against its target), and "),
            M(rf"{t[src]} = {tex_num(x)}"),
            T(
                f" is {'positive' if x > 0 else 'negative' if x < 0 else 'zero'}; so the gradient is {sign}: "
            ),
            M(rf"{whole(p, net.loss, w)} = {tex_num(g)}"),
            T(". Gradient descent moves the weight the other way."),
        ],
    )


# A --at of more name=value pairs than this is left out of a command (the point is in the note).
AT_PAIRS = 6


def at_option(net: Network, point: dict[str, float], seed: int) -> str | None:
    """Return the ``--at`` option that gives ``point`` ('' for the file's own values), or None.

    Pairs over the file's ``values:``, or ``random:SEED`` and pairs over its random point,
    whichever is shorter; None when both need more than :data:`AT_PAIRS` pairs.

    >>> from derive.graph import load_network
    >>> net = load_network("simple")
    >>> at_option(net, {**net.values, "x1": 2.0}, 0)
    ' --at x1=2'
    """
    from derive.evaluate import random_point

    drawn = random_point(net, seed)
    given = [n for n in net.names if n in point]
    over_file = [n for n in given if net.values.get(n) != point[n]]
    over_random = [n for n in given if drawn.get(n) != point[n]]
    head, changed = (
        ("", over_file) if len(over_file) <= len(over_random) else (f"random:{seed}", over_random)
    )
    if len(changed) > AT_PAIRS:
        return None
    pairs = [f"{n}={point[n]:.15g}" for n in changed]
    return " --at " + ",".join([head, *pairs] if head else pairs) if head or pairs else ""


def _check_with(command: str, at: str | None) -> list:
    """Return the words that end an exercise: check it with ``command`` at the point ``at``."""
    if at is None:  # too many values differ from the file's to write them in a command
        return [
            T(". Then check your number with "),
            ("code", command + " --at POINT"),
            T(", POINT a file of the new point."),
        ]
    return [T(". Then check your number with "), ("code", command + at), T(".")]


def new_point_exercise(
    net: Network, point: dict[str, float], sweep, seed: int = 0
) -> Exercise | None:
    """Compute, then check: the sweep by hand at a point the note does not show (``point`` is
    the note's, drawn with ``seed`` where the file gives no values)."""
    from derive.sweep import values

    out = net.neurons[net.outputs[0]]
    if not out.inputs or not net.inputs:
        return None
    src, w = out.inputs[0]
    x = net.inputs[0]
    moved = round(point[x] + 0.5, 4)
    new = {**point, x: moved}
    v = values(net, new, detail=True, sweep=sweep)
    p = LatexTermPrinter(net)
    t = net.latex_names
    shown = [n for layer in net.layers for n in layer]
    return Exercise(
        question=[
            T("At a new point, "),
            M(rf"{t[x]} = {tex_num(moved)}"),
            T(" instead of "),
            M(tex_num(point[x])),
            T(
                " and everything else as in the example, run the forward pass and the sweep by hand down to "
            ),
            M(whole(p, net.loss, w)),
            *_check_with(
                f"derive d{net.loss}/d{w} --net {net.argument}", at_option(net, new, seed)
            ),
        ],
        answer=[
            T("The forward pass gives "),
            M(_values(shown, t, v.forward, 6)),
            T("; the sweep gives "),
            M(rf"{whole(p, net.loss, out.preact)} = {tex_num(v.delta[out.preact])}"),
            T(" and "),
            M(
                rf"{whole(p, net.loss, w)} = {whole(p, net.loss, out.preact)} \cdot {t[src]}"
                rf" = {tex_num(v.gradients[w])}"
            ),
            T("."),
        ],
    )


def _values(names: list[str], t: dict[str, str], forward, most: int) -> str:
    """Return the first values of a forward pass, ``a = 0.1, b = 0.2``, with an ellipsis
    and the count when there are more."""
    shown = ", ".join(rf"{t[n]} = {tex_num(forward[n])}" for n in names[:most])
    if len(names) > most:
        shown += rf", \ldots\ \text{{({len(names):,} values)}}"
    return shown


def sweep_line_exercise(net: Network, sweep) -> Exercise | None:
    """Write a hidden neuron's line of the sweep (the step BP2 takes), graded by derive check."""
    lines = [x for x in sweep.lines if x.node in net.neurons and len(x.terms) > 1]
    if not lines:
        return None
    line = lines[-1]
    p = LatexTermPrinter(net)
    L = net.loss
    command, answer = check_command(
        f"d{L}/d{line.node}",
        [f"d{L}/d{c}*d{c}/d{line.node}" for c, _ in line.terms],
        net.argument,
    )
    return Exercise(
        question=[
            T("Write "),
            M(whole(p, L, line.node)),
            T(
                " as a line of the backward sweep: from the whole derivatives of the nodes it feeds, "
                "times local partials. How many terms does it have, and why?"
            ),
        ],
        answer=[
            T(
                f"{len(line.terms)} terms, one per node it feeds (they add: the multivariable chain rule)."
            ),
        ],
        command=command,
        check=answer,
    )


def dead_relu_exercise(net: Network, sweep, vals) -> Exercise | None:
    """Why some gradients are exactly 0: a relu whose z is at most 0 at the example point."""
    p = LatexTermPrinter(net)
    t = net.latex_names
    for n in net.neurons.values():
        row = ACTIVATIONS[n.activation]
        if row.gates and row.slope_value(vals.forward[n.preact], 0.0) == 0 and n.inputs:
            w = n.inputs[0][1]
            into = [x for _, x in n.inputs] + ([n.bias] if n.bias else [])
            out = [x for x, pairs in net.weight_edges.items() if any(a == n.name for a, _ in pairs)]
            out_words = []
            if out and vals.forward[n.name] == 0:
                out_words = [
                    T(" The weights out of it, "),
                    M(listed([t[x] for x in out])),
                    T(", get 0 for another reason: each multiplies its output "),
                    M(rf"{t[n.name]} = 0"),
                    T(
                        ", and a weight's gradient is the error of the neuron it feeds times that input."
                    ),
                ]
            return Exercise(
                question=[
                    T("At the example point "),
                    M(rf"{whole(p, net.loss, w)} = 0"),
                    T(" exactly. Why? Which other gradients are 0 for the same reason?"),
                ],
                answer=[
                    M(rf"{t[n.preact]} = {tex_num(vals.forward[n.preact])} \le 0"),
                    T(", so the relu's slope there is 0 and "),
                    M(rf"{whole(p, net.loss, n.preact)} = 0"),
                    T(": nothing flows back through "),
                    M(t[n.name]),
                    T(". Every weight and bias into it gets gradient 0: "),
                    M(listed([t[x] for x in into])),
                    T(" (the neuron is 'dead' for this example)."),
                    *out_words,
                ],
            )
    return None


def sigmoid_exercise(net: Network) -> Exercise | None:
    """sigma' is at most 1/4: prove the bound the vanishing-gradient section uses."""
    if not any(ACTIVATIONS[n.activation].slope_max < 1 for n in net.neurons.values()):
        return None
    return Exercise(
        question=[
            T("Show that "),
            M(r"\sigma'(z) = \sigma(z)\,(1 - \sigma(z)) \le \tfrac{1}{4}"),
            T(" for every z, with equality only at z = 0."),
        ],
        answer=[
            T("With "),
            M(r"s = \sigma(z) \in (0, 1)"),
            T(", "),
            M(r"s(1 - s) = \tfrac{1}{4} - (s - \tfrac{1}{2})^2 \le \tfrac{1}{4}"),
            T(", equal only where s = 1/2, that is z = 0."),
        ],
        general=True,
    )


def changed_network(net: Network) -> tuple[Network, str, str] | None:
    """Return the network with its hidden layers' activation swapped (sigmoid for tanh, else
    tanh), and the two names; None without a hidden layer of one elementwise activation."""
    from dataclasses import replace

    hidden = net.spec.layers[:-1]
    kinds = {layer.activation for layer in hidden}
    if not hidden or len(kinds) != 1 or not elementwise(next(iter(kinds))):
        return None
    old = next(iter(kinds))
    new = swapped(old)
    layers = [replace(x, activation=new) for x in hidden] + [net.spec.layers[-1]]
    return Network(replace(net.spec, layers=layers)), old, new


def changed_activation_exercise(net: Network, point: dict[str, float]) -> Exercise | None:
    """Compute, then check: the output's first weight's gradient with the hidden activation changed."""
    from derive.sweep import values

    changed = changed_network(net)
    out = net.neurons[net.outputs[0]]
    if changed is None or not out.inputs:
        return None
    other, old, new = changed
    src, w = out.inputs[0]
    v = values(other, point, detail=True)
    before = values(net, point).gradients[w]
    p = LatexTermPrinter(net)
    t = net.latex_names
    hidden = [n for layer in net.layers[:-1] for n in layer]
    return Exercise(
        question=[
            T(f"The same network with {new} in place of {old} in the hidden layers (write "),
            ("code", f"activation: {new}"),
            T(" in a copy of its file), at the example point: run the forward pass and compute "),
            M(whole(p, net.loss, w)),
            T(". Is it larger or smaller than with "),
            T(f"{old}? Then check it with "),
            ("code", f"derive d{net.loss}/d{w} --net COPY.yaml"),
            T("."),
        ],
        answer=[
            T(f"With {new} the hidden outputs are "),
            M(_values(hidden, t, v.forward, 4)),
            T("; then "),
            M(rf"{whole(p, net.loss, out.preact)} = {tex_num(v.delta[out.preact])}"),
            T(" and "),
            M(
                rf"{whole(p, net.loss, w)} = {whole(p, net.loss, out.preact)} \cdot {t[src]}"
                rf" = {tex_num(v.gradients[w])}"
            ),
            T(", against "),
            M(tex_num(before)),
            T(f" with {old}."),
        ],
    )


def seed_exercise(net: Network, d: Derivative, vals) -> Exercise | None:
    """Find the error in seed 000's example 3: the lane formula, where it gives a wrong number."""
    lanes = lane_formula(net, d, vals)
    if lanes is None:
        return None
    terms, wrong = lanes
    truth = vals.gradients[d.wrt]
    if abs(wrong - truth) <= 1e-9 * max(abs(truth), 1e-12):
        return None
    p = LatexTermPrinter(net)
    g = d.graph
    answer = []
    for lane in terms:
        edges = list(zip(lane, lane[1:], strict=False))
        broken = next(((a, b) for a, b in edges if not g.has_edge(b, a)), None)
        if broken:
            answer += [
                T("The lane "),
                M(p.path(lane)),
                T(" is no path: "),
                M(p.name(broken[0])),
                T(" is no function of "),
                M(p.name(broken[1])),
                T(", so that term is 0. "),
            ]
    for path in d.paths:
        if path not in terms:
            answer += [T("The path "), M(p.path(path)), T(" is real but missing. ")]
    answer += [
        T("Following the network's edges gives "),
        M(rf"{whole(p, d.of, d.wrt)} = {tex_num(truth)}"),
        T("."),
    ]
    return Exercise(
        question=[
            T(
                "A common mistake in students' notes expands the derivative lane by lane: one path through the first neuron of every layer, one through the second. Written in this network's names it gives "
            ),
            M(tex_num(wrong)),
            T(" instead of "),
            M(tex_num(truth)),
            T(" (the lane formula of "),
            M(whole(p, d.of, d.wrt)),
            T(' in "Several paths add"). Find its errors.'),
        ],
        answer=answer,
    )


def _tt(name: str) -> str:
    r"""Return an identifier in typewriter math: ``\mathtt{b1\_L}``."""
    return r"\mathtt{" + name.replace("_", r"\_") + "}"


def check_exercise(net: Network, d: Derivative) -> Exercise:
    """Expand a parameter of the table by hand, and check it with ``derive check``."""
    p = LatexTermPrinter(net)
    ascii_terms = [
        "*".join(f"d{a}/d{b}" for a, b in zip(path, path[1:], strict=False)) for path in d.paths
    ]
    command, answer_text = check_command(f"d{d.of}/d{d.wrt}", ascii_terms, net.argument)
    used = dict.fromkeys([d.of, d.wrt, *(n for path in d.paths for n in path)])
    renamed = [n for n in used if n in net.spec.latex]
    names = []
    if renamed:
        names = [
            T(" derive check takes the file's names: "),
            M(r",\ ".join(rf"{net.latex_names[n]} \text{{ is }} {_tt(n)}" for n in renamed)),
            T("."),
        ]
    return Exercise(
        question=[
            T("Expand "),
            M(whole(p, d.of, d.wrt)),
            T(
                " path by path (its line of the sweep is in the table of every gradient), then check your answer with "
            ),
            (
                "code",
                f'derive check "d{d.of}/d{d.wrt} = ..." --net {net.argument}',
            ),
            T("."),
            *names,
        ],
        answer=[
            M(whole(p, d.of, d.wrt)),
            T(f" has {d.path_count:,} path{'s' if d.path_count != 1 else ''}. The answer, as "),
            T("derive check reads it:"),
        ],
        command=command,
        check=answer_text,
    )


def exercises(
    net: Network,
    sweep,
    vals,
    compact_vals,
    showcase: Derivative,
    other: Derivative,
    point: dict[str, float] | None = None,
    seed: int = 0,
) -> list[Exercise]:
    """Return the note's exercises, those that apply to this network (``seed`` drew the point
    where the file gives no values)."""
    found = [
        new_point_exercise(net, point, sweep, seed)
        if point is not None
        else sign_exercise(net, sweep, vals),
        sweep_line_exercise(net, compact_vals.sweep),
        dead_relu_exercise(net, sweep, vals),
        sigmoid_exercise(net),
        changed_activation_exercise(net, point) if point is not None else None,
        seed_exercise(net, showcase, compact_vals),
        check_exercise(net, other),
    ]
    return [x for x in found if x is not None]


def notation_examples(net: Network) -> tuple[str, str]:
    """Return, in this network's own names, a path in derive check's notation and a whole
    derivative that may stand for paths: the answers file's two examples.

    >>> from derive.graph import load_network
    >>> notation_examples(load_network("two_hidden"))
    ('dL/dO31*dO31/dW12', 'dL/dO21')
    """
    loss, weight = net.loss, net.weights[-1]
    src, dst = net.weight_edges[weight][0]
    inner = net.layers[-2][0] if len(net.layers) > 1 else dst  # the last hidden layer's first
    return f"d{loss}/d{dst}*d{dst}/d{weight}", f"d{loss}/d{inner}"
