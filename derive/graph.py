"""Stage 2: the network as a networkx DAG of dependencies.

An edge ``u -> v`` means v is a direct function of u, so the local partial
dv/du exists. The compact graph has inputs, parameters, neurons, targets and
the loss; the detailed graph puts each neuron's pre-activation z between the
neuron and what feeds it (3Blue1Brown's dz/dw, da/dz, dC/da).
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import networkx as nx

from derive.data import data_dir
from derive.errors import DeriveError
from derive.netfile import NetworkSpec, read_spec
from derive.rules import ACTIVATIONS
from derive.words import did_you_mean

# The kinds of node the forward pass computes (everything else is given a value).
COMPUTED_KINDS = ("neuron", "preact", "loss", "formula")
# The kinds of node a point gives a value (the leaves of the graph).
# The learned leaves: gradient descent updates them.
PARAMETER_KINDS = ("weight", "bias", "param")
LEAF_KINDS = ("input", *PARAMETER_KINDS, "target")

# Up to this many names a derivative walks the whole graph (built once per network);
# a wider network gets only the part above the variable (Network.span_graph).
SPAN_WHOLE = 5000


@dataclass(frozen=True)
class Neuron:
    """One neuron: what feeds it (source, weight), its bias, activation and z."""

    name: str
    layer: int  # 1 for the first layer after the inputs
    activation: str
    preact: str
    inputs: tuple[tuple[str, str], ...]
    bias: str | None


def bundled_networks() -> list[Path]:
    """Return the paths of the networks that ship with the package, sorted by name."""
    return sorted(data_dir("networks").glob("*.yaml"))


def resolve(source: str | Path) -> Path:
    """Return the file a ``--net`` value names: a path, or a bundled network's name.

    Raises
    ------
    DeriveError
        When it is neither, suggesting the closest bundled names.
    """
    path = Path(source)
    if path.is_file():
        return path
    stem = path.name.removesuffix(".yaml").removesuffix(".yml")
    bundled = {p.stem: p for p in bundled_networks()}
    if path.parent == Path(".") and stem in bundled:
        return bundled[stem]
    here = [
        str(p) for p in (path.with_name(path.name + ".yaml"), path.with_name(path.name + ".yml"))
    ]
    close = [p for p in here if Path(p).is_file()] or difflib.get_close_matches(
        stem, list(bundled), n=3, cutoff=0.7
    )
    hint = (
        ("did you mean " + " or ".join(close) + "?")
        if close
        else ("give a path to a .yaml file, or one of: " + ", ".join(bundled))
    )
    raise DeriveError("no such network file", file=str(source), hint=hint)


def load_network(source: str | Path, commands_from: str | Path | None = None) -> Network:
    """Return the network in a file, or a bundled network by name.

    ``commands_from`` is the folder the commands derive prints for it are run from
    (notes are read in their own folder); by default the current one.

    Examples
    --------
    >>> net = load_network("two_hidden")
    >>> net.outputs, net.loss, net.weight_edges["W1"]
    (['O31'], 'L', [('x1', 'O11')])
    """
    return Network(read_spec(resolve(source)), commands_from)


def parse_derivative(text: str) -> tuple[str, str]:
    """Return (of, wrt) of a derivative written ``dA/dB`` or ``∂A/∂B``.

    Raises
    ------
    DeriveError
        When the text is not of that form.

    Examples
    --------
    >>> parse_derivative("dL/dW1"), parse_derivative(" ∂O31/∂O11 ")
    (('L', 'W1'), ('O31', 'O11'))
    """
    match = DERIVATIVE.fullmatch(text.strip())
    if not match:
        raise DeriveError(
            f"cannot read the derivative '{text}'",
            hint="write it as dA/dB, for example dL/dW1",
        )
    return match.group(1), match.group(2)


DERIVATIVE = re.compile(r"[d∂]\s*([A-Za-z][A-Za-z0-9_]*)\s*/\s*[d∂]\s*([A-Za-z][A-Za-z0-9_]*)")
INDEXED = re.compile(r"([A-Za-z])(\d+)_(\d+)(?:_(\d+))?")


def default_latex(name: str, indexed: bool = False) -> str:
    r"""Return how a name is typeset by default.

    Trailing digits become a subscript, a word after an underscore an upright
    subscript; in a layer-indexed network ``a1_3`` is ``a^{(1)}_{3}`` and the
    weight ``w2_5_17`` (into neuron 5 of layer 2 from neuron 17) is
    ``w^{(2)}_{5,17}``: the two indices always with a comma between them.

    >>> default_latex("O11"), default_latex("a_L"), default_latex("W"), default_latex("y_hat")
    ('O_{11}', 'a_{L}', 'W', 'y_{\\mathrm{hat}}')
    >>> default_latex("a1_3", indexed=True), default_latex("w2_5_17", indexed=True)
    ('a^{(1)}_{3}', 'w^{(2)}_{5,17}')
    """
    if indexed:
        match = INDEXED.fullmatch(name)
        if match:
            letter, layer, j, k = match.groups()
            return f"{letter}^{{({layer})}}_{{{j},{k}}}" if k else f"{letter}^{{({layer})}}_{{{j}}}"
    if "_" in name:
        head, _, tail = name.partition("_")
        if re.fullmatch(r"[A-Za-z]{2,}", tail):
            tail = rf"\mathrm{{{tail}}}"  # y_hat: a word, not the product h*a*t
        else:
            tail = tail.replace("_", r"\_")
        return f"{_latex_word(head)}_{{{tail}}}"
    match = re.fullmatch(r"([A-Za-z]+?)(\d+)", name)
    if match:
        return f"{_latex_word(match.group(1))}_{{{match.group(2)}}}"
    return _latex_word(name)


def _latex_word(word: str) -> str:
    # Several letters are one name, typeset upright-joined rather than as a product.
    return word if len(word) == 1 else rf"\mathit{{{word}}}"


class _LatexNames(Mapping):
    """Every name's LaTeX, worked out on first use (a wide network has 80,000 names)."""

    def __init__(self, names: dict[str, int], overrides: dict[str, str], indexed: bool) -> None:
        self._names = names
        self._done = dict(overrides)
        self._indexed = indexed

    def __getitem__(self, name: str) -> str:
        if name not in self._done:
            if name not in self._names:
                raise KeyError(name)
            self._done[name] = default_latex(name, self._indexed)
        return self._done[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _kinds(spec: NetworkSpec) -> Iterator[tuple[str, str, int]]:
    """Yield (name, kind, layer) for every name, in network order."""
    seen: set[str] = set()
    for x in spec.inputs:
        seen.add(x)
        yield x, "input", 0
    for p in spec.params:
        seen.add(p)
        yield p, "param", 0
    feeds = spec.feeds
    for index, layer in enumerate(spec.layers, start=1):
        biases = layer.bias
        for n, bias in zip(layer.neurons, biases, strict=True):
            for _, w in feeds[n]:
                if w not in seen:
                    seen.add(w)
                    yield w, "weight", index
            if bias and bias not in seen:
                seen.add(bias)
                yield bias, "bias", index
            yield spec.preactivations[n], "preact", index
            yield n, "neuron", index
    for t in spec.targets:
        yield t, "target", len(spec.layers) + 1
    if spec.loss:
        yield spec.loss, "loss", len(spec.layers) + 1
    for name, generation in spec.formula_order:
        yield name, "formula", generation


def build_graph(spec: NetworkSpec, detail: bool = False) -> nx.DiGraph:
    """Return the network as a dependency DAG: an edge u -> v when v is computed from u.

    Nodes carry ``kind`` (input, weight, bias, param, neuron, preact, target,
    loss, formula) and ``layer`` (0 for inputs, the loss last, a formula node its
    generation), which the stages read; edges carry nothing (which weight labels an
    edge is ``Network.weight_edges``, a name's LaTeX ``Network.latex_names``, a
    neuron's activation ``Network.neurons``). Without ``detail`` the z's are left
    out and each neuron depends on its z's arguments directly (a softmax neuron on
    those of every z of its layer).

    >>> from derive.netfile import read_spec
    >>> g = build_graph(read_spec("t.yaml", "layers:\\n  - inputs: [x]\\n  - neurons: [O]\\n"))
    >>> g.nodes["O"]["kind"], sorted(g.predecessors("O")), sorted(g.predecessors("L"))
    ('neuron', ['W1', 'x'], ['O', 'y'])
    """
    g = nx.DiGraph(name=spec.name)
    g.add_nodes_from(_nodes(spec, detail))
    g.add_edges_from(_edges(spec, detail))
    return g


def _nodes(spec: NetworkSpec, detail: bool, keep: set | None = None) -> Iterator[tuple[str, dict]]:
    """Yield build_graph's nodes (or those in ``keep``) and their attributes, in network order."""
    for name, kind, layer in _kinds(spec):
        if kind == "preact" and not detail or keep is not None and name not in keep:
            continue
        yield name, {"kind": kind, "layer": layer}


def _edges(spec: NetworkSpec, detail: bool) -> list[tuple[str, str]]:
    """Return build_graph's edges (source, target) in the order they are added."""
    feeds = spec.feeds
    edges: list[tuple] = []
    for layer in spec.layers:
        biases = layer.bias
        zs = [spec.preactivations[n] for n in layer.neurons]
        for n, z, bias in zip(layer.neurons, zs, biases, strict=True):
            into = z if detail else n
            for src, weight in feeds[n]:
                edges.append((src, into))
                edges.append((weight, into))
            if bias:
                edges.append((bias, into))
        if not ACTIVATIONS[layer.activation].couples:
            if detail:
                edges.extend((z, n) for z, n in zip(zs, layer.neurons, strict=True))
        elif detail:  # every output of a softmax layer depends on every z of it
            edges.extend((z, n) for n in layer.neurons for z in zs)
        else:
            args: dict[str, None] = {}
            for n, bias in zip(layer.neurons, biases, strict=True):
                args.update((a, None) for pair in feeds[n] for a in pair)
                if bias:
                    args[bias] = None
            edges.extend((a, n) for n in layer.neurons for a in args)
    if spec.loss:
        outputs = spec.layers[-1].neurons
        edges.extend((o, spec.loss) for o in outputs)
        edges.extend((t, spec.loss) for t in spec.targets)
    # A formula node depends on each name it uses once, however often it is written.
    edges.extend((u, f) for f, _ in spec.formula_order for u in spec.nodes[f].uses)
    return edges


@dataclass(frozen=True)
class Adjacency:
    """The dependency DAG as plain lists, without networkx (what a wide network can afford).

    ``edges`` are build_graph's (source, target), ``out`` gives the index in ``edges`` of each
    node's out-edges and ``pred`` each node's predecessors in the DiGraph's order
    (so ``paths.ancestors`` reads it like a DiGraph's).
    """

    edges: list[tuple[str, str]]
    out: dict[str, list[int]]
    pred: dict[str, list[str]]


def _spec(field: str, doc: str) -> property:
    """Return a read-only attribute of the network that is its spec's ``field``."""
    return property(lambda self: getattr(self.spec, field), doc=doc)


class Network:
    """A loaded network: a thin view over its dependency graph (:func:`build_graph`).

    Names in network order (``names``, ``order``, ``rank``), what each name is
    (``kind``), each neuron's inputs, bias, activation and z (``neurons``), and
    the compact and detailed graphs themselves (``graph(detail)``).
    """

    file = _spec("file", "The network file's path, as given.")
    name = _spec("name", "The network's name (its file's stem unless it says ``name:``).")
    title = _spec("title", "The file's ``title:``.")
    description = _spec("description", "The file's ``description:``.")
    inputs = _spec("inputs", "The input names, in the file's order.")
    loss = _spec("loss", "The loss node's name, or '' for a graph without one.")
    loss_kind = _spec("loss_kind", "The loss's rule: a row of rules.LOSSES.")
    targets = _spec("targets", "The target names, one per output.")
    formulas = _spec("nodes", "The formula nodes by name (graphfile.FormulaNode).")
    params = _spec("params", "The graph's learned leaves (``params:``).")
    output = _spec("output", "Where the sweep starts: the loss, the cost or ``output:``.")
    examples = _spec("examples", "A batch's examples, each a dict of values.")
    cost = _spec("cost", "The name of a batch's mean loss, or ''.")
    values = _spec("values", "The file's ``values:`` (name -> number).")

    def __init__(self, spec: NetworkSpec, commands_from: str | Path | None = None) -> None:
        self.spec = spec  # the one source: what the file says is read from it, never copied
        self.commands_from = commands_from
        self.weight_edges: dict[str, list[tuple[str, str]]] = {}
        for src, dst, weight in spec.edges:
            self.weight_edges.setdefault(weight, []).append((src, dst))
        feeds = spec.feeds
        self.neurons: dict[str, Neuron] = {}
        for index, layer in enumerate(spec.layers, start=1):
            biases = layer.bias
            for n, bias in zip(layer.neurons, biases, strict=True):
                preact = spec.preactivations[n]
                self.neurons[n] = Neuron(n, index, layer.activation, preact, tuple(feeds[n]), bias)
        # A bias shared by several neurons (bias: [b1, b1]) is one parameter.
        self.bias_neurons: dict[str, list[str]] = {}
        for n in self.neurons.values():
            if n.bias:
                self.bias_neurons.setdefault(n.bias, []).append(n.name)
        self.biases = {b: ns[0] for b, ns in self.bias_neurons.items()}
        self.preacts = {n.preact: n.name for n in self.neurons.values()}
        self._kind: dict[str, str] = {name: kind for name, kind, _ in _kinds(spec)}
        self.names: list[str] = list(self._kind)
        self.order: dict[str, int] = {name: i for i, name in enumerate(self.names)}
        self.latex_names: Mapping[str, str] = _LatexNames(self.order, spec.latex, spec.indexed)

    @cached_property
    def layers(self) -> list[list[str]]:
        """Return each layer's neuron names, the first hidden layer first."""
        return [list(layer.neurons) for layer in self.spec.layers]

    @cached_property
    def outputs(self) -> list[str]:
        """Return the last layer's neurons (none in a graph of formulas only)."""
        return list(self.layers[-1]) if self.layers else []

    def __repr__(self) -> str:
        params = len(self.parameters)
        return (
            f"<Network {self.name}: {len(self.inputs):,} inputs, {len(self.neurons):,} neurons,"
            f" {params:,} parameter{'s' if params != 1 else ''}>"
        )

    @cached_property
    def argument(self) -> str:
        """Return what ``--net`` needs to find this network, shell-quoted: a bundled name or a path
        from the folder its commands are run from (``commands_from``).

        >>> load_network("two_hidden").argument
        'two_hidden'
        """
        here = Path(self.file)
        # A bundled network, installed or in a checkout (networks/two_hidden.yaml): its name
        # works from anywhere.
        for p in bundled_networks():
            if p.name == here.name and p.read_bytes() == here.read_bytes():
                return p.stem
        if here.is_absolute():
            return shlex.quote(str(here))
        start = os.path.abspath(self.commands_from or os.curdir)
        return shlex.quote(os.path.relpath(os.path.abspath(here), start))

    # -- names -----------------------------------------------------------------

    @property
    def weights(self) -> list[str]:
        """Return the weight names in numbering order."""
        return list(self.weight_edges)

    @cached_property
    def parameters(self) -> list[str]:
        """Return every weight, bias and parameter (``params:``), in network order."""
        return [n for n in self.names if self._kind[n] in PARAMETER_KINDS]

    @cached_property
    def reported(self) -> list[str]:
        """Return the names whose gradients are reported: the parameters, or every input of a graph without any."""
        return self.parameters or list(self.inputs)

    @cached_property
    def formulas_in_order(self) -> list[str]:
        """Return the formula nodes in an order that computes each after what it uses."""
        return [name for name, _ in self.spec.formula_order]

    @cached_property
    def computed(self) -> list[str]:
        """Return the neurons, the loss and the formula nodes, each after what it uses.

        The forward pass's order (:func:`derive.kinds.forward`): layer by layer, then
        the loss; with formula nodes, a topological order of the graph (a formula may
        feed a neuron, and use the loss).
        """
        if not self.formulas:
            return [n for layer in self.layers for n in layer] + ([self.loss] if self.loss else [])
        graph = self.graph()
        ordered = graph.graph.setdefault("topological", list(nx.topological_sort(graph)))
        return [v for v in ordered if self._kind[v] in ("neuron", "loss", "formula")]

    @property
    def is_graph(self) -> bool:
        """Return whether the file has formula nodes (the gate view; no layer form of its own)."""
        return bool(self.formulas)

    def kind(self, name: str) -> str:
        """Return what a name is: input, weight, bias, param, neuron, preact, target, loss or formula."""
        return self._kind[name]

    def rank(self, name: str) -> int:
        """Return a name's position in network order (for sorting paths as notes read them)."""
        return self.order[name]

    def check_name(self, name: str, detail: bool = False) -> str:
        """Return ``name`` if the network has it, else raise with the closest names."""
        if name in self.order:
            if self._kind[name] == "preact" and not detail:
                raise DeriveError(
                    f"'{name}' is a pre-activation, shown only in the detailed view",
                    hint="ask for the detailed view",
                    needs="detail",
                )
            return name
        hint = did_you_mean(name, self.names) or (
            "see the names with: derive show --net " + self.argument
        )
        raise DeriveError(f"'{name}' is not a name in the network '{self.name}'", hint=hint)

    # -- graphs ------------------------------------------------------------------

    def group(self, neuron: str) -> list[str]:
        """Return the neurons whose z's a neuron's output depends on (its whole layer for softmax)."""
        n = self.neurons[neuron]
        if ACTIVATIONS[n.activation].couples:
            return list(self.layers[n.layer - 1])
        return [neuron]

    def args(self, neuron: str) -> list[str]:
        """Return what a neuron's z is a direct function of: sources, weights, bias."""
        return list(self._arg_sets[neuron])

    def takes(self, neuron: str, name: str) -> bool:
        """Return whether a neuron's z is a direct function of ``name`` (a set lookup)."""
        return name in self._arg_sets[neuron]

    @cached_property
    def _arg_sets(self) -> dict[str, dict[str, None]]:
        out: dict[str, dict[str, None]] = {}
        for name, n in self.neurons.items():
            args = out[name] = {}
            for src, weight in n.inputs:
                args[src] = None
                args[weight] = None
            if n.bias:
                args[n.bias] = None
        return out

    def graph(self, detail: bool = False) -> nx.DiGraph:
        """Return the dependency DAG (see :func:`build_graph`); with ``detail`` the z's too."""
        return self._detail_graph if detail else self._compact_graph

    def adjacency(self, detail: bool = False) -> Adjacency:
        """Return the dependency DAG as plain lists (see :class:`Adjacency`), built once."""
        key = "_adjacency_detail" if detail else "_adjacency"
        cached = self.__dict__.get(key)
        if cached is None:
            names = [n for n in self.names if detail or self._kind[n] != "preact"]
            edges = _edges(self.spec, detail)
            out: dict[str, list[int]] = {n: [] for n in names}
            pred: dict[str, list[str]] = {n: [] for n in names}
            for i, (u, v) in enumerate(edges):
                out[u].append(i)
                pred[v].append(u)
            cached = self.__dict__[key] = Adjacency(edges, out, pred)
        return cached

    def dependencies(self, detail: bool = False) -> nx.DiGraph | Adjacency:
        """Return the DAG in whichever form is built, the DiGraph or else its plain lists.

        Both give each node's predecessors as ``pred`` (what ``paths.ancestors`` reads):
        after ``derive backprop`` built the graph, a search need not build the lists too
        (a third of a second on MNIST).
        """
        built = "_detail_graph" if detail else "_compact_graph"
        return self.graph(detail) if built in self.__dict__ else self.adjacency(detail)

    def span_graph(self, wrt: str, detail: bool = False) -> nx.DiGraph:
        """Return the DAG a derivative with respect to ``wrt`` walks.

        The whole graph when it is small or already built; else only ``wrt``, its
        descendants and the edges among them, in the whole graph's order. Every
        path up from ``wrt`` stays inside, and each node in it keeps all its
        successors, so paths, sweeps and factoring see the same thing; on a wide
        network it is tiny (12 nodes of MNIST's 80,000 for a first-layer weight)
        where the whole graph costs over a second to build.
        """
        built = "_detail_graph" if detail else "_compact_graph"
        if len(self.order) <= SPAN_WHOLE or built in self.__dict__:
            return self.graph(detail)
        adj = self.adjacency(detail)
        keep = {wrt}
        stack = [wrt]
        while stack:
            for i in adj.out[stack.pop()]:
                n = adj.edges[i][1]
                if n not in keep:
                    keep.add(n)
                    stack.append(n)
        g = nx.DiGraph(name=self.spec.name)
        g.add_nodes_from(_nodes(self.spec, detail, keep))
        index = sorted(i for n in keep for i in adj.out[n] if adj.edges[i][1] in keep)
        g.add_edges_from(adj.edges[i] for i in index)
        return g

    @cached_property
    def _compact_graph(self) -> nx.DiGraph:
        return build_graph(self.spec)

    @cached_property
    def _detail_graph(self) -> nx.DiGraph:
        return build_graph(self.spec, detail=True)
