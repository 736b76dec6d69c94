"""Benchmarks for issue 6 (scale and speed): each goal's figure against its target.

    python bench/run.py            # about a minute (two on a busy machine)
    python bench/run.py --quick    # about 20 s: fewer runs, smaller samples

Every figure is measured here, on this machine, by running the installed
``derive`` command in a subprocess (start-up, streaming, notes) or the library
in this process (gradients, the sympy.diff comparison). The networks are
generated into a temporary folder. Nothing here is a test: the behaviour at
scale is tested in tests/test_scale.py, without timing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import sympy as sp
import yaml

from derive.evaluate import at, forward, random_point
from derive.expand import derive
from derive.graph import Network, load_network
from derive.rules import ACTIVATIONS, LOSSES
from derive.sweep import values as sweep_values

BASELINE = [sys.executable, "-c", "import sympy, networkx, jinja2, click, yaml"]


@dataclass
class Row:
    goal: str
    measured: str
    target: str
    ok: bool | None  # None: a figure shown for comparison, with no target of its own


def fully_connected(name: str, inputs: int, hidden: list[int], outputs: int = 1) -> str:
    """Return the YAML of a fully connected sigmoid network with a bce loss."""
    layers = [f"  - inputs: [{', '.join(f'x{i}' for i in range(1, inputs + 1))}]"]
    for depth, width in enumerate([*hidden, outputs], start=1):
        layers.append(f"  - neurons: [{', '.join(f'O{depth}_{j}' for j in range(1, width + 1))}]")
    return "\n".join([f"name: {name}", "layers:", *layers, "loss:", "  kind: bce", ""])


def write_net(folder: Path, name: str, inputs: int, hidden: list[int]) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(fully_connected(name, inputs, hidden), encoding="utf-8")
    return path


def derive_command() -> list[str]:
    """Return the installed console script beside this Python, as the baseline runs it.

    Not the ``derive`` on PATH: that may be a version manager's shim (pyenv's adds a
    bash start-up) that the baseline ``python`` would not pay here.
    """
    script = Path(sysconfig.get_path("scripts")) / "derive"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "derive"]


# Peak RSS of a command, measured by a small Python that spawns it: Linux starts a
# child's maxrss at its parent's RSS, so a child of this (large) process would be
# charged with this process's memory.
PEAK_RSS = """
import os, sys
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\npeak_rss_kb={usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def timed(cmd: list[str], stdout=subprocess.DEVNULL, peak: bool = False) -> tuple[float, int, int]:
    """Run a command; return its wall time, peak RSS in KB (with ``peak``, else 0) and exit status."""
    if peak:
        cmd = [sys.executable, "-c", PEAK_RSS, *cmd]
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=600)
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.stderr.write(proc.stderr)
    rss = int(proc.stderr.rsplit("peak_rss_kb=", 1)[1]) if peak else 0
    return wall, rss, proc.returncode


def cpu_timed(cmd: list[str], **kw) -> tuple[float, float, int, int]:
    """Return a command's wall time, CPU time (user + system), peak RSS in KB and status.

    On a shared machine the wall time includes waiting for a CPU; the CPU time does not.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, rss, code = timed(cmd, peak=True, **kw)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, rss, code


def finish(rows: list[Row], start: float) -> int:
    """Print the rows as a table and the machine's CPUs; return 1 when a goal failed."""
    print(table(rows))
    print(f"\n{os.cpu_count()} CPUs; benchmark took {time.perf_counter() - start:.0f} s")
    return 0 if all(r.ok is not False for r in rows) else 1


def secs(x: float) -> str:
    return f"{x:.2f} s"


# -- goal 1: start-up ---------------------------------------------------------------


