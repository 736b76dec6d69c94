"""What a new user reads first: the help and the README's command list say the same words."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from clirun import run

from derive.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_commands() -> dict[str, list[str]]:
    """Return each command of the README's command list with its entries' text (one per entry)."""
    block = README.split("## Commands\n", 1)[1].split("```\n", 2)[1]
    entries: list[str] = []
    for line in block.splitlines():
        if line.startswith("derive "):
            entries.append(line)
        else:
            entries[-1] += "\n" + line
    out: dict[str, list[str]] = {}
    for entry in entries:
        word = entry.split()[1]
        name = "expand" if word in ("[expand]", "expand") or "/" in word else word
        out.setdefault(name, []).append(entry)
    return out


def option_value(option: click.Option) -> str:
    """Return how an option's value is written in a synopsis: ``a|b`` for a choice, its metavar."""
    if option.is_flag:
        return ""
    if isinstance(option.type, click.Choice):
        return "|".join(option.type.choices)
    return option.metavar or ""


README_COMMANDS = readme_commands()


@pytest.mark.parametrize("name", sorted(main.commands))
def test_the_readme_lists_every_option_of_a_command_as_its_help_spells_it(name: str):
    command = main.commands[name]
    entries = README_COMMANDS[name]
    written = {}  # option -> what follows it in the README, up to a space or a bracket
    for entry in entries:
        synopsis = "\n".join(line.split("#", 1)[0] for line in entry.splitlines())
        for opt, value in re.findall(r"(--[a-z-]+)(?: ([^\s\]]+))?", synopsis):
            written[opt] = value
    options = {
        opt: option_value(p)
        for p in command.params
        if isinstance(p, click.Option)
        for opt in p.opts
        if opt.startswith("--") and opt != "--help"
    }
    # A flag takes no value: what follows it in the README is the next word, not its value.
    written = {o: ("" if options.get(o) == "" else v) for o, v in written.items()}
    assert written == options, f"the README's command list for derive {name}"


@pytest.mark.parametrize("name", sorted(main.commands))
def test_a_commands_one_line_help_is_the_readmes_comment_and_derive_helps(name: str):
    first = " ".join((main.commands[name].help or "").split("\n\n")[0].split())
    [comment] = [c for e in README_COMMANDS[name] for c in re.findall(r"# (.*)", e)]
    assert comment == first[0].lower() + first[1:].removesuffix(".")
    listed = " ".join(run(ROOT, "--help").stdout.split()) + " "
    assert f" {name} {first} " in listed


def test_derive_help_examples_run_as_written(tmp_path: Path):
    examples = [
        line.strip()
        for line in run(tmp_path, "--help").stdout.splitlines()
        if line.startswith("    derive ")
    ]
    assert len(examples) >= 5
    for example in examples:
        args = shlex.split(example)[1:]
        if args[0] == "notes":  # writing notes is tested elsewhere; here only its words parse
            args += ["--help"]
        result = run(tmp_path, *args)
        assert (result.returncode, result.stderr) == (0, ""), example


def test_notes_help_describes_the_markdown_flavor_and_the_course_file(tmp_path: Path):
    text = " ".join(run(tmp_path, "notes", "--help").stdout.split())
    assert "--md-flavor [github|portable] Markdown math syntax: github" in text
    assert "course.yaml (a networks: list, in reading order)" in text
