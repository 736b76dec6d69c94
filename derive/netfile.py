"""Stage 1: read a network file into a checked, plain description.

Names, layer sizes (counts give layer-indexed names), shared parameters, the
size limit and the ``latex:`` allow-list are checked here, each mistake one
:class:`DeriveError` at its line and column (see :mod:`derive.yamlread`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from derive import graphfile
from derive.errors import DeriveError
from derive.graphfile import GRAPH_KEYS, FormulaNode
from derive.rules import ACTIVATIONS, LOSSES
from derive.texnames import latex_problem
from derive.yamlread import (
    IDENT,
    MAX_NODES,
    NUMBER,
    Names,
    Reader,
    compose,
    known_name,
    read_numbers,
    read_text,
    suggest,
)

__all__ = [
    "NUMBER", "IDENT", "NetworkSpec", "LayerSpec", "read_spec", "read_numbers", "course_networks"
]  # fmt: skip

EDGE = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*->\s*([A-Za-z][A-Za-z0-9_]*)\s*\Z")

ACTIVATION_NAMES = tuple(ACTIVATIONS)
LOSS_KINDS = tuple(LOSSES)
LAYER_KEYS = ("neurons", "activation", "bias")
# A network past this many weights and biases is refused before any name is made: every
# parameter is a named node of a graph (about 1 kB each, and `derive show` of 784-300-100-10,
# 266,610 of them, takes 2 s), so 784-4000-10 would take 20 s and 2 GB. A course's largest,
# MNIST's 784-100-10, has 79,510.
MAX_PARAMETERS = 300_000
TOP_KEYS = (
    "name",
    "title",
    "description",
    "layers",
    "loss",
    "edges",
    "latex",
    "values",
    "preactivations",
    *GRAPH_KEYS,
)


@dataclass
class LayerSpec:
    """One layer of neurons as written in the file."""

    neurons: list[str]
    activation: str = "sigmoid"
    # As written (true, false or names; a name repeated is one shared bias) until read_spec
    # returns; then one name or None per neuron, normalised once here.
    bias: bool | list[str | None] = False
    counted: bool = False  # given as a count (neurons: 100), names a<l>_<j>


@dataclass
class NetworkSpec:
    """A network file, checked: every name valid, every reference known."""

    file: str
    name: str
    title: str
    description: str
    inputs: list[str]
    layers: list[LayerSpec]
    loss: str
    loss_kind: str
    targets: list[str]
    edges: list[tuple[str, str, str]] | None
    latex: dict[str, str] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)
    preactivations: dict[str, str] = field(default_factory=dict)
    indexed: bool = False  # some layer is a count: layer-indexed names (a1_1, w1_1_1, ...)
    # The graph part: learned leaves, formula nodes, where the sweep starts,
    # the training examples and the name of their mean loss.
    params: list[str] = field(default_factory=list)
    nodes: dict[str, FormulaNode] = field(default_factory=dict)
    output: str = ""
    examples: list[dict[str, float]] = field(default_factory=list)
    cost: str = ""
    # Worked out once from the above: each neuron's (source, weight) pairs in the order
    # listed, and the formula nodes in an order that computes each after what it uses,
    # with their generations (graphfile.formula_order).
    feeds: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    formula_order: list[tuple[str, int]] = field(default_factory=list)


def read_spec(path: str | Path, text: str | None = None) -> NetworkSpec:
    """Return the checked description of the network file at ``path``.

    Raises
    ------
    DeriveError
        For any mistake in the file, with its line and column.

    Examples
    --------
    >>> spec = read_spec("tiny.yaml", "layers:\\n  - inputs: [x]\\n  - neurons: [O]\\n")
    >>> spec.inputs, spec.layers[0].neurons, spec.loss_kind, spec.targets
    (['x'], ['O'], 'squared_error', ['y'])
    """
    path = Path(path)
    file = str(path)
    if text is None:
        text = read_text(path, "the network file")
    r = Reader(file)
    root = compose(text, file)
    top = _top_keys(r, root)

    def get(key: str) -> yaml.Node | None:
        return top[key][1] if key in top else None

    name = r.ident(get("name"), "name") if get("name") else path.stem
    title = r.text(get("title"), "title") if get("title") else name
    description = r.text(get("description"), "description") if get("description") else ""
    names = Names(r, root)
    declare = names.declare
    inputs, layers, indexed, loss, loss_kind, targets = _read_layered(r, top, root, declare)
    inputs, params, entries = graphfile.declare_leaves(r, get, declare, inputs if layers else None)
    formula_names = [key.value for key, _ in entries]
    edges = (
        _read_edges(r, get("edges"), inputs, layers, declare, formula_names)
        if get("edges")
        else None
    )
    spec = NetworkSpec(
        file=file,
        name=name,
        title=title,
        description=description,
        inputs=inputs,
        layers=layers,
        loss=loss,
        loss_kind=loss_kind,
        targets=targets,
        edges=edges,
        indexed=indexed,
        params=params,
    )
    _name_auto_parameters(spec, declare, root, r)
    _read_preactivations(r, get("preactivations"), spec, names.nodes, declare, root)
    known = set(names.nodes)
    if get("latex"):
        _read_latex(r, get("latex"), spec, known)
    graphfile.read_graph(r, get, spec, entries, names.nodes)
    if get("values"):
        _read_values(r, get("values"), spec, known)
    return spec


def _top_keys(r: Reader, root: yaml.Node) -> dict[str, tuple[yaml.ScalarNode, yaml.Node]]:
    """Return the file's top-level keys, each with its key node and value, checked."""
    top: dict[str, tuple[yaml.ScalarNode, yaml.Node]] = {}
    for key, value in r.mapping(root, "the network file"):
        if key.value not in TOP_KEYS:
            # A course file (networks: [...]) is read here too when its key is misspelt.
            hint = suggest(key.value, (*TOP_KEYS, "networks"))
            raise r.at(key).error(f"unknown key '{key.value}'", hint=hint)
        top[key.value] = (key, value)
    if "layers" not in top and "nodes" not in top:
        raise r.at(root).error(
            "the file has no 'layers:' and no 'nodes:'",
            hint="add a list of layers, inputs first, or formula nodes (name: formula)",
        )
    return top


