"""Stage 1: read a network file into a checked, plain description.

The YAML is composed (not constructed) so that every value keeps its line and
column; each mistake becomes one :class:`DeriveError` pointing at it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from derive.errors import DeriveError
from derive.rules import ACTIVATIONS, LOSSES

IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
EDGE = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*->\s*([A-Za-z][A-Za-z0-9_]*)\s*\Z")
NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\Z")

ACTIVATION_NAMES = tuple(ACTIVATIONS)
LOSS_KINDS = tuple(LOSSES)
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
)


@dataclass
class LayerSpec:
    """One layer of neurons as written in the file."""

    neurons: list[str]
    activation: str = "sigmoid"
    bias: bool | list[str] = False


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


class _Located:
    """A composed YAML node with the file name, to raise errors at it."""

    def __init__(self, node: yaml.Node, file: str) -> None:
        self.node = node
        self.file = file

    def error(self, message: str, hint: str | None = None) -> DeriveError:
        mark = self.node.start_mark
        return DeriveError(
            message, file=self.file, line=mark.line + 1, col=mark.column + 1, hint=hint
        )


def _suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    lowered = {c.lower(): c for c in choices}
    close = [
        lowered[c] for c in difflib.get_close_matches(word.lower(), list(lowered), n=3, cutoff=0.5)
    ]
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    return "use one of " + ", ".join(choices)


class _Reader:
    """Turns composed YAML nodes into checked Python values."""

    def __init__(self, file: str) -> None:
        self.file = file

    def at(self, node: yaml.Node) -> _Located:
        return _Located(node, self.file)

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.at(node).error(f"{what} must be a mapping (key: value lines)")
        seen: dict[str, yaml.Node] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.at(key).error(f"a key in {what} must be a plain name")
            if key.value in seen:
                first = seen[key.value].start_mark.line + 1
                raise self.at(key).error(
                    f"key '{key.value}' is written twice in {what}",
                    hint=f"remove one of the two (the first is on line {first})",
                )
            seen[key.value] = key
        return node.value

    def scalar(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.at(node).error(f"{what} must be a single value")
        return node.value

    def text(self, node: yaml.Node, what: str) -> str:
        return self.scalar(node, what)

    def ident(self, node: yaml.Node, what: str) -> str:
        value = self.scalar(node, what)
        if not IDENT.match(value):
            raise self.at(node).error(
                f"{what} '{value}' is not a valid name",
                hint="names start with a letter and use only letters, digits and _",
            )
        return value

    def ident_list(self, node: yaml.Node, what: str) -> list[str]:
        if isinstance(node, yaml.ScalarNode):
            return [self.ident(node, what)]
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.at(node).error(f"{what} must be a non-empty list of names, like [x1, x2]")
        return [self.ident(item, what) for item in node.value]

    def number(self, node: yaml.Node, what: str) -> float:
        value = self.scalar(node, what)
        # YAML 1.1 reads 1e-3 as a string; any plain number-looking scalar is a number here.
        if not NUMBER.match(value.strip()) or node.style not in (None, ""):
            raise self.at(node).error(f"{what} must be a number, not '{value}'")
        return float(value)

    def boolean(self, node: yaml.Node) -> bool | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return node.value.lower() in ("true", "yes", "on")
        return None


def _compose(text: str, file: str) -> yaml.Node:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        raise DeriveError(
            f"malformed YAML: {problem}",
            file=file,
            line=mark.line + 1 if mark else None,
            col=mark.column + 1 if mark else None,
            hint="check the indentation and the ':' after each key",
        ) from None
    except yaml.YAMLError as exc:
        raise DeriveError(f"malformed YAML: {exc}", file=file) from None
    if node is None:
        raise DeriveError(
            "the file is empty", file=file, line=1, col=1, hint="start with 'layers:'"
        )
    return node


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
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DeriveError(f"cannot read the network file: {exc.strerror}", file=file) from None
        except UnicodeDecodeError:
            raise DeriveError("the network file is not UTF-8 text", file=file) from None
    r = _Reader(file)
    root = _compose(text, file)
    top: dict[str, tuple[yaml.ScalarNode, yaml.Node]] = {}
    for key, value in r.mapping(root, "the network file"):
        if key.value not in TOP_KEYS:
            raise r.at(key).error(f"unknown key '{key.value}'", hint=_suggest(key.value, TOP_KEYS))
        top[key.value] = (key, value)
    if "layers" not in top:
        raise r.at(root).error(
            "the file has no 'layers:'", hint="add a list of layers, inputs first"
        )

    def get(key: str) -> yaml.Node | None:
        return top[key][1] if key in top else None

    name = r.ident(get("name"), "name") if get("name") else path.stem
    title = r.text(get("title"), "title") if get("title") else name
    description = r.text(get("description"), "description") if get("description") else ""

    names: dict[str, yaml.Node] = {}

    def declare(node: yaml.Node, ident: str) -> None:
        if ident in names and node is root:
            mark = names[ident].start_mark
            raise DeriveError(
                f"'{ident}' is used twice", file=file, line=mark.line + 1, col=mark.column + 1
            )
        if ident in names:
            first = names[ident].start_mark
            raise r.at(node).error(
                f"the name '{ident}' is used twice",
                hint=f"rename one (the first is at line {first.line + 1}, column {first.column + 1})",
            )
        names[ident] = node

    inputs, layers = _read_layers(r, get("layers"), declare)
    loss, loss_kind, targets = _read_loss(r, get("loss"), root, layers[-1].neurons, declare)
    edges = _read_edges(r, get("edges"), inputs, layers, declare) if get("edges") else None
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
    )
    _name_auto_parameters(spec, declare, root, r)
    neurons = [n for layer in layers for n in layer.neurons]
    if get("preactivations"):
        for key, value in r.mapping(get("preactivations"), "preactivations"):
            _known(r, key, neurons)
            z = r.ident(value, "a pre-activation name")
            declare(value, z)
            spec.preactivations[key.value] = z
    for n in neurons:
        if n not in spec.preactivations:
            z = _default_preact(n, names)
            names[z] = root
            spec.preactivations[n] = z
    known = list(names)
    if get("latex"):
        for key, value in r.mapping(get("latex"), "latex"):
            _known(r, key, known)
            spec.latex[key.value] = r.text(value, f"the LaTeX of {key.value}")
    if get("values"):
        for key, value in r.mapping(get("values"), "values"):
            _known(r, key, known)
            spec.values[key.value] = r.number(value, f"the value of {key.value}")
    return spec


def _default_preact(neuron: str, taken: dict) -> str:
    # SPEC: z + what follows the leading letters (O11 -> z11, aL -> zL, a_L -> z_L);
    # "leading letters" is the first run of one case, so aL keeps its L.
    rest = neuron[re.match(r"[a-z]+|[A-Z]+", neuron).end() :]
    candidate = "z" + rest
    if not rest or candidate in taken:
        candidate = f"z_{neuron}"
    return candidate


def read_numbers(path: str | Path, known: list[str]) -> dict[str, float]:
    """Return the ``name: number`` pairs of a point file, each name checked against ``known``.

    Raises
    ------
    DeriveError
        At the line and column of a key written twice, an unknown name or a non-number.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DeriveError(f"cannot read the point file: {exc}", file=file) from None
    r = _Reader(file)
    values = {}
    for key, value in r.mapping(_compose(text, file), "the point file"):
        _known(r, key, known)
        values[key.value] = r.number(value, f"the value of {key.value}")
    return values


