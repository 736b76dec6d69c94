"""Hostile input (issue 21): each case an attacker tried is replayed here.

Every command refuses bad input in one line, ``derive: FILE:LINE:COL: what; what to
change``, with exit status 2; nothing a file says can make TeX read, write or run
anything, or put live HTML into a note.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clirun import run

from derive.errors import DeriveError
from derive.netfile import read_spec

TINY = "layers:\n  - inputs: [x1]\n  - neurons: [O]\n"


def one_line_error(result, where: str = "") -> str:
    """Return the one error line of a run that must have failed cleanly (exit 2)."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("derive: " + where), result.stderr
    return lines[0]


# -- the loader: one for every command ------------------------------------------------

BROKEN = {
    "malformed": (b"layers: [\n", "net.yaml:2:1: malformed YAML"),
    "not UTF-8": (
        b"layers:\n  - inputs: [x\xff]\n",
        "net.yaml:2:15: the network file is not UTF-8",
    ),
    "NUL": (b"layers:\n  - inputs: [x\x00]\n", "net.yaml:2:15: the network file holds the control"),
    "nested": (b"layers: " + b"[" * 1000 + b"\n", "net.yaml: the YAML is nested too deeply"),
}


# `notes` read a file with its own loader, and ended in a traceback where `show` did not.
@pytest.mark.parametrize(
    ("case", "command"), [("malformed", "show")] + [(case, "notes") for case in sorted(BROKEN)]
)
def test_a_broken_network_file_is_one_line_in_every_command(tmp_path: Path, case, command):
    data, message = BROKEN[case]
    (tmp_path / "net.yaml").write_bytes(data)
    extra = ["--out", "notes"] if command == "notes" else []
    one_line_error(run(tmp_path, command, "--net", "net.yaml", *extra), f"{message}")
    assert not (tmp_path / "notes").exists()


def test_a_malformed_course_file_is_one_line(tmp_path: Path):
    (tmp_path / "course.yaml").write_text("networks: [simple\n")
    result = run(tmp_path, "notes", "--net", "course.yaml", "--out", "notes")
    one_line_error(result, "course.yaml:2:1: malformed YAML")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # A double-quoted escape makes a character no file can hold: a lone surrogate.
        ('title: "a\\ud800"\n' + TINY, "1:8: title holds the character '\\ud800'"),
        ("layers:\n  - inputs: " + "9" * 5000 + "\n  - neurons: [O]\n", "2:13: the number of"),
    ],
)
def test_a_character_or_a_number_that_cannot_be_used_is_refused_where_it_is(text, message):
    with pytest.raises(DeriveError) as caught:
        read_spec("net.yaml", text)
    assert f"net.yaml:{message}" in str(caught.value)


@pytest.mark.parametrize(
    "layers",
    [
        "  - inputs: 100000000000\n  - neurons: [O]\nedges:\n  x1 -> O: W\n",
        "  - inputs: [x1]\n  - neurons: 10000000\nedges:\n  x1 -> a1_1: W\n",
    ],
)
def test_size_is_refused_by_the_declared_counts_even_with_edges(layers):
    # Before: 20-30 s naming 10^11 inputs, then a MemoryError at 3.8 GB; or a hang.
    with pytest.raises(DeriveError, match=r"inputs and neurons, over the limit of 100,000"):
        read_spec("net.yaml", "layers:\n" + layers)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_check_reads_a_bounded_amount_of_an_endless_file(tmp_path: Path, device):
    result = run(tmp_path, "check", "--file", device, "--net", "simple")
    assert "larger than the limit of 1,000,000 bytes" in one_line_error(result, device)


def test_a_point_file_value_past_float_names_it(tmp_path: Path):
    # Before: dL/dW1 = nan, exit 0.
    (tmp_path / "point.yaml").write_text("x1: 1e999\n")
    result = run(tmp_path, "dL/dW1", "--net", "simple", "--at", "point.yaml")
    assert "x1 is too large" in one_line_error(result, "point.yaml:1:5: --at: ")


# -- TeX: checked as TeX reads it --------------------------------------------------------


@pytest.mark.parametrize(
    "tex",
    [
        "^^5cinput{/etc/passwd}",  # reads a file into the PDF
        "^^5cimmediate^^5copenout9=victim.md",  # writes a file beside the .tex
        "^^5cwrite18{touch pwned}",  # runs a command under -shell-escape
        "a^^7d",
        "x^",  # a dangling ^ that the formula's next ^ would make ^^
        "a`<img src=x onerror=alert(1)>`",  # ends GitHub's $`...`$
        '\\text{a");n0==>n5;n9("INJECTED}',  # ends a Mermaid label
    ],
)
def test_an_unsafe_latex_value_is_refused_at_its_line(tex):
    text = TINY + "latex:\n  O: '" + tex.replace("'", "''") + "'\n"
    with pytest.raises(DeriveError, match=r"latex: O ") as caught:
        read_spec("net.yaml", text)
    assert (caught.value.line, caught.value.col) == (5, 6)
