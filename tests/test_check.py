"""`derive check`: reading a hand-written answer and grading it (SPEC section 4)."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest
import sympy as sp
from click.testing import CliRunner

from derive.check import (
    NoLeftSide,
    answers_in,
    batch_to_json,
    check,
    check_file,
    check_text,
    check_to_json,
    format_batch_text,
    format_check_text,
    summary_line,
)
from derive.check.answer import parse_answer
from derive.cli import main
from derive.errors import DeriveError
from derive.evaluate import forward, random_point
from derive.formula.tree import (
    Binary,
    Call,
    Deriv,
    Name,
    Neg,
    Number,
    format_node,
    to_sympy,
)
from derive.graph import load_network

SEED_000_EX3 = (
    "dL/dW1 = (dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1) + (dL/dO31*dO31/dO22*dO22/dO12*dO12/dW1)"
)


@pytest.fixture(scope="module")
def nets():
    """Every bundled network this file uses, loaded once."""
    names = ("simple", "two_hidden", "two_hidden_tied", "chain_3b1b", "multi_3b1b", "softmax")
    return {name: load_network(name) for name in names}


def parse(net, text):
    return parse_answer(text, net.names, net.latex_names)


def kinds(result):
    return [r.kind for r in result.reasons]


def messages(result):
    return "\n".join(r.message for r in result.reasons)


# -- reading: notation --------------------------------------------------------------


def test_ascii_factors_are_read_as_whole_derivatives(nets):
    answer = parse(nets["simple"], "dL/dW4 = dL/dO2*dO2/dW4")
    assert answer.lhs == Deriv("L", "W4", 1)
    assert answer.rhs[0] == Binary("*", Deriv("L", "O2", 10), Deriv("O2", "W4", 17), 10)


def test_unicode_partials_dots_and_crosses_read_like_ascii(nets):
    net = nets["simple"]
    ascii_form = parse(net, "dL/dW1 = dL/dO2*dO2/dO1*dO1/dW1")
    unicode_form = parse(net, "∂L/∂W1 = ∂L/∂O2 · ∂O2/∂O1 × ∂O1/∂W1")
    assert format_node(unicode_form.rhs[0]) == format_node(ascii_form.rhs[0])


def test_juxtaposed_fractions_multiply(nets):
    answer = parse(nets["simple"], "dL/dO2 dO2/dW4")
    assert answer.rhs[0] == Binary("*", Deriv("L", "O2", 1), Deriv("O2", "W4", 8), 1)


def test_factors_written_with_no_space_between_them_are_split_by_name(nets):
    answer = parse(nets["two_hidden"], "dL/dO31dO31/dO21")
    assert format_node(answer.rhs[0]) == "dL/dO31*dO31/dO21"


def test_longest_network_name_wins_in_a_denominator(nets):
    assert parse(nets["two_hidden"], "dO31/dW12").rhs[0] == Deriv("O31", "W12", 1)


def test_latex_frac_partial_with_braced_subscripts(nets):
    text = r"\frac{\partial L}{\partial W_{1}} = \frac{\partial L}{\partial O_{31}} \cdot \frac{\partial O_{31}}{\partial O_{21}} \cdot \frac{\partial O_{21}}{\partial O_{11}} \cdot \frac{\partial O_{11}}{\partial W_{1}}"
    answer = parse(nets["two_hidden"], text)
    assert answer.lhs == Deriv("L", "W1", 1)
    assert format_node(answer.rhs[0]) == "dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1"


def test_latex_frac_with_upright_d_and_bare_subscript(nets):
    answer = parse(
        nets["simple"],
        r"\frac{dL}{dW_1} = \frac{\mathrm{d}L}{\mathrm{d}O_2}\times\frac{dO_2}{dO_1}\,\frac{dO_1}{dW_1}",
    )
    assert format_node(answer.rhs[0]) == "dL/dO2*dO2/dO1*dO1/dW1"


def test_latex_left_right_brackets_group_a_sum(nets):
    text = r"\left( \frac{\partial L}{\partial O_{21}} \frac{\partial O_{21}}{\partial O_{11}} + \frac{\partial L}{\partial O_{22}} \frac{\partial O_{22}}{\partial O_{11}} \right) \cdot \frac{\partial O_{11}}{\partial W_{1}}"
    node = parse(nets["two_hidden"], text).rhs[0]
    assert format_node(node) == "(dL/dO21*dO21/dO11 + dL/dO22*dO22/dO11)*dO11/dW1"


def test_a_networks_own_latex_names_read_back_as_its_names(nets):
    text = r"\frac{\partial C_0}{\partial w^{(L)}} = \frac{\partial z^{(L)}}{\partial w^{(L)}} \frac{\partial a^{(L)}}{\partial z^{(L)}} \frac{\partial C_0}{\partial a^{(L)}}"
    answer = parse(nets["chain_3b1b"], text)
    assert answer.lhs == Deriv("C0", "w2", 1)
    assert format_node(answer.rhs[0]) == "dz2/dw2*da2/dz2*dC0/da2"


@pytest.mark.parametrize(("names", "expected"), [(["a_L"], "a_L"), (["aL"], "aL")])
def test_braced_subscript_maps_to_whichever_spelling_the_network_has(names, expected):
    assert parse_answer("a_{L}", names).rhs[0] == Name(expected, 1)


def test_inline_latex_partials_read_as_factors(nets):
    answer = parse(
        nets["simple"],
        r"\partial L/\partial W_4 = \partial L / \partial O_2 \cdot \partial O_2/\partial W_4",
    )
    assert format_node(answer.rhs[0]) == "dL/dO2*dO2/dW4"


def test_unicode_subscript_digits_read_as_digits(nets):
    assert parse(nets["simple"], "∂L/∂W₄").rhs[0] == Deriv("L", "W4", 1)


def test_math_dollars_around_an_answer_are_ignored(nets):
    answer = parse(
        nets["simple"],
        r"$$\frac{\partial L}{\partial W_4} = \frac{\partial L}{\partial O_2}\frac{\partial O_2}{\partial W_4}$$",
    )
    assert answer.lhs == Deriv("L", "W4", 3)


def test_formula_with_functions_and_powers_reads_into_calls():
    node = parse_answer(
        "σ(z1)^2 - exp(-x) + \\tanh x + log(O) + Heaviside(z1)", ["z1", "x", "O"]
    ).rhs[0]
    assert format_node(node) == "sigma(z1)^2 - exp(-x) + tanh(x) + log(O) + Heaviside(z1)"


def test_e_to_a_power_is_the_exponential_when_e_is_not_a_name():
    assert parse_answer("e^{-z}", ["z"]).rhs[0] == Call("exp", Neg(Name("z", 5), 4), 1)


def test_decimal_and_exponent_numbers_are_exact():
    assert parse_answer("0.5 * 1e-3", []).rhs[0] == Binary(
        "*", Number(Fraction(1, 2), 1), Number(Fraction(1, 1000), 7), 1
    )


@pytest.mark.parametrize("name", ["E", "I", "S", "N", "O", "Q", "pi", "gamma", "beta"])
def test_names_that_collide_with_sympy_are_plain_symbols(name):
    expr = to_sympy(parse_answer(f"2*{name}", [name]).rhs[0])
    assert expr == 2 * sp.Symbol(name)
    assert expr.free_symbols == {sp.Symbol(name)}


def test_juxtaposed_names_without_space_split_into_a_product(nets):
    assert format_node(parse(nets["simple"], "W4O1").rhs[0]) == "W4*O1"


# -- reading: errors ------------------------------------------------------------------


def test_unknown_name_is_an_error_with_its_column_and_close_names(nets):
    with pytest.raises(DeriveError) as err:
        parse(nets["two_hidden"], "dL/dW1 = dL/dO31*dO31/dO99")
    assert err.value.col == 24
    assert "O99" in str(err.value) and "did you mean" in str(err.value)


def test_unknown_plain_name_names_the_whole_word(nets):
    with pytest.raises(DeriveError, match="unknown name 'Loss'") as err:
        parse(nets["simple"], "dL/dW4 = Loss * 2")
    assert err.value.col == 10


def test_unknown_name_in_a_latex_denominator_is_named(nets):
    with pytest.raises(DeriveError, match="unknown name 'x'") as err:
        parse(nets["simple"], r"\frac{dL}{dx} = 1")
    assert err.value.col == 12


def test_unbalanced_bracket_says_what_was_expected(nets):
    with pytest.raises(DeriveError) as err:
        parse(nets["simple"], "dL/dW4 = (dL/dO2*dO2/dW4")
    assert err.value.col == 25 and "expected ')'" in str(err.value)


def test_trailing_junk_is_an_error_at_its_column(nets):
    with pytest.raises(DeriveError) as err:
        parse(nets["simple"], "dL/dW4 = dL/dO2 )")
    assert err.value.col == 17


def test_left_side_must_be_a_single_derivative(nets):
    with pytest.raises(DeriveError, match="left-hand side"):
        parse(nets["simple"], "2*dL/dW4 = dL/dO2*dO2/dW4")


def test_unsupported_latex_command_is_named(nets):
    with pytest.raises(DeriveError, match=r"\\int"):
        parse(nets["simple"], r"dL/dW4 = \int{O2}")


def test_python_code_is_an_unreadable_answer_not_a_program(nets):
    with pytest.raises(DeriveError):
        parse(nets["simple"], "__import__('os').system('echo hi')")


def test_errors_are_one_line(nets):
    with pytest.raises(DeriveError) as err:
        parse(nets["simple"], "dL/dW4 =\n(dL/dO2")
    assert "\n" not in str(err.value)


# -- grading: the seeds -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("net", "answer"),
    [
        ("simple", "dL/dW4 = (dL/dO2) * (dO2/dW4)"),  # seed 000, example 1
        ("simple", "dL/dW1 = (dL/dO2) * (dO2/dO1) * (dO1/dW1)"),  # seed 000, example 2
        ("two_hidden_tied", SEED_000_EX3),  # seed 000, example 3, where W1 is shared
        ("simple", r"\frac{\partial L}{\partial W_4} = \frac{\partial L}{\partial O_2} \cdot \frac{\partial O_2}{\partial W_4}"),  # 001
        ("simple", r"\frac{\partial L}{\partial W_1} = \frac{\partial L}{\partial O_2} \cdot \frac{\partial O_2}{\partial O_1} \cdot \frac{\partial O_1}{\partial W_1}"),  # 001
        ("simple", r"\frac{\partial L}{\partial W_1} = \frac{\partial L}{\partial O_2} \times \frac{\partial O_2}{\partial O_1} \times \frac{\partial O_1}{\partial z_1} \times \frac{\partial z_1}{\partial W_1}"),  # 003
        ("chain_3b1b", "dC0/dw2 = dz2/dw2 * da2/dz2 * dC0/da2"),  # 004
        ("chain_3b1b", "dC0/db2 = dz2/db2 * da2/dz2 * dC0/da2"),  # 004
        ("chain_3b1b", "dC0/da1 = dz2/da1 * da2/dz2 * dC0/da2"),  # 004
        ("multi_3b1b", "dC0/da0_L1 = dz0_L/da0_L1*da0_L/dz0_L*dC0/da0_L + dz1_L/da0_L1*da1_L/dz1_L*dC0/da1_L"),  # 004
    ],
)  # fmt: skip
def test_seed_expansion_matches(nets, net, answer):
    result = check(nets[net], answer)
    assert result.match, messages(result)


def test_seed_000_example_3_on_the_fully_connected_network_names_the_zero_factor(nets):
    result = check(nets["two_hidden"], SEED_000_EX3)
    assert not result.match
    assert "dO12/dW1 is 0 (O12 does not depend on W1: W1 feeds only O11)" in messages(result)


def test_seed_000_example_3_on_the_fully_connected_network_names_the_missing_path(nets):
    result = check(nets["two_hidden"], SEED_000_EX3)
    missing = [r for r in result.reasons if r.kind == "missing_path"]
    assert [r.path for r in missing] == [("L", "O31", "O22", "O11", "W1")]
    assert missing[0].message == "missing path L ← O31 ← O22 ← O11 ← W1"


def test_seed_004_with_one_output_left_out_misses_that_path(nets):
    answer = "dC0/da0_L1 = dz0_L/da0_L1*da0_L/dz0_L*dC0/da0_L"
    result = check(nets["multi_3b1b"], answer)
    assert [r.path for r in result.reasons] == [("C0", "a1_L", "z1_L", "a0_L1")]


# -- grading: forms that match ------------------------------------------------------------


def test_factored_form_matches(nets):
    answer = "dL/dW1 = (dL/dO21*dO21/dO11 + dL/dO22*dO22/dO11)*dO11/dW1"
    assert check(nets["two_hidden"], answer).match


def test_a_factor_that_is_itself_a_whole_chain_matches(nets):
    assert check(nets["simple"], "dL/dW3 = dL/dO2*dO2/dW3").match


def test_every_path_of_two_hidden_written_out_matches(nets):
    answer = "dL/dW1 = dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1 + dL/dO31*dO31/dO22*dO22/dO11*dO11/dW1"
    assert check(nets["two_hidden"], answer).match


def test_softmax_couples_outputs_and_the_sum_over_them_matches(nets):
    answer = "dL/dW1 = (dL/dO1*dO1/dh1 + dL/dO2*dO2/dh1 + dL/dO3*dO3/dh1)*dh1/dW1"
    assert check(nets["softmax"], answer).match


def test_grouping_in_between_matches(nets):
    answer = "dL/dW1 = dL/dO31*(dO31/dO21*dO21/dO11 + dO31/dO22*dO22/dO11)*dO11/dW1"
    assert check(nets["two_hidden"], answer).match


def test_answer_without_left_side_asks_for_it_naming_the_derivative_its_chain_makes(nets):
    with pytest.raises(NoLeftSide, match=r"first: dL/dW4 = dL/dO2\*dO2/dW4$"):
        check(nets["simple"], "dL/dO2*dO2/dW4")


def test_bare_question_without_left_side_is_not_a_match(nets):
    with pytest.raises(NoLeftSide) as caught:
        check(nets["two_hidden"], "dL/dW1")
    assert str(caught.value) == "write the derivative being checked first: dL/dW1 = ..."


@pytest.mark.parametrize(
    "answer",
    ["dL/dW1 = dL/dW1", "dL/dW1 = (dL/dW1)", "dL/dW1 = 1*dL/dW1*dW1/dW1", "∂L/∂W1 = ∂L/∂W1"],
)
def test_restating_the_question_is_not_an_expansion(nets, answer):
    result = check(nets["two_hidden"], answer)
    assert not result.match and kinds(result) == ["restated"]
    assert result.reasons[0].message.startswith(
        "the answer restates dL/dW1 instead of expanding it"
    )


def test_restating_a_single_local_partial_asks_for_its_formula(nets):
    result = check(nets["two_hidden"], "dL/dO31 = dL/dO31")
    assert kinds(result) == ["restated"] and "write its formula" in messages(result)
    assert "O31" in result.expected and "dL/dO31" not in result.expected


def test_restating_a_zero_derivative_says_it_is_zero(nets):
    result = check(nets["two_hidden"], "dO12/dW1 = dO12/dW1")
    assert kinds(result) == ["restated"] and "it is 0" in messages(result)


def test_splitting_the_question_into_two_whole_factors_is_still_an_expansion(nets):
    assert check(nets["two_hidden"], "dL/dW1 = dL/dO11*dO11/dW1").match


def test_derivative_of_a_node_by_itself_is_one(nets):
    assert check(nets["simple"], "dL/dW4 = dL/dO2*dO2/dO2*dO2/dW4").match


def test_zero_derivative_answered_zero_matches(nets):
    assert check(nets["two_hidden"], "dO12/dW1 = 0").match


# -- grading: forms that do not match ------------------------------------------------------


def test_broken_chain_is_named(nets):
    result = check(nets["simple"], "dL/dW1 = dL/dO2*dO1/dW1")
    assert kinds(result)[0] == "broken_chain"
    assert "stops at O2" in result.reasons[0].message


def test_broken_chain_keeps_the_written_order_and_blames_the_factor_where_it_breaks(nets):
    answer = "dL/dW1 = dL/dO31*dO31/dO21*dO22/dO11*dO11/dW1 + dL/dO31*dO31/dO22*dO22/dO11*dO11/dW1"
    result = check(nets["two_hidden"], answer)
    assert result.reasons[0].message == (
        "broken chain ∂L/∂O31·∂O31/∂O21·∂O22/∂O11·∂O11/∂W1: "
        "the chain stops at O21, and ∂O22/∂O11 does not start there"
    )


def test_broken_chain_written_bottom_up_is_shown_as_written(nets):
    result = check(nets["simple"], "dL/dW1 = dO1/dW1*dL/dO2")
    assert result.reasons[0].message == (
        "broken chain ∂O1/∂W1·∂L/∂O2: the chain stops at O2, and ∂O1/∂W1 does not start there"
    )


def test_extra_number_added_to_an_expansion_is_named(nets):
    result = check(nets["chain_3b1b"], "dC0/db1 = dC0/da2*da2/da1*da1/db1 + 1")
    assert messages(result).startswith("extra term 1: a number added")


def test_term_that_stops_short_is_a_broken_chain(nets):
    result = check(nets["simple"], "dL/dW1 = dL/dO2*dO2/dO1*dO1/dW1 + dL/dO2*dO2/dO1")
    assert "ends at O1, not at W1" in messages(result)


def test_path_counted_twice_is_named(nets):
    answer = (
        "dL/dW1 = 2*dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1 + dL/dO31*dO31/dO22*dO22/dO11*dO11/dW1"
    )
    result = check(nets["two_hidden"], answer)
    assert kinds(result) == ["duplicate_path"]
    assert result.reasons[0].path == ("L", "O31", "O21", "O11", "W1")


def test_whole_answer_scaled_reports_the_factor(nets):
    result = check(nets["simple"], "dL/dW4 = 1/2*dL/dO2*dO2/dW4")
    assert [r.message for r in result.reasons] == ["the answer is 1/2 times dL/dW4"]


def test_wrong_sign_is_named(nets):
    result = check(nets["simple"], "dL/dW4 = -dL/dO2*dO2/dW4")
    assert "sign error" in messages(result)


def test_one_path_with_a_wrong_coefficient_is_named(nets):
    answer = "dL/dW1 = dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1 - dL/dO31*dO31/dO22*dO22/dO11*dO11/dW1"
    result = check(nets["two_hidden"], answer)
    assert kinds(result) == ["wrong_coefficient"]
    assert "coefficient -1" in result.reasons[0].message


def test_extra_term_ending_elsewhere_is_named_as_a_broken_chain(nets):
    result = check(nets["simple"], "dL/dW4 = dL/dO2*dO2/dW4 + dL/dO2*dO2/dO1")
    assert kinds(result) == ["broken_chain"]
    assert result.reasons[0].message.endswith("the chain ends at O1, not at W4")


def test_extra_path_through_an_edge_that_does_not_exist_is_a_zero_factor(nets):
    answer = "dL/dW1 = dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1 + dL/dO31*dO31/dO22*dO22/dO11*dO11/dW1 + dL/dO31*dO31/dO21*dO21/dO12*dO12/dW1"
    assert kinds(check(nets["two_hidden"], answer)) == ["zero_factor"]


def test_chain_that_stops_short_is_read_as_the_derivative_it_is(nets):
    result = check(nets["simple"], "dL/dW1 = dL/dO2*dO2/dO1")
    assert kinds(result) == ["wrong_lhs"] and "dL/dO1" in messages(result)


def test_right_side_of_another_derivative_is_a_wrong_left_side(nets):
    result = check(nets["simple"], "dL/dW4 = dL/dO2*dO2/dO1*dO1/dW1")
    assert kinds(result) == ["wrong_lhs"]
    assert "dL/dW1" in result.reasons[0].message and "dL/dW4" in result.reasons[0].message


def test_zero_factor_fails_even_when_the_rest_is_complete(nets):
    answer = "dL/dW4 = dL/dO2*dO2/dW4 + dL/dO2*dO2/dO1*dO1/dW4"
    result = check(nets["simple"], answer)
    assert kinds(result) == ["zero_factor"]


def test_factor_upside_down_is_zero_because_of_the_order(nets):
    result = check(nets["simple"], "dL/dW4 = dL/dO2*dW4/dO2")
    assert "dW4/dO2 is 0 (W4 is a weight: it depends on nothing)" in messages(result)


def test_right_side_that_is_another_single_derivative_is_not_called_an_expansion(nets):
    result = check(nets["simple"], "dL/dW1 = dL/dW2")
    assert messages(result) == "the right-hand side is dL/dW2, but the left-hand side is dL/dW1"


def test_one_more_of_a_kind_than_listed_is_singular(tmp_path):
    path = tmp_path / "wide.yaml"
    layers = "  - inputs: [x1]\n  - neurons: [a1, a2, a3, a4, a5]\n  - neurons: [b1, b2]\n"
    path.write_text("layers:\n" + layers + "  - neurons: [c1]\nloss: {kind: squared_error}\n")
    # 10 paths, one written: 9 missing, one more than are listed
    result = check(load_network(path), "dL/dx1 = dL/dc1*dc1/db1*db1/da1*da1/dx1")
    assert messages(result).splitlines()[-1] == "... and 1 more missing path"


def test_answer_of_zero_times_a_factor_says_the_answer_is_zero(nets):
    result = check(nets["two_hidden"], "dL/dx1 = 0*dL/dO31")
    assert result.reasons[0].message == "the answer is 0, but dL/dx1 is not"


WIDE = """layers:
  - inputs: [x1]
  - neurons: [a1, a2, a3, a4]
  - neurons: [b1, b2, b3, b4]
  - neurons: [c1]
