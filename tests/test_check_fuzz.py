"""Fuzzing `derive check`: whatever a user types, the only failure is a clean DeriveError.

Inputs are random strings over the characters answers are made of, and random
mutations of valid answers. While the checker runs, ``eval``, ``exec`` and
SymPy's string parsers are replaced by traps, so nothing the user typed can be
executed without the test failing. The verdicts are checked too: a correct
answer is graded correct, and a mutation of it whose value differs at points
of tests/reference.py's own forward pass is not.
"""

from __future__ import annotations

import builtins
import importlib
import sys
from contextlib import ExitStack
from unittest import mock

import pytest
import reference as ref
import sympy
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from derive.check import check, check_text
from derive.check.answer import parse_answer
from derive.errors import DeriveError
from derive.formula.tree import format_node, small_powers, to_sympy
from derive.graph import load_network

SYMPIFY_MODULE = importlib.import_module("sympy.core.sympify")
PARSER_MODULE = importlib.import_module("sympy.parsing.sympy_parser")

VALID = [
    "dL/dW1 = (dL/dO31*dO31/dO21*dO21/dO11*dO11/dW1) + (dL/dO31*dO31/dO22*dO22/dO12*dO12/dW1)",
    "dL/dW1 = (dL/dO21*dO21/dO11 + dL/dO22*dO22/dO11)*dO11/dW1",
    "∂L/∂W1 = ∂L/∂O31 · ∂O31/∂O21 × ∂O21/∂O11 ∂O11/∂W1",
    r"\frac{\partial L}{\partial W_{1}} = \frac{\partial L}{\partial O_{31}} \cdot \left( \frac{\partial O_{31}}{\partial O_{11}} \right) \, \frac{dO_{11}}{dW_1}",
    "dL/dW12 = -(1 - y)/(1 - O31)*O31*(1 - O31)*O22 + y/O31*O31*(1-O31)*O22",
    "dL/dW1 = σ(z11)^2 * exp(-W1) + log(O11) - tanh(x1) ** 2 + Heaviside(z21) + e^{-x2}",
]

# Correct answers on two_hidden (bce on a sigmoid output: dL/dz31 = O31 - y), worked by
# hand: every one must be graded correct.
CORRECT_EXPANSIONS = [VALID[1], VALID[3]]
CORRECT_FORMULAS = [
    "dL/dW12 = (O31 - y)*O22",
    "dL/dW11 = (O31 - y) * O21",
    "dL/dW7 = (O31 - y)*W11*O21*(1 - O21)*O11",
]

VALID_3B1B = [
    r"\frac{\partial C_0}{\partial w^{(L)}} = \frac{\partial z^{(L)}}{\partial w^{(L)}} \frac{\partial a^{(L)}}{\partial z^{(L)}} \frac{\partial C_0}{\partial a^{(L)}}",
    r"$$\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) \, 2\left(a^{(L)} - y\right)$$",
]

ALPHABET = st.sampled_from(
    list("dLWOxyz0123456789/*+-^()[]{}=., _$'") + ["∂", "·", "×", "−", "σ", "₁", "\\"]
    + [r"\frac", r"\partial", r"\cdot", r"\left(", r"\right)", r"\times", "O31", "W1", "dL/d"]
    + ["²", "⁰", r"\text{by the rule}", "Heaviside(", ", 0)", r"^{\prime}", r"\begin{aligned}", "&"]
)  # fmt: skip

