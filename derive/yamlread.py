"""YAML read with positions: every value keeps its line and column for errors; point files.

The YAML is composed (not constructed) so that each mistake becomes one
:class:`DeriveError` pointing at it. A point file of plain ``name: number``
lines is read without YAML at all, line by line: PyYAML's composer is pure
Python and takes over a minute for an MNIST network's 80,000 values.
"""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path

import yaml

from derive.errors import DeriveError

IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\Z")


# Sizes no real course reaches, so that a hostile file is refused at once instead of read for
# minutes: PyYAML composes about 150 kB a second, and a plain point file (read line by line)
# of 80,000 values, an MNIST network's, is about 2 MB.
MAX_YAML_BYTES = 1_000_000
MAX_POINT_BYTES = 20_000_000
MAX_TEXT_BYTES = 1_000_000  # a file of hand-written answers
# Nodes a network may have (inputs and neurons), checked on the declared counts before any
# name is made; MNIST's 784-100-10 has 894.
MAX_NODES = 100_000
# Characters YAML refuses, and that no text derive reads should hold: C0 controls but tab,
# line feed and carriage return; DEL; C1 controls; the non-characters.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def read_text(
    path: str | Path,
    what: str,
    limit: int = MAX_YAML_BYTES,
    bom: bool = False,
    hint: str = "use layer counts (inputs: 784) instead of listing names",
) -> str:
    """Return a user's text file, checked: at most ``limit`` bytes, UTF-8, no control characters.

    Only ``limit + 1`` bytes are ever read, so ``/dev/zero`` or a 50 MB file is refused
    at once. ``what`` names the file in messages (``the network file``).

    Raises
    ------
    DeriveError
        Naming the file and, for a bad byte or a control character, its line and column.

    >>> read_text("/dev/zero", "the point file", limit=10)
    Traceback (most recent call last):
    derive.errors.DeriveError: /dev/zero: the point file is larger than the limit of 10 bytes; ...
    """
    file = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise DeriveError(f"cannot read {what}: {exc.strerror or exc}", file=file) from None
    if len(data) > limit:
        raise DeriveError(
            f"{what} is larger than the limit of {limit:,} bytes",
            file=file,
            hint=f"derive reads files of a course's size; {hint}",
        )
    try:
        text = data.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col(data[: exc.start].decode("utf-8", "replace"), None)
        raise DeriveError(
            f"{what} is not UTF-8 text (byte 0x{data[exc.start]:02x})",
            file=file, line=line, col=col, hint="save it as UTF-8",
        ) from None  # fmt: skip
    bad = _CONTROL.search(text)
    if bad:
        line, col = _line_col(text, bad.start())
        raise DeriveError(
            f"{what} holds the control character {bad.group()!r}",
            file=file, line=line, col=col, hint=f"remove it; {what} is plain text",
        )  # fmt: skip
    return text


def _line_col(text: str, pos: int | None) -> tuple[int, int]:
    """Return the 1-based line and column of ``text[pos]`` (of the end of ``text`` if None)."""
    head = text if pos is None else text[:pos]
    return head.count("\n") + 1, len(head) - (head.rfind("\n") + 1) + 1


class _Located:
    """A composed YAML node with the file name, to raise errors at it."""

    def __init__(self, node: yaml.Node, file: str) -> None:
        self.node = node
        self.file = file

    def error(self, message: str, hint: str | None = None) -> DeriveError:
        mark = self.node.start_mark
        return DeriveError(
            message, file=self.file, line=mark.line + 1, col=mark.column + 1, hint=hint
        )


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    lowered = {c.lower(): c for c in choices}
    close = [
        lowered[c] for c in difflib.get_close_matches(word.lower(), list(lowered), n=3, cutoff=0.5)
    ]
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    return "use one of " + ", ".join(choices)


