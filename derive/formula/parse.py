"""Read a formula (``q * z``, ``sigmoid(w0*x0 + w1*x1 + w2)``) into a syntax tree.

A recursive-descent parser of our own, working on the characters directly,
so that every error has its column and nothing the user wrote is ever
evaluated (no ``eval``, ``sympify`` or ``parse_expr``). :class:`Parser` is
the grammar of numbers, names, ``+ - * / ** ^``, unary minus, parentheses
and calls of known functions; a network file's formulas are read by it as
it stands, and :mod:`derive.check.answer` extends it with what answers
write besides (dA/dB factors, LaTeX, juxtaposed products).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from derive.errors import DeriveError
from derive.formula.tree import (
    FUNCTIONS,
    MAX_EXPONENT,
    Binary,
    Call,
    Name,
    Neg,
    Node,
    Number,
    depth,
)
from derive.rules import FUNCTIONS as RULES
from derive.words import did_you_mean

MAX_LENGTH = 20_000
MAX_DEPTH = 120
MAX_TREE_DEPTH = 400  # operations in a row; keeps every later walk of the tree shallow

# Characters rewritten one for one, so that columns stay the user's columns.
SAME_WIDTH = str.maketrans(
    {
        "₀": "0", "₁": "1", "₂": "2", "₃": "3", "₄": "4",
        "₅": "5", "₆": "6", "₇": "7", "₈": "8", "₉": "9",
        "−": "-", "–": "-", "⋅": "·", "∙": "·", "∗": "*", "÷": "/",
        "\u00a0": " ", "\t": " ", "\r": " ", "\n": " ",
    }
)  # fmt: skip

IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"  # O1² is O1^2
_FROM_SUPERSCRIPT = str.maketrans(_SUPERSCRIPTS, "0123456789")

# The functions a network file's formula may call, spelled as the file spells them.
FORMULA_FUNCTIONS: dict[str, str] = {name: FUNCTIONS[name] for name in RULES}
# The rule table's row of each function the tree calls (the tree writes sigmoid as sigma).
RULE_OF = {FUNCTIONS[name]: row for name, row in RULES.items()}


def parse_formula(text: str, names: Iterable[str]) -> Node:
    """Return the syntax tree of a formula whose names are ``names``.

    Raises
    ------
    DeriveError
        With the 1-based column in ``text`` and what was expected, for anything
        unreadable, an unknown name or a function outside the rule table.

    Examples
    --------
    >>> parse_formula("q * z", ["q", "z"])
    Binary(op='*', left=Name(name='q', col=1), right=Name(name='z', col=5), col=1)
    """
    return Parser(text, names if isinstance(names, set | frozenset) else set(names)).formula()


def is_digit(ch: str) -> bool:
    """Return whether ``ch`` is one ASCII digit."""
    return len(ch) == 1 and "0" <= ch <= "9"


class Parser:
    """Recursive descent over the characters; ``pos`` is 0-based, errors report 1-based."""

    WHAT = "formula"  # what the user wrote, in error messages
    TIMES: tuple[str, ...] = ("*",)
    OPENERS: Mapping[str, str] = {"(": ")"}
    BRACES = False  # whether ``{...}`` groups (LaTeX's x^{2})
    CLOSE_SIZERS: tuple[str, ...] = ()  # read before a closing bracket (``\right``)
    PRIMARY = "expected a number, a name or '('"

    def __init__(self, text: str, names: Iterable[str] = ()) -> None:
        if len(text) > MAX_LENGTH:
            raise DeriveError(f"{self.WHAT} is too long ({len(text)} characters)", col=1,
                              hint=f"expected at most {MAX_LENGTH}")  # fmt: skip
        self.raw = text
        self.text = text.translate(SAME_WIDTH)
        self.names = names if isinstance(names, set | frozenset) else set(names)
        self.pos = 0
        self.depth = 0

    # -- entry -------------------------------------------------------------

    def formula(self) -> Node:
        """Read the whole text as one formula."""
        self._ws()
        if self._at_end():
            raise self._error(f"empty {self.WHAT}", "expected a formula such as x * y")
        node = self._expr()
        self._ws()
        if not self._at_end():
            raise self._error(f"unexpected '{self.text[self.pos]}'", self._expected_after())
        self._check_depth(node, 0)
        return node

    def _check_depth(self, node: Node, start: int) -> None:
        if depth(node) > MAX_TREE_DEPTH:
            raise DeriveError(f"the {self.WHAT} has too many operations in a row", col=start + 1,
                              hint=f"expected at most {MAX_TREE_DEPTH}")  # fmt: skip

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
            if self._eat_any(self.TIMES):
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
        elif self._peek_char() and self._peek_char() in _SUPERSCRIPTS:
            start = self.pos
            while self._peek_char() and self._peek_char() in _SUPERSCRIPTS:
                self.pos += 1
            digits = self.text[start : self.pos].translate(_FROM_SUPERSCRIPT)
            if len(digits) > 2:
                raise DeriveError("exponent is too large", col=start + 1,
                                  hint=f"expected an exponent of at most {MAX_EXPONENT}")  # fmt: skip
            base = Binary("^", base, Number(Fraction(int(digits)), start + 1), col)
        self.depth -= 1
        return base

    def _exponent(self) -> Node:
        col = self.pos + 1
        if self.BRACES and self._peek_char() == "{":
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
            raise self._error(f"the {self.WHAT} ends too early", self.PRIMARY)
        ch = self.text[self.pos]
        if is_digit(ch) or (ch == "." and is_digit(self._peek_char(1))):
            return self._number()
        if ch in self.OPENERS:
            return self._group(ch, self.OPENERS[ch])
        special = self._special(col)
        if special is not None:
            return special
        return self._word(col)

    def _special(self, col: int) -> Node | None:
        """Read what a subclass adds to the primaries (dA/dB, LaTeX); None when nothing is."""
        return None

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
        self._eat_any(self.CLOSE_SIZERS)
        if not self._eat(closer):
            found = self._peek_char() or "the end"
            raise self._error(f"unbalanced '{opener}' opened at column {col}, found {found!r}",
                              f"expected '{closer}'")  # fmt: skip
        self.depth -= 1
        return node

    def _word(self, col: int) -> Node:
        """Read a name or a call of a function of the rule table; anything else is an error."""
        word = IDENT.match(self.text, self.pos)
        if not word:
            ch = self.text[self.pos]
            raise self._error(f"unexpected '{ch}'", self.PRIMARY)
        written = word.group()
        if written in self.names:
            self.pos = word.end()
            return Name(written, col)
        if written in FORMULA_FUNCTIONS:
            self.pos = word.end()
            return self._call(FORMULA_FUNCTIONS[written], col)
        after = self.text[word.end() :].lstrip(" ")
        if after.startswith("("):
            close = difflib.get_close_matches(written, list(FORMULA_FUNCTIONS), n=2, cutoff=0.5)
            hint = (
                f"did you mean {' or '.join(close)}?"
                if close
                else "expected one of " + ", ".join(FORMULA_FUNCTIONS)
            )
            raise DeriveError(f"unknown function '{written}'", col=col, hint=hint)
        hint = (
            did_you_mean(written, sorted(self.names)) or "expected an input, a parameter or a node"
        )
        raise DeriveError(f"unknown name '{written}'", col=col, hint=hint)

    def _call(self, func: str, col: int) -> Call:
        self._ws()
        if self._peek_char() != "(":
            raise self._error(
                f"{func} needs an argument in parentheses", "expected '(' after the function"
            )
        return Call(func, self._group("(", ")"), col)

    # -- characters --------------------------------------------------------

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._error(f"the {self.WHAT} is nested too deeply",
                              f"expected at most {MAX_DEPTH // 3} levels of brackets")  # fmt: skip

    def _ws(self) -> None:
        while self._peek_char() == " ":
            self.pos += 1

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
        """Return whether a primary starts here without an operator (a juxtaposed product)."""
        return False

    def _expected_after(self) -> str:
        return "expected an operator (+ - * / **) or the end"

    def _error(self, message: str, hint: str) -> DeriveError:
        return DeriveError(message, col=self.pos + 1, hint=hint)


def _literal_size(node: Node) -> Fraction:
    """Return the magnitude of a literal exponent (0 when it is not a plain number)."""
    match node:
        case Number(value=v):
            return abs(v)
        case Neg(operand=Number(value=v)):
            return abs(v)
    return Fraction(0)
