"""Stage 7: grade a hand-written answer against the derived one.

A written factor dA/dB over an edge B -> A is the local partial ∂A/∂B; any
other dA/dB is the whole derivative (the sum over its paths). The answer is
right when, so read, it is the derived expansion as a polynomial in the
local partials; a formula is compared with the concrete derivative.

The modules, in the order a check runs through them:

- ``names``: every way an answer may write each network name
- ``answer``: text -> tree (:mod:`derive.formula.tree`), a parser that never evaluates
- ``algebra``: polynomials in local partials, chains and paths
- ``results``: what a check returns (verdict, reasons)
- ``views``: how a factor reads in a view, and what grading there reuses (made once)
- ``concrete``: grading a formula or a number by value
- ``grade``: grading one answer (how each factor reads, what differs)
- ``extract``: finding the answers in a homework file, and grading each
- ``assignment``: the questions a class is asked (``--expect``), their points
- ``gradebook``: grading a class's files into one gradebook
- ``report``: the text and JSON reports, and the gradebook's (text, CSV, Gradescope)
"""

from derive.check.answer import parse_answer
from derive.check.assignment import Assignment, Question, read_assignment, read_expect
from derive.check.extract import answers_in, check_file, check_text
from derive.check.grade import check, grade
from derive.check.gradebook import (
    Gradebook,
    grade_class,
    grades_a_class,
    submission_files,
)
from derive.check.report import (
    batch_to_json,
    check_to_json,
    format_batch_text,
    format_check_text,
    format_file_report,
    format_gradebook,
    format_report,
    summary_line,
)
from derive.check.results import BatchResult, CheckResult, LineResult, NoLeftSide, Reason
from derive.check.views import Shared

__all__ = [
    "Assignment",
    "BatchResult",
    "Gradebook",
    "Question",
    "Shared",
    "format_gradebook",
    "grade_class",
    "grades_a_class",
    "read_assignment",
    "read_expect",
    "submission_files",
    "CheckResult",
    "LineResult",
    "NoLeftSide",
    "Reason",
    "answers_in",
    "batch_to_json",
    "check",
    "check_file",
    "check_text",
    "check_to_json",
    "format_batch_text",
    "format_check_text",
    "format_file_report",
    "format_report",
    "grade",
    "parse_answer",
    "summary_line",
]
