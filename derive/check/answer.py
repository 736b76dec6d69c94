"""Read a hand-written answer (``dL/dW1 = dL/dO2 * dO2/dW1``) into a small syntax tree.

A recursive-descent parser of our own, working on the characters directly
because a factor ``dL/dO31`` has no separator between the ``d`` and the name:
names are matched against the network's own names, longest first. It reads
ASCII (``d``, ``*``), Unicode (``∂``, ``·``, ``×``, ``−``, subscript digits)
and LaTeX (``\\frac{\\partial L}{\\partial O_{2}}``, ``\\cdot``, ``\\left(``).
Nothing the user writes is ever evaluated: the tree is plain data.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import sympy as sp

from derive.errors import DeriveError
from derive.evaluate import number
from derive.rules import ACTIVATIONS

MAX_LENGTH = 20_000
MAX_DEPTH = 120
MAX_EXPONENT = 64
MAX_TREE_DEPTH = 400  # operations in a row; keeps every later walk of the tree shallow

# Characters rewritten one for one, so that columns stay the user's columns.
_SAME_WIDTH = str.maketrans(
    {
        "₀": "0", "₁": "1", "₂": "2", "₃": "3", "₄": "4",
        "₅": "5", "₆": "6", "₇": "7", "₈": "8", "₉": "9",
        "−": "-", "–": "-", "⋅": "·", "∙": "·", "∗": "*", "÷": "/",
        "\u00a0": " ", "\t": " ", "\r": " ", "\n": " ",
    }
)  # fmt: skip

_SPACING = ("\\quad", "\\qquad", "\\displaystyle", "\\,", "\\;", "\\:", "\\!", "\\ ", "\\\\")
_TIMES = ("\\cdot", "\\times", "*", "·", "×")
_SIZERS = ("\\left", "\\right", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr", "\\big", "\\Big")
_OPENERS = {"(": ")", "[": "]"}
_D_MARKS = ("\\partial", "\\mathrm{d}", "\\text{d}", "\\operatorname{d}", "∂", "d")
_FRACS = ("\\frac", "\\dfrac", "\\tfrac")
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_(?:\{[A-Za-z0-9_,\-]*\}|[A-Za-z0-9]+))*")
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_COMMAND = re.compile(r"\\[A-Za-z]+")
_BRACED_MARK = re.compile(r"\{\s*(?:\\partial|\\mathrm\{d\}|∂|d)\s*")

# Function spellings -> canonical name. A trailing prime is the derivative (σ').
FUNCTIONS = {
    "exp": "exp", "log": "log", "ln": "log", "tanh": "tanh",
    "sigma": "sigma", "sigmoid": "sigma", "σ": "sigma",
    "Heaviside": "heaviside", "heaviside": "heaviside", "relu": "relu", "ReLU": "relu",
}  # fmt: skip
_PRIMED = {"sigma": "sigma_prime", "tanh": "tanh_prime"}


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


def parse_answer(
    text: str,
    names: Iterable[str],
    latex_names: Mapping[str, str] | None = None,
) -> Answer:
    """Return the syntax tree of an answer, reading names as the network's names.

    ``names`` are the network's names; ``latex_names`` maps a name to how the
    network typesets it, so ``\\hat{y}`` or ``w^{(L)}`` read back as names.

    Raises
    ------
    DeriveError
        With the 1-based column and what was expected, for anything unreadable.

    Examples
    --------
    >>> parse_answer("dL/dW4 = dL/dO2 · dO2/dW4", ["W4", "O2", "L"]).rhs[0].left
    Deriv(of='L', wrt='O2', col=10)
    """
    return _Parser(text, NameTable(names, latex_names or {})).answer()


def format_node(node: Node) -> str:
    """Return a node as plain text with the fewest parentheses (``dL/dO2*dO2/dW4``)."""
    return _fmt(node, 0)


_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 4}


def _fmt(node: Node, outer: int) -> str:
    match node:
        case Number(value=v):
            decimal = _decimal(v)
            if decimal is not None:
                return decimal
            text = f"{v.numerator}/{v.denominator}"
            return text if outer < 2 else f"({text})"
        case Name(name=n):
            return n
        case Deriv(of=a, wrt=b):
            return f"d{a}/d{b}"
        case Call(func=f, arg=a):
            shown = {"sigma_prime": "sigma'", "tanh_prime": "tanh'", "heaviside": "Heaviside"}
            return f"{shown.get(f, f)}({_fmt(a, 0)})"
        case Neg(operand=a):
            text = "-" + _fmt(a, 3)
            return f"({text})" if outer >= 2 else text
        case Binary(op=op, left=a, right=b):
            prec = _PREC[op]
            right_prec = prec + 1 if op in "-/" else prec
            if op == "^":
                text = f"{_fmt(a, 5)}^{_fmt(b, 4)}"
            else:
                sep = " " if prec == 1 else ""
                text = f"{_fmt(a, prec)}{sep}{op}{sep}{_fmt(b, right_prec)}"
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
_SIGMOID = ACTIVATIONS["sigmoid"].forward(_Z)
# Each function as a formula in z, from the one table of activations and their slopes.
_FORMULAS: dict[str, sp.Expr] = {
    "exp": sp.exp(_Z),
    "log": sp.log(_Z),
    "tanh": sp.tanh(_Z),
    "sigma": _SIGMOID,
    "sigma_prime": ACTIVATIONS["sigmoid"].slope(_Z, _SIGMOID),
    "tanh_prime": ACTIVATIONS["tanh"].slope(_Z, sp.tanh(_Z)),
    "heaviside": ACTIVATIONS["relu"].slope(_Z, _Z),
    "relu": ACTIVATIONS["relu"].forward(_Z),
}


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
    node: Node, env: Mapping[str, float], deriv_value: Callable[[str, str], float]
) -> float:
    """Return an answer's value in floats; nan where it is undefined (log of a negative, 1/0).

    Names are looked up in ``env``; a factor dA/dB is ``deriv_value(A, B)``.

    >>> evaluate(parse_answer("2*x - σ(0)", ["x"]).rhs[0], {"x": 1.0}, None)
    1.5
    """
    try:
        return _eval(node, env, deriv_value)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError, KeyError):
        return math.nan


def _eval(node: Node, env: Mapping[str, float], deriv_value: Callable[[str, str], float]) -> float:
    match node:
        case Number(value=v):
            return float(v)
        case Name(name=n):
            return env[n]
        case Deriv(of=a, wrt=b):
            return deriv_value(a, b)
        case Call(func=f, arg=x):
            return number(_FORMULAS[f], {_Z.name: _eval(x, env, deriv_value)})
        case Neg(operand=x):
            return -_eval(x, env, deriv_value)
        case Binary(op=op, left=x, right=y):
            a, b = _eval(x, env, deriv_value), _eval(y, env, deriv_value)
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

    >>> to_sympy(parse_answer("2*(O2 - y)*O1", ["O1", "O2", "y"]).rhs[0])
    O1*(2*O2 - 2*y)
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


class NameTable:
    """The network's names and every way of writing each (``O11``, ``O_{11}``, its LaTeX)."""

    def __init__(self, names: Iterable[str], latex_names: Mapping[str, str]) -> None:
        self.names = list(dict.fromkeys(names))
        self.spellings: dict[str, str] = {}
        for name in self.names:
            for spelling in _spellings(name, latex_names.get(name)):
                self.spellings.setdefault(spelling, name)
        self._longest_first = sorted(self.spellings, key=len, reverse=True)

    def exact(self, written: str) -> str | None:
        """Return the name a whole written identifier stands for, or None."""
        for form in _normal_forms(written):
            if form in self.spellings:
                return self.spellings[form]
        return None

    def prefixes(self, text: str, pos: int) -> list[tuple[str, int]]:
        """Return (name, end) for every spelling that starts at ``pos``, longest first.

        A spelling that would cut a run of digits (W9 in W99) does not count.
        """
        return [
            (self.spellings[s], pos + len(s))
            for s in self._longest_first
            if text.startswith(s, pos) and not _cuts_digits(text, pos + len(s))
        ]

    def split(self, written: str) -> list[str] | None:
        """Return the names a run of juxtaposed names (``W4O1``) is made of, or None."""
        out: list[str] = []
        pos = 0
        while pos < len(written):
            found = self.prefixes(written, pos)
            if not found:
                return None
            name, pos = found[0]
            out.append(name)
        return out

    def unknown(self, written: str, col: int, where: str = "") -> DeriveError:
        """Return the error for a name the network does not have, suggesting close ones."""
        close = difflib.get_close_matches(written, self.names, n=3, cutoff=0.3)
        hint = ("did you mean " + " or ".join(close) + "?") if close else (
            "expected one of the network's names: " + ", ".join(self.names[:12])
            + (", ..." if len(self.names) > 12 else ""))  # fmt: skip
        return DeriveError(f"unknown name '{written}'{where}", col=col, hint=hint)