FAST = settings(
    max_examples=60,
    deadline=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def net():
    """The network the fuzzed answers are checked against."""
    return load_network("two_hidden")


@pytest.fixture(scope="module")
def chain():
    """The network in 3Blue1Brown's notation, with LaTeX names of its own."""
    return load_network("chain_3b1b")


def _trap(real):
    def guarded(*args, **kwargs):
        if any(isinstance(a, str) for a in args):
            raise AssertionError(f"user text reached {real.__name__}: {args[0]!r}")
        return real(*args, **kwargs)

    return guarded


def _from_derive(real):
    """Wrap eval/exec so that a call from derive's own code fails (libraries may compile their own)."""

    def guarded(*args, **kwargs):
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller == "derive" or caller.startswith("derive."):
            raise AssertionError(f"{caller} called {real.__name__} while checking an answer")
        return real(*args, **kwargs)

    return guarded


def _forbidden(*args, **kwargs):
    raise AssertionError("parse_expr called while checking an answer")


def _run_trapped(fn, *args):
    """Call ``fn`` with eval, exec, sympify-on-strings and parse_expr all failing loudly."""
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(builtins, "eval", _from_derive(builtins.eval)))
        stack.enter_context(mock.patch.object(builtins, "exec", _from_derive(builtins.exec)))
        stack.enter_context(mock.patch.object(sympy, "sympify", _trap(sympy.sympify)))
        stack.enter_context(
            mock.patch.object(SYMPIFY_MODULE, "sympify", _trap(SYMPIFY_MODULE.sympify))
        )
        stack.enter_context(mock.patch.object(PARSER_MODULE, "parse_expr", _forbidden))
        return fn(*args)


def _only_clean_errors(fn, *args) -> None:
    try:
        _run_trapped(fn, *args)
    except DeriveError as err:
        assert "\n" not in str(err)
        assert err.col is None or err.col >= 1


@st.composite
def mutations(draw, valid=VALID):
    """A valid answer with a few characters deleted, inserted, swapped or repeated."""
    text = list(draw(st.sampled_from(valid)))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "replace", "repeat"]))
        piece = draw(ALPHABET)
        if action == "delete" and pos < len(text):
            del text[pos]
        elif action == "insert":
            text.insert(pos, piece)
        elif action == "replace" and pos < len(text):
            text[pos] = piece
        elif action == "repeat":
            text.insert(pos, piece * draw(st.integers(2, 60)))
    return "".join(text)


def test_traps_catch_a_string_reaching_sympify():
    with pytest.raises(AssertionError):
        _run_trapped(sympy.sympify, "x + 1")


def test_traps_catch_eval_called_from_derive():
    namespace = {"__name__": "derive.probe"}
    exec("def probe():\n    return eval('1')", namespace)  # a stand-in for a derive module
    with pytest.raises(AssertionError, match="derive.probe called eval"):
        _run_trapped(namespace["probe"])


def test_valid_answers_pass_under_the_traps(net):
    for text in VALID:
        _run_trapped(check, net, text)


@pytest.mark.parametrize("text", CORRECT_EXPANSIONS + CORRECT_FORMULAS)
def test_correct_answers_are_graded_correct_under_the_traps(net, text):
    result = _run_trapped(check, net, text)
    assert result.match, result.reasons


def _values_at_reference_points(net, text: str, seeds=(11, 12, 13)) -> list[complex] | None:
    """Return an answer's right-hand side at the reference's points, or None if it has none.

    None too when the answer does not read, has several sides, uses a name the
    reference does not compute, or has huge powers (SymPy would compute them exactly).
    """
    try:
        answer = parse_answer(text, net.names, net.latex_names)
    except DeriveError:
        return None
    if len(answer.rhs) != 1 or answer.lhs is None or not small_powers(answer.rhs[0]):
        return None
    expr = to_sympy(answer.rhs[0])
    out = []
    for seed in seeds:
        env = ref.forward(net, ref.random_point(net, seed))
        if not {s.name for s in expr.free_symbols} <= set(env):
            return None
        value = complex(
            expr.xreplace({sympy.Symbol(k): sympy.Float(v, 30) for k, v in env.items()}).evalf(30)
        )
        out.append(value)
    return out


@FAST
@given(
    st.sampled_from(CORRECT_FORMULAS).flatmap(
        lambda text: mutations([text]).map(lambda m: (text, m))
    )
)
def test_a_mutated_formula_that_changes_value_is_not_graded_correct(net, pair):
    original, mutated = pair
    before = _values_at_reference_points(net, original)
    after = _values_at_reference_points(net, mutated)
    if after is None or mutated.partition("=")[0].strip() != original.partition("=")[0].strip():
        return  # unreadable, or another derivative: test_mutated_answers_... covers it
    differs = any(abs(a - b) > 1e-6 * max(1.0, abs(b)) for a, b in zip(after, before, strict=True))
    try:
        result = _run_trapped(check, net, mutated)
    except DeriveError:
        return
    if differs:
        assert not result.match, (mutated, after, before)


