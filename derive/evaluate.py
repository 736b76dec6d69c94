"""Stage 6: numbers at a point: the point read, dA/dB's local partials, paths, value, update.

The forward pass and the local partials' values are each node kind's rule
(:mod:`derive.kinds`), on floats: no SymPy on numbers. The value is the one
backward fold (:func:`derive.paths.sweep`) over the derivative's span.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from derive.errors import DeriveError
from derive.expand import Derivative
from derive.graph import LEAF_KINDS, PARAMETER_KINDS, Network
from derive.kinds import RULES, Slopes, check_finite, forward, overflow
from derive.netfile import NUMBER, read_numbers
from derive.paths import ancestors, sweep
from derive.rules import LOSSES
from derive.words import did_you_mean


def check_lr(lr: float | None) -> None:
    """Refuse a learning rate that is not a positive, finite number (a step uphill, or none).

    >>> check_lr(-1)
    Traceback (most recent call last):
    derive.errors.DeriveError: the learning rate must be a positive number, not -1; ...
    """
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise DeriveError(
            f"the learning rate must be a positive number, not {lr:g}",
            hint="gradient descent steps against the gradient: W_new = W - lr*dL/dW with lr > 0,"
            " such as --lr 0.1",
        )


def needed(net: Network, of: str, detail: bool = False, also: Iterable[str] = ()) -> list[str]:
    """Return the inputs, parameters and targets whose values ``of`` depends on, in network order.

    The one answer to "which values must a point give": ``derive dA/dB --at`` asks it
    of A (``also`` B), ``derive backprop`` of the sweep's output.

    >>> from derive.graph import load_network
    >>> needed(load_network("simple"), "O1")
    ['x1', 'x2', 'x3', 'W1', 'W2', 'W3']
    """
    names = ancestors(net.dependencies(detail), of) | {of, *also}
    return [n for n in net.names if n in names and net.kind(n) in LEAF_KINDS]


def require(net: Network, names: Iterable[str], point: dict[str, float]) -> None:
    """Raise :func:`missing_values` listing every name of ``names`` the point gives no value."""
    missing = [n for n in names if n not in point]
    if missing:
        raise missing_values(net, missing)


RANDOM_RULE = (
    "weights and biases uniform in ±1/sqrt(fan-in) of their neuron, inputs uniform in [0, 1], "
    "targets in the loss's range (one-hot for cross-entropy, 0 or 1 for bce, [0, 1] otherwise), "
    "each rounded to 3 significant digits"
)
"""How :func:`random_point` draws its values, in one line for a report."""


def random_point(net: Network, seed: int = 0) -> dict[str, float]:
    """Return a reproducible random point: inputs, weights, biases and fitting targets.

    The rule is :data:`RANDOM_RULE` (the usual initialisation, so that a wide
    network's neurons are neither saturated nor dead): the same seed gives the
    same point.

    >>> from derive.graph import load_network
    >>> point = random_point(load_network("softmax"), seed=7)
    >>> sorted(point[t] for t in ("y1", "y2", "y3")), 0 <= point["x1"] <= 1
    ([0.0, 0.0, 1.0], True)
    """
    rng = random.Random(seed)
    fan_in: dict[str, int] = {}
    for n in net.neurons.values():
        for _, w in n.inputs:
            fan_in.setdefault(w, len(n.inputs))
        if n.bias:
            fan_in.setdefault(n.bias, len(n.inputs))
    point = {}
    for name in net.names:
        kind = net.kind(name)
        if kind == "input":
            point[name] = float(f"{rng.uniform(0, 1):.3g}")
        elif kind in PARAMETER_KINDS:
            scale = 1 / math.sqrt(fan_in.get(name, 1))
            point[name] = float(f"{rng.uniform(-scale, scale):.3g}")
    if not net.loss:
        return point
    targets = LOSSES[net.loss_kind].targets
    if targets == "onehot":
        hot = rng.randrange(len(net.targets))
        point.update({t: float(i == hot) for i, t in enumerate(net.targets)})
    elif targets == "binary":
        point.update({t: float(rng.random() < 0.5) for t in net.targets})
    else:
        point.update({t: float(f"{rng.uniform(0, 1):.3g}") for t in net.targets})
    return point


def _is_file(text: str) -> bool:
    """Return whether ``text`` names a file (pairs too long for a file name are not one)."""
    try:
        return Path(text).is_file()
    except OSError:  # "File name too long"
        return False


def read_point(text: str | None, net: Network) -> dict[str, float]:
    """Return the values a point gives, over the network file's own ``values:``.

    ``text`` is a YAML file of ``name: value`` lines, a network file (its
    ``values:``), or ``name=value,name=value``. Only inputs, parameters and
    targets take values: the forward pass computes every other node.

    Raises
    ------
    DeriveError
        For an unknown name, a value given twice, a non-number, or a value for a
        computed node.

    >>> from derive.graph import load_network
    >>> read_point("W4=0.5, y=0", load_network("simple"))["W4"]
    0.5
    """
    point = dict(net.values)
    if not text:
        return point
    if _is_file(text):
        point.update(read_numbers(text, net.order, lambda name: _computed(net, name)))
        return point
    if "=" not in text and text.endswith((".yaml", ".yml")):
        raise DeriveError(
            f"there is no point file '{text}'",
            hint="give a YAML file of name: value lines, name=value pairs such as x1=0.5,W1=0.1,"
            " or random:SEED",
        )
    if "=" not in text:
        raise DeriveError(
            f"the point '{text}' is neither a file nor name=value pairs",
            hint="give a YAML file of name: value, or x1=0.5,W1=0.1",
        )
    point.update(_pairs(text, net))
    return point


def _computed(net: Network, name: str) -> tuple[str, str] | None:
    """Return (message, hint) if ``name`` is computed by the forward pass, else None."""
    rule = RULES[net.kind(name)]
    if rule.given:
        return None
    return (
        f"{name} is {rule.what}: the forward pass computes it, so it takes no value",
        "give values for inputs, parameters and targets only",
    )


def _pairs(text: str, net: Network, start: int = 1) -> dict[str, float]:
    """Return the values of ``name=value,name=value`` (``text`` starts at column ``start``)."""
    given: dict[str, float] = {}
    for col, part in _parts(text, start):
        name, eq, value = (x.strip() for x in part.partition("="))
        if not eq:
            raise DeriveError(
                f"cannot read '{part}' in the point", col=col, hint="write name=value,name=value"
            )
        if name not in net.order:
            hint = (
                did_you_mean(name, net.names, cutoff=0.6)
                or "see the names with: derive show --net " + net.argument
            )
            raise DeriveError(f"'{name}' is not a name in the network", col=col, hint=hint)
        if name in given:
            raise DeriveError(
                f"{name} is given twice in the point", col=col, hint="give each value once"
            )
        if not NUMBER.match(value):
            where = col + part.index("=") + 1
            raise DeriveError(f"the value of {name} must be a number, not '{value}'", col=where)
        if not math.isfinite(float(value)):
            where = col + part.index("=") + 1
            raise DeriveError(
                f"the value of {name} is too large to compute with: '{value}'", col=where
            )
        why = _computed(net, name)
        if why:
            raise DeriveError(why[0], col=col, hint=why[1])
        given[name] = float(value)
    return given


def _parts(text: str, col: int = 1):
    for part in text.split(","):
        if part.strip():
            yield col + len(part) - len(part.lstrip()), part.strip()
        col += len(part) + 1


@dataclass
class Numbers:
    """A derivative at a point: forward values, local partials, path products, value, update."""

    point: dict[str, float]
    values: dict[str, float]
    local: dict[tuple[str, str], float]
    path_products: list[float]
    value: float
    lr: float | None = None
    old: float | None = None
    new: float | None = None
    used: list[str] = field(default_factory=list)
    kept: str = ""  # with a learning rate, what the name is when it is no parameter: no update


def missing_values(net: Network, missing: list[str], most: int = 10) -> DeriveError:
    """Return the error for a point that lacks values: which, and how to give or draw them.

    >>> from derive.graph import load_network
    >>> print(missing_values(load_network("simple"), [f"x{i}" for i in range(1, 13)], most=3))
    missing values for x1, x2, x3 and 9 more; give them with --at FILE or --at name=value,..., or draw a random point with --at random:0 (any whole number is a seed)
    """
    listed = ", ".join(missing[:most])
    if len(missing) > most:
        listed += f" and {len(missing) - most:,} more"
    if not net.values:
        listed += f" ({Path(net.file).name} has no values:)"
    return DeriveError(
        "missing values for " + listed,
        hint="give them with --at FILE or --at name=value,..., "
        "or draw a random point with --at random:0 (any whole number is a seed)",
    )


def at(d: Derivative, point: dict[str, float], lr: float | None = None) -> Numbers:
    """Return the derivative's numbers at a point (every value it needs must be in ``point``).

    Raises
    ------
    DeriveError
        Listing every missing value.

    Examples
    --------
    >>> from derive.graph import load_network
    >>> from derive.expand import derive
    >>> net = load_network("simple")
    >>> n = at(derive(net, "L", "W4"), net.values, lr=0.1)
    >>> round(n.value, 6), round(n.new, 6)
    (-0.125349, 0.712535)
    """
    net = d.net
    used = needed(net, d.of, d.detail, (d.wrt,))
    require(net, used, point)
    check_lr(lr)
    env = forward(net, point)
    slope = Slopes(net, env)
    local = {}
    for edge in d.edges:
        try:
            local[edge] = slope(*edge)
        except ZeroDivisionError:
            raise DeriveError(
                f"∂{edge[0]}/∂{edge[1]} has no value at this point: its formula divides by 0 "
                "(an output at 0 or 1 to machine precision)",
                hint="use smaller weights or inputs, so that no neuron saturates",
            ) from None
        except (ValueError, OverflowError):
            raise overflow(f"∂{edge[0]}/∂{edge[1]}") from None
    check_finite((f"∂{a}/∂{b}", v) for (a, b), v in local.items())
    whole = f"d{d.of}/d{d.wrt}"
    try:
        products = [path_product(p, local) for p in d.paths]
        value = backprop(d, local)
    except (ValueError, OverflowError):  # math.fsum: an intermediate overflow, or inf - inf
        raise overflow(whole) from None
    check_finite([(whole, value), *((f"path {i} of {whole}", v) for i, v in enumerate(products))])
    numbers = Numbers(point, env, local, products, value, used=used)
    if lr is not None and d.wrt in point and net.kind(d.wrt) not in PARAMETER_KINDS:
        numbers.kept = net.kind(d.wrt)  # an input or a target is data: gradient descent keeps it
    elif lr is not None and d.wrt in point:
        numbers.lr, numbers.old = lr, point[d.wrt]
        numbers.new = numbers.old - lr * value
        check_finite([(f"the updated {d.wrt}", numbers.new)])
    return numbers


def path_product(path: tuple[str, ...], local: dict[tuple[str, str], float]) -> float:
    """Return the product of the local partials' values along a path, ``of`` first.

    >>> path_product(("L", "O", "W"), {("L", "O"): 2.0, ("O", "W"): 0.25})
    0.5
    """
    return math.prod(local[e] for e in zip(path, path[1:], strict=False))


def backprop(d: Derivative, local: dict[tuple[str, str], float]) -> float:
    """Return the derivative's value by one reverse sweep over the local partials' values."""
    if d.is_zero:
        return 0.0
    delta = sweep(
        d.graph,
        {d.of: 1.0},
        lambda v, above: math.fsum(x * local[(s, v)] for s, x in above),
        order=reversed(d.nodes),
        reverse=True,
    )
    return delta[d.wrt]


def file_point(net: Network, seed: int = 0) -> tuple[dict[str, float], bool]:
    """Return the file's ``values:``, drawn at random (:func:`random_point`, ``seed``) where it
    gives none, and whether any were drawn: the point the notes work and check grades at.

    >>> from derive.graph import load_network
    >>> file_point(load_network("simple"))[1], file_point(load_network("mnist"))[1]
    (False, True)
    """
    if all(n in net.values for n in net.names if RULES[net.kind(n)].given):  # in network order
        return {**{n: net.values[n] for n in net.names if n in net.values}, **net.values}, False
    return {**random_point(net, seed), **net.values}, True


def read_at(text: str | None, net: Network) -> tuple[dict[str, float], str]:
    """Return the point a ``--at`` value gives and where it came from (empty unless random).

    ``random`` or ``random:SEED`` draws a reproducible point with
    :func:`random_point` (seed 0 by default), and name=value pairs after it
    (``random:7,x1=0.5``) change some of its values; anything else is
    read by :func:`read_point` (a file, or name=value pairs,
    over the network's ``values:``).

    Raises
    ------
    DeriveError
        When the seed is not a whole number.

    >>> from derive.graph import load_network
    >>> net = load_network("simple")
    >>> drawn, changed = read_at("random:7", net)[0], read_at("random:7, W4=0.5", net)[0]
    >>> changed["W4"], {n for n in drawn if drawn[n] != changed[n]}
    (0.5, {'W4'})
    """
    seed = random_seed(text)
    if seed is not None:
        head, comma, pairs = text.partition(",")
        point = random_point(net, seed)
        point.update(_pairs(pairs, net, len(head) + 2) if comma else {})
        return point, f"random, seed {seed} ({RANDOM_RULE})"
    return read_point(text, net), ""


def random_seed(text: str | None) -> int | None:
    """Return the seed a ``--at random`` or ``random:SEED`` asks for (None for other points).

    >>> random_seed("random"), random_seed("random:7"), random_seed("x1=0.5")
    (0, 7, None)

    Raises
    ------
    DeriveError
        When the seed is not a whole number.
    """
    text = text and text.partition(",")[0].strip()  # random:7,x1=0.5: then change x1
    if text is None or not (text == "random" or text.startswith("random:")):
        return None
    seed_text = text.partition(":")[2].strip() if ":" in text else "0"
    # ASCII digits only ("²".isdigit() is true, and int() refuses it), and not thousands.
    if not re.fullmatch(r"[0-9]{1,18}", seed_text):
        raise DeriveError(
            f"cannot read the seed in '{text[:40]}'",
            col=len("random:") + 1,
            hint="write random or random:SEED, with SEED a whole number of at most 18 digits,"
            " such as 7",
        )
    return int(seed_text)