class Reader:
    """Turns composed YAML nodes into checked Python values."""

    def __init__(self, file: str) -> None:
        self.file = file

    def at(self, node: yaml.Node) -> _Located:
        return _Located(node, self.file)

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.at(node).error(f"{what} must be a mapping (key: value lines)")
        seen: dict[str, yaml.Node] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.at(key).error(f"a key in {what} must be a plain name")
            if key.value in seen:
                first = seen[key.value].start_mark.line + 1
                raise self.at(key).error(
                    f"key '{key.value}' is written twice in {what}",
                    hint=f"remove one of the two (the first is on line {first})",
                )
            seen[key.value] = key
        return node.value

    def scalar(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.at(node).error(f"{what} must be a single value")
        # A double-quoted "\ud800" or "\x00" makes what no file could hold: a lone surrogate
        # (no encoder writes it) or a control character.
        bad = _CONTROL.search(node.value) or _SURROGATE.search(node.value)
        if bad:
            raise self.at(node).error(
                f"{what} holds the character {bad.group()!r}, which cannot be written out",
                hint="remove it, or write the character itself",
            )
        return node.value

    def text(self, node: yaml.Node, what: str) -> str:
        return self.scalar(node, what)

    def ident(self, node: yaml.Node, what: str) -> str:
        value = self.scalar(node, what)
        if not IDENT.match(value):
            raise self.at(node).error(
                f"{what} '{value}' is not a valid name",
                hint="names start with a letter and use only letters, digits and _",
            )
        return value

    def ident_list(self, node: yaml.Node, what: str) -> list[str]:
        if isinstance(node, yaml.ScalarNode):
            names = [n.strip() for n in node.value.split(",")]
            if len(names) > 1 and all(IDENT.match(n) for n in names):  # inputs: x1, x2
                raise self.at(node).error(
                    f"'{node.value}' is one string, not a list of names",
                    hint=f"write them in brackets: [{', '.join(names)}]",
                )
            return [self.ident(node, what)]
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.at(node).error(f"{what} must be a non-empty list of names, like [x1, x2]")
        return [self.ident(item, what) for item in node.value]

    def number(self, node: yaml.Node, what: str) -> float:
        value = self.scalar(node, what)
        # YAML 1.1 reads 1e-3 as a string; any plain number-looking scalar is a number here.
        if not NUMBER.match(value.strip()) or node.style not in (None, ""):
            raise self.at(node).error(f"{what} must be a number, not '{value}'")
        number = float(value)
        if not math.isfinite(number):
            raise self.at(node).error(
                f"{what} is too large to compute with: '{value}'",
                hint="a value must be a finite number, at most about 1.8e308",
            )
        return number

    def count(self, node: yaml.Node, what: str) -> int | None:
        """Return a layer size written as a number, or None for a list or a single name."""
        if not isinstance(node, yaml.ScalarNode) or node.style not in (None, ""):
            return None
        value = node.value.strip()
        if not NUMBER.match(value):
            return None
        if len(value) > 12:  # past any size derive could build, and past int()'s digit limit
            raise self.at(node).error(
                f"{what} is {len(value)} digits long, far over the limit",
                hint=f"a network may have at most {MAX_NODES:,} nodes",
            )
        if not re.fullmatch(r"[-+]?\d+", value) or int(value) < 1:
            raise self.at(node).error(
                f"{what} must be a whole number of 1 or more, not '{value}'",
                hint="write a count such as 100, or a list of names",
            )
        return int(value)

    def boolean(self, node: yaml.Node) -> bool | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return node.value.lower() in ("true", "yes", "on")
        return None


# Past this size a file is composed by libyaml (ten times faster: a 1,000-step RNN's 4,000
# formula nodes take 0.1 s, not 1.5 s); below it by PyYAML itself, whose error messages the
# tests fix word for word. Both give every node its line and column.
FAST_COMPOSE = 50_000


class Names:
    """Every name the file declares, in order, each at the YAML node that names it."""

    def __init__(self, r: Reader, root: yaml.Node) -> None:
        self.r, self.root = r, root
        self.nodes: dict[str, yaml.Node] = {}
        self.shared: dict[str, str] = {}  # a bias or weight name that may be given again: its kind

    def declare(self, node: yaml.Node, ident: str, shared_as: str | None = None) -> None:
        """Declare a name, or raise at its second use (a tied weight or shared bias may repeat)."""
        names, r = self.nodes, self.r
        if ident in names and shared_as is not None and self.shared.get(ident) == shared_as:
            return  # one tied parameter, named again
        if ident in names and node is self.root:
            mark = names[ident].start_mark
            raise DeriveError(
                f"'{ident}' is used twice", file=r.file, line=mark.line + 1, col=mark.column + 1
            )
        if ident in names:
            first = names[ident].start_mark
            raise r.at(node).error(
                f"the name '{ident}' is used twice",
                hint=f"rename one (the first is at line {first.line + 1}, column {first.column + 1})",
            )
        names[ident] = node
        if shared_as is not None:
            self.shared[ident] = shared_as


def compose(text: str, file: str) -> yaml.Node:
    loader = yaml.SafeLoader
    if len(text) > FAST_COMPOSE and getattr(yaml, "__with_libyaml__", False):
        loader = yaml.CSafeLoader
    try:
        node = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        raise DeriveError(
            f"malformed YAML: {problem}",
            file=file,
            line=mark.line + 1 if mark else None,
            col=mark.column + 1 if mark else None,
            hint="check the indentation and the ':' after each key",
        ) from None
    except yaml.reader.ReaderError as exc:  # a character YAML refuses, at a character offset
        line, col = _line_col(text, exc.position)
        raise DeriveError(
            f"the file holds the character {chr(exc.character)!r}, which YAML does not allow",
            file=file, line=line, col=col, hint="remove it",
        ) from None  # fmt: skip
    except yaml.YAMLError as exc:
        raise DeriveError(f"malformed YAML: {exc}", file=file) from None
    except RecursionError:
        raise DeriveError(
            "the YAML is nested too deeply to read",
            file=file,
            hint="a network file needs only a few levels: layers, a layer, its neurons",
        ) from None
    if node is None:
        raise DeriveError(
            "the file is empty", file=file, line=1, col=1, hint="start with 'layers:'"
        )
    return node


_POINT_LINE = re.compile(
    r"([A-Za-z][A-Za-z0-9_]*)[ \t]*:[ \t]+([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
    r"[ \t]*(?:#.*)?"
)


def read_numbers(path: str | Path, known, refuse=None) -> dict[str, float]:
    """Return the ``name: number`` pairs of a point file, each name checked against ``known``.

    A network file may serve as a point file: its ``values:`` are read. A plain
    file of ``name: number`` lines is read line by line (fast: 80,000 values in
    well under a second); anything else goes through YAML, with the same checks.

    ``refuse(name)``, if given, returns (message, hint) for a known name that takes
    no value, or None.

    Raises
    ------
    DeriveError
        At the line and column of a key written twice, an unknown or refused name
        or a non-number.
    """
    file = str(path)
    text = read_text(path, "the point file", MAX_POINT_BYTES, hint="split it")
    known = known if isinstance(known, set | frozenset | dict) else set(known)
    plain = _plain_numbers(text, file, known, refuse)
    if plain is not None:
        return plain
    if len(text) > MAX_YAML_BYTES:  # YAML's composer would take minutes
        raise DeriveError(
            f"the point file is over {MAX_YAML_BYTES:,} bytes and not plain 'name: number' lines",
            file=file,
            hint="write one 'name: number' a line (read fast, up to "
            f"{MAX_POINT_BYTES:,} bytes), without YAML's other syntax",
        )
    r = Reader(file)
    root = compose(text, file)
    pairs = r.mapping(root, "the point file")
    if any(key.value in ("layers", "nodes") for key, _ in pairs):  # a network file: its values
        given = [value for key, value in pairs if key.value == "values"]
        if not given:
            raise r.at(root).error(
                "the network file has no 'values:' to use as a point",
                hint="add 'values:' with name: number lines",
            )
        pairs = r.mapping(given[0], "values")
    values = {}
    for key, value in pairs:
        known_name(r, key, known)
        why = refuse(key.value) if refuse else None
        if why:
            raise r.at(key).error(why[0], hint=why[1])
        values[key.value] = r.number(value, f"the value of {key.value}")
    return values


def _plain_numbers(text: str, file: str, known, refuse) -> dict[str, float] | None:
    """Return the values of a file of plain ``name: number`` lines, or None if it is not one."""
    values: dict[str, float] = {}
    lines: dict[str, int] = {}
    match = _POINT_LINE.fullmatch
    for number, line in enumerate(text.splitlines(), start=1):
        found = match(line)
        if found is None:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            return None
        name = found.group(1)
        if name in values:
            raise DeriveError(
                f"key '{name}' is written twice in the point file",
                file=file,
                line=number,
                col=1,
                hint=f"remove one of the two (the first is on line {lines[name]})",
            )
        if name not in known:
            raise DeriveError(
                f"unknown name '{name}'",
                file=file,
                line=number,
                col=1,
                hint=suggest(name, sorted(known)),
            )
        why = refuse(name) if refuse else None
        if why:
            raise DeriveError(why[0], file=file, line=number, col=1, hint=why[1])
        values[name] = float(found.group(2))
        if not math.isfinite(values[name]):
            raise DeriveError(
                f"the value of {name} is too large to compute with: '{found.group(2)}'",
                file=file,
                line=number,
                col=found.start(2) + 1,
                hint="a value must be a finite number, at most about 1.8e308",
            )
        lines[name] = number
    return values if values else None


def known_name(r: Reader, key: yaml.ScalarNode, known) -> None:
    if key.value not in known:
        raise r.at(key).error(f"unknown name '{key.value}'", hint=suggest(key.value, sorted(known)))