loss: {kind: squared_error}
"""


def test_many_missing_paths_are_listed_up_to_a_limit(tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text(WIDE, encoding="utf-8")
    result = check(load_network(path), "dL/dx1 = dL/dc1*dc1/db1*db1/da1*da1/dx1")
    assert len(result.reasons) == 9
    assert result.reasons[-1].message == "... and 7 more missing paths"


def test_answer_for_a_zero_derivative_says_it_should_be_zero(nets):
    result = check(nets["two_hidden"], "dO12/dW1 = dO12/dO11*dO11/dW1")
    assert "dO12/dW1 is 0, so the answer should be 0 (O12 does not depend on W1" in messages(result)


def test_compact_answer_matches_in_the_detailed_graph_too(nets):
    assert check(nets["simple"], "dL/dW1 = dL/dO2*dO2/dO1*dO1/dW1", detail=True).match


def test_softmax_answer_through_pre_activations_matches(nets):
    answer = "dL/dW1 = (dL/dz1*dz1/dh1 + dL/dz2*dz2/dh1 + dL/dz3*dz3/dh1)*dh1/du1*du1/dW1"
    result = check(nets["softmax"], answer)
    assert result.match and result.path_count == 9


@pytest.fixture
def wide(tmp_path, monkeypatch):
    """The 16-path `wide` network, with term-by-term comparison capped at 5 terms."""
    monkeypatch.setattr("derive.check.algebra.MAX_TERMS", 5)
    path = tmp_path / "wide.yaml"
    path.write_text(WIDE, encoding="utf-8")
    return load_network(path)


def test_too_many_paths_to_multiply_out_a_factored_answer_still_matches(wide):
    answer = (
        "dL/dx1 = dL/dc1*(dc1/db1*db1/dx1 + dc1/db2*db2/dx1 + dc1/db3*db3/dx1 + dc1/db4*db4/dx1)"
    )
    result = check(wide, answer)
    assert result.match and result.path_count == 16


def test_too_many_paths_to_multiply_out_a_missing_term_does_not_match(wide):
    answer = "dL/dx1 = dL/dc1*(dc1/db1*db1/dx1 + dc1/db2*db2/dx1 + dc1/db3*db3/dx1)"
    assert kinds(check(wide, answer)) == ["not_the_expansion"]


def test_too_many_paths_to_multiply_out_a_scaled_answer_says_the_factor(wide):
    answer = "dL/dx1 = -dL/dc1*dc1/dx1"
    assert messages(check(wide, answer)) == "sign error: the answer is -1 times dL/dx1"


# -- grading: concrete formulas -------------------------------------------------------------


def _true_dL_dW1_simple(net, point):
    """dL/dW1 for `simple`, by SymPy differentiating the composed loss (independent of derive)."""
    x1, x2, x3, w1, w2, w3, w4, y = sp.symbols("x1 x2 x3 W1 W2 W3 W4 y")
    sig = lambda z: 1 / (1 + sp.exp(-z))  # noqa: E731
    o2 = sig(w4 * sig(w1 * x1 + w2 * x2 + w3 * x3))
    loss = (o2 - y) ** 2
    subs = {s: point[s.name] for s in (x1, x2, x3, w1, w2, w3, w4, y)}
    return float(sp.diff(loss, w1).subs(subs))


def test_hand_formula_for_simple_agrees_with_sympy_diff_of_the_composed_loss(nets):
    net = nets["simple"]
    point = random_point(net, 7)
    v = forward(net, point)
    hand = (
        2
        * (v["O2"] - v["y"])
        * v["O2"]
        * (1 - v["O2"])
        * v["W4"]
        * v["O1"]
        * (1 - v["O1"])
        * v["x1"]
    )
    assert math.isclose(hand, _true_dL_dW1_simple(net, point), rel_tol=1e-9)


def test_hand_formula_for_the_last_weight_of_two_hidden_agrees_with_finite_differences(nets):
    net, h = nets["two_hidden"], 1e-6
    point = random_point(net, 3)
    up, down = dict(point, W12=point["W12"] + h), dict(point, W12=point["W12"] - h)
    slope = (forward(net, up)["L"] - forward(net, down)["L"]) / (2 * h)
    v = forward(net, point)
    assert math.isclose((v["O31"] - v["y"]) * v["O22"], slope, rel_tol=1e-6)


def test_bce_output_weight_formula_matches(nets):
    assert check(nets["two_hidden"], "dL/dW12 = (O31 - y)*O22").match


def test_concrete_formula_matches(nets):
    result = check(nets["simple"], "dL/dW1 = 2*(O2 - y)*O2*(1 - O2)*W4*O1*(1 - O1)*x1")
    assert result.match and result.mode == "concrete"


def test_concrete_formula_in_z_and_sigma_matches(nets):
    answer = "dL/dW1 = 2*(σ(z2) - y)*σ'(z2)*W4*σ(z1)*(1 - σ(z1))*x1"
    assert check(nets["simple"], answer).match


def test_concrete_formula_in_latex_matches(nets):
    answer = r"\frac{\partial L}{\partial W_1} = 2\left(O_2 - y\right) O_2 \left(1 - O_2\right) \cdot W_4 \cdot O_1 (1 - O_1) \, x_1"
    assert check(nets["simple"], answer).match


def test_concrete_formula_with_wrong_sign_says_minus_one_times(nets):
    result = check(nets["simple"], "dL/dW1 = 2*(y - O2)*O2*(1 - O2)*W4*O1*(1 - O1)*x1")
    assert "sign error: the answer is -1 times dL/dW1" in messages(result)


def test_concrete_formula_missing_a_factor_shows_the_ratio(nets):
    result = check(nets["simple"], "dL/dW1 = 2*(O2 - y)*O2*(1 - O2)*W4*O1*(1 - O1)")
    assert "a factor x1 is missing" in messages(result)


def test_concrete_formula_with_an_extra_factor_names_it(nets):
    result = check(nets["simple"], "dL/dW4 = 2*(O2 - y)*O2*(1 - O2)*O1*W4")
    assert "an extra factor W4" in messages(result)


def test_concrete_formula_twice_too_big_says_two_times(nets):
    result = check(nets["simple"], "dL/dW4 = 4*(O2 - y)*O2*(1 - O2)*O1")
    assert "the answer is 2 times dL/dW4" in messages(result)


def test_a_number_is_the_value_at_the_networks_own_values_to_the_digits_written(nets):
    result = check(nets["two_hidden"], "dL/dW1 = 0.001848")  # 0.00184828...
    assert result.match and "network's own values is 0.001848" in result.notes[0]
    assert check(nets["two_hidden"], "dL/dW1 = 0.005808 + (-0.00396)").match


def test_a_wrong_number_says_the_value_at_the_networks_own_values(nets):
    result = check(nets["two_hidden"], "dL/dW1 = 0.0019")
    assert not result.match and result.answer == "0.0019"
    assert "at the network's own values is 0.001848" in messages(result)
    assert "random point" not in messages(result)


def test_numbers_are_printed_as_the_decimals_written(nets):
    assert format_node(parse(nets["simple"], "0.125*x1 + 1/3").rhs[0]) == "0.125*x1 + 1/3"


def test_a_sentences_full_stop_after_an_answer_is_not_an_error(nets):
    assert check(nets["simple"], "dL/dW4 = dL/dO2*dO2/dW4.").match


def test_a_derivative_of_names_not_in_the_network_is_named(nets):
    with pytest.raises(DeriveError, match="unknown name 'A' in a derivative of the answer"):
        parse(nets["simple"], r"\frac{dA}{dt} = 2")


def test_factors_divided_by_zero_are_not_finite(nets):
    assert kinds(check(nets["simple"], "dL/dW4 = dL/dO2*dO2/dW4/0")) == ["not_finite"]


def test_concrete_formula_that_is_undefined_is_not_finite(nets):
    result = check(nets["simple"], "dL/dW4 = 1/(O1 - O1)")
    assert kinds(result) == ["not_finite"]


def test_3b1b_formula_in_the_networks_own_latex_matches(nets):
    answer = r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)"
    assert check(nets["chain_3b1b"], answer).match


def test_3b1b_sum_over_the_layer_in_latex_matches(nets):
    answer = (
        r"\frac{\partial C_0}{\partial a_{0}^{(L-1)}} = "
        r"\frac{\partial z_{0}^{(L)}}{\partial a_{0}^{(L-1)}} \frac{\partial a_{0}^{(L)}}{\partial z_{0}^{(L)}} \frac{\partial C_0}{\partial a_{0}^{(L)}}"
        r" + \frac{\partial z_{1}^{(L)}}{\partial a_{0}^{(L-1)}} \frac{\partial a_{1}^{(L)}}{\partial z_{1}^{(L)}} \frac{\partial C_0}{\partial a_{1}^{(L)}}"
    )
    assert check(nets["multi_3b1b"], answer).match


def test_factor_times_formula_is_graded_by_value(nets):
    result = check(nets["simple"], "dL/dW4 = 2*(O2 - y)*dO2/dW4")
    assert result.match and result.mode == "concrete"


def test_softmax_with_cross_entropy_gives_output_minus_target(nets):
    assert check(nets["softmax"], "dL/dz1 = O1 - y1").match


def test_relu_slope_written_as_heaviside_matches(nets):
    answer = "dL/dW1 = ((O1 - y1)*W5 + (O2 - y2)*W7 + (O3 - y3)*W9)*Heaviside(u1)*x1"
    assert check(nets["softmax"], answer).match


def test_relu_answer_missing_an_output_is_a_value_mismatch(nets):
    answer = "dL/dW1 = ((O1 - y1)*W5 + (O2 - y2)*W7)*Heaviside(u1)*x1"
    assert kinds(check(nets["softmax"], answer)) == ["value_mismatch"]


def test_factor_times_wrong_formula_is_a_value_mismatch(nets):
    result = check(nets["simple"], "dL/dW4 = (O2 - y)*dO2/dW4")
    assert "the answer is 1/2 times" in messages(result)


def test_answer_too_large_to_multiply_out_is_graded_by_value(nets):
    result = check(nets["two_hidden"], "dL/dW1 = (dL/dO31 + dL/dO21 + dL/dO22 + dL/dO11)^64")
    assert result.mode == "concrete" and kinds(result) == ["value_mismatch"]


def test_chain_of_equalities_checks_every_right_side(nets):
    answer = "dL/dW4 = dL/dO2*dO2/dW4 = 2*(O2 - y)*O2*(1 - O2)*O1"
    assert check(nets["simple"], answer).match


def test_chain_of_equalities_names_the_wrong_side(nets):
    answer = "dL/dW4 = dL/dO2*dO2/dW4 = (O2 - y)*O2*(1 - O2)*O1"
    result = check(nets["simple"], answer)
    assert messages(result).startswith("right-hand side 2:")


# -- printers and exit status -----------------------------------------------------------------


def test_text_report_of_a_mismatch_lists_each_reason_and_the_expected_expansion(nets):
    report = format_check_text(check(nets["two_hidden"], SEED_000_EX3))
    assert report.splitlines()[0] == "dL/dW1 (two_hidden): does not match"
    assert "  - missing path L ← O31 ← O22 ← O11 ← W1" in report
    assert "expected: dL/dW1 = ∂L/∂O31 · ∂O31/∂O21 · ∂O21/∂O11 · ∂O11/∂W1 + " in report


def test_text_report_of_a_match_is_one_line(nets):
    report = format_check_text(check(nets["two_hidden_tied"], SEED_000_EX3))
    assert report == "dL/dW1 (two_hidden_tied): matches, 2 paths"


def test_json_report_is_serialisable_and_carries_paths(nets):
    data = json.loads(json.dumps(check_to_json(check(nets["two_hidden"], SEED_000_EX3))))
    assert data["match"] is False and data["verdict"] == "mismatch"
    assert (data["of"], data["wrt"]) == ("L", "W1")
    assert {"kind": "missing_path", "message": "missing path L ← O31 ← O22 ← O11 ← W1",
            "path": ["L", "O31", "O22", "O11", "W1"]} in data["reasons"]  # fmt: skip


# -- many answers at once ----------------------------------------------------------------------

ANSWERS = """\
# homework, chapter 3

