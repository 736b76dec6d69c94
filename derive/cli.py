"""The ``derive`` command: thin commands over the library.

Each command parses options, calls one library function and prints. Heavy
libraries (SymPy, networkx) are imported inside commands, so ``derive --help``
starts fast. A :class:`DeriveError` becomes one line on stderr and exit 2.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from derive.errors import DeriveError, one_line

FORMATS = ("text", "markdown", "latex", "json")
# The short names people type for a format (the file's extension).
ALIASES = {"md": "markdown", "tex": "latex"}


class Format(click.Choice):
    """A --format choice that also takes a format's extension: md for markdown, tex for latex.

    >>> Format(FORMATS).convert("md", None, None)
    'markdown'
    """

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> object:
        return super().convert(ALIASES.get(value, value), param, ctx)


# What the command line says for a setting the library names (DeriveError.needs).
NEEDS = {"detail": "add --detail"}


def said(err: DeriveError) -> str:
    """Return a user's mistake as the command line words it: its options, its flags.

    >>> said(DeriveError("unknown name 'q'", option="at", needs="detail"))
    "--at: unknown name 'q'; add --detail"
    >>> said(DeriveError("cannot read 'abc'", option="at", col=4))
    "--at, column 4: cannot read 'abc'"
    """
    if err.needs in NEEDS:
        err.hint = NEEDS[err.needs]
    if err.option:
        option = f"--{err.option.replace('_', '-')}"
        err.option = None  # said once
        if err.file is None and err.line is None and err.col is not None:
            # A column of the option's own text: say whose column it is first.
            where, err.col = f"{option}, column {err.col}", None
            return one_line(f"{where}: {err}")
        err.message = f"{option}: {err.message}"
    return str(err)


def digits_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--digits N`` to a command: every number it prints has N significant figures."""

    @wraps(func)
    def wrapper(*args: Any, digits: int | None = None, **kwargs: Any) -> Any:
        from derive.words import significant

        with significant(digits):
            return func(*args, **kwargs)

    return click.option(
        "--digits",
        type=click.IntRange(1, 17),
        metavar="N",
        help="Significant figures of every number printed (default 4); JSON is always full"
        " precision.",
    )(wrapper)


