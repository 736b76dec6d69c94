"""The network's names and every way an answer may write each (``O11``, ``O_{11}``, its LaTeX)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from derive.errors import DeriveError
from derive.formula.parse import is_digit
from derive.words import did_you_mean


class NameTable:
    """The network's names and every way of writing each (``O11``, ``O_{11}``, its LaTeX)."""

    def __init__(self, names: Iterable[str], latex_names: Mapping[str, str]) -> None:
        self.names = list(dict.fromkeys(names))
        self.spellings: dict[str, str] = {}
        for name in self.names:
            for spelling in _spellings(name, latex_names.get(name)):
                self.spellings.setdefault(spelling, name)
        # Each length a spelling has, longest first: a prefix is looked up once per length,
        # so reading is not slowed by a network's 80,000 names (nor made to hang by a long word).
        self._lengths = sorted({len(s) for s in self.spellings}, reverse=True)

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
        room = len(text) - pos
        return [
            (self.spellings[text[pos : pos + n]], pos + n)
            for n in self._lengths
            if n <= room
            and text[pos : pos + n] in self.spellings
            and not _cuts_digits(text, pos + n)
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
        hint = did_you_mean(written, self.names, cutoff=0.3) or (
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
        out += _latex_spellings(latex)
    return out


_SCRIPTS = re.compile(r"(.*?)(_(?:\{[^{}]*\}|\w))(\^(?:\{[^{}]*\}|\w))")
_ONE_BRACED = re.compile(r"([_^])\{(\w)\}")
_ONE_BARE = re.compile(r"([_^])(\w)(?![\w{])")
_PARENTHESISED = re.compile(r"\^\{(\([^{}()]*\))\}")  # ^{(L-1)}, typed ^(L-1) as 3Blue1Brown does


def _latex_spellings(latex: str) -> list[str]:
    """Return the ways of typing a LaTeX name: ``a_{0}^{(L-1)}``, ``a_0^{(L-1)}``, ``a^{(L-1)}_0``.

    >>> _latex_spellings("a_{0}^{(L)}")[:3]
    ['a_{0}^{(L)}', 'a_0^{(L)}', 'a^{(L)}_{0}']
    >>> _latex_spellings("w^{(L)}")[-1]
    'w^(L)'

    """
    tight = latex.replace(" ", "")
    forms = [tight]
    swapped = _SCRIPTS.fullmatch(tight)
    if swapped:
        forms.append(swapped.group(1) + swapped.group(3) + swapped.group(2))
    out = [latex]
    for form in forms:
        out += [form, _ONE_BRACED.sub(r"\1\2", form), _ONE_BARE.sub(r"\1{\2}", form)]
    out += [_PARENTHESISED.sub(r"^\1", form) for form in out if _PARENTHESISED.search(form)]
    return list(dict.fromkeys(out))


def _cuts_digits(text: str, end: int) -> bool:
    return 0 < end < len(text) and is_digit(text[end - 1]) and is_digit(text[end])


def _normal_forms(written: str) -> list[str]:
    no_braces = written.replace("{", "").replace("}", "")
    return [written, no_braces, no_braces.replace("_", "")]
