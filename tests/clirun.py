"""Run the command line in-process with click's CliRunner (fast), or as the real script."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

import derive
from derive.cli import main


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def run(cwd: Path, *args: str, stdin: str | None = None) -> Run:
    """Return what ``derive ARGS`` run in ``cwd`` prints and exits with; a traceback fails the test."""
    with contextlib.chdir(cwd):
        result = CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)


def script(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``python -m derive ARGS`` for real in ``cwd``, with the derive under test."""
    env = dict(os.environ, PYTHONPATH=str(Path(derive.__file__).resolve().parent.parent))
    return subprocess.run(
        [sys.executable, "-m", "derive", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
