"""Benchmarks for issue 17 (computational graphs), each figure against its goal.

    python bench/graphs.py

Two generated files, in a temporary folder: a 1,000-step unrolled RNN (4,000
formula nodes: s_t = W*h_(t-1), u_t = U*x_t, a_t = s_t + u_t + b, h_t =
tanh(a_t), the loss at the last step; one tied weight W with 1,000 paths) and
a batch of 1,000 examples on the bundled two_hidden network. Each command runs
in a subprocess from this checkout (``python -m derive``), with its wall time
and, beside it, its CPU time: on a shared machine the wall time includes waiting for a CPU,
so a goal is met by the smaller of the two (as in bench/backprop.py). Nothing here is a test.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's derive

from run import Row, cpu_timed, finish, secs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DERIVE = [sys.executable, "-m", "derive"]
STEPS = 1000
EXAMPLES = 1000


def rnn(steps: int) -> str:
    """Return the YAML of an RNN unrolled over ``steps`` steps: four formula nodes a step."""
    rng = random.Random(1)
    xs = [f"x{t}" for t in range(1, steps + 1)]
    lines = [f"name: rnn{steps}", f"inputs: [h0, y, {', '.join(xs)}]", "params: [W, U, b]"]
    lines.append("nodes:")
    for t in range(1, steps + 1):
        lines += [
            f"  s{t}: W*h{t - 1}",
            f"  u{t}: U*x{t}",
            f"  a{t}: s{t} + u{t} + b",
            f"  h{t}: tanh(a{t})",
        ]
    lines += [f"  L: (h{steps} - y)**2", "output: L", "values:"]
    lines += ["  h0: 0", "  y: 0.5", "  W: 0.9", "  U: 0.5", "  b: 0.1"]
    lines += [f"  {x}: {rng.uniform(-1, 1):.3f}" for x in xs]
    return "\n".join(lines) + "\n"


def batch(examples: int) -> str:
    """Return two_hidden with ``examples`` examples (its values: the parameters only)."""
    rng = random.Random(2)
    text = (ROOT / "networks" / "two_hidden.yaml").read_text(encoding="utf-8")
    head, _, values = text.partition("values:")
    params = "".join(line + "\n" for line in values.splitlines() if line.strip()[:1] in ("W", "b"))
    rows = [
        f"  - {{x1: {rng.random():.3f}, x2: {rng.random():.3f}, x3: {rng.random():.3f}, "
        f"y: {rng.randrange(2)}}}"
        for _ in range(examples)
    ]
    head = head.replace("name: two_hidden", f"name: two_hidden_batch{examples}")
    return head + "values:\n" + params + "examples:\n" + "\n".join(rows) + "\n"


def run(cmd: list[str], tmp: Path) -> tuple[float, float, str]:
    out_path = tmp / "out.txt"
    with open(out_path, "w") as out:
        wall, cpu, _, code = cpu_timed(cmd, stdout=out)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with status {code}")
    return wall, cpu, out_path.read_text(encoding="utf-8")


def main() -> int:
    start = time.perf_counter()
    os.chdir(ROOT)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="derive-bench-") as folder:
        tmp = Path(folder)
        net = tmp / "rnn.yaml"
        net.write_text(rnn(STEPS), encoding="utf-8")
        cmd = [*DERIVE, "backprop", "--net", str(net), "--at", "b=0.1", "--format", "json"]
        wall, cpu, out = run(cmd, tmp)
        grads = {g["param"]: g["value"] for g in json.loads(out)["gradients"]}
        rows.append(
            Row(
                f"17   backprop --at, RNN of {STEPS:,} steps ({4 * STEPS:,} formula nodes)",
                f"{secs(wall)} (CPU {secs(cpu)}); dL/dW = {grads['W']:.4g}",
                "< 3 s",
                min(wall, cpu) < 3.0,
            )
        )
        # The count alone, in this process: counting never lists a path.
        from derive.expand import derive
        from derive.graph import load_network

        graph = load_network(net)
        clock = time.process_time
        t0 = clock()
        count = derive(graph, "L", "W", max_paths=0).path_count
        t1 = clock()
        rows.append(
            Row(
                "17   dL/dW path count, the same RNN (tied W; library, CPU)",
                f"{count:,} paths in {secs(t1 - t0)}",
                f"exactly {STEPS:,}, instant",
                count == STEPS and t1 - t0 < 0.5,
            )
        )
        cmd = [*DERIVE, "dL/dW", "--net", str(net), "--format", "json", "--max-paths", "0"]
        wall, cpu, out = run(cmd, tmp)
        rows.append(
            Row(
                "17   derive dL/dW --format json, the same RNN (every local partial's formula)",
                f"{secs(wall)} (CPU {secs(cpu)}); {json.loads(out)['path_count']:,} paths",
                "",
                None,
            )
        )
        # Start-up: what derive backprop imports, and SymPy's share of it (imported by the
        # rule table's rows and the printers, though the numbers never use it).
        code = "import derive.api, derive.sweep, derive.printing.backprop"
        _, imports, _, _ = cpu_timed([sys.executable, "-c", code])
        _, sympy, _, _ = cpu_timed([sys.executable, "-c", "import sympy"])
        rows.append(
            Row(
                "17   start-up: derive backprop's imports (CPU), SymPy's share",
                f"{secs(imports)}, of which SymPy {secs(sympy)}",
                "",
                None,
            )
        )
        net = tmp / "batch.yaml"
        net.write_text(batch(EXAMPLES), encoding="utf-8")
        cmd = [*DERIVE, "backprop", "--net", str(net), "--at", "W1=0.1", "--format", "json"]
        wall, cpu, out = run(cmd, tmp)
        data = json.loads(out)
        rows.append(
            Row(
                f"17   backprop --at, two_hidden with {EXAMPLES:,} examples",
                f"{secs(wall)} (CPU {secs(cpu)}); {len(data['examples']):,} sweeps averaged",
                "< 5 s",
                min(wall, cpu) < 5.0,
            )
        )
    return finish(rows, start)


if __name__ == "__main__":
    sys.exit(main())
