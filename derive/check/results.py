"""What a check returns: a verdict with its reasons, per answer and per file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from derive.errors import DeriveError


class NoLeftSide(DeriveError):
    """An answer without ``dA/dB =`` in front: it does not say which derivative it answers.

    ``derivative`` is the one its factors chain into (``dL/dW4``), or '' when they do not.
    """

    def __init__(self, derivative: str, written: str) -> None:
        self.derivative = derivative
        self.suggestion = (
            f"{derivative} = {written}" if derivative and written != derivative else
            f"{derivative or 'dA/dB'} = ..."
        )  # fmt: skip
        super().__init__(f"write the derivative being checked first: {self.suggestion}")


@dataclass(frozen=True)
class Reason:
    """One way the answer differs: a ``kind`` for programs, a ``message`` for people.

    Kinds: restated (the right side is the left side again), zero_factor,
    zero_derivative, missing_path, duplicate_path, wrong_coefficient,
    extra_path, broken_chain, multiplied_paths (paths multiplied, not added),
    local_partial (an edge factor the answer needed to be the whole
    derivative), wrong_lhs, not_the_expansion (too many paths to say more),
    value_mismatch, not_finite.
    """

    kind: str
    message: str
    path: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one answer, with every reason it does not match."""

    network: str
    of: str
    wrt: str
    match: bool
    mode: str  # "expansion" (dA/dB factors) or "concrete" (a formula)
    reasons: tuple[Reason, ...]
    expected: str
    answer: str  # how the answer was read
    text: str  # the answer as written
    notes: tuple[str, ...] = ()
    path_count: int = 0

    @property
    def ok(self) -> bool:
        """Return whether the answer matches (the same as ``match``)."""
        return self.match

    def __repr__(self) -> str:
        count = len(self.reasons)
        reasons = f"{count} reason{'s' if count != 1 else ''}"
        verdict = "matches" if self.match else f"does not match ({reasons})"
        return f"<CheckResult d{self.of}/d{self.wrt} ({self.network}): {verdict}>"

    def _repr_markdown_(self) -> str:
        """Return the verdict and its reasons as Markdown, for Jupyter."""
        what = f"**d{self.of}/d{self.wrt}** ({self.network})"
        if self.match:
            notes = "".join(f"\n- {n}" for n in self.notes)
            return f"{what}: matches{notes}\n"
        lines = [f"{what}: **does not match**", ""]
        lines += [f"- {r.message}" for r in self.reasons]
        lines += ["", f"expected: `{self.expected}`", "", f"read as: `{self.answer}`"]
        return "\n".join(lines) + "\n"


VERDICTS = ("match", "mismatch", "unreadable", "no_answer", "skipped", "warning")


@dataclass(frozen=True)
class LineResult:
    """One line of a file: its verdict is match, mismatch, unreadable, no_answer, skipped or warning.

    ``no_answer`` is a line meant as an answer that has no ``=`` (``dL/dW7``);
    ``skipped`` is Markdown prose that mentions a derivative but is not an
    answer: listed so that nothing is left out silently, and not a failure.
    ``warning`` is about the file, not an answer (a ``$$`` that never closes).
    """

    line: int
    text: str
    verdict: str
    reason: str
    derivative: str = ""
    result: CheckResult | None = None

    @property
    def ok(self) -> bool:
        """Return whether this line's answer matches (a skipped prose line is no failure)."""
        return self.verdict in ("match", "skipped", "warning")


@dataclass(frozen=True)
class BatchResult:
    """Every graded line of a file, and how many of each verdict."""

    network: str
    lines: tuple[LineResult, ...]
    source: str = ""

    def __iter__(self) -> Iterator[LineResult]:
        return iter(self.lines)

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def ok(self) -> bool:
        """Return whether every answer matched (the same as ``match``)."""
        return self.match

    @property
    def summary(self) -> dict[str, int]:
        """Return how many lines have each verdict; ``total`` counts the answers."""
        counts = dict.fromkeys(VERDICTS, 0)
        for line in self.lines:
            counts[line.verdict] += 1
        return {"total": len(self.graded), **counts}

    @property
    def graded(self) -> tuple[LineResult, ...]:
        """Return the lines that are answers (not skipped prose, not a warning)."""
        return tuple(line for line in self.lines if line.verdict not in ("skipped", "warning"))

    @property
    def match(self) -> bool:
        """Return whether every answer matched (a file with no answers matches nothing)."""
        return bool(self.graded) and all(line.ok for line in self.lines)

    @property
    def exit_status(self) -> int:
        """Return the command's exit status: 0 all match, 1 one does not (or is not written
        yet), 2 only unreadable ones.

        An answer that cannot be read is no verdict: a file of matches and
        unreadable lines is bad input (2), as one unreadable answer is.
        """
        if self.match:
            return 0
        return 1 if any(line.verdict in ("mismatch", "no_answer") for line in self.lines) else 2