def _read_layered(r: Reader, top, root: yaml.Node, declare):
    """Return inputs, layers, indexed, loss, loss kind and targets (all empty without layers)."""
    if "layers" not in top:
        for key in ("loss", "edges", "preactivations"):
            if key in top:
                raise r.at(top[key][0]).error(
                    f"'{key}' belongs to layers, and the file has none", hint=f"remove '{key}:'"
                )
        return [], [], False, "", "", []
    inputs, layers, indexed = _read_layers(
        r,
        top["layers"][1],
        lambda node, ident, shared=None: declare(node, ident, shared),
        "edges" in top and bool(top["edges"][1]),
    )
    loss_node = top["loss"][1] if "loss" in top else None
    loss, loss_kind, targets = _read_loss(r, loss_node, root, layers[-1].neurons, declare)
    return inputs, layers, indexed, loss, loss_kind, targets


def _read_preactivations(r: Reader, node, spec: NetworkSpec, names, declare, root) -> None:
    """Name each neuron's z: as ``preactivations:`` says, else by the default rule."""
    if node is not None:
        neuron_set = {n for layer in spec.layers for n in layer.neurons}
        for key, value in r.mapping(node, "preactivations"):
            known_name(r, key, neuron_set)
            z = r.ident(value, "a pre-activation name")
            declare(value, z)
            spec.preactivations[key.value] = z
    for n, z in _default_preacts(spec, names).items():
        _declare_auto(
            r,
            declare,
            root,
            z,
            f"the pre-activation of {n}",
            "rename it, or name the pre-activations with 'preactivations:'",
        )
        spec.preactivations[n] = z


def _read_latex(r: Reader, node: yaml.Node, spec: NetworkSpec, known: set[str]) -> None:
    """Read ``latex:``, each value checked as TeX will read it (:mod:`derive.texnames`)."""
    for key, value in r.mapping(node, "latex"):
        known_name(r, key, known)
        tex = r.text(value, f"the LaTeX of {key.value}")
        problem = latex_problem(tex)
        if problem:
            raise r.at(value).error(
                f"latex: {key.value} {problem}",
                hint="use math only: letters, digits, _ ^ { }, and commands such as "
                r"\hat, \mathrm, \alpha",
            )
        spec.latex[key.value] = tex


def _read_values(r: Reader, node: yaml.Node, spec: NetworkSpec, known: set[str]) -> None:
    """Read ``values:``: leaves only, and with ``examples:`` the parameters only."""
    neurons = {n for layer in spec.layers for n in layer.neurons}
    loss = spec.loss
    computed = neurons | set(spec.preactivations.values()) | {loss} | set(spec.nodes)
    computed |= set(spec.inputs + spec.targets) if spec.examples else set()
    for key, value in r.mapping(node, "values"):
        known_name(r, key, known)
        if key.value in computed:
            raise r.at(key).error(
                f"{key.value} is computed by the forward pass, so it takes no value"
                if not spec.examples or key.value in spec.nodes or key.value == loss
                else f"{key.value} is given by each example",
                hint="give values for inputs, weights, biases and targets only"
                if not spec.examples
                else "with 'examples:', 'values:' holds the parameters only",
            )
        spec.values[key.value] = r.number(value, f"the value of {key.value}")