def test_valid_3b1b_answers_match_under_the_traps(chain):
    assert all(_run_trapped(check, chain, text).match for text in VALID_3B1B)


@FAST
@given(st.text(max_size=80))
def test_random_unicode_parses_or_raises_a_clean_error(net, text):
    _only_clean_errors(parse_answer, text, net.names, net.latex_names)


@FAST
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_random_answer_like_text_checks_or_raises_a_clean_error(net, text):
    _only_clean_errors(check, net, text)


@FAST
@given(mutations())
def test_mutated_answers_check_or_raise_a_clean_error(net, text):
    _only_clean_errors(check, net, text)


@FAST
@given(mutations(VALID_3B1B))
def test_mutated_latex_answers_check_or_raise_a_clean_error(chain, text):
    _only_clean_errors(check, chain, text)


@FAST
@given(mutations())
def test_an_answer_read_back_from_its_printed_form_is_the_same_formula(net, text):
    try:
        answer = parse_answer(text, net.names, net.latex_names)
    except DeriveError:
        return
    for side in answer.rhs:
        if not small_powers(side):
            continue  # SymPy would compute huge exact powers; the printing is the same
        again = parse_answer(format_node(side), net.names).rhs[0]
        assert to_sympy(again) == to_sympy(side), format_node(side)


LINE_PIECES = ALPHABET | st.sampled_from(["\n", "$$", "`", "```math\n", "- ", "1. ", "# ", "the "])


@FAST
@given(st.lists(LINE_PIECES, max_size=60).map("".join), st.booleans())
# Found by a local run: a ``` is no fence in a plain text file, so $$ opens a block at line 2.
@example("```math\n$$\n```math\n$$", False)
def test_random_files_give_every_line_a_verdict_and_never_raise(net, text, markdown):
    batch = _run_trapped(lambda: check_text(net, text, markdown=markdown))
    verdicts = {"match", "mismatch", "unreadable", "no_answer", "skipped", "warning"}
    assert all(line.verdict in verdicts for line in batch.lines)
    if not markdown:  # in a text file only blank lines and # comments go unreported
        lines = [n for n, t in enumerate(text.splitlines(), 1) if t.strip() and t.strip()[0] != "#"]
        assert {line.line for line in batch.lines} >= set(lines) - _in_blocks(text, markdown)


def _in_blocks(text: str, markdown: bool) -> set[int]:
    """Return the numbers of lines inside a multi-line $...$ or (in Markdown) ```math block,
    reported at its start; a plain text file has no fences: ``` is a line like any other."""
    inside, out = "", set()
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if inside:
            out.add(number)
            if stripped.startswith(inside) or stripped.endswith(inside):
                inside = ""
        elif markdown and stripped.startswith(("```", "~~~")):
            inside = stripped[:3]
        elif stripped.startswith("$$") and stripped.count("$$") == 1:
            inside = "$$"
        elif stripped.startswith("$") and stripped.count("$") == 1:
            inside = "$"
    return out


@pytest.mark.parametrize(
    "text",
    [
        "dL/dW1 = " + "(" * 5000 + "x1" + ")" * 5000,
        "dL/dW1 = " + "-" * 5000 + "x1",
        "dL/dW1 = 9^9^9^9^9^9^9^9",
        "dL/dW1 = (1e300^64)^64^64",
        "dL/dW1 = (dL/dO31 + dL/dO21 + dL/dO22 + dL/dO11)^64",
        "dL/dW1 = 1e99999999999999999999",
        "dL/dW1 = " + "x1*" * 5000 + "x1",
    ],
    ids=[
        "brackets",
        "minuses",
        "power-tower",
        "huge-powers",
        "big-expansion",
        "huge-number",
        "long",
    ],
)
def test_pathological_answers_end_quickly_with_a_verdict_or_a_clean_error(net, text):
    _only_clean_errors(check, net, text)
