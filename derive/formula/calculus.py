"""A formula node's value and its local partials at a point, on floats, from its tree.

One walk computes the formula's value, one walk back its partial by every
name it uses (reverse mode over the formula's own tree, each function's
slope from its row of the rule table). A name used twice gets the sum of its
uses, which is what the local partial of a formula node is: ``c = a + a*b``
gives ``∂c/∂a = 1 + b``. No SymPy: a 4,000-node graph is swept in
milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from derive.formula.parse import RULE_OF
from derive.formula.tree import Binary, Call, Name, Neg, Node, Number, walk


def names_used(node: Node) -> tuple[str, ...]:
    """Return the names a formula uses, each once, in the order written.

    >>> from derive.formula import parse_formula
    >>> names_used(parse_formula("a + a*b", ["a", "b"]))
    ('a', 'b')
    """
    return tuple(dict.fromkeys(n.name for n in walk(node) if isinstance(n, Name)))


def value(node: Node, env: Mapping[str, float]) -> float:
    """Return a formula's value with names looked up in ``env``.

    Raises ``OverflowError``, ``ZeroDivisionError`` or ``ValueError`` where it
    has none (the caller says which node, in the user's words).

    >>> from derive.formula import parse_formula
    >>> value(parse_formula("(x + y) * z", "xyz"), {"x": -2.0, "y": 5.0, "z": -4.0})
    -12.0
    """
    return _value(node, env, {})


def partials(node: Node, env: Mapping[str, float]) -> tuple[float, dict[str, float]]:
    """Return a formula's value and its partial by each name it uses, at ``env``.

    >>> from derive.formula import parse_formula
    >>> partials(parse_formula("a + a*b", ["a", "b"]), {"a": 2.0, "b": 3.0})
    (8.0, {'a': 4.0, 'b': 2.0})
    """
    values: dict[int, float] = {}
    result = _value(node, env, values)
    grads: dict[str, float] = {}
    _back(node, 1.0, values, grads)
    return result, grads


def _value(node: Node, env: Mapping[str, float], out: dict[int, float]) -> float:
    match node:
        case Number(value=v):
            result = float(v)
        case Name(name=n):
            result = env[n]
        case Neg(operand=x):
            result = -_value(x, env, out)
        case Call(func=f, arg=x):
            result = RULE_OF[f].value(_value(x, env, out))
        case Binary(op=op, left=x, right=y):
            a, b = _value(x, env, out), _value(y, env, out)
            if op == "+":
                result = a + b
            elif op == "-":
                result = a - b
            elif op == "*":
                result = a * b
            elif op == "/":
                result = a / b
            else:
                result = _power(a, b)
        case _:  # pragma: no cover - a formula has no dA/dB
            raise TypeError(node)
    if math.isinf(result) or math.isnan(result):
        raise OverflowError("the value is not a finite number")
    out[id(node)] = result
    return result


def _power(a: float, b: float) -> float:
    result = a**b
    if isinstance(result, complex):
        raise ValueError("a negative number to a fractional power")
    return result


def _back(node: Node, grad: float, values: dict[int, float], grads: dict[str, float]) -> None:
    match node:
        case Name(name=n):
            grads[n] = grads.get(n, 0.0) + grad
        case Neg(operand=x):
            _back(x, -grad, values, grads)
        case Call(func=f, arg=x):
            slope = RULE_OF[f].slope_value(values[id(x)], values[id(node)])
            _back(x, grad * slope, values, grads)
        case Binary(op=op, left=x, right=y):
            a, b = values[id(x)], values[id(y)]
            if op in "+-":
                _back(x, grad, values, grads)
                _back(y, grad if op == "+" else -grad, values, grads)
            elif op == "*":
                _back(x, grad * b, values, grads)
                _back(y, grad * a, values, grads)
            elif op == "/":
                _back(x, grad / b, values, grads)
                _back(y, -grad * a / (b * b), values, grads)
            else:
                _back(x, grad * b * _power(a, b - 1) if b else 0.0, values, grads)
                if any(isinstance(n, Name) for n in walk(y)):  # a^b with b a formula
                    _back(y, grad * values[id(node)] * math.log(a), values, grads)
