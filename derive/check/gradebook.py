"""Grade a class: every submission file against the same questions, into one gradebook.

``derive check --file 'subs/*.md' --net NET [--expect ...]`` reads each file
(a glob, several files or a folder), grades its answers with one
:class:`~derive.check.views.Shared` for the whole class (the network's paths,
derivations and sample points are made once, not per file), and scores each
question: its points when every answer to it matches, 0 when one does not,
is unreadable or is missing. Without ``--expect`` the questions are the
derivatives the class answered, one point each, so a file that leaves one
out is still scored as missing it.

Submissions are hostile: each is read as bounded text (at most
:data:`~derive.yamlread.MAX_TEXT_BYTES` of UTF-8 without control characters, and
:data:`~derive.check.extract.MAX_ANSWERS`
answers), never run, and never makes the grader open another file: a
symbolic link is reported as not read, not followed.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from derive.check.assignment import Assignment, Question
from derive.check.extract import check_file
from derive.check.results import BatchResult, LineResult
from derive.check.views import Shared
from derive.errors import DeriveError
from derive.graph import DERIVATIVE, Network

SUFFIXES = (".md", ".markdown", ".txt")  # what a folder of submissions is read for
MAX_FILES = 5000


@dataclass(frozen=True)
class Score:
    """One question of one submission: its verdict, points and the feedback to show."""

    question: Question
    verdict: str  # match, mismatch, unreadable or missing
    points: Fraction
    feedback: str
    line: int | None = None


@dataclass(frozen=True)
class Submission:
    """One file's graded answers (``batch``, None when it could not be read) and its scores."""

    file: str
    batch: BatchResult | None
    scores: tuple[Score, ...]
    error: str = ""  # why the file could not be read, or holds no answers

    @property
    def score(self) -> Fraction:
        """Return the points the submission earned."""
        return sum((s.points for s in self.scores), Fraction(0))

    @property
    def max_score(self) -> Fraction:
        """Return the points it could have earned."""
        return sum((s.question.points for s in self.scores), Fraction(0))


@dataclass(frozen=True)
class Gradebook:
    """A class's submissions, graded against one assignment on one network."""

    network: str
    assignment: Assignment
    submissions: tuple[Submission, ...]
    from_answers: bool = False  # the questions are the derivatives the class answered

    @property
    def all_match(self) -> bool:
        """Return whether every question of every submission earned its points."""
        return all(s.verdict == "match" for sub in self.submissions for s in sub.scores)

    def scores_line(self, line: LineResult) -> bool:
        """Return whether a file's answer counts towards a question (else it was not asked)."""
        asked = {(q.of, q.wrt) for q in self.assignment.questions}
        return self.from_answers or line.verdict == "warning" or _key(line.derivative) in asked


GRADEBOOK_FORMATS = ("csv", "gradescope")  # the --format values only a gradebook has


def grades_a_class(sources: list[str], assignment: Assignment | None, fmt: str) -> bool:
    """Return whether ``--file`` grades a class (a gradebook) rather than one file's answers.

    It does for several files, a glob or a folder, with ``--expect``, and for
    the gradebook formats.
    """
    several = len(sources) > 1 or any(glob.has_magic(s) or Path(s).is_dir() for s in sources)
    return several or assignment is not None or fmt in GRADEBOOK_FORMATS


def submission_files(sources: Iterable[str]) -> list[Path]:
    """Return the files the sources name: each a file, a folder (its answer files) or a glob.

    Raises
    ------
    DeriveError
        When a source names nothing, or the class is larger than :data:`MAX_FILES`. A symbolic link is
        listed, to be reported as not read.
    """
    found: list[Path] = []
    for source in sources:
        path = Path(source)
        if glob.has_magic(source):
            matches = [Path(p) for p in sorted(glob.glob(source))]
            matches = [p for p in matches if p.is_file() or p.is_symlink()]
        elif path.is_dir():
            matches = sorted(
                p
                for p in path.iterdir()
                if p.suffix.lower() in SUFFIXES and (p.is_file() or p.is_symlink())
            )
        else:
            matches = [path]  # a missing file is reported as that submission's error
        if not matches:
            what = "no file matches" if glob.has_magic(source) else "no answer files in"
            raise DeriveError(f"{what} '{source}'", hint=f"files ending {', '.join(SUFFIXES)}")
        found += [p for p in matches if p not in found]
    if len(found) > MAX_FILES:
        raise DeriveError(f"{len(found)} files: more than {MAX_FILES} to grade at once")
    return found


