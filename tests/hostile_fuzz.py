"""A seeded fuzzer over what a user hands derive: network files, points, answers, templates.

Each family makes hostile variants of good inputs (a token spliced in, a span cut out, a
line doubled, a number blown up) and runs the command line on them in-process. The
contract every run must keep (the brief's "bad input" rule): exit 0, 1 or 2; exit 2 is
exactly one ``derive: ...`` line on stderr; nothing escapes as a traceback; and no ``nan``
or ``inf`` is printed as if it were an answer.

``python tests/hostile_fuzz.py [COUNT]`` prints each family's runs and failures (the
figures in the report of issue 21); ``tests/test_hostile.py`` runs a few of each.
"""

from __future__ import annotations

import contextlib
import random
import re
import shutil
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from click.testing import CliRunner

from derive.cli import main
from derive.data import data_dir

# Pieces an attacker splices into a file or an option: TeX escapes, HTML, Mermaid quotes,
# YAML syntax, numbers past float, digits past Python's int limit, bytes that are not UTF-8.
TOKENS = [
    "^^5c", "^^5cinput{/etc/passwd}", "^^7d", "^^24", "\\input{x}", "\\write18{id}",
    "\x00", '"', "`", "<script>alert(1)</script>", '<img src=x onerror=alert(1)>', "{", "}",
    '");n0==>n5;n9("', "#quot;", "1e999", "-1e308", "1e308", "nan", "inf", "9" * 5000,
    "\t", ": ", "- ", "[", "]", "&a", "*a", "!!python/object:os.system", "²", "\u202e",
    "\n  - neurons: 10000000", "\n  - inputs: 100000000000", "\n  - neurons: 3", "..", "/",
    "\n", "\r", "'", "%", "$", "|",
]  # fmt: skip
BYTES = [b"\xff", b"\xed\xa0\x80", b"\xc3", b"\x00"]
NUMBERS = ["1e999", "1e308", "-1e308", "nan", "inf", "1e-400", "0", "9" * 5000, "²", "1_0", "0x1"]

_BAD_NUMBER = re.compile(r"(?<![A-Za-z_])(nan|-?inf|-?Infinity|NaN)(?![A-Za-z_0-9])")
# What must never be in a written note: live HTML, TeX's ^^ escapes, a command's output.
_LEAK = re.compile(r"(?<!\\)<(script|img)|\^\^|pwned|<module|__globals__")


def _parses(svg: str) -> bool:
    """Return whether a written figure is well-formed XML (its text escaped as XML text)."""
    import xml.etree.ElementTree as ET

    try:
        ET.fromstring(svg)
    except ET.ParseError:
        return False
    return True


def mutate(rng: random.Random, text: str) -> bytes:
    """Return ``text`` with one to three hostile edits, as bytes (some are not UTF-8)."""
    data = text.encode("utf-8")
    for _ in range(rng.randint(1, 3)):
        pos = rng.randint(0, len(data))
        op = rng.random()
        if op < 0.45:
            token = rng.choice(TOKENS).encode("utf-8", "surrogatepass")
            data = data[:pos] + token + data[pos:]
        elif op < 0.55:
            data = data[:pos] + rng.choice(BYTES) + data[pos:]
        elif op < 0.7:
            data = data[:pos] + data[pos + rng.randint(1, 40) :]
        elif op < 0.85:
            lines = data.split(b"\n")
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
            data = b"\n".join(lines)
        else:
            data = re.sub(
                rb"-?\d+\.?\d*", rng.choice(NUMBERS).encode(), data, count=rng.randint(1, 3)
            )
    return data


def _bundled(name: str) -> str:
    return (data_dir("networks") / f"{name}.yaml").read_text(encoding="utf-8")


def netfiles(rng: random.Random, tmp: Path) -> Iterator[list[str]]:
    """Mutated bundled network files, each run through one command."""
    base = {n: _bundled(n) for n in ("simple", "two_hidden", "softmax")}
    base["simple"] += 'latex:\n  O2: "\\\\hat{y}"\n  W1: "w_{1}"\n'
    commands = [
        ["show"],
        ["dL/dW1", "--format", "json", "--at", "random:1"],
        ["dL/dW1", "--format", "markdown"],
        ["backprop", "--format", "json"],
        ["check", "dL/dW1 = dL/dO2*dO2/dO1*dO1/dW1"],
        ["notes", "--out", str(tmp / "out")],
    ]
    for i in range(10**9):
        name = rng.choice(sorted(base))
        path = tmp / f"net{i}.yaml"
        path.write_bytes(mutate(rng, base[name]))
        yield [*rng.choice(commands), "--net", str(path)]


def points(rng: random.Random, tmp: Path) -> Iterator[list[str]]:
    """Hostile --at strings and point files, --lr and --max-paths values."""
    names = ["x1", "x2", "x3", "W1", "W2", "W3", "W4", "y"]
    for i in range(10**9):
        pairs = [f"{n}={rng.choice(['0.5', '-1', *NUMBERS])}" for n in rng.sample(names, 4)]
        at = ",".join(pairs)
        if rng.random() < 0.3:
            at = rng.choice(["random:", "random:²", "random:" + "7" * 5000, "random:-1", at])
        if rng.random() < 0.3:
            point = tmp / f"point{i}.yaml"
            point.write_bytes(mutate(rng, "\n".join(p.replace("=", ": ") for p in pairs) + "\n"))
            at = str(point)
        else:
            at = mutate(rng, at).decode("utf-8", "surrogateescape")
        args = [rng.choice(["dL/dW1", "backprop"]), "--net", "simple", "--at", at]
        if rng.random() < 0.4:
            args += ["--lr", rng.choice(["0.1", "-1", "1e999", "nan", "0"])]
        if args[0] == "dL/dW1" and rng.random() < 0.3:
            args += ["--max-paths", rng.choice(["²", "0", "all", "9" * 5000, "-1"])]
        if rng.random() < 0.4:
            args += ["--format", "json"]
        yield args