class DefaultGroup(click.Group):
    """A group whose first argument, when not a command, is a derivative for ``expand``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args:  # a bare `derive` is a newcomer asking what it does: the help, not an error
            click.echo(ctx.get_help())
            ctx.exit(0)
        if args[:1] == ["help"]:  # derive help, derive help notes
            args = [*args[1:2], "--help"]
        typed = list(args)
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            _not_a_command(args, list(self.commands))
            args = ["expand", *args]
        _network_without_net(args, typed)
        return super().parse_args(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List each command with its help's whole first line (the README's words), uncut."""
        rows = [(name, _first_line(self.commands[name])) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage("derive", "dL/dW1 --net NET [OPTIONS] | COMMAND [ARGS]...")

    def invoke(self, ctx: click.Context) -> Any:
        """Run a command; every user's mistake, of every command, is handled here: exit 2."""
        try:
            return super().invoke(ctx)
        except DeriveError as err:
            click.echo(f"derive: {said(err)}", err=True)
            sys.exit(2)
        except BrokenPipeError:
            # `derive ... --max-paths all | head`: the reader left; that is not an error.
            sys.stderr.close()
            sys.exit(0)
        except OSError as err:
            # A file or folder that cannot be read or written (--out below a file, a full disk).
            where = f"{err.filename}: " if err.filename else ""
            click.echo(f"derive: {where}{err.strerror or err}", err=True)
            sys.exit(2)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command; a usage error (bad option value, missing folder) is one line, exit 2."""
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as err:
            message = err.format_message().rstrip(".")
            if err.ctx:  # after click's "Did you mean '--digits'?", a new sentence
                see = f"ee '{err.ctx.command_path} --help'"
                message += f" S{see}" if message.endswith("?") else f"; s{see}"
            click.echo(f"derive: {message}", err=True)
            sys.exit(2)
        except click.ClickException as err:
            click.echo(f"derive: {err.format_message()}", err=True)
            sys.exit(err.exit_code)
        except click.Abort:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C: no traceback
            click.echo("derive: aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _not_a_command(args: list[str], commands: list[str]) -> None:
    """Raise a usage error when ``args[0]``, which is no command, is no derivative either.

    A derivative has a slash (``dL/dW1``): ``expnad`` is a misspelt command, and so is
    ``foo`` in ``derive foo dL/dW1``; a lone ``dL`` is left to ``expand`` to explain.
    """
    import difflib
    import shlex

    word = args[0]
    if word.startswith("-") or "/" in word:
        return
    close = difflib.get_close_matches(word, commands, n=1, cutoff=0.6)
    if close:
        again = shlex.join(["derive", close[0], *args[1:]])
        raise click.UsageError(f"'{word}' is not a command; did you mean: {again}")
    if any("/" in a for a in args[1:]):
        raise click.UsageError(f"'{word}' is not a command; the commands: " + ", ".join(commands))


def _first_line(command: click.Command) -> str:
    """Return the first paragraph of a command's help, on one line."""
    return " ".join((command.help or "").split("\n\n")[0].split())


def _network_without_net(args: list[str], typed: list[str]) -> None:
    """Raise a usage error suggesting ``--net NAME`` when a command needing one got it bare.

    ``derive backprop two_hidden`` would otherwise say only that ``--net`` is missing.
    """
    import shlex

    from derive.data import data_dir

    if args[:1] not in (["expand"], ["backprop"], ["check"], ["show"]):
        return
    if any(a in ("-h", "--help") or a.split("=")[0] == "--net" for a in args):
        return
    bundled = {p.stem for p in data_dir("networks").glob("*.yaml")}
    for i, word in enumerate(typed):
        follows_option = i > 0 and typed[i - 1].startswith("-")
        if not follows_option and (word in bundled or word.endswith((".yaml", ".yml"))):
            again = shlex.join(["derive", *typed[:i], "--net", word, *typed[i + 1 :]])
            raise click.UsageError(f"the network goes after --net; did you mean: {again}")


NET = click.option(
    "--net",
    "net_source",
    required=True,
    metavar="NET",
    help="A network file, or the name of a bundled one (derive networks lists them).",
)


def at_option(more: str = "") -> Callable[[Callable], Callable]:
    """Return the --at option, its help ending with what ``more`` says of this command."""
    return click.option(
        "--at",
        "at_",
        metavar="POINT|random:SEED",
        help="The point: a YAML file of name: value lines, name=value,name=value, or"
        " random:SEED (a reproducible random point; random:SEED,x1=0.5 changes x1 in it)."
        " Names it leaves out take the network file's values:." + more,
    )


AT = at_option()
FORMAT = click.option(
    "--format",
    "fmt",
    type=Format(FORMATS),
    default="text",
    show_default=True,
    help="text for a terminal, markdown or latex for documents, json for programs (one object,"
    " every number at full precision).",
)
MD_FLAVOR = click.option(
    "--md-flavor",
    type=click.Choice(("github", "portable")),
    default="github",
    show_default=True,
    help="Markdown math syntax: github ($`...`$ and ```math blocks) or portable ($ and $$,"
    " for Jupyter, MkDocs, Quarto and Obsidian).",
)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="derive")
def main() -> None:
    """Chain-rule expansions of derivatives through small neural networks.

    \b
      derive dL/dW1 --net two_hidden
      derive dL/dW1 --net two_hidden --at random:7 --lr 0.1
      derive check "dL/dW1 = dL/dO11*dO11/dW1" --net two_hidden
      derive notes --net two_hidden --out notes/
      derive backprop --net two_hidden --at random:7
      derive networks
      derive show --net two_hidden
    """


@main.command()
@click.argument("derivative", metavar="dA/dB")
@NET
@FORMAT
@click.option("--detail", is_flag=True, help="Put the pre-activations z in the chain.")
@at_option(" Without --at (or --lr) no numbers are printed.")
@click.option(
    "--lr",
    type=float,
    metavar="ETA",
    help="Learning rate η: also show the update W_new = W_old − η·dL/dW.",
)
@click.option(
    "--max-paths",
    default="1000",
    show_default=True,
    metavar="N|all",
    help="List at most N paths (the count stays exact).",
)
@MD_FLAVOR
@digits_option
def expand(
    derivative: str,
    net_source: str,
    fmt: str,
    detail: bool,
    at_: str | None,
    lr: float | None,
    max_paths: str,
    md_flavor: str,
) -> None:
    """Expand dA/dB over every path, factor it and make it concrete."""
    from derive.api import differentiate, parse_derivative
    from derive.graph import load_network
    from derive.printing import report, stream

    of, wrt = parse_derivative(derivative)
    net = load_network(net_source)
    if net.examples and of == net.cost:  # the cost of a batch: the mean of the loss's
        _cost(net, wrt, fmt, detail, at_, lr, max_paths, md_flavor)
        return
    limit = _max_paths(max_paths)
    streamed = limit is None and fmt in ("text", "json")
    # A streamed derivative lists no path itself: they are written as they are found.
    r = differentiate(
        net, derivative, detail=detail, at_point=at_, lr=lr, max_paths=0 if streamed else limit
    )
    if streamed:
        stream(r.derivative, fmt, r.numbers, sys.stdout)
        return
    click.echo(report(r.derivative, fmt, r.numbers, flavor=md_flavor), nl=False)