def course_networks(path: str | Path) -> list[str] | None:
    """Return the networks a course file lists (``networks: [...]``), or None for a network file.

    Raises
    ------
    DeriveError
        At the line and column of a mistake, as for a network file.
    """
    file = str(path)
    text = read_text(path, "the network file")
    if not re.search(r"^networks\s*:", text, re.M):  # a network file: composed once, later
        return None
    r = Reader(file)
    root = compose(text, file)
    pairs = r.mapping(root, "the file")
    keys = {key.value: value for key, value in pairs}
    if "networks" not in keys or "layers" in keys:
        return None
    node = keys["networks"]
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise r.at(node).error(
            "networks: must be a list of network names or files", hint="networks: [simple, mnist]"
        )
    return [r.scalar(item, "a network of the course") for item in node.value]


def _default_preacts(spec: NetworkSpec, taken: dict) -> dict[str, str]:
    """Return the default pre-activation name of each neuron not renamed.

    z followed by what follows the neuron name's leading letters (O11 -> z11,
    aL -> zL; "leading letters" is the first run of one case, so aL keeps its L).
    If any two would clash, or one would be bare z or a name already taken, every
    neuron gets z_<neuron>, so that one network never mixes the two styles.
    Layer-indexed networks use z<l>_<j>.
    """
    if spec.indexed:
        return {
            n: f"z{index}_{j}"
            for index, layer in enumerate(spec.layers, start=1)
            for j, n in enumerate(layer.neurons, start=1)
            if n not in spec.preactivations
        }
    todo = [n for layer in spec.layers for n in layer.neurons if n not in spec.preactivations]
    short = {n: "z" + n[re.match(r"[a-z]+|[A-Z]+", n).end() :] for n in todo}
    clash = len(set(short.values())) < len(short) or any(
        z == "z" or z in taken for z in short.values()
    )
    return {n: f"z_{n}" for n in todo} if clash else short


def _read_layers(
    r: Reader, node: yaml.Node, declare, has_edges: bool
) -> tuple[list[str], list[LayerSpec], bool]:
    """Return the inputs, the layers, and whether any layer is a count (indexed names)."""
    if not isinstance(node, yaml.SequenceNode) or len(node.value) < 2:
        raise r.at(node).error(
            "'layers' must be a list of at least two layers",
            hint="start with '- inputs: [x1, x2]', then '- neurons: [...]' for each layer",
        )
    first = dict((k.value, (k, v)) for k, v in r.mapping(node.value[0], "the first layer"))
    if set(first) != {"inputs"}:
        raise r.at(node.value[0]).error(
            "the first layer must hold only 'inputs'", hint="write '- inputs: [x1, x2]'"
        )
    layer_fields = []
    for index, layer_node in enumerate(node.value[1:], start=2):
        fields = {}
        for key, value in r.mapping(layer_node, f"layer {index}"):
            if key.value not in LAYER_KEYS:
                if key.value == "inputs":
                    raise r.at(key).error(
                        "only the first layer holds inputs", hint="use 'neurons:'"
                    )
                raise r.at(key).error(
                    f"unknown key '{key.value}' in layer {index}",
                    hint=suggest(key.value, LAYER_KEYS),
                )
            fields[key.value] = value
        if "neurons" not in fields:
            raise r.at(layer_node).error(
                f"layer {index} has no 'neurons:'", hint="add 'neurons: [O1]'"
            )
        layer_fields.append((index, layer_node, fields))
    # Sizes first, so that a network too large to hold is refused before any name is made.
    input_node = first["inputs"][1]
    sizes = [r.count(input_node, "the number of inputs")]
    sizes += [
        r.count(f["neurons"], f"the number of neurons in layer {i}") for i, _, f in layer_fields
    ]
    indexed = any(size is not None for size in sizes)
    _check_size(r, node, sizes, input_node, layer_fields, has_edges)
    if sizes[0] is not None:
        inputs = [f"x{i}" for i in range(1, sizes[0] + 1)]
        for x in inputs:
            declare(input_node, x)
    else:
        inputs = r.ident_list(input_node, "an input")
        items = input_node.value if isinstance(input_node, yaml.SequenceNode) else [input_node]
        for item in items:
            declare(item, item.value)
    layers: list[LayerSpec] = []
    for (index, _, fields), size in zip(layer_fields, sizes[1:], strict=True):
        neuron_node = fields["neurons"]
        if size is not None:
            neurons = [f"a{index - 1}_{j}" for j in range(1, size + 1)]
            for n in neurons:
                declare(neuron_node, n)
        else:
            neurons = r.ident_list(neuron_node, "a neuron")
            items = (
                neuron_node.value if isinstance(neuron_node, yaml.SequenceNode) else [neuron_node]
            )
            for item in items:
                declare(item, item.value)
        spec = LayerSpec(neurons=neurons, counted=size is not None)
        if "activation" in fields:
            act = r.scalar(fields["activation"], "activation")
            if act not in ACTIVATION_NAMES:
                raise r.at(fields["activation"]).error(
                    f"unknown activation '{act}'", hint=suggest(act, ACTIVATION_NAMES)
                )
            spec.activation = act
        if "bias" in fields:
            spec.bias = _read_bias(r, fields["bias"], index, neurons, declare)
        layers.append(spec)
    return inputs, layers, indexed


