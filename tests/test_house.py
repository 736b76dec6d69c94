"""The house rules of issue 16, checked on the package's source (read and parsed, never imported).

Each check lists today's known exceptions, ``"file:name": size``. A new one fails;
so does a listed one that has gone (delete its entry: the list only shrinks), and
a listed one that has grown. Never add an entry: fix the code instead.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "derive"

MAX_FUNCTION = 80  # lines, from `def` to the last line of the body
MAX_MODULE = 600  # lines

# An activation or loss name compared outside rules.py: "file:function": comparisons.
NAME_COMPARED: dict[str, int] = {}

# An output-language branch (fmt == "markdown", flavor != "github", lang in (...)) outside
# printing/ and the CLI's dispatch: "file:function": branches.
LANGUAGE_BRANCHES: dict[str, int] = {}

# A private name imported from another module: "file:name": 1.
PRIVATE_IMPORTS: dict[str, int] = {}

# A module on an import cycle (TYPE_CHECKING and function-level imports included):
# "module": how many modules its cycle has.
IMPORT_CYCLES: dict[str, int] = {}

# A function over MAX_FUNCTION lines: "file:function": lines.
LONG_FUNCTIONS = {}

# A module over MAX_MODULE lines: "file": lines.
LONG_MODULES: dict[str, int] = {}


@functools.cache
def sources() -> dict[str, ast.Module]:
    """Return every module of the package, parsed, by its path from the repository root."""
    return {
        path.relative_to(ROOT).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def module_name(rel: str) -> str:
    """Return ``derive.check.grade`` for ``derive/check/grade.py`` (a package for its __init__)."""
    parts = rel.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def scoped(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """Yield every node of ``tree`` with the qualified name of the function or class around it."""

    def walk(node: ast.AST, scope: str) -> Iterator[tuple[str, ast.AST]]:
        for child in ast.iter_child_nodes(node):
            yield scope, child
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = child.name if scope == "<module>" else f"{scope}.{child.name}"
                yield from walk(child, inner)
            else:
                yield from walk(child, scope)

    yield from walk(tree, "<module>")


@functools.cache
def rule_names() -> frozenset[str]:
    """Return the name of every row of rules.py: the first argument of each row's constructor."""
    rows = {"Activation", "LayerActivation", "Loss"}
    return frozenset(
        node.args[0].value
        for node in ast.walk(sources()["derive/rules.py"])
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in rows
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def strings(node: ast.AST) -> list[str]:
    """Return the string constants ``node`` is, or holds as a tuple, list or set of constants."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [s for e in node.elts for s in strings(e)]
    return []


def comparisons(skip) -> Iterator[tuple[str, ast.Compare]]:
    """Yield ``"file:function"`` and each comparison in the package's files not skipped."""
    for rel, tree in sources().items():
        if skip(rel):
            continue
        for scope, node in scoped(tree):
            if isinstance(node, ast.Compare):
                yield f"{rel}:{scope}", node


def tally(found: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for key in found:
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))


def assert_within(found: dict[str, int], known: dict[str, int], what: str) -> None:
    """Fail on a new exception, one grown past its entry, or an entry no longer needed."""
    new = {k: v for k, v in found.items() if k not in known}
    grown = {k: (known[k], v) for k, v in found.items() if k in known and v > known[k]}
    gone = sorted(k for k in known if k not in found)
    assert not new, f"new {what} (fix the code; never add an entry): {new}"
    assert not grown, f"{what} grown past its entry (was, now): {grown}"
    assert not gone, f"fixed, so delete these entries from tests/test_house.py: {gone}"


def test_no_activation_or_loss_name_compared_outside_rules():
    names = rule_names()
    assert {"sigmoid", "softmax", "relu", "cross_entropy", "bce"} <= names
    found = [
        where
        for where, node in comparisons(lambda rel: rel == "derive/rules.py")
        if any(s in names for operand in [node.left, *node.comparators] for s in strings(operand))
    ]
    assert_within(tally(found), NAME_COMPARED, "comparisons with a rule row's name")


