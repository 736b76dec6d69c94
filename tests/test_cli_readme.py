"""The README's examples are the program's real output, and CI runs the README's test command."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from clirun import run

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# The network the README's error example reads: line 4, column 17 is the misspelt activation.
NET_YAML = "layers:\n  - inputs: [x1]\n  - neurons: [O1]\n    activation: sigmod\n"


def examples() -> list[tuple[str, str]]:
    """Return each ``$ derive ...`` line of the README's plain code blocks with the lines it shows."""
    blocks, block, fence = [], [], None
    for line in README.splitlines(keepends=True):
        if line.startswith("```"):
            if fence is None:
                fence, block = line.strip(), []
            else:
                if fence == "```":
                    blocks.append("".join(block))
                fence = None
        elif fence is not None:
            block.append(line)
    out = []
    for block in blocks:
        for part in re.split(r"^(?=\$ )", block, flags=re.M):
            if part.startswith("$ derive "):
                command, _, shown = part.partition("\n")
                out.append((command[2:], shown))
    return out


@pytest.mark.parametrize("command, shown", examples(), ids=[c for c, _ in examples()])
def test_a_readme_example_prints_what_the_readme_shows(tmp_path: Path, command: str, shown: str):
    (tmp_path / "net.yaml").write_text(NET_YAML)
    result = run(tmp_path, *shlex.split(command)[1:])
    assert result.stdout + result.stderr == shown


def test_the_readme_has_examples():
    assert len(examples()) >= 3


def test_ci_runs_the_readmes_test_command_word_for_word():
    [command] = [line for line in README.splitlines() if line.startswith("pip install -e ")]
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