def _read_bias(r: Reader, node: yaml.Node, index: int, neurons: list[str], declare):
    flag = r.boolean(node)
    if flag is not None:
        return flag
    if isinstance(node, yaml.ScalarNode) and not IDENT.match(node.value):
        raise r.at(node).error(
            f"bias: '{node.value}' is neither true, false nor a name",
            hint="write bias: true (one bias a neuron), bias: false, or names: bias: [b1, b2]",
        )
    biases = r.ident_list(node, "a bias")
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    if len(biases) == 1 and len(neurons) > 1:  # bias: b1, one bias shared by the layer
        biases, items = biases * len(neurons), items * len(neurons)
    if len(biases) != len(neurons):
        raise r.at(node).error(
            f"layer {index} has {len(neurons)} neurons but {len(biases)} bias names",
            hint="give one bias name per neuron (a name repeated is one shared bias), "
            "or write 'bias: true'",
        )
    for item, bias in zip(items, biases, strict=True):
        declare(item, bias, shared="bias")
    return biases


def _check_size(r: Reader, node: yaml.Node, sizes, input_node, layer_fields, has_edges) -> None:
    """Refuse, before naming anything, a network past MAX_NODES nodes or (fully connected)
    past MAX_PARAMETERS parameters, by the counts as declared."""
    widths = []
    for size, value in zip(
        sizes, [input_node] + [f["neurons"] for _, _, f in layer_fields], strict=True
    ):
        if size is not None:
            widths.append(size)
        else:
            widths.append(len(value.value) if isinstance(value, yaml.SequenceNode) else 1)
    if sum(widths) > MAX_NODES:
        raise r.at(node).error(
            f"the network would have {sum(widths):,} inputs and neurons, over the limit of "
            f"{MAX_NODES:,}",
            hint="derive names and draws every node; use narrower layers",
        )
    # With edges:, the parameters are the edges listed, which the file's size bounds.
    total = 0 if has_edges else sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))
    if total > MAX_PARAMETERS:
        raise r.at(node).error(
            f"the network would have about {total:,} parameters, over the limit of "
            f"{MAX_PARAMETERS:,}",
            hint="derive names every weight; use narrower layers",
        )


def _read_loss(r, node, root, outputs, declare) -> tuple[str, str, list[str]]:
    fields: dict[str, yaml.Node] = {}
    if isinstance(node, yaml.ScalarNode) and node.value in LOSSES:  # loss: bce
        raise r.at(node).error(
            "loss must be a mapping (key: value lines)", hint=f"write loss: {{kind: {node.value}}}"
        )
    if node is not None:
        for key, value in r.mapping(node, "loss"):
            if key.value not in ("name", "kind", "target"):
                raise r.at(key).error(
                    f"unknown key '{key.value}' in loss",
                    hint=suggest(key.value, ("name", "kind", "target")),
                )
            fields[key.value] = value
    loss = "L"
    if "name" in fields:
        loss = r.ident(fields["name"], "the loss name")
    declare(fields.get("name", node if node is not None else root), loss)
    kind = "squared_error"
    if "kind" in fields:
        kind = r.scalar(fields["kind"], "the loss kind")
        if kind not in LOSS_KINDS:
            raise r.at(fields["kind"]).error(
                f"unknown loss kind '{kind}'", hint=suggest(kind, LOSS_KINDS)
            )
    if "target" in fields:
        targets = r.ident_list(fields["target"], "a target")
        if len(targets) != len(outputs):
            raise r.at(fields["target"]).error(
                f"{len(targets)} target(s) for {len(outputs)} output(s)",
                hint=f"give one target per output neuron ({', '.join(outputs)})",
            )
        target_node = fields["target"]
        items = target_node.value if isinstance(target_node, yaml.SequenceNode) else [target_node]
        for item, target in zip(items, targets, strict=True):
            declare(item, target)
    else:
        targets = ["y"] if len(outputs) == 1 else [f"y{i}" for i in range(1, len(outputs) + 1)]
        for target in targets:
            declare(fields.get("kind", node if node is not None else root), target)
    return loss, kind, targets