dL/dW4 = dL/dO2*dO2/dW4
dL/dW1 = dL/dO2*dO1/dW1
dL/dW1 = dL/dO2 *
"""


def test_answers_in_skips_blank_lines_and_comments():
    assert [n for n, _ in answers_in(ANSWERS)] == [3, 4, 5]


def test_answers_in_takes_math_out_of_markdown():
    text = "Some prose.\n\n$$\n\\frac{dL}{dW_4} = \\frac{dL}{dO_2}\\frac{dO_2}{dW_4}\n$$\nInline $dL/dW4 = 0$ and `dL/dW1 = x`."
    found = answers_in(text, markdown=True)
    assert [n for n, _ in found] == [3, 6, 6]
    assert found[1][1] == "dL/dW4 = 0"


def test_answers_in_markdown_reads_single_dollar_blocks_and_skips_other_equations():
    text = "$\nW_{new} = W_{old} - \\eta\n$\n\n$\n\\frac{\\partial L}{\\partial W_4} = 0\n$\n"
    assert answers_in(text, markdown=True) == [(5, "\\frac{\\partial L}{\\partial W_4} = 0")]


def test_batch_gives_each_line_its_verdict(nets):
    batch = check_text(nets["simple"], ANSWERS)
    assert [(r.line, r.verdict) for r in batch.lines] == [
        (3, "match"),
        (4, "mismatch"),
        (5, "unreadable"),
    ]


def test_batch_unreadable_line_says_why_with_its_column(nets):
    batch = check_text(nets["simple"], ANSWERS)
    assert batch.lines[2].reason.startswith("unreadable: column 18: the answer ends too early")


def test_batch_summary_counts_each_verdict(nets):
    batch = check_text(nets["simple"], ANSWERS)
    assert batch.summary == {"total": 3, "match": 1, "mismatch": 1, "unreadable": 1,
                             "no_answer": 0, "skipped": 0, "warning": 0}  # fmt: skip
    assert not batch.match


def test_batch_table_has_a_row_per_answer_and_a_summary(nets):
    table = format_batch_text(check_text(nets["simple"], ANSWERS)).splitlines()
    assert table[0].split() == ["line", "derivative", "verdict", "reason"]
    assert table[1].split()[:3] == ["3", "dL/dW4", "match"]
    assert table[-1] == "3 answers: 1 matches, 1 does not match, 1 unreadable"


def test_check_file_reads_markdown_files_as_markdown(nets, tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# Notes\n\nThe chain: $dL/dW4 = dL/dO2 \\cdot dO2/dW4$\n", encoding="utf-8")
    batch = check_file(nets["simple"], path)
    assert [(r.line, r.verdict) for r in batch.lines] == [(3, "match")]
    assert batch_to_json(batch)["summary"]["match"] == 1


def test_check_file_that_does_not_exist_is_a_user_error(nets, tmp_path):
    with pytest.raises(DeriveError, match="cannot read"):
        check_file(nets["simple"], tmp_path / "missing.txt")


def test_check_file_with_no_answers_is_a_user_error(nets, tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("# nothing yet\n\n", encoding="utf-8")
    with pytest.raises(DeriveError, match="no answers found"):
        check_file(nets["simple"], path)


# -- the command line (issue 4's two runs) -------------------------------------------------------


@pytest.mark.parametrize(("net", "status"), [("two_hidden", 1), ("two_hidden_tied", 0)])
def test_cli_exit_status_for_seed_000_example_3(net, status):
    result = CliRunner().invoke(main, ["check", SEED_000_EX3, "--net", net])
    assert result.exit_code == status, result.output


def test_cli_unreadable_answer_exits_2_with_the_column():
    result = CliRunner().invoke(main, ["check", "dL/dW4 = dL/dO2 *", "--net", "simple"])
    assert result.exit_code == 2 and "18" in result.output


def test_cli_json_report_parses(tmp_path):
    result = CliRunner().invoke(
        main, ["check", SEED_000_EX3, "--net", "two_hidden", "--format", "json"]
    )
    assert json.loads(result.output)["match"] is False


def test_cli_file_mode_exits_1_when_a_line_does_not_match(tmp_path):
    path = tmp_path / "answers.txt"
    path.write_text(ANSWERS, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--file", str(path), "--net", "simple"])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "3 answers: 1 matches, 1 does not match, 1 unreadable"


@pytest.mark.parametrize(
    ("counts", "line"),
    [
        ((1, 1, 0, 0), "1 answer: 1 matches, 0 do not match, 0 unreadable"),
        ((2, 2, 0, 0), "2 answers: 2 match, 0 do not match, 0 unreadable"),
        ((3, 0, 2, 1), "3 answers: 0 match, 2 do not match, 1 unreadable"),
    ],
)
def test_file_summary_uses_singular_and_plural_correctly(counts, line):
    total, match, mismatch, unreadable = counts
    summary = {"total": total, "match": match, "mismatch": mismatch, "unreadable": unreadable}
    assert summary_line(summary) == line


def test_cli_one_answer_file_says_one_answer(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("dL/dW4 = dL/dO2*dO2/dW4\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--file", str(path), "--net", "simple"])
    assert result.output.splitlines()[-1] == "1 answer: 1 matches, 0 do not match, 0 unreadable"


HOMEWORK = """\
# Homework 3

