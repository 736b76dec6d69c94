"""Feedback a student can act on (issue 20): what a report says when an answer is wrong.

Each wrong answer is first shown wrong, and how, by tests/reference.py
(central differences on the composed network, nothing of derive's); the
report must then name that difference.
"""

from __future__ import annotations

import math

import pytest
import reference
from clirun import run

from derive.check import Shared, check, check_text
from derive.evaluate import file_point
from derive.graph import load_network

NOVALUES = "layers:\n  - inputs: [x1]\n  - neurons: [O1]\nloss: {kind: half_squared_error}\n"
W1_FORMULA = "O11*x1*(1 - O11)*(O31 - y)*(O21*W11*W7*(1 - O21) + O22*W12*W9*(1 - O22))"


@pytest.fixture(scope="module")
def nets():
    return {name: load_network(name) for name in ("two_hidden", "simple")}


def messages(result) -> str:
    return "\n".join(r.message for r in result.reasons)


# -- files ----------------------------------------------------------------------------


def test_rows_of_an_aligned_block_are_reported_at_their_own_lines(nets):
    text = "\n".join(["$$", r"\begin{aligned}", r"dL/dW11 &= (O31 - y) O21 \\",
                      r"dL/dW12 &= (O31 - y) \\", r"  &\quad \cdot O22", r"\end{aligned}", "$$"])  # fmt: skip
    batch = check_text(nets["two_hidden"], text, markdown=True)
    assert [(r.line, r.derivative, r.verdict) for r in batch.lines] == [
        (3, "dL/dW11", "match"),
        (4, "dL/dW12", "match"),
    ]


@pytest.mark.parametrize("markdown", [False, True])
def test_a_wrapped_answer_is_one_answer_at_its_first_line(nets, markdown):
    text = (
        "dL/dW1 = dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1\n"
        "  + dL/dO31*dO31/dO22*dO22/dO11*dO11/dW1\n"
        "dL/dW2 = dL/dO11*dO11/dW2 +\n  dL/dO12*dO12/dW2\n"
    )
    batch = check_text(nets["two_hidden"], text, markdown=markdown)
    assert [(r.line, r.verdict) for r in batch.lines] == [(1, "match"), (3, "mismatch")]
    assert "W2 feeds only O11" in batch.lines[1].reason  # the whole line, not "write dL/dW2 = +"


def test_an_unclosed_display_block_is_a_warning_not_an_extra_answer(nets):
    answers = [f"dL/dW{k} = dL/dO11*dO11/dW{k}" for k in (1, 2, 3)]
    text = "$$ " + "\n\n".join(answers) + "\n"
    batch = check_text(nets["two_hidden"], text, markdown=True)
    assert batch.summary["total"] == 3 and batch.summary["warning"] == 1


def test_a_nul_byte_is_named_and_matches_with_unreadable_lines_exit_2(nets, tmp_path):
    assert (
        "unexpected NUL byte (\\x00)"
        in check_text(nets["simple"], "dL/dW4 = 2\x00").lines[0].reason
    )
    (tmp_path / "a.txt").write_bytes(b"dL/dW4 = dL/dO2*dO2/dW4\ndL/dW4 = dL/dO2 +* dO2/dW4\n")
    done = run(tmp_path, "check", "--file", "a.txt", "--net", "simple")
    assert done.returncode == 2
    assert done.stdout.splitlines()[-1] == "2 answers: 1 matches, 0 do not match, 1 unreadable"


# -- numbers ----------------------------------------------------------------------------


def test_a_number_with_the_wrong_sign_is_a_sign_error_and_never_not_a_constant(nets):
    n = nets["two_hidden"]
    truth = reference.central_difference(n, "L", "W1", dict(n.values))
    result = check(n, f"dL/dW1 = {-truth:.4g}")
    assert messages(result).startswith(f"sign error: the answer is {-truth:.4g}")
    assert "not a constant" not in messages(check(n, "dL/dW1 = 0.5"))


def test_check_at_grades_a_number_at_the_point_given(tmp_path):
    point = {"x1": 0.5, "W1": -0.3, "y": 0.2}
    (tmp_path / "n.yaml").write_text(NOVALUES)
    n = load_network(tmp_path / "n.yaml")
    truth = reference.central_difference(n, "L", "W1", point)
    at = ",".join(f"{k}={v}" for k, v in point.items())
    done = run(tmp_path, "check", f"dL/dW1 = {truth:.4g}", "--net", "n.yaml", "--at", at)
    assert done.returncode == 0, done.stdout
    # Without --at, on a file without values, at the point its notes work (seed 0): an
    # instructor's class answered the notes' numbers and got 'unreadable: missing values'.
    notes_point = file_point(n)[0]
    truth = reference.central_difference(n, "L", "W1", notes_point)
    done = run(tmp_path, "check", f"dL/dW1 = {truth:.4g}", "--net", "n.yaml")
    assert done.returncode == 0, done.stdout
    done = run(tmp_path, "check", "dL/dW1 = 0.5", "--net", "n.yaml")
    assert done.returncode == 1 and "at the notes' example point" in done.stdout


