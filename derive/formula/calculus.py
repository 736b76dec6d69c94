"""A formula node's value and its local partials at a point, on floats, from its tree.

One walk computes the formula's value, one walk back its partial by every
name it uses (reverse mode over the formula's own tree, each function's
slope from its row of the rule table). A name used twice gets the sum of its
uses, which is what the local partial of a formula node is: ``c = a + a*b``
gives ``∂c/∂a = 1 + b``. The numbers need no SymPy (a 4,000-node graph is
swept in milliseconds); :func:`partial_sympy` builds a partial's formula by
the same rules, for printing, without ``sympy.diff``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import sympy as sp

from derive.formula.parse import RULE_OF
from derive.formula.tree import Binary, Call, Name, Neg, Node, Number, to_sympy, walk


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


def partial_sympy(node: Node, name: str, own: sp.Symbol | None = None) -> sp.Expr:
    """Return a formula's partial by one name it uses, as SymPy, by the rules of its tree.

    Built the way the forward formula is (each function's slope from its row of
    the rule table), without ``sympy.diff``: a branch that does not use the name
    contributes nothing, so the common local partial (``W*h99`` by ``h99``) costs
    a few operations. ``own`` is the node's own symbol: a formula that is one call
    of a function whose row has a slope in its own value reads in it, as a
    course writes it (``f: sigmoid(dot)`` gives ``f*(1 - f)``).

    >>> from derive.formula import parse_formula
    >>> partial_sympy(parse_formula("a + a*b", ["a", "b"]), "a")
    b + 1
    >>> partial_sympy(parse_formula("sigmoid(w*x)", ["w", "x"]), "w", sp.Symbol("f"))
    f*x*(1 - f)
    """
    if own is not None and isinstance(node, Call) and _uses(node, name, {}):
        by_own = RULE_OF[node.func].by_own_value
        if by_own is not None:
            return by_own(to_sympy(node.arg), own) * _partial(node.arg, name, {})
    return _partial(node, name, {})


def _partial(node: Node, name: str, uses: dict[int, bool]) -> sp.Expr:
    if not _uses(node, name, uses):
        return sp.Integer(0)
    match node:
        case Name():
            return sp.Integer(1)
        case Neg(operand=x):
            return -_partial(x, name, uses)
        case Call(func=f, arg=x):
            return RULE_OF[f].slope(to_sympy(x)) * _partial(x, name, uses)
        case Binary(op=op, left=x, right=y):
            dx, dy = _partial(x, name, uses), _partial(y, name, uses)
            a, b = to_sympy(x), to_sympy(y)
            if op == "+":
                return dx + dy
            if op == "-":
                return dx - dy
            if op == "*":
                return dx * b + a * dy
            if op == "/":
                return dx / b - a * dy / b**2
            return b * a ** (b - 1) * dx + (a**b * sp.log(a) * dy if dy != 0 else 0)
    raise TypeError(node)  # pragma: no cover


def _uses(node: Node, name: str, memo: dict[int, bool]) -> bool:
    key = id(node)
    if key not in memo:
        memo[key] = any(isinstance(n, Name) and n.name == name for n in walk(node))
    return memo[key]