def startup(runs: int) -> list[Row]:
    """Alternate the bare imports and ``derive dL/dW1 --net two_hidden.yaml``; compare medians."""
    cmd = [*derive_command(), "dL/dW1", "--net", "two_hidden.yaml"]
    timed(BASELINE), timed(cmd)  # warm the file cache
    base, ours = [], []
    for _ in range(runs):
        base.append(timed(BASELINE)[0])
        ours.append(timed(cmd)[0])
    b, o = statistics.median(base), statistics.median(ours)
    help_imports = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "derive", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    sympy_in_help = any(
        line.split("|")[-1].strip() == "sympy" for line in help_imports.splitlines()
    )
    return [
        Row(
            "1  derive dL/dW1 --net two_hidden.yaml",
            f"{o:.3f} s = {o / b:.2f}x imports ({b:.3f} s)",
            "<= 1.25x",
            o / b <= 1.25,
        ),
        Row(
            "1  derive --help imports SymPy",
            "yes" if sympy_in_help else "no",
            "no",
            not sympy_in_help,
        ),
    ]


# -- goal 2: ten layers of ten ----------------------------------------------------------


def deep(folder: Path) -> list[Row]:
    """Time the 3-10x10-1 network's dL/dW1 with --at, and check what it answers."""
    path = write_net(folder, "deep", 3, [10] * 10)
    net = load_network(path)
    point = random_point(net, seed=1)
    point_file = folder / "deep_point.yaml"
    point_file.write_text(yaml.safe_dump(point), encoding="utf-8")
    out = folder / "deep.json"
    cmd = [
        *derive_command(),
        "dL/dW1",
        "--net",
        str(path),
        "--at",
        str(point_file),
        "--format",
        "json",
        "--max-paths",
        "10",
    ]
    with out.open("w") as f:
        wall, _, status = timed(cmd, stdout=f)
    answer = json.loads(out.read_text(encoding="utf-8"))
    graph = net.graph()
    paths = [tuple(p) for p in answer["paths"]]
    real = all(
        p[0] == "L"
        and p[-1] == "W1"
        and all(graph.has_edge(b, a) for a, b in zip(p, p[1:], strict=False))
        for p in paths
    )
    fd = central_difference(net, point, "W1")
    exact = sweep_values(net, point).gradients["W1"]
    concrete = evaluate_concrete(answer["concrete"], forward(net, point))
    value = answer["value"]
    size = len(json.dumps(answer["factored"])) + len(json.dumps(answer["concrete"]))
    half = output_size(write_net(folder, "half", 3, [10] * 5), "W1")
    return [
        Row(
            "2  3-10x10-1 dL/dW1 --at --format json --max-paths 10",
            secs(wall),
            "< 5 s",
            wall < 5 and status == 0,
        ),
        Row(
            "2    path_count; 10 listed, distinct, real paths",
            f"{answer['path_count']:,}; {len(set(paths))} {'real' if real else 'NOT real'}",
            "10^9; 10",
            answer["path_count"] == 10**9 and len(set(paths)) == 10 and real,
        ),
        Row(
            "2    value vs the sweep's; vs central differences",
            f"rel. err {rel(value, exact):.1e}; abs. err {abs(value - fd):.1e} (value {value:.2e})",
            "< 1e-12; < 1e-10",
            rel(value, exact) < 1e-12 and abs(value - fd) < 1e-10,
        ),
        Row(
            "2    concrete.where evaluated in order = value",
            f"rel. err {rel(concrete, value):.1e}",
            "< 1e-9",
            rel(concrete, value) < 1e-9,
        ),
        Row(
            "2    factored + concrete size, 5 -> 10 layers",
            f"{half:,} -> {size:,} chars ({size / half:.1f}x; paths x10^5)",
            "polynomial",
            size / half < 4,
        ),
    ]


def central_difference(net: Network, point: dict[str, float], name: str, h: float = 1e-5) -> float:
    up, down = dict(point), dict(point)
    up[name] += h
    down[name] -= h
    return (forward(net, up)[net.loss] - forward(net, down)[net.loss]) / (2 * h)


def evaluate_concrete(concrete: dict, values: dict[str, float]) -> float:
    """Evaluate ``concrete.where`` in order, then ``concrete.text`` (our own output, so sympify is fine)."""
    env = dict(values)
    for name, formula in concrete.get("where", []):
        env[name] = parse_number(formula, env)
    return parse_number(concrete["text"], env)


