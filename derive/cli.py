"""The ``derive`` command: thin commands over the library.

Each command parses options, calls one library function and prints. Heavy
libraries (SymPy, networkx) are imported inside commands, so ``derive --help``
starts fast. A :class:`DeriveError` becomes one line on stderr and exit 2.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from functools import wraps
from itertools import islice
from typing import Any

import click

from derive.errors import DeriveError

DERIVATIVE = re.compile(
    r"\s*[d∂]\s*([A-Za-z][A-Za-z0-9_]*)\s*/\s*[d∂]\s*([A-Za-z][A-Za-z0-9_]*)\s*\Z"
)
FORMATS = ("text", "markdown", "latex", "json")


def parse_derivative(text: str) -> tuple[str, str]:
    """Return (of, wrt) from ``dL/dW1`` or ``∂L/∂W1``.

    >>> parse_derivative("∂L/∂W1")
    ('L', 'W1')
    """
    match = DERIVATIVE.match(text)
    if not match:
        raise DeriveError(
            f"cannot read the derivative '{text}'",
            hint="write it as dL/dW1 or ∂L/∂W1, with names from the network",
        )
    return match.group(1), match.group(2)


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a DeriveError into one line on stderr and exit status 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DeriveError as err:
            click.echo(f"derive: {err}", err=True)
            sys.exit(2)
        except BrokenPipeError:
            # `derive ... --max-paths all | head`: the reader left; that is not an error.
            sys.stderr.close()
            sys.exit(0)

    return wrapper


class DefaultGroup(click.Group):
    """A group whose first argument, when not a command, is a derivative for ``expand``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["expand", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage("derive", "dL/dW1 --net NETWORK [OPTIONS] | COMMAND [ARGS]...")


NET = click.option(
    "--net",
    "net_source",
    required=True,
    metavar="NETWORK",
    help="A network file, or the name of a bundled one (see: derive networks).",
)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="derive")
def main() -> None:
    """Chain-rule expansions of derivatives through small neural networks.

    \b
      derive dL/dW1 --net two_hidden          every path, factored, concrete
      derive dL/dW1 --net two_hidden --at point.yaml --lr 0.1
      derive check "dL/dW1 = ..." --net two_hidden
      derive notes --net two_hidden --out notes/
      derive networks                          the bundled networks
      derive show --net two_hidden             names, weights and loss
    """


@main.command()
@click.argument("derivative", metavar="dA/dB")
@NET
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--detail", is_flag=True, help="Put the pre-activations z in the chain.")
@click.option("--at", "at_", metavar="POINT", help="Values: a YAML file or name=value,name=value.")
@click.option(
    "--lr", type=float, help="Learning rate η: also show the update W_new = W_old − η·∂L/∂W."
)
@click.option(
    "--max-paths",
    default="1000",
    show_default=True,
    metavar="N|all",
    help="List at most N paths (the count stays exact).",
)
@click.option(
    "--md-flavor",
    type=click.Choice(("github", "portable")),
    default="github",
    show_default=True,
    help="Math syntax for --format markdown.",
)
@user_errors
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
    from derive.evaluate import at, read_point
    from derive.expand import derive
    from derive.graph import load_network
    from derive.printing import report

    of, wrt = parse_derivative(derivative)
    net = load_network(net_source)
    limit = _max_paths(max_paths)
    stream = limit is None and fmt in ("text", "json")
    # A streamed derivative lists no path itself: they are written as they are found.
    d = derive(net, of, wrt, detail=detail, max_paths=0 if stream else limit)
    numbers = None
    if at_ is not None or lr is not None:
        numbers = at(d, read_point(at_, net), lr=lr)
    if stream:
        _stream_paths(d, fmt, numbers)
        return
    click.echo(report(d, fmt, numbers, flavor=md_flavor), nl=False)


def _max_paths(text: str) -> int | None:
    if text == "all":
        return None
    if not text.isdigit():
        raise DeriveError(f"--max-paths takes a whole number or 'all', not '{text}'")
    return int(text)


