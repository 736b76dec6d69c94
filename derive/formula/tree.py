"""A formula as a small syntax tree: the nodes, and walking, printing and evaluating them.

The tree is plain data made by :mod:`derive.formula.parse` (a network file's
formulas) and :mod:`derive.check.answer` (an answer); nothing the user
wrote is ever evaluated as code. A :class:`Deriv` is a written factor dA/dB;
what it stands for (a local partial or a whole derivative) is
decided by the grader, which knows the network.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from derive.rules import ACTIVATIONS, number

MAX_EXPONENT = 64  # the largest power an answer may write

# Function spellings -> canonical name. A trailing prime is the derivative (σ').


@dataclass(frozen=True)
class Number:
    """A number, exactly: ``0.5`` is ``Fraction(1, 2)``."""

    value: Fraction
    col: int


@dataclass(frozen=True)
class Name:
    """A network name used as a value (``O2``, ``x1``, ``y``)."""

    name: str
    col: int


@dataclass(frozen=True)
class Deriv:
    """A written factor dA/dB: the whole derivative of ``of`` with respect to ``wrt``."""

    of: str
    wrt: str
    col: int


@dataclass(frozen=True)
class Call:
    """A function applied to an argument; ``func`` is a key of the canonical function names."""

    func: str
    arg: Node
    col: int


@dataclass(frozen=True)
class Neg:
    """Unary minus."""

    operand: Node
    col: int


@dataclass(frozen=True)
class Binary:
    """``left op right`` with ``op`` one of ``+ - * / ^``."""

    op: str
    left: Node
    right: Node
    col: int


Node = Number | Name | Deriv | Call | Neg | Binary


@dataclass(frozen=True)
class Answer:
    """A parsed answer: the left side (``None`` when not written) and one or more right sides."""

    lhs: Deriv | None
    rhs: tuple[Node, ...]
    text: str


def format_node(node: Node, factor: Callable[[Deriv], str] | None = None, times: str = "*") -> str:
    """Return a node as plain text with the fewest parentheses (``dL/dO2*dO2/dW4``).

    ``factor`` prints a written dA/dB (the grader marks local partials ∂ and
    whole derivatives d); ``times`` is the multiplication sign.
    """
    return _fmt(node, 0, factor or _plain_factor, times)


def _plain_factor(d: Deriv) -> str:
    return f"d{d.of}/d{d.wrt}"


_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 4}


def _fmt(node: Node, outer: int, factor: Callable[[Deriv], str], times: str) -> str:
    match node:
        case Number(value=v):
            decimal = _decimal(v)
            if decimal is not None:
                return decimal
            text = f"{v.numerator}/{v.denominator}"
            return text if outer < 2 else f"({text})"
        case Name(name=n):
            return n
        case Deriv():
            return factor(node)
        case Call(func=f, arg=a):
            return f"{_SHOWN.get(f, f)}({_fmt(a, 0, factor, times)})"
        case Neg(operand=a):
            text = "-" + _fmt(a, 3, factor, times)
            return f"({text})" if outer >= 2 else text
        case Binary(op=op, left=a, right=b):
            prec = _PREC[op]
            right_prec = prec + 1 if op in "-/" else prec
            if op == "^":
                text = f"{_fmt(a, 5, factor, times)}^{_fmt(b, 4, factor, times)}"
            else:
                sep = " " if prec == 1 else ""
                sign = times if op == "*" else op
                left, right = _fmt(a, prec, factor, times), _fmt(b, right_prec, factor, times)
                text = f"{left}{sep}{sign}{sep}{right}"
            return f"({text})" if prec < outer else text
    raise TypeError(node)


def _decimal(value: Fraction) -> str | None:
    """Return a number as the decimal it was written as (``0.001848``), or None for 1/3."""
    den, places = value.denominator, 0
    while den % 10 == 0 or den % 2 == 0 or den % 5 == 0:
        factor = 10 if den % 10 == 0 else (2 if den % 2 == 0 else 5)
        den //= factor
        places += 1
    if den != 1 or places > 40:
        return None
    if places == 0:
        return str(value.numerator)
    scaled = value * 10**places
    if scaled.denominator != 1:  # pragma: no cover - places is enough by construction
        return None
    digits = str(abs(scaled.numerator)).rjust(places + 1, "0")
    text = (digits[:-places] + "." + digits[-places:]).rstrip("0").rstrip(".")
    return ("-" if value < 0 else "") + text


# -- the tree: walking, evaluating, converting ------------------------------------

_Z = sp.Dummy("z")
# Each function as a formula in z, from the one table of activations and their slopes.
_FORMULAS: dict[str, sp.Expr] = {"exp": sp.exp(_Z), "log": sp.log(_Z)}
# Function spellings -> the tree's name; a trailing prime is the slope (sigma' -> sigma_prime).
FUNCTIONS: dict[str, str] = {"exp": "exp", "log": "log", "ln": "log"}
PRIMED: dict[str, str] = {}  # a function -> its slope's name: sigma -> sigma_prime
_SHOWN: dict[str, str] = {}  # how the tree prints a slope: sigma', and Heaviside for relu's
_FORMULAS["sqrt"], _FORMULAS["abs"] = sp.sqrt(_Z), sp.Abs(_Z)
FUNCTIONS.update(sqrt="sqrt", abs="abs")
for _rule in ACTIVATIONS.values():  # every activation's spellings, from the one rule table
    if _rule.couples or not _rule.spellings:
        continue  # softmax couples a layer; linear has nothing to write
    _name = _rule.spellings[0]  # sigmoid is sigma in a formula
    _FORMULAS[_name] = _rule.forward(_Z)
    _FORMULAS[f"{_name}_prime"] = _rule.slope(_Z, _FORMULAS[_name])
    PRIMED[_name] = f"{_name}_prime"
    _SHOWN[f"{_name}_prime"] = _rule.slope_spellings[0] if _rule.slope_spellings else f"{_name}'"
    for _spelling in _rule.spellings:
        if "{" not in _spelling:
            FUNCTIONS[_spelling.lstrip("\\")] = _name
    for _spelling in _rule.slope_spellings:
        FUNCTIONS[_spelling] = f"{_name}_prime"


def walk(node: Node) -> Iterator[Node]:
    """Yield every node of a tree, parents before children, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(_children(current)))