def _check_example(net: Any) -> str:
    """Return a ``derive check`` command line for this network that runs as written (it matches)."""
    import shlex

    from derive.printing import AsciiPrinter

    p, graph, top = AsciiPrinter(net), net.graph(), net.loss or net.output
    # A leaf's line of the backward sweep: d(top)/dleaf = sum over what it feeds of a whole
    # derivative times a local partial (the leaf that feeds fewest nodes, for a short line).
    leaf = min(net.parameters or net.inputs, key=lambda v: len(list(graph.successors(v))))
    terms = [
        p.local(n, leaf) if n == top else f"{p.whole(top, n)}*{p.local(n, leaf)}"
        for n in sorted(graph.successors(leaf), key=net.rank)
    ]
    answer = f"{p.whole(top, leaf)} = {' + '.join(terms)}"
    return f"derive check {shlex.quote(answer)} --net {net.argument}"


def _cost(
    net: Any,
    wrt: str,
    fmt: str,
    detail: bool,
    at_: str | None,
    lr: float | None,
    max_paths: str,
    flavor: str,
) -> None:
    """Print d(cost)/d(wrt) on a batch: each example's derivative of the loss, and their mean."""
    from derive.api import read_the_point
    from derive.batch import cost_numbers
    from derive.expand import derive
    from derive.printing.batch import cost_report

    d = derive(net, net.output, wrt, detail=detail, max_paths=_max_paths(max_paths))
    numbers = None
    if at_ is not None or lr is not None:
        point, _ = read_the_point(at_, net)
        numbers = cost_numbers(d, point, lr=lr)
    click.echo(cost_report(d, fmt, numbers, flavor), nl=False)


def _max_paths(text: str) -> int | None:
    if text == "all":
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 18):  # "²".isdigit() is true
        raise DeriveError(f"--max-paths takes a whole number or 'all', not '{text}'")
    return int(text)


@main.command()
@NET
@FORMAT
@MD_FLAVOR
@click.option("--detail", is_flag=True, help="Run the sweep through the pre-activations z.")
@AT
@click.option(
    "--lr", type=float, metavar="ETA", help="Learning rate η: also show every parameter's update."
)
@click.option("--matrix", is_flag=True, help="Also show the layer (matrix) form.")
@digits_option
@click.option(
    "--example", type=int, metavar="K", help="A batch (examples:): show example K's sweep alone."
)
def backprop(
    net_source: str,
    fmt: str,
    md_flavor: str,
    detail: bool,
    at_: str | None,
    lr: float | None,
    matrix: bool,
    example: int | None,
) -> None:
    """The backward sweep: dL/dv for every node, from the loss down, then every gradient."""
    from derive.api import backprop as run

    result = run(net_source, at=at_, lr=lr, detail=detail, matrix=matrix, example=example)
    sys.stdout.write(result.report(fmt, flavor=md_flavor))


@main.command()
@click.argument("answer", nargs=-1, metavar="[ANSWER | FILE...]")
@click.option(
    "--net",
    "net_source",
    metavar="NET",
    help="A network file, or the name of a bundled one (an --expect file may name it instead).",
)
@click.option(
    "--file",
    "files",
    multiple=True,
    metavar="FILE",
    help="Grade every answer in a file; a glob, a folder or several files grade a class.",
)
@click.option(
    "--expect",
    metavar="dA/dB,...|FILE.yaml",
    help="The questions: a missing answer scores as missing (a YAML file: points, network).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("text", "json", "csv", "gradescope")),
    default="text",
    show_default=True,
    help="csv: a gradebook; gradescope: Gradescope's results.json.",
)
@click.option(
    "--detail",
    is_flag=True,
    help="Grade in the detailed view (z nodes in the chain); an answer naming a z uses it anyway.",
)
@digits_option
@AT
def check(
    answer: tuple[str, ...],
    net_source: str | None,
    files: tuple[str, ...],
    expect: str | None,
    fmt: str,
    detail: bool,
    at_: str | None,
) -> None:
    """Grade a hand-written expansion, or a class's files: exit 0 if all match, 1 if not."""
    from derive import check as grader
    from derive.api import read_the_point
    from derive.graph import load_network

    if not files and answer and all("=" not in a and Path(a).is_file() for a in answer):
        files, answer = answer[:1], answer[1:]  # derive check hw.md: a file, as --file reads it
    for a in answer if not files else ():
        if "=" not in a and a.lower().endswith((".md", ".markdown", ".txt")):
            raise DeriveError("there is no such file of answers", file=a, hint="check its path")
    if not files and len(answer) != 1:
        raise DeriveError(
            "give either one answer or --file",
            hint="grade a file with --file FILE, or one answer such as: "
            + _check_example(load_network(net_source or "two_hidden")),
        )
    assignment = grader.read_expect(expect) if expect else None
    source = net_source or (assignment.network if assignment else None)
    if source is None:
        raise DeriveError("no network given", hint="add --net NET (or network: to --expect's file)")
    net = load_network(source)
    point = read_the_point(at_, net)[0] if at_ is not None else None
    if files and grader.grades_a_class([*files, *answer], assignment, fmt):
        sources = grader.submission_files([*files, *answer])
        book = grader.grade_class(net, sources, assignment, at=point)
        report, status = grader.format_gradebook(book, fmt), 0 if book.all_match else 1
    elif files:
        results = grader.check_file(net, files[0], at=point)
        report, status = grader.format_file_report(results, fmt), results.exit_status
    elif fmt in ("csv", "gradescope"):
        raise DeriveError(f"--format {fmt} is a gradebook of files", hint="add --file FILES")
    else:
        result = grader.check(net, answer[0], detail=detail or None, at=point)
        report, status = grader.format_report(result, fmt), 0 if result.ok else 1
    click.echo(report, nl=False)
    sys.exit(status)


