"""Benchmarks for issue 12 (notes that teach backpropagation), each goal against its figure.

    python bench/notes.py

Writes the documented course (output/course.yaml), the network of four hidden
layers of three (tests/four_hidden.yaml) and the bundled mnist (784-100-10, given
by counts) into a temporary folder with ``derive notes --format both --pdf``, from
this checkout, in a subprocess; then counts each PDF's pages and the share of
each Markdown note's text lines that repeat (as tests/test_notes.py does). The
mnist row times the whole command, pdflatex included. Nothing here is a test:
the page goals are also checked by tests/test_notes.py, which marks a miss xfail.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from renderers import pdf_pages, repeated_share  # noqa: E402
from run import Row, cpu_timed, finish, secs  # noqa: E402

DERIVE = [sys.executable, "-m", "derive"]
# Issue 12's page goals.
PAGES = {"two_hidden": 8, "softmax": 12, "four_hidden": 12, "mnist": 30}


def notes(source: str, out: Path) -> tuple[float, float, int]:
    """Run ``derive notes`` on a network or course; return wall time, CPU time and status."""
    cmd = [*DERIVE, "notes", "--net", source, "--out", str(out), "--format", "both", "--pdf"]
    wall, cpu, _, code = cpu_timed(cmd)
    return wall, cpu, code


def main() -> int:
    start = time.perf_counter()
    os.chdir(ROOT)
    rows = []
    with tempfile.TemporaryDirectory(prefix="derive-bench-notes-") as tmp:
        out = Path(tmp)
        wall, cpu, code = notes("output/course.yaml", out / "course")
        rows.append(
            Row(
                "12 derive notes --net output/course.yaml --format both --pdf",
                f"{secs(wall)} wall, {secs(cpu)} CPU",
                "",
                None if code == 0 else False,
            )
        )
        for pdf in sorted((out / "course").glob("*.pdf")):
            goal = PAGES.get(pdf.stem)
            n = pdf_pages(pdf)
            rows.append(
                Row(
                    f"12   course note {pdf.stem}: PDF pages",
                    str(n),
                    f"<= {goal}" if goal else "",
                    (n <= goal) if goal else None,
                )
            )
        shares = {p.stem: repeated_share(p.read_text()) for p in (out / "course").glob("*.md")}
        worst = max(shares, key=shares.get)
        rows.append(
            Row(
                "12   course: most repeated Markdown text lines",
                f"{shares[worst]:.1%} ({worst})",
                "<= 10%",
                shares[worst] <= 0.10,
            )
        )
        for name, source in [
            ("four_hidden", "tests/four_hidden.yaml"),
            ("two_hidden", "two_hidden"),
            ("mnist", "mnist"),
        ]:
            wall, cpu, code = notes(source, out / name)
            n = pdf_pages(out / name / f"{name}.pdf") if code == 0 else 0
            goal = PAGES[name]  # on its own a note also carries the course's introduction
            rows.append(
                Row(
                    f"12 derive notes --net {source} --format both --pdf: PDF pages (on its own)",
                    str(n),
                    f"<= {goal}",
                    code == 0 and n <= goal,
                )
            )
            if name == "mnist":
                rows.append(
                    Row(
                        "12 derive notes --net mnist --format both --pdf: time, pdflatex included",
                        f"{secs(wall)} wall, {secs(cpu)} CPU",
                        "< 30 s",
                        code == 0 and min(wall, cpu) < 30,
                    )
                )
    return finish(rows, start)


if __name__ == "__main__":
    sys.exit(main())