def test_a_power_that_underflows_is_never_called_zero(nets):
    result = check(nets["two_hidden"], f"dL/dW1 = ({W1_FORMULA})^64")
    text = messages(result)  # (2.4e-195: a tiny number, not 0)
    assert "the answer is 0" not in text and "the answer is 2.359e-195" in text


# -- formulas: which factor differs ------------------------------------------------------

SOFTPLUS = """
name: sp
layers:
  - inputs: [x1, x2]
  - neurons: [h]
    activation: softplus
  - neurons: [o]
loss: {kind: half_squared_error, target: y}
"""


def _sig(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# The right formula, on the reference forward pass: it must equal the central difference,
# so the change the report names is the one that makes the answer right.
W1_RIGHT = "(O31 - y)*(W11*O21*(1 - O21)*W7 + W12*O22*(1 - O22)*W9)*O11*(1 - O11)*x1"


def w1_right(e):
    inner = (
        e["W11"] * e["O21"] * (1 - e["O21"]) * e["W7"]
        + e["W12"] * e["O22"] * (1 - e["O22"]) * e["W9"]
    )
    return (e["O31"] - e["y"]) * inner * e["O11"] * (1 - e["O11"]) * e["x1"]


def softmax_w1(e):
    back = sum((e[f"O{j}"] - e[f"y{j}"]) * e[w] for j, w in ((1, "W5"), (2, "W7"), (3, "W9")))
    return back * (e["u1"] > 0) * e["x1"]


def sp_w1(e):
    return (e["o"] - e["y"]) * e["o"] * (1 - e["o"]) * e["W3"] * _sig(e["z_h"]) * e["x1"]


WRONG = [
    ("two_hidden", "W1", W1_RIGHT.replace("*x1", "*x2"), w1_right, "x2 is written where x1 belongs"),
    ("two_hidden", "W1", W1_RIGHT.replace("W7", "W8"), w1_right, "W8 is written where W7 belongs"),
    ("two_hidden", "W1", W1_RIGHT.replace("O11*(1 - O11)", "sigma(z11)"), w1_right,
     "σ(z11) is written where σ'(z11) belongs"),
    ("two_hidden", "W1", W1_RIGHT.replace("O11*(1 - O11)", "O11"), w1_right,
     "a factor (1 − O11) is missing: the sigmoid slope of O11 is O11·(1 − O11)"),
    ("softmax", "W7", "(O1 - y1)*h1", lambda e: (e["O2"] - e["y2"]) * e["h1"],
     "O1 and y1 are written where O2 and y2 belong"),
    ("softmax", "W1", "((O1-y1)*W5 + (O2-y2)*W7 + (O3-y3)*W9)*Heaviside(u2)*x1", softmax_w1,
     "u2 is written where u1 belongs"),
    ("sp", "W1", "(o - y)*o*(1 - o)*W3*sigma'(z_h)*x1", sp_w1,
     "σ'(z_h) is written where σ(z_h) belongs"),
    ("sp", "W1", "(o - y)*o*(1 - o)*W3*x1", sp_w1,
     "a factor σ(z_h), the softplus slope of h, is missing"),
]  # fmt: skip


@pytest.fixture(scope="module")
def formula_nets(tmp_path_factory):
    path = tmp_path_factory.mktemp("sp") / "sp.yaml"
    path.write_text(SOFTPLUS, encoding="utf-8")
    nets = {"sp": load_network(path), **{n: load_network(n) for n in ("two_hidden", "softmax")}}
    return {name: (net, Shared(net)) for name, net in nets.items()}  # one class per network


@pytest.mark.parametrize(("net", "wrt", "answer", "right", "words"), WRONG)
def test_a_formula_with_one_thing_wrong_says_which(formula_nets, net, wrt, answer, right, words):
    n, shared = formula_nets[net]
    point = reference.random_point(n, 11)
    truth = reference.central_difference(n, n.loss, wrt, point)
    assert math.isclose(right(reference.forward(n, point)), truth, rel_tol=1e-5, abs_tol=1e-9)
    result = check(n, f"d{n.loss}/d{wrt} = {answer}", shared=shared)
    assert not result.match
    assert messages(result).startswith(words), messages(result)
    assert "agree where" not in messages(result)


def test_paths_multiplied_inside_a_chain_say_that_paths_add(nets):
    answer = "dL/dW1 = dL/dO31*(dO31/dO21*dO21/dO11 * dO31/dO22*dO22/dO11)*dO11/dW1"
    assert messages(check(nets["two_hidden"], answer)) == (
        "∂O31/∂O21·∂O21/∂O11 and ∂O31/∂O22·∂O22/∂O11: these two paths from O31 to O11 are "
        "multiplied; paths add (write + between them)"
    )


def test_a_zero_answer_is_not_called_a_sign_error(nets):
    text = messages(check(nets["two_hidden"], "dL/dW1 = 0.0"))  # dL/dW1 = 0.001848
    assert "sign error" not in text and "the answer is a number, 0, but" in text
