"""Stage 2: the network as a networkx DAG of dependencies.

An edge ``u -> v`` means v is a direct function of u, so the local partial
dv/du exists. The compact graph has inputs, parameters, neurons, targets and
the loss; the detailed graph puts each neuron's pre-activation z between the
neuron and what feeds it (3Blue1Brown's dz/dw, da/dz, dC/da).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import networkx as nx

from derive.data import data_dir
from derive.errors import DeriveError
from derive.netfile import NetworkSpec, read_spec

KINDS = ("input", "weight", "bias", "neuron", "preact", "target", "loss")


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
    close = difflib.get_close_matches(stem, list(bundled), n=3, cutoff=0.4)
    hint = (
        ("did you mean " + " or ".join(close) + "?")
        if close
        else ("give a path to a .yaml file, or one of: " + ", ".join(bundled))
    )
    raise DeriveError(f"no network file '{source}'", file=str(source), hint=hint)


def load_network(source: str | Path) -> Network:
    """Return the network in a file, or a bundled network by name.

    Examples
    --------
    >>> net = load_network("two_hidden")
    >>> net.outputs, net.loss, net.weight_edges["W1"]
    (['O31'], 'L', [('x1', 'O11')])
    """
    return Network(read_spec(resolve(source)))


def default_latex(name: str) -> str:
    """Return how a name is typeset by default: trailing digits or ``_x`` become a subscript.

    >>> default_latex("O11"), default_latex("a_L"), default_latex("W")
    ('O_{11}', 'a_{L}', 'W')
    """
    if "_" in name:
        head, _, tail = name.partition("_")
        tail = tail.replace("_", r"\_")
        return f"{_latex_word(head)}_{{{tail}}}"
    match = re.fullmatch(r"([A-Za-z]+?)(\d+)", name)
    if match:
        return f"{_latex_word(match.group(1))}_{{{match.group(2)}}}"
    return _latex_word(name)


def _latex_word(word: str) -> str:
    # Several letters are one name, typeset upright-joined rather than as a product.
    return word if len(word) == 1 else rf"\mathit{{{word}}}"


class Network:
    """A loaded network: its neurons, parameters, loss, and dependency graphs."""

    def __init__(self, spec: NetworkSpec) -> None:
        self.spec = spec
        self.file = spec.file
        self.name = spec.name
        self.title = spec.title
        self.description = spec.description
        self.inputs = list(spec.inputs)
        self.loss = spec.loss
        self.loss_kind = spec.loss_kind
        self.targets = list(spec.targets)
        self.layers = [list(layer.neurons) for layer in spec.layers]
        self.outputs = list(self.layers[-1])
        self.values = dict(spec.values)
        self.weight_edges: dict[str, list[tuple[str, str]]] = {}
        for src, dst, weight in spec.edges:
            self.weight_edges.setdefault(weight, []).append((src, dst))
        self.neurons: dict[str, Neuron] = {}
        for index, layer in enumerate(spec.layers, start=1):
            biases = layer.bias if isinstance(layer.bias, list) else [None] * len(layer.neurons)
            for n, bias in zip(layer.neurons, biases, strict=True):
                feeds = tuple((s, w) for s, d, w in spec.edges if d == n)
                preact = spec.preactivations[n]
                self.neurons[n] = Neuron(n, index, layer.activation, preact, feeds, bias)
        self.biases = {n.bias: n.name for n in self.neurons.values() if n.bias}
        self.preacts = {n.preact: n.name for n in self.neurons.values()}
        self._rank = {name: i for i, name in enumerate(self.names)}
        self.latex_names = {name: default_latex(name) for name in self.names}
        self.latex_names.update(spec.latex)

    # -- names -----------------------------------------------------------------

    @cached_property
    def names(self) -> list[str]:
        """Every name in network order: inputs, then per layer weights, biases, z's, neurons; targets, loss."""
        order: list[str] = list(self.inputs)
        seen = set(order)
        for layer in self.layers:
            for n in layer:
                neuron = self.neurons[n]
                for name in [w for _, w in neuron.inputs] + [neuron.bias, neuron.preact, n]:
                    if name and name not in seen:
                        seen.add(name)
                        order.append(name)
        return order + self.targets + [self.loss]

    @property
    def weights(self) -> list[str]:
        """Return the weight names in numbering order."""
        return list(self.weight_edges)

    @property
    def parameters(self) -> list[str]:
        """Return every weight and bias, in network order."""
        return [n for n in self.names if self.kind(n) in ("weight", "bias")]

    def kind(self, name: str) -> str:
        """Return what a name is: input, weight, bias, neuron, preact, target or loss."""
        if name in self.neurons:
            return "neuron"
        if name in self.weight_edges:
            return "weight"
        if name in self.biases:
            return "bias"
        if name in self.preacts:
            return "preact"
        if name in self.targets:
            return "target"
        if name == self.loss:
            return "loss"
        if name in self.inputs:
            return "input"
        raise KeyError(name)

    def rank(self, name: str) -> int:
        """Return a name's position in network order (for sorting paths as notes read them)."""
        return self._rank[name]

    def check_name(self, name: str, detail: bool = False) -> str:
        """Return ``name`` if the network has it, else raise with the closest names."""
        if name in self._rank:
            if self.kind(name) == "preact" and not detail:
                raise DeriveError(
                    f"'{name}' is a pre-activation, shown only in the detailed view",
                    hint="add --detail",
                )
            return name
        close = difflib.get_close_matches(name, self.names, n=3, cutoff=0.5)
        hint = (
            ("did you mean " + " or ".join(close) + "?")
            if close
            else ("see the names with: derive show --net " + self.name)
        )
        raise DeriveError(f"'{name}' is not a name in the network '{self.name}'", hint=hint)

    # -- graphs ------------------------------------------------------------------

    def group(self, neuron: str) -> list[str]:
        """Return the neurons whose z's a neuron's output depends on (its whole layer for softmax)."""
        n = self.neurons[neuron]
        if n.activation == "softmax":
            return list(self.layers[n.layer - 1])
        return [neuron]

    def args(self, neuron: str) -> list[str]:
        """Return what a neuron's z is a direct function of: sources, weights, bias."""
        n = self.neurons[neuron]
        out: list[str] = []
        for src, weight in n.inputs:
            for name in (src, weight):
                if name not in out:
                    out.append(name)
        if n.bias:
            out.append(n.bias)
        return out

    def graph(self, detail: bool = False) -> nx.DiGraph:
        """Return the dependency DAG; with ``detail`` the z nodes are in it too."""
        return self._detail_graph if detail else self._compact_graph

    @cached_property
    def _compact_graph(self) -> nx.DiGraph:
        return self._build(detail=False)

    @cached_property
    def _detail_graph(self) -> nx.DiGraph:
        return self._build(detail=True)

    def _build(self, detail: bool) -> nx.DiGraph:
        g = nx.DiGraph(name=self.name)
        for name in self.names:
            if detail or self.kind(name) != "preact":
                g.add_node(name, kind=self.kind(name), latex=self.latex_names[name])
        for n in self.neurons:
            if detail:
                z = self.neurons[n].preact
                g.add_edges_from((a, z) for a in self.args(n))
                g.add_edges_from((self.neurons[k].preact, n) for k in self.group(n))
            else:
                g.add_edges_from((a, n) for k in self.group(n) for a in self.args(k))
        g.add_edges_from((o, self.loss) for o in self.outputs)
        g.add_edges_from((t, self.loss) for t in self.targets)
        return g