def _children(node: Node) -> tuple[Node, ...]:
    match node:
        case Binary(left=x, right=y):
            return (x, y)
        case Neg(operand=x) | Call(arg=x):
            return (x,)
    return ()


def derivs(node: Node) -> list[Deriv]:
    """Return the dA/dB factors of a tree, in the order they are written."""
    return [n for n in walk(node) if isinstance(n, Deriv)]


def size(node: Node) -> int:
    """Return the number of nodes in a tree."""
    return sum(1 for _ in walk(node))


def small_powers(node: Node) -> bool:
    """Return whether every exponent is a small whole number, so SymPy cannot blow up on it."""
    powers = [n.right for n in walk(node) if isinstance(n, Binary) and n.op == "^"]
    return len(powers) <= 4 and all(
        isinstance(p, Number) and p.value.denominator == 1 and abs(p.value) <= 3 for p in powers
    )


def evaluate(
    node: Node,
    env: Mapping[str, float],
    deriv_value: Callable[[str, str], float],
    numbers: Mapping[int, float] | None = None,
) -> float:
    """Return an answer's value in floats; nan where it is undefined (log of a negative, 1/0).

    Names are looked up in ``env``; a factor dA/dB is ``deriv_value(A, B)``;
    ``numbers`` replaces the value of a :class:`Number` node, by its ``id``.

    >>> two_x = Binary("*", Number(Fraction(2), 1), Name("x", 3), 2)
    >>> evaluate(Binary("-", two_x, Call("sigma", Number(Fraction(0), 9), 7), 5), {"x": 1.0}, None)
    1.5
    """
    try:
        return _eval(node, env, deriv_value, numbers or {})
    except (ValueError, ZeroDivisionError, OverflowError, TypeError, KeyError):
        return math.nan


def _eval(
    node: Node,
    env: Mapping[str, float],
    deriv_value: Callable[[str, str], float],
    numbers: Mapping[int, float],
) -> float:
    match node:
        case Number(value=v):
            return numbers.get(id(node), float(v))
        case Name(name=n):
            return env[n]
        case Deriv(of=a, wrt=b):
            return deriv_value(a, b)
        case Call(func=f, arg=x):
            return number(_FORMULAS[f], {_Z.name: _eval(x, env, deriv_value, numbers)})
        case Neg(operand=x):
            return -_eval(x, env, deriv_value, numbers)
        case Binary(op=op, left=x, right=y):
            a, b = _eval(x, env, deriv_value, numbers), _eval(y, env, deriv_value, numbers)
            if op == "^":
                result = a**b
                if isinstance(result, complex):
                    raise ValueError("complex power")
                return result
            return {"+": a + b, "-": a - b, "*": a * b}[op] if op != "/" else a / b
    raise TypeError(node)  # pragma: no cover


def to_sympy(node: Node, factors: Mapping[tuple[str, str], sp.Expr] | None = None) -> sp.Expr:
    """Return the SymPy expression of an answer, built from the tree (never from text).

    Names become plain ``sympy.Symbol``s; a factor dA/dB becomes ``factors[(A, B)]``.

    >>> to_sympy(Binary("*", Number(Fraction(2), 1), Name("O1", 3), 2))
    2*O1
    """
    match node:
        case Number(value=v):
            return sp.Rational(v.numerator, v.denominator)
        case Name(name=n):
            return sp.Symbol(n)
        case Deriv(of=a, wrt=b):
            if factors is None or (a, b) not in factors:
                return sp.Symbol(f"d{a}_d{b}")
            return factors[(a, b)]
        case Call(func=f, arg=x):
            return _FORMULAS[f].xreplace({_Z: to_sympy(x, factors)})
        case Neg(operand=x):
            return -to_sympy(x, factors)
        case Binary(op=op, left=x, right=y):
            a, b = to_sympy(x, factors), to_sympy(y, factors)
            return {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "^": a**b}[op]
    raise TypeError(node)  # pragma: no cover


def depth(node: Node) -> int:
    """Return the depth of a tree, without recursion (the tree may be deep)."""
    deepest = 0
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        match current:
            case Binary(left=x, right=y):
                stack += [(x, depth + 1), (y, depth + 1)]
            case Neg(operand=x) | Call(arg=x):
                stack.append((x, depth + 1))
    return deepest