ANSWERS = [
    "dL/dW1 = dL/dO2*dO2/dO1*dO1/dW1",
    "dL/dW1 = 2*(O2 - y)*O2*(1 - O2)*W4*O1*(1 - O1)*x1",
    r"\frac{\partial L}{\partial W_{1}} = \frac{\partial L}{\partial O_{2}} \cdot "
    r"\frac{\partial O_{2}}{\partial O_{1}} \frac{\partial O_{1}}{\partial W_1}",
    "dL/dW4 = (2*(O2 - y)*O2*(1 - O2)*O1)^64",
]


def answers(rng: random.Random, tmp: Path) -> Iterator[list[str]]:
    """Mutated answers, typed or in a file for ``check --file``."""
    for i in range(10**9):
        text = mutate(rng, rng.choice(ANSWERS))
        if rng.random() < 0.25:
            path = tmp / f"answer{i}.md"
            path.write_bytes(text)
            yield ["check", "--net", "simple", "--file", str(path)]
        else:
            typed = text.decode("utf-8", "surrogateescape")
            yield ["check", typed, "--net", "simple", *rng.choice([[], ["--format", "json"]])]


TEMPLATES = [
    "{{ cycler.__init__.__globals__.os.popen('echo pwned').read() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% for i in range(10**8) %}x{% endfor %}",
    "{% for i in range(3000) %}{% for j in range(3000) %}x{% endfor %}{% endfor %}",
    "{{ 'x' * 10**9 }}",
    "{% include 'notes.j2' %}",
    "{{ 1/0 }}",
    "{{ note.nothing_here }}",
    "{% extends 'notes.j2' %}",
    "{{ note.title }}{{ lipsum(n=100000) }}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{{ note.__class__.__init__.__globals__ }}",
]


def templates(rng: random.Random, tmp: Path) -> Iterator[list[str]]:
    """A course's own notes.j2, hostile: code through globals, huge loops, self-inclusion."""
    for i in range(10**9):
        folder = tmp / f"templates{i}"
        folder.mkdir()
        text = rng.choice(TEMPLATES)
        if rng.random() < 0.3:
            text = mutate(rng, text).decode("utf-8", "replace")
        (folder / "notes.j2").write_text(text, encoding="utf-8")
        yield ["notes", "--net", "simple", "--out", str(tmp / "out"), "--templates", str(folder)]


FAMILIES: dict[str, Callable[[random.Random, Path], Iterator[list[str]]]] = {
    "netfile": netfiles,
    "point": points,
    "answer": answers,
    "template": templates,
}


class _Hung(Exception):
    pass


def _alarm(signum, frame):
    raise _Hung


def verdict(args: list[str], out: Path | None = None, seconds: int = 10) -> str | None:
    """Return what is wrong with how ``derive ARGS`` ended (a short word), or None if nothing.

    ``out``, if given, is the folder the notes go to: emptied first, read after.
    """
    if out is not None:
        shutil.rmtree(out, ignore_errors=True)
    # CPU seconds, not the clock's: on a busy machine a run may wait long, but not work long.
    old = signal.signal(signal.SIGVTALRM, _alarm)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    try:
        result = CliRunner().invoke(main, args, catch_exceptions=True)
    except _Hung:
        return "hang"
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, old)
    error = result.exception
    if isinstance(error, _Hung):
        return "hang"
    if error is not None and not isinstance(error, SystemExit):
        return f"traceback {type(error).__name__}"
    if result.exit_code not in (0, 1, 2):
        return f"exit {result.exit_code}"
    for written in sorted(out.iterdir()) if out is not None and out.is_dir() else []:
        text = written.read_text(encoding="utf-8", errors="replace")
        if _LEAK.search(text):
            return "unsafe text in a note"
        if written.suffix == ".svg" and not _parses(text):
            return "a figure that is not XML"
    if result.exit_code == 2 and "--file" in args and not result.stderr and result.stdout:
        return None  # check --file: the report names each unreadable answer; exit 2 says some
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        if len(lines) != 1 or not lines[0].startswith("derive: "):
            return "message not one derive: line"
        return None
    if _BAD_NUMBER.search(result.stdout):
        return "nan or inf printed"
    return None


def fuzz(family: str, count: int, seed: int, tmp: Path) -> tuple[int, Counter]:
    """Run ``count`` cases of one family; return the runs and a tally of what went wrong."""
    rng = random.Random(f"{family}:{seed}")
    tally: Counter = Counter()
    cases = FAMILIES[family](rng, tmp)
    for _ in range(count):
        problem = verdict(next(cases), tmp / "out")
        if problem:
            tally[problem] += 1
    return count, tally


if __name__ == "__main__":
    import resource
    import tempfile

    # A template loop or a size bomb must not take the machine with it.
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 21
    for family in FAMILIES:
        with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
            runs, tally = fuzz(family, count, seed, Path(tmp))
        failed = sum(tally.values())
        print(f"{family:<9} runs {runs:>4}  failures {failed:>4}  {dict(tally)}", flush=True)
