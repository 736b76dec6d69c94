"""Stage 1, the graph part of a network file: inputs, params, formula nodes, output, examples.

A formula is read by derive's own parser
(:mod:`derive.formula`), never evaluated as code; each mistake is one
:class:`DeriveError` at the file's line and column, and inside a formula at
the column of the character that is wrong.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import yaml

from derive.errors import DeriveError
from derive.formula import parse_formula
from derive.formula.calculus import names_used
from derive.formula.tree import Node
from derive.yamlread import Reader, suggest

GRAPH_KEYS = ("inputs", "params", "nodes", "output", "examples", "cost")


@dataclass(frozen=True)
class FormulaNode:
    """A formula node as written: its text, its tree, the names it uses (each once), where it is."""

    name: str
    text: str
    tree: Node
    uses: tuple[str, ...]
    line: int
    col: int


Declare = Callable[..., None]
Get = Callable[[str], "yaml.Node | None"]


def declare_leaves(
    r: Reader, get: Get, declare: Declare, layer_inputs: list[str] | None
) -> tuple[list[str], list[str], list[tuple[yaml.ScalarNode, yaml.Node]]]:
    """Declare the graph's inputs (a file without layers), parameters and formula node names.

    Returns the inputs (``layer_inputs`` when the file has layers), the
    parameters and the ``nodes:`` entries, whose formulas are read later by
    :func:`read_formulas`, once every name is known.
    """
    inputs = list(layer_inputs or [])
    if get("inputs") is not None:
        if layer_inputs is not None:
            raise r.at(get("inputs")).error(
                "a file with layers declares its inputs in the first layer",
                hint="remove the top-level 'inputs:' or list them in '- inputs: [...]'",
            )
        inputs = _names(r, get("inputs"), "an input", declare)
    params = _names(r, get("params"), "a parameter", declare, inputs) if get("params") else []
    entries = list(r.mapping(get("nodes"), "nodes")) if get("nodes") is not None else []
    for key, _ in entries:
        declare(key, r.ident(key, "a formula node's name"))
    return inputs, params, entries


def _names(
    r: Reader, node: yaml.Node, what: str, declare: Declare, inputs: Iterable[str] = ()
) -> list[str]:
    if isinstance(node, yaml.SequenceNode) and not node.value:
        return []
    names = r.ident_list(node, what)
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    data = set(inputs)
    for item, name in zip(items, names, strict=True):
        if name in data:
            raise r.at(item).error(
                f"'{name}' is both an input and a parameter",
                hint="an input is data, a parameter is learned: keep it in one of the two lists",
            )
        declare(item, name)
    return names


def read_formulas(
    r: Reader, entries: list[tuple[yaml.ScalarNode, yaml.Node]], known: Iterable[str]
) -> dict[str, FormulaNode]:
    """Return every formula node, read by derive's parser against the file's names."""
    names = set(known)
    out: dict[str, FormulaNode] = {}
    for key, value in entries:
        text = r.scalar(value, f"the formula of {key.value}")
        mark = value.start_mark
        quoted = 1 if value.style in ("'", '"') else 0
        try:
            tree = parse_formula(text, names)
        except DeriveError as err:
            inside = err.col or 1
            on_one_line = "\n" not in text and value.style not in ("|", ">")
            col = mark.column + 1 + quoted + inside - 1 if on_one_line else mark.column + 1
            raise DeriveError(
                f"the formula of {key.value}, column {inside}: {err.message}",
                file=r.file,
                line=mark.line + 1,
                col=col,
                hint=err.hint,
            ) from None
        uses = names_used(tree)
        out[key.value] = FormulaNode(key.value, text, tree, uses, mark.line + 1, mark.column + 1)
    return out


def check_cycles(
    r: Reader, formulas: Mapping[str, FormulaNode], depends: Mapping[str, Iterable[str]]
) -> None:
    """Raise at the first formula of a cycle, naming the cycle (``q -> f -> q``).

    ``depends`` gives what each neuron and the loss are computed from; a
    formula node is computed from the names it uses.
    """
    deps = {**{k: list(v) for k, v in depends.items()}, **{k: f.uses for k, f in formulas.items()}}
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    for start in formulas:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        state[start] = 1
        while stack:
            node, i = stack.pop()
            children = deps.get(node, ())
            if i < len(children):
                stack.append((node, i + 1))
                child = children[i]
                if state.get(child) == 1:
                    path = [n for n, _ in stack]
                    _cycle_error(r, formulas, path[path.index(child) :] + [child])
                if not state.get(child):
                    state[child] = 1
                    stack.append((child, 0))
            else:
                state[node] = 2


def _cycle_error(r: Reader, formulas: Mapping[str, FormulaNode], cycle: list[str]) -> None:
    first = next(formulas[n] for n in cycle if n in formulas)
    # Written the way the values flow: each name is computed from the one before it.
    shown = " -> ".join(reversed(cycle))
    raise DeriveError(
        f"the nodes {shown} form a cycle",
        file=r.file,
        line=first.line,
        col=first.col,
        hint="a formula may use only names computed before it; break the cycle",
    )


def read_output(
    r: Reader,
    node: yaml.Node | None,
    formulas: Mapping[str, FormulaNode],
    loss: str,
    known: Iterable[str],
) -> str:
    """Return the node the sweep starts from: ``output:``, else the layered loss, else the one unused formula."""
    names = list(known)
    if node is not None:
        output = r.ident(node, "the output")
        if output not in names:
            raise r.at(node).error(
                f"the output '{output}' is not a formula node, a neuron or the loss",
                hint=suggest(output, names),
            )
        return output
    if loss:
        return loss
    used = {u for f in formulas.values() for u in f.uses}
    tops = [n for n in formulas if n not in used]
    if len(tops) != 1:
        raise DeriveError(
            "no node to start the sweep from: " + ", ".join(tops) + " are used by no other node",
            file=r.file,
            line=formulas[tops[0]].line if tops else 1,
            col=1,
            hint="name one with 'output: NAME'",
        )
    return tops[0]


def read_examples(
    r: Reader, node: yaml.Node, data: list[str], params: Iterable[str], known: Iterable[str]
) -> list[dict[str, float]]:
    """Return the training examples, each giving every input and target (``data``) a value."""
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise r.at(node).error(
            "'examples' must be a non-empty list of mappings", hint="write '- {x1: 0, x2: 1, y: 1}'"
        )
    wanted, learned, names = set(data), set(params), list(known)
    examples = []
    for index, item in enumerate(node.value, start=1):
        example: dict[str, float] = {}
        for key, value in r.mapping(item, f"example {index}"):
            if key.value in learned:
                raise r.at(key).error(
                    f"example {index} gives the parameter '{key.value}'",
                    hint="parameters are shared by every example: give them in 'values:'",
                )
            if key.value not in wanted:
                raise r.at(key).error(
                    f"example {index} gives '{key.value}', which is not an input or a target",
                    hint=suggest(key.value, data)
                    if key.value not in names
                    else "give inputs and targets only",
                )
            example[key.value] = r.number(value, f"the value of {key.value}")
        missing = [n for n in data if n not in example]
        if missing:
            raise r.at(item).error(
                f"example {index} has no value for " + ", ".join(missing),
                hint="give every input and target in each example",
            )
        examples.append(example)
    return examples


def read_graph(r: Reader, get: Get, spec, entries, names: Mapping[str, yaml.Node]) -> None:
    """Fill in a spec's formula nodes, output, examples and cost, checking each.

    ``names`` are every name declared so far (the file's order); a formula may
    use any of them but a pre-activation.
    """
    preacts = set(spec.preactivations.values())
    usable = [n for n in names if n not in preacts]
    spec.nodes = read_formulas(r, entries, usable)
    feeds = {n: [src for src, _ in pairs] for n, pairs in spec.feeds.items()}
    if spec.loss:
        feeds[spec.loss] = list(spec.layers[-1].neurons)
    check_cycles(r, spec.nodes, feeds)
    spec.formula_order = formula_order(spec)
    startable = [*spec.nodes, *feeds]
    spec.output = read_output(r, get("output"), spec.nodes, spec.loss, startable)
    if get("examples") is not None:
        spec.examples = read_examples(
            r, get("examples"), spec.inputs + spec.targets, spec.params, usable
        )
        spec.cost = r.ident(get("cost"), "the cost's name") if get("cost") is not None else "C"
        if spec.cost in names:
            raise r.at(get("cost") or get("examples")).error(
                f"the cost's name '{spec.cost}' is already a name in the file",
                hint="name the cost with 'cost: NAME'",
            )
    elif get("cost") is not None:
        raise r.at(get("cost")).error(
            "'cost' names the mean loss over 'examples:', and the file has none",
            hint="add 'examples:' or remove 'cost:'",
        )


def formula_order(spec) -> list[tuple[str, int]]:
    """Return the formula nodes in an order that computes each after what it uses, with generations.

    A node's generation is one more than the largest of what it uses (inputs and
    parameters are 0, a neuron its layer, the loss the layer after the last).
    """
    level: dict[str, int] = {n: i for i, layer in enumerate(spec.layers, 1) for n in layer.neurons}
    if spec.loss:
        level[spec.loss] = len(spec.layers) + 1
    order: list[tuple[str, int]] = []
    # Kahn's algorithm over the formula nodes; what they use outside them is known already.
    waiting = {f: [u for u in node.uses if u in spec.nodes] for f, node in spec.nodes.items()}
    users: dict[str, list[str]] = {}
    for f, uses in waiting.items():
        for u in uses:
            users.setdefault(u, []).append(f)
    count = {f: len(set(uses)) for f, uses in waiting.items()}
    ready = deque(f for f in spec.nodes if not count[f])
    while ready:
        f = ready.popleft()
        generation = 1 + max((level.get(u, 0) for u in spec.nodes[f].uses), default=0)
        level[f] = generation
        order.append((f, generation))
        for user in dict.fromkeys(users.get(f, ())):
            count[user] -= 1
            if not count[user]:
                ready.append(user)
    return order