LANGUAGE_VARIABLES = {"fmt", "flavor", "md_flavor", "lang", "language"}


def _is_language(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id in LANGUAGE_VARIABLES
    return isinstance(node, ast.Attribute) and node.attr in LANGUAGE_VARIABLES


def test_no_output_language_branch_outside_printing():
    def skip(rel: str) -> bool:
        return rel.startswith("derive/printing/") or rel == "derive/cli.py"

    found = [
        where
        for where, node in comparisons(skip)
        if any(_is_language(o) for o in [node.left, *node.comparators])
        and any(strings(o) for o in [node.left, *node.comparators])
    ]
    assert_within(tally(found), LANGUAGE_BRANCHES, "output-language branches")


def imports(rel: str, tree: ast.Module) -> Iterator[tuple[str, str | None]]:
    """Yield (module, name) for each import of a derive module in ``tree``, anywhere in it.

    ``name`` is the imported name of a ``from`` import, None for a plain ``import``.
    """
    here = module_name(rel).split(".")
    package = here if rel.endswith("__init__.py") else here[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "derive":
                    yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] == "derive":
                for alias in node.names:
                    yield module, alias.name


def test_no_private_name_imported_across_modules():
    found = []
    for rel, tree in sources().items():
        for module, name in imports(rel, tree):
            if module == module_name(rel):
                continue
            if name and name.startswith("_") and not name.startswith("__"):
                found.append(f"{rel}:{name}")
            last = module.rsplit(".", 1)[-1]
            if last.startswith("_") and not last.startswith("__"):
                found.append(f"{rel}:{module}")
    assert_within(tally(found), PRIVATE_IMPORTS, "private imports across modules")


def import_graph() -> dict[str, set[str]]:
    """Return each module's derive imports (a ``from pkg import mod`` counts as mod)."""
    known = {module_name(rel) for rel in sources()}
    graph: dict[str, set[str]] = {m: set() for m in known}
    for rel, tree in sources().items():
        me = module_name(rel)
        if me == "derive":  # the package's lazy __getattr__ imports everything on demand
            continue
        for module, name in imports(rel, tree):
            target = f"{module}.{name}" if name and f"{module}.{name}" in known else module
            if target in known and target != me:
                graph[me].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                out.append(sorted(scc))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_type_checking_included():
    found = {module: len(scc) for scc in cycles(import_graph()) for module in scc}
    assert_within(found, IMPORT_CYCLES, "import cycles")


def test_no_function_over_80_lines():
    found = {
        f"{rel}:{scope}.{node.name}".replace(":<module>.", ":"): node.end_lineno - node.lineno + 1
        for rel, tree in sources().items()
        for scope, node in scoped(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION
    }
    assert_within(found, LONG_FUNCTIONS, f"functions over {MAX_FUNCTION} lines")


def test_no_module_over_600_lines():
    found = {
        path.relative_to(ROOT).as_posix(): n
        for path in sorted(PACKAGE.rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE
    }
    assert_within(found, LONG_MODULES, f"modules over {MAX_MODULE} lines")


def test_the_checks_see_what_they_look_for():
    """Each scanner finds its kind of mistake in a small made-up module."""
    tree = ast.parse(
        "from derive.sweep import _Slopes\n"
        "def f(n, fmt):\n"
        "    if n.activation == 'softmax' or fmt in ('markdown', 'latex'):\n"
        "        return 1\n"
    )
    compares = [node for _, node in scoped(tree) if isinstance(node, ast.Compare)]
    assert any(s in rule_names() for c in compares for s in strings(c.comparators[0]))
    assert any(_is_language(c.left) for c in compares)
    assert list(imports("derive/layers.py", tree)) == [("derive.sweep", "_Slopes")]
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
