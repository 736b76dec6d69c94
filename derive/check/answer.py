"""Read a hand-written answer (``dL/dW1 = dL/dO2 * dO2/dW1``) into a syntax tree.

A recursive-descent parser of our own, working on the characters directly
because a factor ``dL/dO31`` has no separator between the ``d`` and the name:
names are matched against the network's own names, longest first. It reads
ASCII (``d``, ``*``), Unicode (``∂``, ``·``, ``×``, ``−``, subscript digits)
and LaTeX (``\\frac{\\partial L}{\\partial O_{2}}``, ``\\cdot``, ``\\left(``).
Nothing the user writes is ever evaluated: the tree (:mod:`derive.formula.tree`)
is plain data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fractions import Fraction

from derive.check.names import NameTable
from derive.errors import DeriveError
from derive.formula.parse import Parser, is_digit
from derive.formula.tree import FUNCTIONS, PRIMED, Answer, Binary, Call, Deriv, Name, Node, Number

_SPACING = ("\\quad", "\\qquad", "\\displaystyle", "\\,", "\\;", "\\:", "\\!", "\\ ", "\\\\")
_TIMES = ("\\cdot", "\\times", "*", "·", "×")
_DELIMITERS = ("$", "\\(", "\\)", "\\[", "\\]")
_SIZERS = ("\\left", "\\right", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr", "\\big", "\\Big")
_OPENERS = {"(": ")", "[": "]"}
_D_MARKS = ("\\partial", "\\mathrm{d}", "\\text{d}", "\\operatorname{d}", "∂", "d")
_FRACS = ("\\frac", "\\dfrac", "\\tfrac")
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_(?:\{[A-Za-z0-9_,\-]*\}|[A-Za-z0-9]+))*")
_COMMAND = re.compile(r"\\[A-Za-z]+")
# \text{...} holding words (a space or anything but a name): a comment, read as space.
_TEXT_COMMENT = re.compile(r"\\(?:text|textrm|mbox)\{(?=[^{}]*[^A-Za-z0-9_{}])[^{}]*\}")
_PRIMES = ("'", "′", "^{\\prime}", "^\\prime", "^{'}")
_BRACED_MARK = re.compile(r"\{\s*(?:\\partial|\\mathrm\{d\}|∂|d)\s*")


def parse_answer(
    text: str,
    names: Iterable[str],
    latex_names: Mapping[str, str] | None = None,
    *,
    table: NameTable | None = None,
) -> Answer:
    """Return the syntax tree of an answer, reading names as the network's names.

    ``names`` are the network's names; ``latex_names`` maps a name to how the
    network typesets it, so ``\\hat{y}`` or ``w^{(L)}`` read back as names.
    ``table``, made from them once, saves making it again for every answer
    (MNIST's 80,000 names).

    Raises
    ------
    DeriveError
        With the 1-based column and what was expected, for anything unreadable.

    Examples
    --------
    >>> parse_answer("dL/dW4 = dL/dO2 · dO2/dW4", ["W4", "O2", "L"]).rhs[0].left
    Deriv(of='L', wrt='O2', col=10)
    """
    return _Parser(text, table or NameTable(names, latex_names or {})).answer()


class _Parser(Parser):
    """The formula grammar, and what answers write besides: dA/dB, LaTeX, juxtaposed products."""

    WHAT = "answer"
    TIMES = _TIMES
    OPENERS = _OPENERS
    BRACES = True
    CLOSE_SIZERS = ("\\right", "\\bigr", "\\Bigr", "\\big", "\\Big")
    PRIMARY = "expected a number, a name, dA/dB or '('"

    def __init__(self, text: str, table: NameTable) -> None:
        super().__init__(text)
        self.table = table

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
            raise self._error(
                f"unexpected {character(self.text[self.pos])}", self._expected_after()
            )
        for start, node in sides:
            self._check_depth(node, start)
        if len(sides) == 1:
            return Answer(None, (sides[0][1],), self.raw)
        start, lhs = sides[0]
        if not isinstance(lhs, Deriv):
            raise DeriveError("the left-hand side must be one derivative", col=start + 1,
                              hint="expected dA/dB = ..., e.g. dL/dW1 = ...")  # fmt: skip
        return Answer(lhs, tuple(node for _, node in sides[1:]), self.raw)

    # -- grammar -----------------------------------------------------------

    def _special(self, col: int) -> Node | None:
        if self._peek_char() == "{":
            return self._group("{", "}")
        if self._eat_any(_SIZERS):
            self._ws()
            opener = self._peek_char()
            if opener not in _OPENERS:
                raise self._error("expected a bracket after \\left", "expected ( or [")
            return self._group(opener, _OPENERS[opener])
        if self._starts_any(_FRACS):
            return self._frac()
        return self._inline_deriv()

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
            raise self.table.unknown(
                word.group(), word.start() + 1, " in a derivative of the answer"
            )

    def _bad_denominator(self) -> DeriveError:
        """Return the error for ``\\frac{\\partial A}{...}`` whose denominator is no ∂ and name."""
        mark = _BRACED_MARK.match(self.text, self.pos)
        word = _IDENT.match(self.text, mark.end()) if mark else None
        if word:
            return self.table.unknown(
                word.group(), word.start() + 1, " in a derivative of the answer"
            )
        return self._error("the denominator of a derivative must be ∂ and a name",
                           "expected {\\partial NAME}")  # fmt: skip

    def _frac_arg(self) -> Node:
        if self._peek_char() == "{":
            return self._group("{", "}")
        if is_digit(self._peek_char()):
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
                raise self.table.unknown(word.group(), num_col, " in a derivative of the answer")
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
            raise self.table.unknown(word.group(), col, " in a derivative of the answer")
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
        raise self._error(f"unexpected {character(ch)}", "expected a number, a name, dA/dB or '('")

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
        if self._eat_any(_PRIMES):
            if func not in PRIMED:
                raise self._error(f"{func}' is not supported", "expected sigma' or tanh'")
            func = PRIMED[func]
        self._ws()
        if self._at_end():
            raise self._error(f"{func} needs an argument", "expected '(' after the function")
        ch = self._peek_char()
        if func == FUNCTIONS["Heaviside"] and ch == "(":
            return Call(func, self._heaviside_argument(), col)
        if ch in _OPENERS or ch == "{" or self._starts_any(_SIZERS):
            return Call(func, self._primary(), col)
        return Call(func, self._power(), col)

    def _heaviside_argument(self) -> Node:
        """Read ``(z)`` or SymPy's ``(z, 0)``: the second number is H(0), which never matters here."""
        col = self.pos + 1
        self.pos += 1
        self._enter()
        node = self._expr()
        self._ws()
        if self._eat(","):
            self._ws()
            if not (_is_number_start(self._peek_char()) and self._number() is not None):
                raise self._error("expected a number after ',' in Heaviside(z, 0)", "expected 0")
            self._ws()
        if not self._eat(")"):
            raise self._error(f"unbalanced '(' opened at column {col}", "expected ')'")
        self.depth -= 1
        return node

    # -- characters --------------------------------------------------------

    def _ws(self) -> None:
        while not self._at_end():
            if self.text[self.pos] in " ~&":
                self.pos += 1
            elif not self._eat_any(_SPACING) and not self._eat_empty_sizer():
                comment = _TEXT_COMMENT.match(self.text, self.pos)
                if not comment:
                    return
                self.pos = comment.end()  # \text{(the chain rule)}: words, not maths

    def _eat_empty_sizer(self) -> bool:
        for sizer in ("\\left.", "\\right."):
            if self._eat(sizer):
                return True
        return False

    def _skip_dollars(self) -> None:
        """Skip the math delimiters around an answer: ``$``, ``$$``, ``\\( \\)``, ``\\[ \\]``."""
        self._ws()
        while self._eat_any(_DELIMITERS):
            self._ws()

    def _skip_full_stop(self) -> bool:
        """Skip the full stop or comma that ends a sentence (``... = 0.``), with any ``$`` after it."""
        rest = self.text[self.pos :]
        if rest[:1] in (".", ",", ";") and not rest[1:].strip(" $"):
            self.pos = len(self.text)
            return True
        return False

    def _starts_primary(self) -> bool:
        ch = self._peek_char()
        if not ch:
            return False
        if is_digit(ch) or ("A" <= ch.upper() <= "Z") or ch in "([{∂σ.":
            return not (ch == "." and not is_digit(self._peek_char(1)))
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


def _is_number_start(ch: str) -> bool:
    return is_digit(ch) or ch == "."


def character(ch: str) -> str:
    """Return a character as a report names it: ``'%'``, or a NUL byte or control character by code.

    >>> character("%"), character("\\x00"), character("\\x1b")
    ("'%'", 'NUL byte (\\\\x00)', 'control character U+001B')
    """
    if ch == "\x00":
        return "NUL byte (\\x00)"
    if not ch.isprintable():
        return f"control character U+{ord(ch):04X}"
    return f"'{ch}'"