def grade_class(
    net: Network,
    files: Iterable[str | Path],
    assignment: Assignment | None = None,
    *,
    at: Mapping[str, float] | None = None,
) -> Gradebook:
    """Return the gradebook of every file (see the module's docstring).

    >>> from derive.graph import load_network
    >>> from derive.check.assignment import read_expect
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "ada.md").write_text("dL/dW4 = dL/dO2*dO2/dW4")
    >>> book = grade_class(load_network("simple"), [folder / "ada.md"], read_expect("dL/dW4,dL/dW1"))
    >>> [(s.question.name, s.verdict) for s in book.submissions[0].scores]
    [('dL/dW4', 'match'), ('dL/dW1', 'missing')]
    """
    shared = Shared(net)
    graded: list[tuple[str, BatchResult | None, str]] = []
    for path in files:
        try:
            if Path(path).is_symlink():  # a submission may not point the grader at other files
                raise DeriveError("a symbolic link, not followed", file=str(path))
            graded.append((str(path), check_file(net, path, shared=shared, at=at), ""))
        except DeriveError as err:
            graded.append((str(path), None, str(err)))
    from_answers = assignment is None
    if assignment is None:
        assignment = _answered(net, [batch for _, batch, _ in graded if batch])
    else:
        assignment.check_names(net)
    subs = tuple(
        Submission(file, batch, _scores(assignment, batch, error), error)
        for file, batch, error in graded
    )
    return Gradebook(net.name, assignment, subs, from_answers)


def _answered(net: Network, batches: list[BatchResult]) -> Assignment:
    """Return the questions a class answered: each derivative once, one point, in order met."""
    seen: dict[tuple[str, str], None] = {}
    for batch in batches:
        for line in batch.graded:
            key = _key(line.derivative)
            if key and all(name in net.order for name in key):
                seen.setdefault(key)
    return Assignment(tuple(Question(of, wrt, Fraction(1)) for of, wrt in seen))


def _key(derivative: str) -> tuple[str, str] | None:
    found = DERIVATIVE.fullmatch(derivative.strip()) if derivative else None
    return (found.group(1), found.group(2)) if found else None


def _scores(assignment: Assignment, batch: BatchResult | None, error: str) -> tuple[Score, ...]:
    by_question: dict[tuple[str, str], list[LineResult]] = {}
    for line in batch.graded if batch else ():
        key = _key(line.derivative)
        if key:
            by_question.setdefault(key, []).append(line)
    return tuple(_score(q, by_question.get((q.of, q.wrt), []), error) for q in assignment.questions)


def _score(question: Question, lines: list[LineResult], error: str) -> Score:
    """Return a question's score: its points when every answer to it matches."""
    if error:
        return Score(question, "unreadable", Fraction(0), f"the file was not graded: {error}")
    blank = [line for line in lines if line.verdict == "no_answer"]  # dL/dW1 = and no more
    lines = [line for line in lines if line.verdict != "no_answer"]
    if not lines:
        where = blank[0].line if blank else None
        return Score(question, "missing", Fraction(0), f"no answer to {question.name}", where)
    wrong = [line for line in lines if line.verdict == "mismatch"]
    right = [line for line in lines if line.verdict == "match"]
    if wrong:
        first = wrong[0]
        return Score(question, "mismatch", Fraction(0), first.reason, first.line)
    if right and len(right) == len(lines):
        notes = "; ".join(n for line in right if line.result for n in line.result.notes)
        feedback = "matches" + (f" ({notes})" if notes else "")
        return Score(question, "match", question.points, feedback, right[0].line)
    first = next(line for line in lines if line.verdict != "match")
    return Score(question, "unreadable", Fraction(0), first.reason, first.line)
