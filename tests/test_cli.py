"""The command line's own behaviour: streaming every path, identities, usage errors, notes arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import run, script


def test_max_paths_all_text_keeps_every_section_of_the_report(tmp_path: Path):
    listed = run(tmp_path, "dL/dW1", "--net", "two_hidden", "--lr", "0.1").stdout
    streamed = run(
        tmp_path, "dL/dW1", "--net", "two_hidden", "--lr", "0.1", "--max-paths", "all"
    ).stdout
    # The same lines; only the local partials may come in another order.
    assert sorted(streamed.splitlines()) == sorted(listed.splitlines())
    assert streamed.splitlines()[:2] == listed.splitlines()[:2]
    assert "update:" in streamed and "Concrete:" in streamed


def test_max_paths_all_json_is_the_listed_json_streamed(tmp_path: Path):
    args = ("dL/dW1", "--net", "two_hidden", "--at", "y=0", "--format", "json")
    listed = json.loads(run(tmp_path, *args).stdout)
    streamed = json.loads(run(tmp_path, *args, "--max-paths", "all").stdout)
    assert streamed == listed


def test_a_name_by_itself_is_one(tmp_path: Path):
    result = run(tmp_path, "dW1/dW1", "--net", "simple")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "dW1/dW1 = 1"


def test_no_number_prints_as_minus_zero(tmp_path: Path):
    out = run(tmp_path, "dL/dW1", "--net", "softmax", "--at", "x1=1").stdout
    assert " -0 " not in out and not any(
        line.rstrip().endswith("= -0") for line in out.splitlines()
    )
    # y1 = 0 makes this slope exactly zero, and it must print as 0
    assert any(line.split() == ["∂L/∂O1", "=", "0"] for line in out.splitlines())


def test_notes_take_networks_positionally_and_by_quoted_glob(tmp_path: Path, monkeypatch):
    # The command's job is to collect the sources; writing notes is test_notes.py's.
    import derive.notes

    given: list[list[str]] = []
    monkeypatch.setattr(
        derive.notes, "write_course", lambda sources, out, **kw: given.append(sources) or []
    )
    networks = Path(__file__).resolve().parent.parent / "networks"
    assert run(tmp_path, "notes", "simple", "two_hidden", "--out", "a").returncode == 0
    assert run(tmp_path, "notes", "--net", str(networks / "s*.yaml"), "--out", "b").returncode == 0
    assert given[0] == ["simple", "two_hidden"]
    assert [Path(p).name for p in given[1]] == ["simple.yaml", "softmax.yaml"]


def test_notes_without_a_network_is_a_usage_error(tmp_path: Path):
    result = run(tmp_path, "notes", "--out", "c")
    assert result.returncode == 2
    assert "no network given" in result.stderr
    assert not (tmp_path / "c").exists()


# -- every user error is one line, `derive: ...`, exit 2 -------------------------------


@pytest.mark.parametrize(
    "args, words",
    [
        (["dL/dW1", "--net", "two_hidden", "--format", "xml"], "'xml' is not one of"),
        (["dL/dW1"], "Missing option '--net'"),
        (["notes", "--net", "simple", "--out", "o", "--templates", "nowhere"], "'nowhere'"),
        (["notes", "--net", "simple", "--out", "o", "--format", "pdf"], "'pdf' is not one of"),
        (["check", "--net", "simple", "--bogus"], "--bogus"),
        (["notes", "--net", "simple", "--out", "a_file/notes"], "a_file/notes"),
    ],
)
def test_a_user_error_is_one_line_with_exit_2(tmp_path: Path, args: list[str], words: str):
    (tmp_path / "a_file").write_text("not a folder\n")
    result = run(tmp_path, *args)
    assert result.returncode == 2
    assert result.stderr.startswith("derive: ") and len(result.stderr.splitlines()) == 1
    assert words in result.stderr
    assert result.stdout == ""


def test_the_real_script_prints_a_usage_error_in_one_line(tmp_path: Path):
    result = script(tmp_path, "dL/dW1", "--net", "two_hidden", "--format", "xml")
    assert result.returncode == 2
    assert result.stderr.startswith("derive: ") and len(result.stderr.splitlines()) == 1


def test_help_and_version_exit_0(tmp_path: Path):
    assert run(tmp_path, "--help").returncode == 0
    assert "derive dL/dW1 --net two_hidden" in run(tmp_path, "--help").stdout
    assert run(tmp_path, "--version").returncode == 0


# -- one escaping policy: a network file's strings reach LaTeX and Markdown escaped ---

HOSTILE = """\
title: "Evil \\\\input{/etc/passwd} *bold* $x$"
layers:
  - inputs: [x1]
  - neurons: [O1]
loss: {kind: squared_error}
"""


@pytest.mark.parametrize(
    "fmt, escaped",
    [
        ("latex", r"Evil \textbackslash{}input\{/etc/passwd\} *bold* \$x\$"),
        ("markdown", r"Evil \\input\{/etc/passwd\} \*bold\* \$x\$"),
    ],
)
def test_a_titles_tex_commands_are_printed_escaped(tmp_path: Path, fmt: str, escaped: str):
    (tmp_path / "evil.yaml").write_text(HOSTILE)
    out = run(tmp_path, "dL/dW1", "--net", "evil.yaml", "--format", fmt).stdout
    assert out.splitlines()[0].endswith(" in " + escaped)
    assert "\\input{" not in out


@pytest.mark.parametrize("fmt", ["latex", "markdown"])
def test_an_unsafe_latex_override_is_refused_in_one_line(tmp_path: Path, fmt: str):
    (tmp_path / "evil.yaml").write_text(
        "layers:\n  - inputs: [x1]\n  - neurons: [O1]\nloss: {kind: squared_error}\n"
        'latex:\n  O1: "\\\\input{/etc/passwd}"\n'
    )
    result = run(tmp_path, "dL/dW1", "--net", "evil.yaml", "--format", fmt)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("derive: ") and len(result.stderr.splitlines()) == 1
    assert "\\input" in result.stderr