The loss is $L$; we want $\\frac{\\partial L}{\\partial W_1}$ and more.

1. dL/dW1 = dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1 + dL/dO31*dO31/dO22*dO22/dO11*dO11/dW1
2. dL/dW1 = dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1 + dL/dO31*dO31/dO22*dO22/dO12*dO12/dW1
- ∂L/∂W2 = ∂L/∂O11 · ∂O11/∂W2
* dL/dW7
$dL/dW3 = dL/dO11*dO11/dW3$
dL/dW1 = dL/dW1
"""


@pytest.mark.parametrize("suffix", [".md", ".txt"])
def test_every_answer_line_of_a_file_is_graded_in_markdown_and_in_text(nets, tmp_path, suffix):
    path = tmp_path / f"homework{suffix}"
    path.write_text(HOMEWORK, encoding="utf-8")
    graded = [(r.line, r.derivative, r.verdict) for r in check_file(nets["two_hidden"], path)]
    assert graded[-6:] == [
        (5, "dL/dW1", "match"),
        (6, "dL/dW1", "mismatch"),
        (7, "dL/dW2", "match"),
        (8, "dL/dW7", "no_answer"),
        (9, "dL/dW3", "match"),
        (10, "dL/dW1", "mismatch"),
    ]


def test_markdown_line_with_a_derivative_but_no_equals_sign_says_no_answer(nets):
    batch = check_text(nets["two_hidden"], "* dL/dW7\n", markdown=True)
    (line,) = batch.lines
    assert (line.verdict, line.reason, line.ok) == ("no_answer", "write dL/dW7 = ...", False)
    assert "no answer" in format_batch_text(batch).splitlines()[1]
    assert not batch.match


def test_markdown_prose_mentioning_a_derivative_is_listed_as_skipped_not_failed(nets):
    text = "We want $dL/dW4$ here.\n\nPlain prose with no derivative.\n\ndL/dW4 = dL/dO2*dO2/dW4\n"
    batch = check_text(nets["simple"], text, markdown=True)
    assert [(r.line, r.verdict) for r in batch.lines] == [(1, "skipped"), (5, "match")]
    assert batch.match and batch.summary["total"] == 1
    assert (
        format_batch_text(batch)
        .splitlines()[-1]
        .endswith("; 1 line of prose mentioning a derivative not graded")
    )


def test_markdown_reads_github_math_and_math_fences(nets):
    text = (
        "Inline $`\\frac{\\partial L}{\\partial W_{4}} = \\frac{\\partial L}{\\partial O_{2}}"
        " \\frac{\\partial O_{2}}{\\partial W_{4}}`$.\n\n```math\n\\frac{\\partial L}{\\partial W_{4}} = 0\n```\n"
    )
    batch = check_text(nets["simple"], text, markdown=True)
    assert [(r.line, r.verdict) for r in batch.lines] == [(1, "match"), (4, "mismatch")]


def test_markdown_code_that_starts_with_the_letter_d_is_not_an_answer(nets):
    # Nor is it prose to list: a derivative in `code` is an example of the notation (the
    # answers file derive writes says `dL/dO21` in its instructions), one in words is listed.
    text = (
        'Run `derive check "dL/dW4 = ..."` to check.\n\ndL/dW4 = dL/dO2*dO2/dW4\n'
        "So dL/dW4 is small.\n"
    )
    batch = check_text(nets["simple"], text, markdown=True)
    assert [(r.line, r.verdict) for r in batch.lines] == [(3, "match"), (4, "skipped")]


def test_plain_text_line_that_is_no_answer_is_reported_not_dropped(nets):
    batch = check_text(nets["simple"], "The loss is $L$.\ndL/dO2*dO2/dW4\n")
    assert [(r.line, r.verdict) for r in batch.lines] == [(1, "unreadable"), (2, "no_answer")]
    assert batch.lines[1].reason == "write dL/dW4 = dL/dO2*dO2/dW4"


def test_cli_answer_without_left_side_exits_2_asking_for_it():
    result = CliRunner().invoke(main, ["check", "dL/dW1", "--net", "two_hidden"])
    assert result.exit_code == 2
    assert "write the derivative being checked first: dL/dW1 = ..." in result.output


def test_cli_restated_question_exits_1():
    result = CliRunner().invoke(main, ["check", "dL/dW1 = dL/dW1", "--net", "two_hidden"])
    assert result.exit_code == 1 and "restates dL/dW1" in result.output


def test_an_unreadable_latex_answer_is_filed_under_the_derivative_its_left_side_names(nets):
    # A gradebook scored it 'missing' and listed it as not asked, under the raw LaTeX.
    text = "$$\\frac{\\partial L}{\\partial W_{4}} = \\sum_j x$$\n"
    [line] = check_text(nets["simple"], text, markdown=True).lines
    assert (line.verdict, line.derivative) == ("unreadable", "dL/dW4")
