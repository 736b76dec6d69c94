"""Wrong verdicts found by trying `derive check` as students do (issue 11), each one pinned.

And the explanations: what a report says must be something a student can act on.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from derive.check import check, check_text
from derive.check.answer import parse_answer
from derive.check.concrete import sample_point, samples
from derive.check.grade import Grader
from derive.check.report import format_check_text
from derive.cli import main
from derive.formula.tree import Call, walk
from derive.graph import load_network
from derive.words import NOTATION

RELU = """
name: relu_net
layers:
  - inputs: [x1, x2]
  - neurons: [h1, h2]
    activation: relu
  - neurons: [O]
    activation: linear
preactivations: {h1: z1, h2: z2, O: zO}
loss: {kind: half_squared_error, target: y}
"""

TANH = """
name: tanh_net
layers:
  - inputs: [x1]
  - neurons: [O1]
    activation: tanh
  - neurons: [O2]
loss: {kind: squared_error, target: y}
"""


@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nets")
    out = {}
    for name, text in (("relu", RELU), ("tanh", TANH)):
        path = folder / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        out[name] = load_network(path)
    for name in ("two_hidden", "simple", "softmax", "multi_3b1b"):
        out[name] = load_network(name)
    return out


def messages(result):
    return "\n".join(r.message for r in result.reasons)


def verdicts(batch):
    return [line.verdict for line in batch.lines]


# -- files ------------------------------------------------------------------------------------

BCE_W11 = "dL/dW11 = (O31 - y)*O21"  # two_hidden: bce and the sigmoid slope cancel


@pytest.mark.parametrize("markdown", [False, True])
def test_an_answer_with_a_minus_inside_is_read_whole_in_a_file(nets, markdown):
    batch = check_text(
        nets["two_hidden"], f"{BCE_W11}\n- {BCE_W11}\n2. {BCE_W11}\n", markdown=markdown
    )
    assert verdicts(batch) == ["match"] * 3


def test_a_byte_order_mark_does_not_hide_the_first_answer(nets, tmp_path):
    path = tmp_path / "answers.txt"
    path.write_bytes(b"\xef\xbb\xbf" + BCE_W11.encode())
    result = CliRunner().invoke(main, ["check", "--file", str(path), "--net", "two_hidden"])
    assert result.exit_code == 0, result.output
    assert check_text(nets["two_hidden"], "\ufeff" + BCE_W11).match


@pytest.mark.parametrize(
    "line",
    [
        f"> {BCE_W11}",
        f"**{BCE_W11}**",
        f"**Q1.** {BCE_W11}",
        r"$$ \frac{\partial L}{\partial W_{11}} = (O_{31} - y) O_{21} \quad \text{(they cancel)} $$",
    ],
)
def test_markdown_answers_in_quotes_bold_and_with_text_comments_are_read(nets, line):
    assert verdicts(check_text(nets["two_hidden"], line, markdown=True)) == ["match"]


def test_markdown_aligned_block_gives_one_answer_per_equation(nets):
    text = "\n".join(
        [
            "$$",
            r"\begin{aligned}",
            r"\frac{\partial L}{\partial W_{11}} &= (O_{31} - y) O_{21} \\",
            r"\frac{\partial L}{\partial W_{12}} &= (O_{31} - y) \\",
            r"  &\quad \cdot O_{22}",
            r"\end{aligned}",
            "$$",
        ]
    )
    batch = check_text(nets["two_hidden"], text, markdown=True)
    assert [line.derivative for line in batch.lines] == ["dL/dW11", "dL/dW12"]
    assert verdicts(batch) == ["match", "match"]


def test_an_unclosed_display_block_is_reported_and_the_answers_after_it_are_read(nets):
    text = f"$$ {BCE_W11}\n\n- {BCE_W11}\n"
    batch = check_text(nets["two_hidden"], text, markdown=True)
    assert verdicts(batch) == ["warning", "match", "match"]  # a file of 2 answers, not 3
    assert batch.summary["total"] == 2
    assert "$$ opened on line 1 is never closed" in batch.lines[0].reason


# -- formulas ---------------------------------------------------------------------------------


def test_a_relu_formula_missing_its_heaviside_factor_does_not_match(nets):
    result = check(nets["relu"], "dL/dW1 = (O - y)*W5*x1")
    assert not result.match
    assert "they differ where z1 < 0: the relu's slope Heaviside(z1) of h1 is missing" in messages(
        result
    )
    assert "1 times" not in messages(result)


def test_relu_sampling_sees_every_relus_z_on_both_sides(nets):
    net = nets["relu"]
    grader = Grader(net, parse_answer("dL/dW1 = 0", net.names), 5, None)
    envs = [env for _, env in samples(grader)]
    for z in ("z1", "z2"):
        assert {env[z] > 0 for env in envs} == {True, False}


def test_a_relu_formula_with_its_heaviside_factor_matches(nets):
    assert check(nets["relu"], "dL/dW1 = (O - y)*W5*x1*Heaviside(z1)").match


def test_bce_targets_are_drawn_from_0_to_1_so_y_squared_is_not_y(nets):
    net = nets["two_hidden"]
    grader = Grader(net, parse_answer("dL/dW1 = 0", net.names), 5, None)
    targets = {sample_point(grader, seed)["y"] for seed in range(1, 6)}
    assert all(0 <= y <= 1 for y in targets) and targets - {0.0, 1.0}
    assert not check(net, "dL/dW11 = (O31 - y**2)*O21").match


def test_a_missing_sigmoid_slope_is_named(nets):
    result = check(nets["simple"], "dL/dW1 = 2*(O2 - y)*O2*(1 - O2)*W4*x1")
    assert "a factor O1·(1 − O1), the sigmoid slope of O1, is missing" in messages(result)


def test_the_sigmoid_slope_used_for_a_tanh_neuron_is_named(nets):
    result = check(nets["tanh"], "dL/dW1 = 2*O2*W2*x1*O1*(1 - O1)*(1 - O2)*(O2 - y)")
    assert "the sigmoid slope O1·(1 − O1) is used for O1, a tanh neuron" in messages(result)
    assert "its slope is 1 − O1²" in messages(result)


# -- numbers ----------------------------------------------------------------------------------


def test_a_product_of_rough_numbers_gets_the_tolerance_of_its_own_digits(nets):
    # dL/dW1 is 0.001848 at two_hidden's values; 0.1*0.1*0.1 is 0.001 to one figure.
    assert not check(nets["two_hidden"], "dL/dW1 = 0.1*0.1*0.1").match
    assert check(nets["two_hidden"], "dL/dW1 = 0.002").match
    assert check(nets["two_hidden"], "dL/dW1 = 0.00185").match


def test_a_lone_zero_or_cut_off_digits_of_the_wrong_size_are_not_the_value(nets):
    # 0.001848 rounds to 0.0 at one decimal, but 0.0 says the gradient is zero; 0.0018
    # is the value cut off, 0.06 is not.
    for wrong in ["0.0", "0.00", "0", "0.06", "-0.0018"]:
        assert not check(nets["two_hidden"], f"dL/dW1 = {wrong}").match, wrong
    assert check(nets["two_hidden"], "dL/dW1 = 0.0018").match


@pytest.mark.parametrize("answer", ["dL/dW1 = 0^0", "dL/dW1 = (1 - 1)^0"])
def test_zero_to_the_zero_is_graded_not_a_crash(nets, answer):
    result = CliRunner().invoke(main, ["check", answer, "--net", "two_hidden"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "the answer is a number, 1.000" in result.output


# -- reading what derive prints ---------------------------------------------------------------


def test_3b1b_names_with_a_bare_subscript_and_sigma_prime_in_latex_are_read(nets):
    answer = (
        r"\frac{\partial C_0}{\partial w_{00}^{(L)}} = a_0^{(L-1)} \sigma^{\prime}(z_0^{(L)}) "
        r"2(a_0^{(L)} - y_0)"
    )
    assert check(nets["multi_3b1b"], answer).match


def test_the_expected_line_with_heaviside_of_two_arguments_reads_back(nets):
    net = nets["softmax"]
    expected = check(net, "dh1/dW1 = 0").expected
    assert "Heaviside(u1, 0)" in expected
    assert check(net, f"dh1/dW1 = {expected}").match


@pytest.mark.parametrize("answer", ["dL/dW4 = 0", "dL/dW4 = dL/dO2"])
def test_every_expected_line_reads_back_and_matches(nets, answer):
    net = nets["simple"]
    assert check(net, f"dL/dW4 = {check(net, answer).expected}").match


# -- explanations -----------------------------------------------------------------------------


def test_two_paths_multiplied_say_that_paths_add(nets):
    p1 = "dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1"
    p2 = "dL/dO31*dO31/dO22*dO22/dO11*dO11/dW1"
    result = check(nets["two_hidden"], f"dL/dW1 = ({p1})*({p2})")
    assert result.reasons[0].kind == "multiplied_paths"
    assert "these two paths from L to W1 are multiplied; paths add" in messages(result)
    assert "broken chain" not in messages(result)


def test_check_result_renders_as_markdown_in_jupyter(nets):
    result = check(nets["simple"], "dL/dW1 = dL/dO2*dO2/dW4")
    shown = result._repr_markdown_()
    assert shown.startswith("**dL/dW1** (simple): **does not match**")
    assert "- " in shown and len(repr(result)) < 100


def test_the_report_explains_the_notation_once(nets):
    report = format_check_text(check(nets["simple"], "dL/dW1 = dL/dO2*dO2/dW4"))
    assert report.count(NOTATION) == 1


def test_unicode_formulas_with_superscript_powers_are_read(nets):
    assert check(nets["tanh"], "dL/dW1 = 2·O2·W2·x1·(1 − O1²)·(1 − O2)·(O2 − y)").match


def test_function_spellings_come_from_the_rule_table():
    tree = parse_answer("softplus(x) + H(x) + relu'(x) + sigmoid(x)", ["x"]).rhs[0]
    assert sorted(n.func for n in walk(tree) if isinstance(n, Call)) == [
        "relu_prime",
        "relu_prime",
        "sigma",
        "softplus",
    ]