def _read_edges(r, node, inputs, layers, declare, formulas=()) -> list[tuple[str, str, str]]:
    layer_of = {x: 0 for x in [*inputs, *formulas]}  # a formula node may feed any neuron
    for index, layer in enumerate(layers, start=1):
        for n in layer.neurons:
            layer_of[n] = index
    edges: list[tuple[str, str, str]] = []
    seen: dict[tuple[str, str], yaml.Node] = {}
    for key, value in r.mapping(node, "edges"):
        match = EDGE.match(key.value)
        if not match:
            raise r.at(key).error(
                f"cannot read the edge '{key.value}'", hint="write it as 'x1 -> O11: W1'"
            )
        src, dst = match.groups()
        for end in (src, dst):
            if end not in layer_of:
                raise r.at(key).error(
                    f"the edge '{key.value}' names an unknown node '{end}'",
                    hint=suggest(end, list(layer_of)),
                )
        if layer_of[dst] == 0:
            what = "the formula node" if dst in formulas else "the input"
            raise r.at(key).error(
                f"the edge '{key.value}' goes into {what} '{dst}'",
                hint="an edge must end at a neuron",
            )
        if layer_of[src] >= layer_of[dst]:
            raise r.at(key).error(
                f"the edge '{key.value}' goes backwards or within a layer, which would make a cycle",
                hint="an edge goes from an input or an earlier layer to a later layer",
            )
        if (src, dst) in seen:
            raise r.at(key).error(
                f"the edge '{key.value}' is listed twice", hint="list each edge once"
            )
        seen[(src, dst)] = key
        weight = r.ident(value, "a weight")
        declare(value, weight, "weight")
        edges.append((src, dst, weight))
    fed = {dst for _, dst, _ in edges}
    for layer in layers:
        for n in layer.neurons:
            if n not in fed:
                raise r.at(node).error(
                    f"the neuron '{n}' has no inputs", hint=f"add an edge '... -> {n}: W'"
                )
    return edges


def _declare_auto(r: Reader, declare, root: yaml.Node, name: str, what: str, hint: str) -> None:
    """Declare an automatic name; a clash is reported at the user's own use of the name."""
    try:
        declare(root, name)
    except DeriveError as err:
        raise DeriveError(
            f"'{name}' is also the automatic name of {what}",
            file=r.file,
            line=err.line,
            col=err.col,
            hint=hint,
        ) from None


def _name_auto_parameters(spec: NetworkSpec, declare, root: yaml.Node, r: Reader) -> None:
    """Fill in default weight and bias names (W1, W2, ...; b1, b2, ...).

    W1, W2, ... and b1, b2, ... over the whole network; in a layer-indexed
    network w<l>_<j>_<k> (into neuron j of layer l from neuron k below) and b<l>_<j>.
    """
    if spec.edges is None:
        spec.edges = []
        count = 0
        previous = spec.inputs
        for index, layer in enumerate(spec.layers, start=1):
            for j, dst in enumerate(layer.neurons, start=1):
                for k, src in enumerate(previous, start=1):
                    count += 1
                    weight = f"w{index}_{j}_{k}" if spec.indexed else f"W{count}"
                    _declare_auto(
                        r,
                        declare,
                        root,
                        weight,
                        f"the weight {src} -> {dst}",
                        "rename it, or name the weights yourself with 'edges:'",
                    )
                    spec.edges.append((src, dst, weight))
            previous = layer.neurons
    count = 0
    for index, layer in enumerate(spec.layers, start=1):
        if layer.bias is True:
            names = []
            for j in range(1, len(layer.neurons) + 1):
                count += 1
                names.append(f"b{index}_{j}" if spec.indexed else f"b{count}")
                _declare_auto(
                    r,
                    declare,
                    root,
                    names[-1],
                    "a bias (bias: true)",
                    "rename it, or list the bias names: 'bias: [...]'",
                )
            layer.bias = names
        elif layer.bias is False:
            layer.bias = [None] * len(layer.neurons)
    spec.feeds = {n: [] for layer in spec.layers for n in layer.neurons}
    for src, dst, weight in spec.edges:
        spec.feeds[dst].append((src, weight))
