"""The Python API for notebooks: everything the command line does, by import.

>>> import derive
>>> r = derive.differentiate("two_hidden", "dL/dW1")
>>> r.path_count, r.paths[1]
(2, ('L', 'O31', 'O22', 'O11', 'W1'))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sympy as sp

from derive.errors import DeriveError
from derive.evaluate import Numbers, at, check_lr, read_at, read_point
from derive.expand import Derivative, derive
from derive.graph import Network, load_network, parse_derivative, resolve
from derive.netfile import read_spec
from derive.printing import (
    AsciiPrinter,
    LatexTermPrinter,
    expansion_terms,
    formula_latex,
    num,
    report,
    to_json,
)
from derive.printing.network import network_markdown


class NotebookNetwork(Network):
    """A network that shows itself in Jupyter: its diagram and weight table, its SVG.

    A subclass the API owns, so that graph.Network imports no printer and nothing
    is patched onto it.
    """

    def _repr_markdown_(self) -> str:
        return network_markdown(self)

    def _repr_html_(self) -> str:
        """Return a network's diagram for Jupyter: the HTML page's SVG."""
        from derive.notes.page import notebook_html

        return notebook_html(self)


def load(source: str | Path) -> Network:
    """Return a network from a file path or a bundled name (``"two_hidden"``).

    In Jupyter it shows itself: its diagram (Mermaid) and its weight table.

    >>> "```mermaid" in load("simple")._repr_markdown_()
    True
    """
    return NotebookNetwork(read_spec(resolve(source)))


def read_the_point(
    at: Mapping[str, float] | str | None, net: Network
) -> tuple[dict[str, float], str]:
    """Return the point ``at`` gives, and where it came from ("" unless random).

    ``at`` is a mapping, a YAML file, ``"x1=0.5,W1=0.1"``, ``"random:7"``, or None (the
    network file's ``values:``); a mapping and a file fill in over ``values:``. This is the
    one reader of a point for every command; a mistake in it is marked ``option="at"``.

    >>> point, origin = read_the_point("random:7", load("simple"))
    >>> origin.startswith("random, seed 7")
    True
    """
    try:
        if isinstance(at, Mapping):
            point = read_point(None, net)
            point.update(at)
            return point, ""
        return read_at(at, net)
    except DeriveError as err:
        err.option = "at"
        raise


@dataclass
class Result:
    """A derivative, and its numbers when a point was given; shows itself in Jupyter."""

    derivative: Derivative
    numbers: Numbers | None = None

    @property
    def paths(self) -> list[tuple[str, ...]]:
        """Return the listed paths, ``of`` first."""
        return self.derivative.paths

    @property
    def path_count(self) -> int:
        """Return the exact number of paths."""
        return self.derivative.path_count

    @property
    def expansion(self) -> str:
        """Return the sum over paths as text (``dL/dO31*dO31/dO21*...``)."""
        return to_json(self.derivative)["expansion"]["text"]

    @property
    def factored(self) -> str:
        """Return the factored form as text."""
        return AsciiPrinter(self.derivative.net).term(self.derivative.factored)

    @property
    def concrete(self) -> sp.Expr:
        """Return the concrete derivative as a SymPy expression in the network's names."""
        return self.derivative.concrete

    @property
    def value(self) -> float | None:
        """Return the derivative's value at the point, if one was given."""
        return self.numbers.value if self.numbers else None

    @property
    def update(self) -> dict | None:
        """Return the gradient step ``{"lr", "old", "new"}``, if a learning rate was given."""
        n = self.numbers
        if n is None or n.lr is None:
            return None
        return {"lr": n.lr, "old": n.old, "new": n.new}

    def to_json(self) -> dict:
        """Return the JSON object of ``derive dA/dB --format json``."""
        return to_json(self.derivative, self.numbers)

    def __repr__(self) -> str:
        d = self.derivative
        value = f", value={num(self.value)}" if self.numbers else ""
        return f"<Result d{d.of}/d{d.wrt} in {d.net.name}: {d.path_count:,} paths{value}>"

    def __str__(self) -> str:
        return report(self.derivative, "text", self.numbers)

    def _repr_markdown_(self) -> str:
        return report(self.derivative, "markdown", self.numbers, flavor="portable")

    def _repr_html_(self) -> str:
        """Return the diagram with the derivative's paths lit, under its factored form (MathML)."""
        from derive.notes.page import notebook_html
        from derive.printing.mathml import MathMLPrinter, math

        d = self.derivative
        p = MathMLPrinter(d.net)
        rhs = p.term(d.factored) if not d.is_zero else "<mn>0</mn>"
        value = f"<mo>=</mo><mn>{num(self.value)}</mn>" if self.numbers else ""
        head = f"<p>{math(p.whole(d.of, d.wrt) + '<mo>=</mo>' + rhs + value, display=True)}</p>"
        return notebook_html(d.net, d.of, d.wrt, caption=head)

    def _repr_latex_(self) -> str:
        """Return math only (MathJax front ends render nothing else): expansion, factored, concrete."""
        d = self.derivative
        p = LatexTermPrinter(d.net)
        # A long expansion would swamp the page; the factored form says the same.
        rows = [" + ".join(expansion_terms(d, p))] if d.path_count <= 8 else []
        if not d.is_zero and d.of != d.wrt:
            rows += [p.term(d.factored), formula_latex(d.concrete, d.net)]
        if self.numbers is not None:
            rows.append(num(self.numbers.value))
        body = r" \\ &= ".join(rows)
        return rf"$$\begin{{aligned}} {p.whole(d.of, d.wrt)} &= {body} \end{{aligned}}$$"


def differentiate(
    net: Network | str | Path,
    derivative: str,
    *,
    detail: bool = False,
    at_point: Mapping[str, float] | str | None = None,
    lr: float | None = None,
    max_paths: int | None = 1000,
) -> Result:
    """Return the derivative ``"dL/dW1"`` of a network, with numbers if a point is given.

    ``at_point`` is a mapping, a YAML file, ``"x1=0.5,W1=0.1"`` or ``"random:7"``; the
    network's ``values:`` fill in what it does not give.
    """
    if not isinstance(net, Network):
        net = load_network(net)
    of, wrt = parse_derivative(derivative)
    d = derive(net, of, wrt, detail=detail, max_paths=max_paths)
    numbers = None
    if at_point is not None or lr is not None:
        point, _ = read_the_point(at_point, net)
        numbers = at(d, point, lr=lr)
    return Result(d, numbers)


@dataclass
class Backprop:
    """The backward sweep of a network, with its numbers at a point; shows itself in Jupyter.

    ``sweep`` is :func:`derive.sweep.backward`'s data, ``values`` its numbers
    (:class:`derive.sweep.Values`, or None without a point), ``layers`` and
    ``layer_values`` the layer form (with ``matrix=True``).
    """

    shown: Any

    @property
    def sweep(self) -> Any:
        return self.shown.sweep

    @property
    def values(self) -> Any:
        return self.shown.values

    @property
    def gradients(self) -> dict[str, float] | None:
        """Return dL/dp for every parameter at the point, if one was given."""
        return self.shown.values.gradients if self.shown.values else None

    @property
    def multiplications(self) -> dict[str, int]:
        """Return ``{"sweep": n, "paths": m}`` (see :attr:`derive.sweep.Sweep.multiplications`)."""
        return self.shown.sweep.multiplications

    def report(self, fmt: str = "text", flavor: str = "github") -> str:
        """Return the sweep as ``text``, ``markdown``, ``latex`` or ``json``."""
        from derive.printing.backprop import report as print_sweep

        if self.shown.sweep.net.examples:  # a batch: the mean over its examples
            from derive.printing.batch import batch_report

            return batch_report(self.shown, self.shown.batch, fmt, flavor)

        return print_sweep(self.shown, fmt, flavor)

    def to_json(self) -> dict:
        """Return the JSON object of ``derive backprop --format json``."""
        from derive.printing.backprop import to_json as sweep_json

        if self.shown.batch is not None:
            from derive.printing.batch import batch_json

            return batch_json(self.shown, self.shown.batch)

        return sweep_json(self.shown)

    def __repr__(self) -> str:
        s = self.shown.sweep
        m = s.multiplications
        return (
            f"<Backprop {s.net.name}: {len(s.lines)} lines, {len(s.gradients)} gradients, "
            f"{m['sweep']:,} multiplications against {m['paths']:,} by paths>"
        )

    def __str__(self) -> str:
        return self.report("text")

    def _repr_markdown_(self) -> str:
        return self.report("markdown", flavor="portable")

    def _repr_html_(self) -> str:
        """Return the diagram with every node's value and dL/dv (at a point), as the page shows it."""
        from derive.notes.page import notebook_html

        v = self.shown.values
        if v is None:
            return notebook_html(self.shown.sweep.net)
        grads = {**{k: x for k, x in v.delta.items() if k != v.sweep.of}, **v.gradients}
        return notebook_html(v.sweep.net, forward=v.forward, grads=grads)

    def _repr_latex_(self) -> str:
        from derive.printing.backprop import math_only

        return math_only(self.shown)


def backprop(
    net: Network | str | Path,
    *,
    at: dict[str, float] | str | None = None,
    lr: float | None = None,
    detail: bool = False,
    matrix: bool = False,
    example: int | None = None,
) -> Backprop:
    """Return the backward sweep of a network, with every gradient if a point is given.

    ``at`` is a mapping, a YAML file, ``"x1=0.5,W1=0.1"`` or ``"random:7"``; the
    network's ``values:`` fill in what it does not give. ``matrix`` adds the
    layer form (a network with a skip connection or a tied weight has none:
    DeriveError naming the edge). On a batch (``examples:``) the numbers are
    every example's and their mean, the cost's gradients; ``example`` (1-based)
    gives one example's sweep alone.

    >>> import derive
    >>> r = derive.backprop("two_hidden", at={})  # the values: of the network file
    >>> r.multiplications, round(r.gradients["W1"], 6)
    ({'sweep': 18, 'paths': 46}, 0.001848)
    """
    from derive.batch import batch, example_point
    from derive.printing.backprop import Shown
    from derive.sweep import backward, values

    if not isinstance(net, Network):
        net = load_network(net)
    sweep = backward(net, detail)
    form = None
    if matrix:
        from derive.layers import layer_form

        form = layer_form(net)
    check_lr(lr)
    shown = Shown(sweep, lr=lr, layers=form)
    if example is not None and not net.examples:
        raise DeriveError(f"{net.name} has no examples:, so --example has none to show")
    if at is not None or lr is not None or example is not None:
        point, origin = read_the_point(at, net)
        if net.examples and example is None:
            shown.batch = batch(net, point, detail, sweep)
            return Backprop(shown)
        if example is not None:
            point = example_point(net, point, example)
            data = ", ".join(f"{x} = {num(point[x])}" for x in net.inputs + net.targets)
            origin = f"example {example} of {len(net.examples)} ({data})"
        shown.values = values(net, point, detail, sweep=sweep)
        shown.origin = origin
        if form is not None:
            from derive.layers import layer_values

            shown.layer_values = layer_values(form, point)
    return Backprop(shown)
