"""Benchmark for issue 20: grading a class's files with ``derive check --file``, against its goal.

    python bench/check_class.py            # 200 files of 10 answers (about 15 s)
    python bench/check_class.py --files 50

The goal: 200 files of 10 answers each graded in under a minute on 2 CPUs,
the network and its derivations built once for the class, not per file. The
files are generated into a temporary folder on ``two_hidden``: each answer
right or wrong, written as a path expansion, a factored form, a backward
sweep line, LaTeX, a formula or a number, so every way of grading runs. The
command runs in a subprocess (wall and CPU time: the machine may be shared),
then the same grading in this process says how much one file costs once the
class's shared work is done. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's derive

from run import Row, cpu_timed, derive_command, finish, secs  # noqa: E402

GOAL = 60.0  # seconds for 200 files of 10 answers
W1 = "dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1"
# Each question: a right answer and a wrong one, in the ways students write them.
ANSWERS = [
    (f"dL/dW1 = {W1} + dL/dO31*dO31/dO22*dO22/dO11*dO11/dW1", f"dL/dW1 = {W1}"),
    ("dL/dW2 = dL/dO31*(dO31/dO21*dO21/dO11 + dO31/dO22*dO22/dO11)*dO11/dW2",
     "dL/dW2 = dL/dO31*dO31/dO21*dO21/dO11*dO11/dW2*2"),
    ("dL/dW7 = dL/dO21*dO21/dW7", "dL/dW7 = dL/dO22*dO22/dW7"),
    ("dL/dW11 = (O31 - y)*O21", "dL/dW11 = (O31 - y)*O22"),
    (r"\frac{\partial L}{\partial W_{12}} = (O_{31} - y) O_{22}",
     r"\frac{\partial L}{\partial W_{12}} = (O_{31} - y) O_{31} (1 - O_{31}) O_{22}"),
    ("dL/dO11 = dL/dO21*dO21/dO11 + dL/dO22*dO22/dO11", "dL/dO11 = dL/dO21*dO21/dO11"),
    ("dL/dW9 = dL/dO22*dO22/dW9", "dL/dW9 = dL/dO22*dO22/dO11*dO11/dW9"),
    ("dL/dW10 = (O31 - y)*W12*O22*(1 - O22)*O12", "dL/dW10 = (O31 - y)*W12*O22*O12"),
    ("dL/dW3 = dL/dO11*dO11/dW3", "dL/dW3 = dL/dO12*dO12/dW3"),
    ("dL/dW12 = -0.3009", "dL/dW12 = 0.3009"),
]  # fmt: skip
QUESTIONS = ",".join(right.partition(" =")[0].replace("\\", "") for right, _ in ANSWERS[:4])


def write_class(folder: Path, files: int) -> None:
    """Write ``files`` submissions: each answer right with probability 0.7, in Markdown."""
    rng = random.Random(20)
    for k in range(files):
        lines = [f"# Homework 3, student {k + 1}", ""]
        for n, (right, wrong) in enumerate(ANSWERS, start=1):
            lines += [f"{n}. ${right if rng.random() < 0.7 else wrong}$", ""]
        (folder / f"student{k + 1:03}.md").write_text("\n".join(lines), encoding="utf-8")


def in_process(folder: Path) -> tuple[float, float]:
    """Return the CPU seconds of grading the class in this process, and of one file more."""
    from derive.check import grade_class, read_expect, submission_files
    from derive.graph import load_network

    net = load_network("two_hidden")
    files = submission_files([str(folder)])
    clock = time.process_time
    start = clock()
    grade_class(net, files, read_expect(QUESTIONS))
    whole = clock() - start
    start = clock()
    grade_class(net, files[:1], read_expect(QUESTIONS))
    return whole, clock() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_class(folder, args.files)
        cmd = [*derive_command(), "check", "--file", str(folder), "--net", "two_hidden",
               "--expect", QUESTIONS, "--format", "csv"]  # fmt: skip
        wall, cpu, _, code = cpu_timed(cmd)
        whole, one = in_process(folder)
    answers = args.files * len(ANSWERS)
    goal = GOAL * args.files / 200
    rows = [
        Row(f"derive check --file: {args.files} files of {len(ANSWERS)} answers, wall",
            secs(wall), f"< {goal:.0f} s", wall < goal and code in (0, 1)),
        Row("  the same, CPU time (user + system)", secs(cpu), "", None),
        Row("  in this process: the class, CPU", secs(whole), "", None),
        Row("  per answer, CPU", f"{whole / answers * 1000:.1f} ms", "", None),
        Row("  one file graded alone (nothing shared yet), CPU", secs(one), "", None),
    ]  # fmt: skip
    return finish(rows, start)


if __name__ == "__main__":
    sys.exit(main())
