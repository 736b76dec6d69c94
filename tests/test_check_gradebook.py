"""Grading a class (issue 20): a generated class graded to the gradebook its generator knows.

Each submission is made from answers whose verdict is known before derive
sees them: the formulas and numbers are checked against tests/reference.py
(central differences on the composed network), the expansions are the
chain rule written out by hand. The hostile files must be refused row by
row, never crash, run or read anything.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random

import pytest
import reference
from clirun import run

from derive.check import grade_class, read_expect, submission_files
from derive.graph import load_network

W1 = "dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1"
# question -> (right, wrong): the right one is the chain rule, the wrong one drops or swaps a part
POOL = {
    "dL/dW1": (f"{W1} + dL/dO31*dO31/dO22*dO22/dO11*dO11/dW1", W1),
    "dL/dW7": ("dL/dO21*dO21/dW7", "dL/dO22*dO22/dW7"),
    "dL/dW11": ("(O31 - y)*O21", "(O31 - y)*O22"),
    "dL/dW12": ("-0.3009", "0.3009"),
}
QUESTIONS = list(POOL)


@pytest.fixture(scope="module")
def net():
    return load_network("two_hidden")


def test_the_pools_formulas_and_numbers_are_what_the_generator_says(net):
    point = dict(net.values)
    env = reference.forward(net, point)
    w11 = reference.central_difference(net, "L", "W11", point)
    assert math.isclose(w11, (env["O31"] - point["y"]) * env["O21"], rel_tol=1e-6)
    assert not math.isclose(w11, (env["O31"] - point["y"]) * env["O22"], rel_tol=1e-3)
    w12 = reference.central_difference(net, "L", "W12", point)
    assert round(w12, 4) == -0.3009


def write_class(folder):
    """Write a class and return its gradebook as the generator knows it: file -> verdicts."""
    rng = random.Random(7)
    known = {}
    for k in range(4):
        lines, verdicts = [f"# student {k}", ""], []
        for n, q in enumerate(QUESTIONS, start=1):
            pick = rng.choice(("match", "mismatch", "missing", "blank"))
            verdicts.append("missing" if pick == "blank" else pick)
            if pick == "blank":  # left as the answers file gives it
                lines += [f"- **Exercise {n}.** {q} = ", ""]
            elif pick != "missing":
                lines += [f"{n}. ${q} = {POOL[q][pick == 'mismatch']}$", ""]
        if k == 0:  # an unreadable answer to the last question, beside the rest
            lines += [f"{q} = dL/dO31 +* 2", ""]
            # (every answer to a question must match; a wrong one decides before it)
            verdicts[-1] = "mismatch" if verdicts[-1] == "mismatch" else "unreadable"
        (folder / f"s{k}.md").write_text("\n".join(lines), encoding="utf-8")
        known[f"s{k}.md"] = verdicts
    hostile = {
        "big.md": "dL/dW1 = 0\n" * 100_001,  # over the size limit
        "nul.md": "dL/dW7 = dL/dO21\x00*dO21/dW7\n",
        "deep.md": "dL/dW7 = " + "(" * 5000 + "dL/dW7" + ")" * 5000 + "\n",
        "code.md": "dL/dW7 = __import__('os').system('touch pwned')\n",
        "binary.md": b"\xff\xfe\x00d",
    }
    for name, text in hostile.items():
        data = text if isinstance(text, bytes) else text.encode()
        (folder / name).write_bytes(data)
        whole_file = name in (
            "big.md",
            "binary.md",
            "nul.md",
        )  # else one answer, to dL/dW7, is unreadable
        known[name] = (
            ["unreadable"] * 4 if whole_file else ["missing", "unreadable"] + ["missing"] * 2
        )
    (folder / "link.md").symlink_to(folder.parent / "elsewhere.md")
    (folder.parent / "elsewhere.md").write_text(f"dL/dW7 = {POOL['dL/dW7'][0]}\n")
    known["link.md"] = ["unreadable"] * len(QUESTIONS)
    return known


def test_a_generated_class_is_graded_to_the_gradebook_its_generator_knows(net, tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    known = write_class(folder)
    book = grade_class(net, submission_files([str(folder)]), read_expect(",".join(QUESTIONS)))
    got = {sub.file.rsplit("/", 1)[-1]: [s.verdict for s in sub.scores] for sub in book.submissions}
    assert got == known
    for sub in book.submissions:
        assert sub.score == sum(s.verdict == "match" for s in sub.scores)
    assert not (tmp_path / "pwned").exists() and not list(folder.glob("pwned"))
    reasons = {
        sub.file.rsplit("/", 1)[-1]: sub.error or sub.scores[1].feedback for sub in book.submissions
    }
    assert "larger than the limit" in reasons["big.md"]
    assert (
        "nul.md:1:17: the file of answers holds the control character '\\x00'" in reasons["nul.md"]
    )
    assert "nested too deeply" in reasons["deep.md"]
    assert "not UTF-8" in reasons["binary.md"]
    assert "symbolic link" in reasons["link.md"]


def test_the_gradebook_as_csv_and_gradescope_from_the_command_line(tmp_path):
    (tmp_path / "ada.md").write_text(
        f"- $dL/dW7 = {POOL['dL/dW7'][0]}$\n- dL/dW11 = (O31 - y)*O22\n"
    )
    (tmp_path / "=cmd.md").write_text("dL/dW7 = 0\n")
    (tmp_path / "hw.yaml").write_text(
        "network: two_hidden\nquestions:\n  dL/dW7: 2\n  dL/dW11: 0.5\n  dL/dW1: 1\n"
    )
    done = run(tmp_path, "check", "--file", "*.md", "--expect", "hw.yaml", "--format", "csv")
    assert done.returncode == 1, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows == [
        ["file", "score", "max", "dL/dW7", "dL/dW11", "dL/dW1"],
        ["'=cmd.md", "0", "3.5", "mismatch", "missing", "missing"],
        ["ada.md", "2", "3.5", "match", "mismatch", "missing"],
    ]
    done = run(
        tmp_path, "check", "--file", "ada.md", "--expect", "hw.yaml", "--format", "gradescope"
    )
    results = json.loads(done.stdout)
    assert results["score"] == 2.0
    assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in results["tests"]] == [
        ("dL/dW7", 2.0, 2.0, "passed"),
        ("dL/dW11", 0.0, 0.5, "failed"),
        ("dL/dW1", 0.0, 1.0, "failed"),
    ]
    assert results["tests"][1]["output"].startswith("line 2: does not match: ")
    assert results["tests"][2]["output"] == "no answer to dL/dW1"
    # An answer to a question not asked is listed, and said to score nothing.
    done = run(tmp_path, "check", "--file", "ada.md", "--net", "two_hidden", "--expect", "dL/dW7")
    [row] = [r for r in done.stdout.splitlines() if "dL/dW11" in r]
    assert "mismatch  not asked, not scored; " in row and "1/1    ada.md" in done.stdout


def test_a_class_report_has_a_row_per_file_and_answer_and_a_summary(tmp_path):
    (tmp_path / "a.md").write_text("dL/dW7 = dL/dO21*dO21/dW7\n")
    (tmp_path / "b.txt").write_text("dL/dW7 = dL/dO22*dO22/dW7\ndL/dW11 = (O31 - y)*O21\n")
    done = run(tmp_path, "check", "--file", "a.md", "b.txt", "--net", "two_hidden")
    lines = done.stdout.splitlines()
    assert lines[1].split()[:4] == ["a.md", "1", "dL/dW7", "match"]
    assert lines[2].split()[:4] == ["a.md", "-", "dL/dW11", "missing"]
    assert lines[-1].startswith("2 files (0 not read); 4 questions scored: 2 match, 1 does not")
    assert "--expect fixes them" in lines[-1]


def test_assignment_file_mistakes_are_one_line_at_their_place(tmp_path):
    (tmp_path / "a.md").write_text("dL/dW7 = 0\n")
    (tmp_path / "hw.yaml").write_text("network: two_hidden\nquestions:\n  dL/dW7: lots\n")
    done = run(tmp_path, "check", "--file", "a.md", "--expect", "hw.yaml")
    assert (done.returncode, done.stderr.strip()) == (
        2,
        "derive: hw.yaml:3:11: points must be a number, not 'lots'; write 2 or 0.5",
    )
    done = run(tmp_path, "check", "--file", "a.md", "--net", "two_hidden", "--expect", "dL/dW99")
    assert done.returncode == 2 and "dL/dW99" in done.stderr and "W9" in done.stderr
