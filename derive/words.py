"""Words: the one number format, the notation's explanation, reasons in sentences.

A bottom module (it imports nothing of derive): printing, check and notes all read it.

Every human-facing output writes numbers with :func:`num` and explains the
d/∂ notation with :data:`NOTATION` (once, where it first appears).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

DIGITS = 4
"""The significant figures of every printed number, unless ``--digits`` says otherwise."""
# A context variable, not a parameter: every printer and the notes write numbers with num(),
# and one setting for the whole report is what --digits means.
_DIGITS: ContextVar[int] = ContextVar("digits", default=DIGITS)


@contextmanager
def significant(digits: int | None) -> Iterator[None]:
    """Print every number inside the block with ``digits`` significant figures (None: 4).

    JSON is not affected: it always holds the numbers at full precision.

    >>> with significant(9):
    ...     num(0.1497807161327628)
    '0.149780716'
    >>> num(0.1497807161327628)
    '0.1498'
    """
    token = _DIGITS.set(digits or DIGITS)
    try:
        yield
    finally:
        _DIGITS.reset(token)


def notation(local: str = "∂", whole: str = "d") -> str:
    r"""Return the notation's one-line explanation, with the two marks as the output writes them.

    >>> notation()
    '∂ marks a local partial (one formula differentiated, the rest held fixed); d a whole derivative (the sum over every path).'
    """
    return (
        f"{local} marks a local partial (one formula differentiated, the rest held fixed); "
        f"{whole} a whole derivative (the sum over every path)."
    )


# One short line, written where the notation first appears in each output.
NOTATION = notation()
NOTATION_TEX = notation(r"$\partial$", r"$\mathrm{d}$")


def num(x: float) -> str:
    """Return a number with 4 significant figures (see :func:`significant`), zeros kept: the one format.

    Very small or large numbers get an exponent; exactly zero is ``0`` (also ``-0.0``: a
    student should not see "-0").

    >>> [num(v) for v in (0.25, -0.0804171, 1e-5, 0.908042, 1.0, 1234.6, 123456.0, -0.0)]
    ['0.2500', '-0.08042', '1.000e-05', '0.9080', '1.000', '1235', '1.235e+05', '0']
    """
    x = float(x)
    return f"{x:#.{_DIGITS.get()}g}".removesuffix(".") if x else "0"


def article(word: str) -> str:
    """Return ``a`` or ``an`` with the word: ``an input``, ``a weight``.

    >>> article("input"), article("weight")
    ('an input', 'a weight')
    """
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def in_sentence(title: str) -> str:
    """Return a title as it reads inside a sentence: a first word that is an ordinary word is
    written small (a proper name or an acronym keeps its capitals).

    >>> in_sentence("Two hidden layers"), in_sentence("An MNIST classifier"), in_sentence("XOR's examples")
    ('two hidden layers', 'an MNIST classifier', "XOR's examples")
    """
    first = title.split(" ", 1)[0]
    if len(first) > 0 and first[0].isupper() and (first[1:].islower() or len(first) == 1):
        return title[0].lower() + title[1:]
    return title


def and_list(names: Sequence[str]) -> str:
    """Return names as a list in words: ``a``, ``a and b``, ``a, b and c``.

    >>> and_list(["O21"]), and_list(["O21", "O22", "O23"])
    ('O21', 'O21, O22 and O23')
    """
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def upside_down(d: Any) -> str:
    """Return the derivative a 0 one was probably meant to be, when it is not 0 (else empty).

    >>> from derive.expand import derive
    >>> from derive.graph import load_network
    >>> upside_down(derive(load_network("two_hidden"), "W1", "L"))
    'dL/dW1'
    """
    reason = d.zero_reason
    return f"d{reason.wrt}/d{reason.of}" if reason is not None and reason.reverse else ""


def plural(count: int, one: str, many: str | None = None) -> str:
    """Return ``1 path``, ``2 paths``, with the count written with thousands separators.

    >>> plural(1, "path"), plural(1000, "path")
    ('1 path', '1,000 paths')
    """
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def word_for(count: int, one: str, many: str) -> str:
    """Return the word alone that agrees with a count: ``one`` for 1, else ``many``.

    >>> f"2 answers {word_for(2, 'matches', 'match')}"
    '2 answers match'
    """
    return one if count == 1 else many


def why_zero(d: Any) -> str:
    """Return, in plain words, why a derivative is 0 (empty when it is not).

    The reason is the derivative's structured ``zero_reason`` (kind, of, wrt,
    feeds, of_kind); this is the one place it becomes a sentence.

    >>> from derive.expand import derive
    >>> from derive.graph import load_network
    >>> why_zero(derive(load_network("two_hidden"), "O11", "W5"))
    'O11 does not depend on W5: W5 feeds only O12'
    """
    reason = d.zero_reason
    if reason is None:
        return ""
    of, wrt = reason.of, reason.wrt
    if reason.kind == "leaf":
        return f"{of} is {article(reason.of_kind)}: it depends on nothing"
    if reason.kind == "reversed":
        return (
            f"{of} does not depend on {wrt}: {wrt} is computed from {of}, not the other way round"
        )
    if reason.kind == "unused":
        return f"{of} does not depend on {wrt}: nothing is computed from {wrt}"
    return f"{of} does not depend on {wrt}: {wrt} feeds only {and_list(reason.feeds)}"


def closest(word: str, names: Sequence[str], n: int = 3, cutoff: float = 0.5) -> list[str]:
    """Return the names a mistyped ``word`` most likely meant, the likeliest first.

    A name that differs only in case comes first (``w1`` for ``W1``); then the
    closest names by spelling, compared without case.

    >>> closest("w1", ["x1", "h1", "b1", "W1"])
    ['W1', 'x1', 'h1']
    >>> closest("zzz", ["W1"])
    []
    """
    folded: dict[str, list[str]] = {}
    for name in names:
        folded.setdefault(name.casefold(), []).append(name)
    key = word.casefold()
    out = [m for m in folded.get(key, []) if m != word]
    for close in difflib.get_close_matches(key, list(folded), n=n + 1, cutoff=cutoff):
        out += [m for m in folded[close] if m != word and m not in out]
    return out[:n]


def did_you_mean(word: str, names: Sequence[str], cutoff: float = 0.5) -> str | None:
    """Return ``"did you mean A or B?"`` for a mistyped ``word``, or None when nothing is close."""
    close = closest(word, names, cutoff=cutoff)
    return ("did you mean " + " or ".join(close) + "?") if close else None