@main.command()
@click.option(
    "--net",
    "nets",
    multiple=True,
    metavar="NET|course.yaml",
    help="A network file, a bundled name, or a course.yaml (a networks: list, in reading order);"
    " repeat it, give several, or a glob such as 'networks/*.yaml'.",
)
@click.argument("more", nargs=-1, metavar="[NET]...")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="The folder to write the notes in.",
)
@click.option(
    "--format",
    "fmt",
    type=Format(("markdown", "latex", "both", "html", "all")),
    default="markdown",
    show_default=True,
    help="Per network: NAME.md, NAME.tex, both of them, the interactive page NAME.html,"
    " or all three.",
)
@click.option(
    "--wrt",
    multiple=True,
    metavar="PARAM",
    help="Work only these weights or biases in full (repeatable); default: one per layer.",
)
@click.option(
    "--templates",
    type=click.Path(file_okay=False, exists=True),
    metavar="DIR",
    help="A folder of templates overriding the shipped ones.",
)
@MD_FLAVOR
@click.option("--pdf", is_flag=True, help="Also build the PDF with pdflatex.")
@AT
@digits_option
@click.option(
    "--lr",
    type=float,
    default=0.1,
    show_default=True,
    metavar="ETA",
    help="Learning rate η of the worked steps.",
)
def notes(
    nets: tuple[str, ...],
    more: tuple[str, ...],
    out_dir: str,
    fmt: str,
    wrt: tuple[str, ...],
    templates: str | None,
    md_flavor: str,
    pdf: bool,
    at_: str | None,
    lr: float,
) -> None:
    """Write study notes on backpropagation for one network or a course of them."""
    from derive.notes import write_course

    sources = _expand_globs([*nets, *more])
    if not sources:
        raise DeriveError("no network given", hint="derive notes --net two_hidden --out notes/")

    # The library takes a callback; the progress bar is the command line's business.
    def write(progress: Any = None) -> list[Any]:
        return write_course(
            sources,
            out_dir,
            fmt=fmt,
            wrt=list(wrt),
            templates=templates,
            flavor=md_flavor,
            pdf=pdf,
            lr=lr,
            progress=progress,
            warn=lambda text: click.echo(f"derive: warning: {text}", err=True),
            at=at_,
        )

    if sys.stderr.isatty():
        with click.progressbar(length=len(sources), label="Writing notes", file=sys.stderr) as bar:
            written = write(lambda name: bar.update(1))
    else:
        written = write()
    for path in written:
        click.echo(str(path))


def _expand_globs(sources: list[str]) -> list[str]:
    """Return the sources with any quoted glob pattern expanded, in sorted order."""
    import glob

    out: list[str] = []
    for source in sources:
        matches = sorted(glob.glob(source)) if glob.has_magic(source) else [source]
        if not matches:
            raise DeriveError(f"no network file matches '{source}'")
        out += matches
    return out


@main.command()
def networks() -> None:
    """List the networks that ship with derive."""
    from derive.graph import bundled_networks
    from derive.netfile import read_spec

    for path in bundled_networks():
        click.echo(f"{path.stem:<18} {read_spec(path).title}")


@main.command()
@NET
def show(net_source: str) -> None:
    """Print a network's nodes, weights (name, from, to) and loss; wide layers as shapes."""
    from derive.graph import load_network
    from derive.show import describe

    click.echo(describe(load_network(net_source)), nl=False)