def parse_number(text: str, env: dict[str, float]) -> float:
    expr = sp.sympify(text, locals={name: sp.Symbol(name) for name in env})
    return float(expr.xreplace({s: env[s.name] for s in expr.free_symbols}))


def output_size(path: Path, wrt: str) -> int:
    """Return the characters of the factored and concrete parts of a derivative's JSON."""
    result = subprocess.run(
        [
            *derive_command(),
            f"dL/d{wrt}",
            "--net",
            str(path),
            "--format",
            "json",
            "--max-paths",
            "10",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(result.stdout)
    return len(json.dumps(answer["factored"])) + len(json.dumps(answer["concrete"]))


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


# -- goal 3: streaming every path ---------------------------------------------------------


def streaming(folder: Path, quick: bool) -> list[Row]:
    """Stream every path to a file: the count, the rate and the peak memory.

    The rate is marginal: paths of a big run less those of a small one, over the
    difference of their times, so the start-up (goal 1) is not counted as streaming.
    JSON stops at 10^6 paths: with the expansion in text and LaTeX it is about
    800 bytes a path.
    """
    rows = []
    for fmt, small, big in [("text", 5, 6 if quick else 7), ("json", 5, 6)]:  # 10^n paths
        runs = {
            n: stream(write_net(folder, f"stream{n}", 2, [10] * (n + 1)), fmt, folder)
            for n in (small, big)
        }
        (t0, rss0, ok0, _), (t1, rss1, ok1, size) = runs[small], runs[big]
        rate = (10**big - 10**small) / (t1 - t0)
        rows.append(
            Row(
                f"3  --max-paths all, 10^{big} paths, {fmt}, to a file",
                f"{rate:,.0f} paths/s ({10**big / t1:,.0f}/s with start-up; "
                f"{size / 10**big:.0f} B/path)",
                ">= 300,000/s",
                rate >= 300_000 and ok0 and ok1,
            )
        )
        rows.append(
            Row(
                f"3    peak RSS, 10^{small} -> 10^{big} paths",
                f"{rss0 / 1024:.0f} MB -> {rss1 / 1024:.0f} MB",
                "< 200 MB",
                max(rss0, rss1) < 200 * 1024,
            )
        )
    return rows


def stream(net: Path, fmt: str, folder: Path) -> tuple[float, int, bool, int]:
    """Stream every path of ``net`` to a file; return the wall time, peak RSS, whether each
    path came once, and the file's size."""
    count = derive(load_network(net), "L", "W1", max_paths=0).path_count
    out = folder / f"paths.{fmt}"
    with out.open("w") as f:
        wall, rss, status = timed(
            [*derive_command(), "dL/dW1", "--net", str(net), "--max-paths", "all", "--format", fmt],
            stdout=f,
            peak=True,
        )
    lines = count_lines(out)
    # json: a path a line, between a header line and the rest; text: the whole report,
    # a line for each path's term in the expansion and another in the list of paths.
    ok = lines == count + 2 if fmt == "json" else lines >= 2 * count
    size = out.stat().st_size
    out.unlink()
    return wall, rss, status == 0 and ok, size


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


# -- goal 4: notes for 92 weights ----------------------------------------------------------


def notes(folder: Path, quick: bool) -> list[Row]:
    """Time ``derive notes`` on 2-6x4-1; compare with sympy.diff of the composed loss per weight."""
    path = write_net(folder, "notes", 2, [4] * 6)
    net = load_network(path)
    runs, written = [], True
    for i in range(1 if quick else 3):
        out = folder / f"notes{i}"
        wall, _, status = timed([*derive_command(), "notes", "--net", str(path), "--out", str(out)])
        written = written and status == 0 and any(out.iterdir())
        runs.append(wall)
    wall = statistics.median(runs)
    point = random_point(net, seed=2)
    start = time.perf_counter()
    grads = sweep_values(net, point).gradients
    sweep = time.perf_counter() - start
    per_weight = max(
        rel(at(derive(net, net.loss, w, max_paths=0), point).value, grads[w]) for w in net.weights
    )
    fd = max(abs(central_difference(net, point, w) - grads[w]) for w in net.weights)

    sample = [net.weights[-1]] if quick else [net.weights[-1], net.weights[0]]
    loss = composed_loss(net)
    timings, worst = {}, 0.0
    for w in sample:
        start = time.perf_counter()
        value = float(
            sp.diff(loss, sp.Symbol(w)).xreplace({sp.Symbol(k): v for k, v in point.items()})
        )
        timings[w] = time.perf_counter() - start
        worst = max(worst, rel(value, grads[w]))
    # The output layer's weights are the shallowest and so the cheapest to differentiate
    # (deeper ones took longer in every run), so the cheapest sampled weight's time, times
    # the number of weights, bounds the time to differentiate all of them from below.
    bound = min(timings.values()) * len(net.weights)
    measured = ", ".join(f"{w} {secs(t)}" for w, t in timings.items())
    return [
        Row(
            f"4  derive notes, 2-6x4-1 ({len(net.weights)} weights)",
            secs(wall),
            "< 15 s",
            wall < 15 and written,
        ),
        Row("4    sympy.diff of the composed loss, per weight", measured, "(comparison)", None),
        Row(
            f"4    sympy.diff for all {len(net.weights)} weights",
            f">= {bound:.0f} s (lower bound)",
            "(comparison)",
            None,
        ),
        Row(
            "4    speed-up of derive notes over sympy.diff",
            f">= {bound / wall:.0f}x",
            ">= 20x",
            bound / wall >= 20,
        ),
        Row(
            "4    sympy.diff values = the sweep's gradients",
            f"max rel. err {worst:.1e} ({len(sample)} weights)",
            "< 1e-9",
            worst < 1e-9,
        ),
        Row(
            f"4    the sweep: all {len(net.weights)} gradients at once",
            secs(sweep),
            "(comparison)",
            None,
        ),
        Row(
            "4    the sweep = at() per weight; = central diff.",
            f"max rel. err {per_weight:.1e}; abs. err {fd:.1e}",
            "< 1e-12; < 1e-8",
            per_weight < 1e-12 and fd < 1e-8,
        ),
    ]


def composed_loss(net: Network) -> sp.Expr:
    """Return the loss as one SymPy expression of inputs, weights and targets (what a SymPy user writes)."""
    value: dict[str, sp.Expr] = {x: sp.Symbol(x) for x in net.inputs}
    for layer in net.layers:
        zs = []
        for n in layer:
            neuron = net.neurons[n]
            z = sp.Add(*[value[s] * sp.Symbol(w) for s, w in neuron.inputs])
            zs.append(z + sp.Symbol(neuron.bias) if neuron.bias else z)
        rule = ACTIVATIONS[net.neurons[layer[0]].activation]
        outs = rule.forward(zs) if rule.couples else [rule.forward(z) for z in zs]
        value.update(zip(layer, outs, strict=True))
    outputs = [value[o] for o in net.outputs]
    return LOSSES[net.loss_kind].value(outputs, [sp.Symbol(t) for t in net.targets])


# -- the table ---------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    """Return the rows as an aligned text table."""
    cells = [("goal", "measured", "target", "result")] + [
        (r.goal, r.measured, r.target, "" if r.ok is None else ("pass" if r.ok else "FAIL"))
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    cells.insert(1, tuple("-" * w for w in widths))
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller samples")
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="derive-bench-") as tmp:
        folder = Path(tmp)
        rows = [
            *startup(5 if args.quick else 15),
            *deep(folder),
            *streaming(folder, args.quick),
            *notes(folder, args.quick),
        ]
    print(table(rows))
    print(
        f"\n{sys.platform}, Python {sys.version.split()[0]}, SymPy {sp.__version__}, "
        f"{os.cpu_count()} CPUs; benchmark took {time.perf_counter() - start:.0f} s"
    )
    return 0 if all(r.ok is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