def _known(r: _Reader, key: yaml.ScalarNode, known: list[str]) -> None:
    if key.value not in known:
        raise r.at(key).error(f"unknown name '{key.value}'", hint=_suggest(key.value, known))


def _read_layers(r: _Reader, node: yaml.Node, declare) -> tuple[list[str], list[LayerSpec]]:
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
    inputs = r.ident_list(first["inputs"][1], "an input")
    for item in (
        first["inputs"][1].value if isinstance(first["inputs"][1], yaml.SequenceNode) else []
    ):
        declare(item, item.value)
    if isinstance(first["inputs"][1], yaml.ScalarNode):
        declare(first["inputs"][1], inputs[0])
    layers: list[LayerSpec] = []
    for index, layer_node in enumerate(node.value[1:], start=2):
        fields = {}
        for key, value in r.mapping(layer_node, f"layer {index}"):
            if key.value not in ("neurons", "activation", "bias"):
                if key.value == "inputs":
                    raise r.at(key).error(
                        "only the first layer holds inputs", hint="use 'neurons:'"
                    )
                raise r.at(key).error(
                    f"unknown key '{key.value}' in layer {index}",
                    hint=_suggest(key.value, ("neurons", "activation", "bias")),
                )
            fields[key.value] = value
        if "neurons" not in fields:
            raise r.at(layer_node).error(
                f"layer {index} has no 'neurons:'", hint="add 'neurons: [O1]'"
            )
        neuron_node = fields["neurons"]
        neurons = r.ident_list(neuron_node, "a neuron")
        items = neuron_node.value if isinstance(neuron_node, yaml.SequenceNode) else [neuron_node]
        for item in items:
            declare(item, item.value)
        spec = LayerSpec(neurons=neurons)
        if "activation" in fields:
            act = r.scalar(fields["activation"], "activation")
            if act not in ACTIVATION_NAMES:
                raise r.at(fields["activation"]).error(
                    f"unknown activation '{act}'", hint=_suggest(act, ACTIVATION_NAMES)
                )
            spec.activation = act
        if "bias" in fields:
            bias_node = fields["bias"]
            flag = r.boolean(bias_node)
            if flag is not None:
                spec.bias = flag
            else:
                biases = r.ident_list(bias_node, "a bias")
                if len(biases) != len(neurons):
                    raise r.at(bias_node).error(
                        f"layer {index} has {len(neurons)} neurons but {len(biases)} bias names",
                        hint="give one bias name per neuron, or write 'bias: true'",
                    )
                for item in bias_node.value:
                    declare(item, item.value)
                spec.bias = biases
        layers.append(spec)
    return inputs, layers


