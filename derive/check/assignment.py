"""What a class is asked: the derivatives, their points and the network (``--expect``).

``--expect`` is either a list, ``dL/dW1,dL/dW5`` (one point each), or an
assignment file:

.. code-block:: yaml

    title: Homework 3                # optional
    network: two_hidden              # optional: a network file (beside this one) or a bundled name
    questions:                       # each derivative and its points
      dL/dW1: 2
      dL/dW5: 1

(``questions`` may also be a list of derivatives, one point each.) A
submission that answers none of a question's derivative scores it as
missing, not silently absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import yaml

from derive.errors import DeriveError
from derive.graph import Network, parse_derivative
from derive.yamlread import NUMBER, Reader, compose, suggest

MAX_QUESTIONS = 500
MAX_ASSIGNMENT_BYTES = 200_000
_KEYS = ("title", "network", "questions")


@dataclass(frozen=True)
class Question:
    """One derivative a submission must answer, and what it is worth."""

    of: str
    wrt: str
    points: Fraction

    @property
    def name(self) -> str:
        """Return the derivative as answers write it: ``dL/dW1``."""
        return f"d{self.of}/d{self.wrt}"


@dataclass(frozen=True)
class Assignment:
    """The questions of an assignment, in order, and the network it is on (if it names one)."""

    questions: tuple[Question, ...]
    network: str | None = None
    title: str = ""
    source: str = ""

    @property
    def max_score(self) -> Fraction:
        """Return the points of every question together."""
        return sum((q.points for q in self.questions), Fraction(0))

    def check_names(self, net: Network) -> None:
        """Raise when a question names something the network does not have."""
        for q in self.questions:
            for name in (q.of, q.wrt):
                try:
                    net.check_name(name, detail=True)
                except DeriveError as err:
                    err.message, err.option = f"{q.name}: {err.message}", "expect"
                    err.file = err.file or (self.source or None)
                    raise


def read_expect(text: str) -> Assignment:
    """Return the assignment ``--expect`` gives: a YAML file's path, or ``dA/dB,dC/dD,...``.

    >>> [q.name for q in read_expect("dL/dW1, dL/dW5").questions]
    ['dL/dW1', 'dL/dW5']
    """
    path = Path(text)
    if path.suffix.lower() in (".yaml", ".yml") or path.is_file():
        return read_assignment(path)
    questions = []
    for item in text.split(","):
        if item.strip():
            of, wrt = _derivative(item.strip())
            questions.append(Question(of, wrt, Fraction(1)))
    return _checked(questions, "--expect")


def read_assignment(path: str | Path) -> Assignment:
    """Return the assignment an assignment file gives (see the module's docstring).

    Raises
    ------
    DeriveError
        At the file, line and column of what is wrong.
    """
    path = Path(path)
    file = str(path)
    try:
        if path.stat().st_size > MAX_ASSIGNMENT_BYTES:
            raise DeriveError(f"the assignment file is larger than {MAX_ASSIGNMENT_BYTES} bytes",
                              file=file)  # fmt: skip
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        why = err.strerror.lower() if isinstance(err, OSError) and err.strerror else str(err)
        raise DeriveError(f"cannot read the assignment: {why}", file=file) from err
    r = Reader(file)
    root = compose(text, file)
    title, network, questions = "", None, None
    for key, value in r.mapping(root, "the assignment"):
        if key.value not in _KEYS:
            raise r.at(key).error(f"unknown key '{key.value}'", hint=suggest(key.value, _KEYS))
        if key.value == "title":
            title = r.text(value, "title")
        elif key.value == "network":
            network = _network(r.text(value, "network"), path)
        else:
            questions = _questions(r, value)
    if questions is None:
        raise r.at(root).error("the assignment lists no questions",
                               hint="add questions: {dL/dW1: 2, dL/dW5: 1}")  # fmt: skip
    found = _checked(questions, file)
    return Assignment(found.questions, network, title, file)


def _questions(r: Reader, node: yaml.Node) -> list[Question]:
    if isinstance(node, yaml.SequenceNode):
        pairs = [(item, None) for item in node.value]
    else:
        pairs = list(r.mapping(node, "questions"))
    out = []
    for key, value in pairs:
        written = r.scalar(key, "a question")
        try:
            of, wrt = _derivative(written)
        except DeriveError as err:
            raise r.at(key).error(err.message, err.hint) from None
        points = Fraction(1) if value is None else _points(r, value)
        out.append(Question(of, wrt, points))
    return out


def _points(r: Reader, node: yaml.Node) -> Fraction:
    written = r.scalar(node, "points").strip()
    if not NUMBER.match(written) or node.style not in (None, ""):
        raise r.at(node).error(f"points must be a number, not '{written}'", hint="write 2 or 0.5")
    value = Fraction(written)
    if not 0 <= value <= 10_000:
        raise r.at(node).error(f"points must be between 0 and 10000, not {written}")
    return value


def _derivative(text: str) -> tuple[str, str]:
    try:
        return parse_derivative(text)
    except DeriveError as err:
        err.option = "expect"
        raise


def _network(written: str, path: Path) -> str:
    """Return the assignment's network: a file beside the assignment, else a bundled name."""
    beside = path.parent / written
    return str(beside) if beside.is_file() else written


def _checked(questions: list[Question], where: str) -> Assignment:
    if not questions:
        raise DeriveError(f"{where}: no questions", hint="--expect dL/dW1,dL/dW5")
    if len(questions) > MAX_QUESTIONS:
        raise DeriveError(f"{where}: more than {MAX_QUESTIONS} questions")
    seen: set[tuple[str, str]] = set()
    for q in questions:
        if (q.of, q.wrt) in seen:
            raise DeriveError(f"{where}: {q.name} is asked twice", hint="list each derivative once")
        seen.add((q.of, q.wrt))
    return Assignment(tuple(questions))
