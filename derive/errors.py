"""The one exception type for mistakes a user can make."""

from __future__ import annotations


class DeriveError(Exception):
    """A user's mistake: bad network file, unknown name, unreadable answer.

    Carries where the mistake is (file, line, column, all optional, 1-based)
    and a hint saying what to change. ``str(err)`` is the one line the
    command line prints.

    Examples
    --------
    >>> str(DeriveError("unknown activation 'sigmod'", file="net.yaml", line=4, col=17,
    ...                 hint="use one of sigmoid, tanh, relu"))
    "net.yaml:4:17: unknown activation 'sigmod'; use one of sigmoid, tanh, relu"
    >>> str(DeriveError("unbalanced '('", col=19, hint="expected ')'"))
    "column 19: unbalanced '('; expected ')'"
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        col: int | None = None,
        hint: str | None = None,
        option: str | None = None,
        needs: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.col = col
        self.hint = hint
        # For a caller to word in its own terms (the command line: "--at: ...", "add --detail"):
        self.option = option  # the caller's argument that holds the mistake: "at"
        self.needs = needs  # the setting that would make the request right: "detail"
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.file is None and self.line is None and self.col is not None:
            where = f"column {self.col}"  # a one-line text the user typed, such as an answer
        else:
            where = ":".join(str(p) for p in (self.file, self.line, self.col) if p is not None)
        text = f"{where}: {self.message}" if where else self.message
        return one_line(f"{text}; {self.hint}" if self.hint else text)


def one_line(text: str) -> str:
    r"""Return ``text`` printable on one line: a line break, a NUL or a lone surrogate that a
    user's input put in a message is shown as its escape (``\n``, ``\x00``, ``\ud800``).

    >>> print(one_line("cannot read 'x1=1\nx2=2'"))
    cannot read 'x1=1\nx2=2'
    """
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF else repr(ch)[1:-1]
        for ch in text
    )