def _read_loss(r, node, root, outputs, declare) -> tuple[str, str, list[str]]:
    fields: dict[str, yaml.Node] = {}
    if node is not None:
        for key, value in r.mapping(node, "loss"):
            if key.value not in ("name", "kind", "target"):
                raise r.at(key).error(
                    f"unknown key '{key.value}' in loss",
                    hint=_suggest(key.value, ("name", "kind", "target")),
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
                f"unknown loss kind '{kind}'", hint=_suggest(kind, LOSS_KINDS)
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


def _read_edges(r, node, inputs, layers, declare) -> list[tuple[str, str, str]]:
    layer_of = {x: 0 for x in inputs}
    for index, layer in enumerate(layers, start=1):
        for n in layer.neurons:
            layer_of[n] = index
    edges: list[tuple[str, str, str]] = []
    weights: dict[str, yaml.Node] = {}
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
                    hint=_suggest(end, list(layer_of)),
                )
        if layer_of[dst] == 0:
            raise r.at(key).error(
                f"the edge '{key.value}' goes into the input '{dst}'",
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
        if weight not in weights:
            declare(value, weight)
            weights[weight] = value
        edges.append((src, dst, weight))
    fed = {dst for _, dst, _ in edges}
    for layer in layers:
        for n in layer.neurons:
            if n not in fed:
                raise r.at(node).error(
                    f"the neuron '{n}' has no inputs", hint=f"add an edge '... -> {n}: W'"
                )
    return edges


def _declare_auto(r: _Reader, declare, root: yaml.Node, name: str, what: str, hint: str) -> None:
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


def _name_auto_parameters(spec: NetworkSpec, declare, root: yaml.Node, r: _Reader) -> None:
    """Fill in default weight and bias names (SPEC section 1)."""
    if spec.edges is None:
        spec.edges = []
        count = 0
        previous = spec.inputs
        for layer in spec.layers:
            for dst in layer.neurons:
                for src in previous:
                    count += 1
                    weight = f"W{count}"
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
    for layer in spec.layers:
        if layer.bias is True:
            names = []
            for _ in layer.neurons:
                count += 1
                names.append(f"b{count}")
                _declare_auto(
                    r,
                    declare,
                    root,
                    names[-1],
                    "a bias (bias: true)",
                    "rename it, or list the bias names: 'bias: [...]'",
                )
            layer.bias = names