def _stream_paths(d: Any, fmt: str, numbers: Any = None) -> None:
    """Write every path as it is found: constant memory however many there are.

    The JSON has every key of SPEC section 3: what grows with the paths (the
    paths, the expansion's terms, their products at a point) is streamed; the
    rest is the derivative's own JSON, which is polynomial in the network's size.
    """
    out = sys.stdout
    if fmt == "text":
        from derive.printing import text_lines

        for chunk in _batches(text_lines(d, numbers, every_path=True), "\n"):
            out.write(chunk)
        out.write("\n")
        return
    import json

    from derive.evaluate import path_product
    from derive.printing import AsciiPrinter, LatexTermPrinter, to_json

    def terms(printer: Any) -> None:
        # Each partial typeset once (JSON-escaped); a term is then one join per path.
        partial = {e: json.dumps(printer.partial(*e))[1:-1] for e in d.edges}
        times = json.dumps(printer.times)[1:-1]
        out.write('"')
        for chunk in _batches(
            (
                times.join(map(partial.__getitem__, zip(path, path[1:], strict=False)))
                for path in d.iter_paths()
            ),
            " + ",
        ):
            out.write(chunk)
        out.write('"')

    def expansion() -> None:
        out.write('{"text": ')
        terms(AsciiPrinter(d.net))
        out.write(', "latex": ')
        terms(LatexTermPrinter(d.net))
        out.write("}")

    streamed = {
        # Names are identifiers, so a path is valid JSON without json.dumps's escaping.
        "paths": lambda: _json_array('["' + '", "'.join(path) + '"]' for path in d.iter_paths()),
        "paths_truncated": lambda: out.write("false"),
        "expansion": expansion,
        "path_products": lambda: _json_array(
            json.dumps(path_product(path, numbers.local)) for path in d.iter_paths()
        ),
    }
    sep = "{"
    for key, value in to_json(d, numbers).items():
        out.write(f"{sep}{json.dumps(key)}: ")
        if key in streamed and not d.is_zero:
            streamed[key]()
        else:
            out.write(json.dumps(value, ensure_ascii=False))
        sep = ", "
    out.write("}\n")


def _json_array(items: Iterator[str]) -> None:
    """Write a JSON array of already encoded items, one per line, a batch at a time."""
    sys.stdout.write("[\n")
    for chunk in _batches(items, ",\n"):
        sys.stdout.write(chunk)
    sys.stdout.write("\n]")


def _batches(lines: Iterator[str], sep: str) -> Iterator[str]:
    """Yield the lines joined by ``sep``, thousands at a time: a write per path costs more than finding it."""
    lead = ""
    while batch := list(islice(lines, 4096)):
        yield lead + sep.join(batch)
        lead = sep


@main.command()
@click.argument("answer", required=False)
@NET
@click.option(
    "--file", "file_", type=click.Path(dir_okay=False), help="Grade every answer in a file."
)
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True
)
@click.option(
    "--detail",
    is_flag=True,
    help="Grade in the detailed view (z nodes in the chain); an answer naming a z uses it anyway.",
)
@user_errors
def check(answer: str | None, net_source: str, file_: str | None, fmt: str, detail: bool) -> None:
    """Grade a hand-written expansion: exit 0 if it matches, 1 if not."""
    from derive import check as grader
    from derive.graph import load_network

    net = load_network(net_source)
    if (answer is None) == (file_ is None):
        raise DeriveError(
            "give either an answer or --file, not both or neither",
            hint='derive check "dL/dW1 = ..." --net NET',
        )
    if file_ is not None:
        results = grader.check_file(net, file_)
        click.echo(grader.format_file_report(results, fmt), nl=False)
        sys.exit(0 if all(r.ok for r in results) else 1)
    result = grader.check(net, answer, detail=detail or None)
    click.echo(grader.format_report(result, fmt), nl=False)
    sys.exit(0 if result.ok else 1)


@main.command()
@click.option(
    "--net",
    "nets",
    multiple=True,
    metavar="NETWORK",
    help="A network file or bundled name; repeat it, give several, or a glob such as 'networks/*.yaml'.",
)
@click.argument("more", nargs=-1, metavar="[NETWORK]...")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="The folder to write the notes in.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("markdown", "latex", "both")),
    default="markdown",
    show_default=True,
)
@click.option("--wrt", multiple=True, help="Cover only these weights (repeatable); default: all.")
@click.option(
    "--templates",
    type=click.Path(file_okay=False, exists=True),
    help="A folder of templates overriding the shipped ones.",
)
@click.option(
    "--md-flavor", type=click.Choice(("github", "portable")), default="github", show_default=True
)
@click.option("--pdf", is_flag=True, help="Also build the PDF with pdflatex.")
@user_errors
def notes(
    nets: tuple[str, ...],
    more: tuple[str, ...],
    out_dir: str,
    fmt: str,
    wrt: tuple[str, ...],
    templates: str | None,
    md_flavor: str,
    pdf: bool,
) -> None:
    """Write study notes on backpropagation for one network or a course of them."""
    from derive.notes import write_course

    sources = _expand_globs([*nets, *more])
    if not sources:
        raise DeriveError("no network given", hint="derive notes --net two_hidden --out notes/")
    written = write_course(
        sources,
        out_dir,
        fmt=fmt,
        wrt=list(wrt),
        templates=templates,
        flavor=md_flavor,
        pdf=pdf,
        progress=sys.stderr.isatty(),
    )
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
    import yaml

    from derive.graph import bundled_networks

    for path in bundled_networks():
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        click.echo(f"{path.stem:<18} {raw.get('title', '')}")


@main.command()
@NET
@user_errors
def show(net_source: str) -> None:
    """Print a network's nodes, weights (name, from, to) and loss."""
    from derive.graph import load_network
    from derive.show import describe

    click.echo(describe(load_network(net_source)), nl=False)
