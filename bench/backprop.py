"""Benchmarks for issue 10 (derive backprop at MNIST size), each figure against its goal.

    python bench/backprop.py

The network is the bundled mnist.yaml (784-100-10, relu, softmax, biases,
cross-entropy: 79,510 parameters); the point file, written into a temporary
folder, holds every value (``derive.evaluate.random_point``, seed 1). The two
commands run in a subprocess, from this checkout (``python -m derive``), with
their wall time and peak RSS; then the same work in this process, stage by
stage, says where the time goes. On a shared machine the wall time includes
waiting for a CPU, so the CPU time is shown beside it (and in-process stages are
CPU time). Nothing here is a test.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's derive

from run import Row, cpu_timed, finish, secs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DERIVE = [sys.executable, "-m", "derive"]


def stages(point_file: Path) -> list[Row]:
    """Time each stage of ``derive backprop --format json`` in this process (CPU time)."""
    clock = time.process_time  # CPU time: the machine may be shared
    t0 = clock()
    from derive.evaluate import read_point
    from derive.graph import load_network
    from derive.printing.backprop import Shown, json_report
    from derive.sweep import backward, values

    t1 = clock()
    net = load_network("mnist")
    t2 = clock()
    point = read_point(str(point_file), net)
    t3 = clock()
    sweep = backward(net)
    t4 = clock()
    v = values(net, point, sweep=sweep)
    t5 = clock()
    text = json_report(Shown(sweep, v))
    t6 = clock()
    io.StringIO().write(text)
    return [
        Row("10   stage (CPU): imports", secs(t1 - t0), "", None),
        Row("10   stage (CPU): load mnist.yaml (network, graph)", secs(t2 - t1), "", None),
        Row("10   stage (CPU): read the point file", secs(t3 - t2), "", None),
        Row("10   stage (CPU): the sweep as data (backward)", secs(t4 - t3), "", None),
        Row("10   stage (CPU): the numbers (forward + sweep)", secs(t5 - t4), "", None),
        Row(f"10   stage: write the JSON ({len(text) / 1e6:.1f} MB)", secs(t6 - t5), "", None),
    ]


def main() -> int:
    from derive.evaluate import random_point
    from derive.graph import load_network

    start = time.perf_counter()
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory(prefix="derive-bench-") as tmp:
        point_file = Path(tmp) / "point.yaml"
        point = random_point(load_network("mnist"), seed=1)
        point_file.write_text("".join(f"{k}: {v!r}\n" for k, v in point.items()))
        cmd = [*DERIVE, "backprop", "--net", "mnist", "--at", str(point_file), "--format", "json"]
        with open(Path(tmp) / "out.json", "w") as out:
            wall, cpu, rss, code = cpu_timed(cmd, stdout=out)
        data = json.loads((Path(tmp) / "out.json").read_text())
        grads = len(data["gradients"])
        single = [*DERIVE, "dL/dw1_5_300", "--net", "mnist", "--at", str(point_file)]
        wall1, cpu1, rss1, code1 = cpu_timed(single)
        rows = [
            Row(
                f"10 derive backprop --net mnist --at point --format json ({grads:,} gradients)",
                f"{secs(wall)} wall, {secs(cpu)} CPU, {rss / 1024:.0f} MB",
                "< 10 s, < 500 MB",
                code == 0 and min(wall, cpu) < 10 and rss < 500 * 1024,
            ),
            *stages(point_file),
            Row(
                "10 derive dL/dw1_5_300 --net mnist --at point",
                f"{secs(wall1)} wall, {secs(cpu1)} CPU, {rss1 / 1024:.0f} MB",
                "< 3 s",
                code1 == 0 and min(wall1, cpu1) < 3,
            ),
        ]
    return finish(rows, start)


if __name__ == "__main__":
    sys.exit(main())
