"""The command line's own behaviour: streaming every path, identities, notes arguments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def derive_cmd(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "derive", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_max_paths_all_text_keeps_every_section_of_the_report(tmp_path: Path):
    listed = derive_cmd("dL/dW1", "--net", "two_hidden", "--lr", "0.1", cwd=tmp_path).stdout
    streamed = derive_cmd(
        "dL/dW1", "--net", "two_hidden", "--lr", "0.1", "--max-paths", "all", cwd=tmp_path
    ).stdout
    # The same lines; only the local partials may come in another order.
    assert sorted(streamed.splitlines()) == sorted(listed.splitlines())
    assert streamed.splitlines()[:2] == listed.splitlines()[:2]
    assert "update:" in streamed and "Concrete:" in streamed


def test_a_name_by_itself_is_one(tmp_path: Path):
    run = derive_cmd("dW1/dW1", "--net", "simple", cwd=tmp_path)
    assert run.returncode == 0
    assert run.stdout.splitlines()[0] == "∂W1/∂W1 = 1"


def test_no_number_prints_as_minus_zero(tmp_path: Path):
    out = derive_cmd("dL/dW1", "--net", "softmax", "--at", "x1=1", cwd=tmp_path).stdout
    assert " -0 " not in out and not any(
        line.rstrip().endswith("= -0") for line in out.splitlines()
    )
    # y1 = 0 makes this slope exactly zero, and it must print as 0
    assert any(line.split() == ["∂L/∂O1", "=", "0"] for line in out.splitlines())


def test_notes_take_networks_positionally_and_by_quoted_glob(tmp_path: Path):
    networks = Path(__file__).resolve().parent.parent / "networks"
    run = derive_cmd("notes", "simple", "two_hidden", "--out", "a", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert {p.name for p in (tmp_path / "a").iterdir()} == {
        "simple.md",
        "two_hidden.md",
        "index.md",
    }
    run = derive_cmd("notes", "--net", str(networks / "s*.yaml"), "--out", "b", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert {p.name for p in (tmp_path / "b").iterdir()} == {"simple.md", "softmax.md", "index.md"}


def test_notes_without_a_network_is_a_usage_error(tmp_path: Path):
    run = derive_cmd("notes", "--out", "c", cwd=tmp_path)
    assert run.returncode == 2
    assert "no network given" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "c").exists()