def _spellings(name: str, latex: str | None) -> list[str]:
    out = [name]
    digits = re.fullmatch(r"([A-Za-z]+?)(\d+)", name)
    if digits:
        base, sub = digits.groups()
        out += [f"{base}_{{{sub}}}", f"{base}_{sub}"]
    if "_" in name:
        head, _, tail = name.partition("_")
        out.append(f"{head}_{{{tail}}}")
    if name.isalpha() and len(name) > 1:
        out.append("\\" + name)  # Greek-named nodes: beta -> \beta
    if latex:
        out += [latex, latex.replace(" ", "")]
    return out


def _is_digit(ch: str) -> bool:
    return len(ch) == 1 and "0" <= ch <= "9"


def _cuts_digits(text: str, end: int) -> bool:
    return 0 < end < len(text) and _is_digit(text[end - 1]) and _is_digit(text[end])


def _normal_forms(written: str) -> list[str]:
    no_braces = written.replace("{", "").replace("}", "")
    return [written, no_braces, no_braces.replace("_", "")]


class _Parser:
    """Recursive descent over the characters; ``pos`` is 0-based, errors report 1-based."""

    def __init__(self, text: str, table: NameTable) -> None:
        if len(text) > MAX_LENGTH:
            raise DeriveError(f"answer is too long ({len(text)} characters)", col=1,
                              hint=f"expected at most {MAX_LENGTH}")  # fmt: skip
        self.raw = text
        self.text = text.translate(_SAME_WIDTH)
        self.table = table
        self.pos = 0
        self.depth = 0

    # -- entry -------------------------------------------------------------

    def answer(self) -> Answer:
        self._skip_dollars()
        self._ws()
        if self._at_end():
            raise self._error("empty answer", "expected dA/dB = ...")
        sides = [(self.pos, self._expr())]
        while self._eat("="):
            self._ws()
            sides.append((self.pos, self._expr()))
        self._skip_dollars()
        self._skip_full_stop()
        if not self._at_end():
            raise self._error(f"unexpected '{self.text[self.pos]}'", self._expected_after())
        for start, node in sides:
            if _depth(node) > MAX_TREE_DEPTH:
                raise DeriveError("the answer has too many operations in a row", col=start + 1,
                                  hint=f"expected at most {MAX_TREE_DEPTH}")  # fmt: skip
        if len(sides) == 1:
            return Answer(None, (sides[0][1],), self.raw)
        start, lhs = sides[0]
        if not isinstance(lhs, Deriv):
            raise DeriveError("the left-hand side must be one derivative", col=start + 1,
                              hint="expected dA/dB = ..., e.g. dL/dW1 = ...")  # fmt: skip
        return Answer(lhs, tuple(node for _, node in sides[1:]), self.raw)

    # -- grammar -----------------------------------------------------------

    def _expr(self) -> Node:
        self._enter()
        col = self.pos + 1
        node = self._signed()
        while True:
            self._ws()
            op = self._peek_char()
            if op not in ("+", "-"):
                break
            self.pos += 1
            self._ws()
            node = Binary(op, node, self._signed(), col)
        self.depth -= 1
        return node

    def _signed(self) -> Node:
        self._ws()
        col = self.pos + 1
        negative = self._signs()
        node = self._term()
        return Neg(node, col) if negative else node

    def _signs(self) -> bool:
        """Eat a run of + and - signs; return whether they make a minus."""
        negative = False
        while self._peek_char() in ("-", "+"):
            negative ^= self.text[self.pos] == "-"
            self.pos += 1
            self._ws()
        return negative

    def _term(self) -> Node:
        col = self.pos + 1
        node = self._power()
        while True:
            self._ws()
            if self._eat_any(_TIMES):
                self._ws()
                node = Binary("*", node, self._factor_operand(), col)
            elif self._peek_char() == "/" and not self._starts_with("//"):
                self.pos += 1
                self._ws()
                node = Binary("/", node, self._factor_operand(), col)
            elif self._starts_primary():
                node = Binary("*", node, self._power(), col)
            else:
                return node

    def _factor_operand(self) -> Node:
        # A sign right after * or / (``2*-x``) is allowed and binds to the operand.
        col = self.pos + 1
        negative = self._signs()
        node = self._power()
        return Neg(node, col) if negative else node

    def _power(self) -> Node:
        self._enter()
        col = self.pos + 1
        base = self._primary()
        self._ws()
        if self._eat("^") or self._eat("**"):
            self._ws()
            exponent = self._exponent()
            base = Binary("^", base, exponent, col)
        self.depth -= 1
        return base

    def _exponent(self) -> Node:
        col = self.pos + 1
        if self._peek_char() == "{":
            node = self._group("{", "}")
        else:
            node = self._factor_operand()
        if _literal_size(node) > MAX_EXPONENT:
            raise DeriveError("exponent is too large", col=col,
                              hint=f"expected an exponent of at most {MAX_EXPONENT}")  # fmt: skip
        return node

    def _primary(self) -> Node:
        self._ws()
        col = self.pos + 1
        if self._at_end():
            raise self._error(
                "the answer ends too early", "expected a number, a name, dA/dB or '('"
            )
        ch = self.text[self.pos]
        if _is_digit(ch) or (ch == "." and _is_digit(self._peek_char(1))):
            return self._number()
        if ch in _OPENERS:
            return self._group(ch, _OPENERS[ch])
        if ch == "{":
            return self._group("{", "}")
        if self._eat_any(_SIZERS):
            self._ws()
            opener = self._peek_char()
            if opener not in _OPENERS:
                raise self._error("expected a bracket after \\left", "expected ( or [")
            return self._group(opener, _OPENERS[opener])
        if self._starts_any(_FRACS):
            return self._frac()
        deriv = self._inline_deriv()
        if deriv is not None:
            return deriv
        return self._word(col)

    def _number(self) -> Number:
        col = self.pos + 1
        match = _NUMBER.match(self.text, self.pos)
        assert match is not None
        written = match.group()
        if len(written) > 40:
            raise DeriveError("number is too long", col=col, hint="expected at most 40 digits")
        try:
            exact = Decimal(written)
        except InvalidOperation as err:  # pragma: no cover - the pattern admits only numbers
            raise DeriveError(f"unreadable number '{written}'", col=col,
                              hint="expected a number like 2, 0.5 or 1e-3") from err  # fmt: skip
        if exact and not -300 <= exact.adjusted() <= 300:
            raise DeriveError(f"number '{written}' is out of range", col=col,
                              hint="expected a magnitude between 1e-300 and 1e300")  # fmt: skip
        self.pos = match.end()
        return Number(Fraction(exact), col)

    def _group(self, opener: str, closer: str) -> Node:
        col = self.pos + 1
        self.pos += len(opener)
        self._enter()
        self._ws()
        node = self._expr()
        self._ws()
        self._eat_any(("\\right", "\\bigr", "\\Bigr", "\\big", "\\Big"))
        if not self._eat(closer):
            found = self._peek_char() or "the end"
            raise self._error(f"unbalanced '{opener}' opened at column {col}, found {found!r}",
                              f"expected '{closer}'")  # fmt: skip
        self.depth -= 1
        return node

    def _frac(self) -> Node:
        col = self.pos + 1
        self._eat_any(_FRACS)
        self._ws()
        start = self.pos
        of = self._frac_part()
        if of is not None:
            self._ws()
            wrt = self._frac_part()
            if wrt is None:
                raise self._bad_denominator()
            return Deriv(of, wrt, col)
        self.pos = start
        self._unknown_in_frac()
        top = self._frac_arg()
        self._ws()
        return Binary("/", top, self._frac_arg(), col)

    def _unknown_in_frac(self) -> None:
        """Raise for ``\\frac{dA}{dt}`` whose A is no name, instead of reading ``dA`` as a name."""
        mark = _BRACED_MARK.match(self.text, self.pos)
        word = _IDENT.match(self.text, mark.end()) if mark else None
        whole = _IDENT.match(self.text, self.pos + 1)
        if not word or (whole and self.table.exact(whole.group()) is not None):
            return
        after = self.text[word.end() :].lstrip(" ")
        if after.startswith("}") and self.table.exact(word.group()) is None:
            raise self.table.unknown(word.group(), word.start() + 1, " in the derivative")

    def _bad_denominator(self) -> DeriveError:
        """Return the error for ``\\frac{\\partial A}{...}`` whose denominator is no ∂ and name."""
        mark = _BRACED_MARK.match(self.text, self.pos)
        word = _IDENT.match(self.text, mark.end()) if mark else None
        if word:
            return self.table.unknown(word.group(), word.start() + 1, " in the derivative")
        return self._error("the denominator of a derivative must be ∂ and a name",
                           "expected {\\partial NAME}")  # fmt: skip

    def _frac_arg(self) -> Node:
        if self._peek_char() == "{":
            return self._group("{", "}")
        if _is_digit(self._peek_char()):
            col = self.pos + 1
            self.pos += 1
            return Number(Fraction(int(self.text[self.pos - 1])), col)
        raise self._error("expected '{' after \\frac", "expected \\frac{...}{...}")

    def _frac_part(self) -> str | None:
        """Read ``{\\partial NAME}`` and return NAME, or None (position restored) if it is not one."""
        start = self.pos
        if not self._eat("{"):
            return None
        self._ws()
        if not self._eat_any(_D_MARKS):
            self.pos = start
            return None
        self._ws()
        if self._peek_char() == "^":
            raise self._error("higher derivatives are not supported", "expected a first derivative")
        for name, end in self._name_candidates():
            self.pos = end
            self._ws()
            if self._eat("}"):
                return name
        self.pos = start
        return None

    def _inline_deriv(self) -> Deriv | None:
        """Read ``dA/dB`` or ``∂A/∂B``; None (position kept) when the text is not one."""
        start = self.pos
        col = start + 1
        if not self._eat_any(_D_MARKS):
            return None
        self._ws()
        num_col = self.pos + 1
        for name, end in self._name_candidates():
            self.pos = end
            self._ws()
            if self._slash_then_mark(eat=True):
                return Deriv(name, self._denominator(), col)
        # d<word>/d... shaped but the word is no name: say which word.
        self.pos = num_col - 1
        word = _IDENT.match(self.text, self.pos)
        if word:
            self.pos = word.end()
            self._ws()
            if self._slash_then_mark(eat=False):
                raise self.table.unknown(word.group(), num_col, " in the derivative")
        self.pos = start
        return None

    def _slash_then_mark(self, eat: bool) -> bool:
        """Return whether ``/`` and a d or ∂ follow; with ``eat``, move past them."""
        start = self.pos
        if self._eat("/"):
            self._ws()
            if self._eat_any(_D_MARKS):
                self._ws()
                if not eat:
                    self.pos = start
                return True
        self.pos = start
        return False

    def _denominator(self) -> str:
        found = self._name_candidates()
        if found:
            name, self.pos = found[0]
            return name
        col = self.pos + 1
        word = _IDENT.match(self.text, self.pos)
        if word:
            raise self.table.unknown(word.group(), col, " in the derivative")
        raise self._error("expected a name after d", "expected dA/dB with A and B network names")

    def _name_candidates(self) -> list[tuple[str, int]]:
        """Return (name, end) readings at the position, longest first."""
        found = self.table.prefixes(self.text, self.pos)
        word = _IDENT.match(self.text, self.pos)
        if word:
            name = self.table.exact(word.group())
            if name is not None:
                found.append((name, word.end()))
        return sorted(set(found), key=lambda pair: -pair[1])

    def _word(self, col: int) -> Node:
        """Read a name, a function call or ``e``; anything else is an error."""
        literal = self.table.prefixes(self.text, self.pos)
        word = _IDENT.match(self.text, self.pos)
        command = _COMMAND.match(self.text, self.pos)
        if literal and (not word or literal[0][1] >= word.end()):
            name, self.pos = literal[0]
            return Name(name, col)
        if self._starts_with("σ"):
            self.pos += 1
            return self._call("sigma", col)
        if command:
            return self._command(command.group(), col)
        if word:
            return self._identifier(word.group(), col)
        ch = self.text[self.pos]
        raise self._error(f"unexpected '{ch}'", "expected a number, a name, dA/dB or '('")

    def _identifier(self, written: str, col: int) -> Node:
        name = self.table.exact(written)
        self.pos += len(written)
        if name is not None:
            return Name(name, col)
        if written in FUNCTIONS:
            return self._call(FUNCTIONS[written], col)
        if written == "e":
            self._ws()
            if self._peek_char() == "^":
                self.pos += 1
                self._ws()
                return Call("exp", self._exponent(), col)
            return Call("exp", Number(Fraction(1), col), col)
        parts = self.table.split(written)
        if parts:
            node: Node = Name(parts[0], col)
            for part in parts[1:]:
                node = Binary("*", node, Name(part, col), col)
            return node
        raise self.table.unknown(written, col)

    def _command(self, command: str, col: int) -> Node:
        word = command[1:]
        if word in ("mathrm", "operatorname", "text", "mathit"):
            self.pos += len(command)
            inner = re.match(r"\{([A-Za-z]+)\}", self.text[self.pos :])
            if inner and inner.group(1) in FUNCTIONS:
                self.pos += inner.end()
                return self._call(FUNCTIONS[inner.group(1)], col)
            if inner:
                name = self.table.exact(inner.group(1))
                if name is not None:
                    self.pos += inner.end()
                    return Name(name, col)
                raise self.table.unknown(inner.group(1), col + len(command) + 1)
            raise self._error(f"expected {{...}} after {command}", "expected \\mathrm{NAME}")
        if word in FUNCTIONS:
            self.pos += len(command)
            return self._call(FUNCTIONS[word], col)
        raise DeriveError(f"unsupported LaTeX command '{command}'", col=col,
                          hint="expected \\frac, \\partial, \\cdot, \\times, \\left(, \\right), "
                          "\\exp, \\log, \\tanh or \\sigma")  # fmt: skip

    def _call(self, func: str, col: int) -> Call:
        if self._eat("'"):
            if func not in _PRIMED:
                raise self._error(f"{func}' is not supported", "expected sigma' or tanh'")
            func = _PRIMED[func]
        self._ws()
        if self._at_end():
            raise self._error(f"{func} needs an argument", "expected '(' after the function")
        ch = self._peek_char()
        if ch in _OPENERS or ch == "{" or self._starts_any(_SIZERS):
            return Call(func, self._primary(), col)
        return Call(func, self._power(), col)

    # -- characters --------------------------------------------------------

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._error("the answer is nested too deeply",
                              f"expected at most {MAX_DEPTH // 3} levels of brackets")  # fmt: skip

    def _ws(self) -> None:
        while not self._at_end():
            if self.text[self.pos] in " ~&":
                self.pos += 1
            elif not self._eat_any(_SPACING) and not self._eat_empty_sizer():
                return

    def _eat_empty_sizer(self) -> bool:
        for sizer in ("\\left.", "\\right."):
            if self._eat(sizer):
                return True
        return False

    def _skip_dollars(self) -> None:
        self._ws()
        while self._eat("$"):
            self._ws()

    def _skip_full_stop(self) -> bool:
        """Skip the full stop or comma that ends a sentence (``... = 0.``), with any ``$`` after it."""
        rest = self.text[self.pos :]
        if rest[:1] in (".", ",", ";") and not rest[1:].strip(" $"):
            self.pos = len(self.text)
            return True
        return False

    def _at_end(self) -> bool:
        return self.pos >= len(self.text)

    def _peek_char(self, ahead: int = 0) -> str:
        """Return the character ``ahead`` of the position, or '' past the end."""
        at = self.pos + ahead
        return self.text[at] if at < len(self.text) else ""

    def _starts_with(self, s: str) -> bool:
        return self.text.startswith(s, self.pos)

    def _starts_any(self, options: Iterable[str]) -> bool:
        return any(self.text.startswith(s, self.pos) for s in options)

    def _eat(self, s: str) -> bool:
        if self.text.startswith(s, self.pos):
            if s.startswith("\\") and s[-1].isalpha() and self._peek_char(len(s)).isalpha():
                return False  # \left must not eat the start of \leftarrow
            self.pos += len(s)
            return True
        return False

    def _eat_any(self, options: Iterable[str]) -> bool:
        return any(self._eat(s) for s in options)

    def _starts_primary(self) -> bool:
        ch = self._peek_char()
        if not ch:
            return False
        if _is_digit(ch) or ("A" <= ch.upper() <= "Z") or ch in "([{∂σ.":
            return not (ch == "." and not _is_digit(self._peek_char(1)))
        if ch == "\\":
            command = _COMMAND.match(self.text, self.pos)
            if command is None:
                return False
            word = command.group()
            closing = ("\\right", "\\bigr", "\\Bigr", "\\cdot", "\\times", "\\end")
            return word not in closing
        return False

    def _expected_after(self) -> str:
        return "expected an operator (+ - * / ^), '=' or the end"

    def _error(self, message: str, hint: str) -> DeriveError:
        return DeriveError(message, col=self.pos + 1, hint=hint)


def _depth(node: Node) -> int:
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


def _literal_size(node: Node) -> Fraction:
    """Return the magnitude of a literal exponent (0 when it is not a plain number)."""
    match node:
        case Number(value=v):
            return abs(v)
        case Neg(operand=Number(value=v)):
            return abs(v)
    return Fraction(0)
