"""Stage 7: grade a hand-written answer against the derived one.

A written factor dA/dB over an edge B -> A is the local partial ∂A/∂B; any
other dA/dB is the whole derivative (the sum over its paths). The answer is
right when, so read, it is the derived expansion as a polynomial in the
local partials; a formula is compared with the concrete derivative.

The modules, in the order a check runs through them:

- ``tree``: the answer as a syntax tree (plain data; walking, printing, evaluating)
- ``names``: every way an answer may write each network name
- ``answer``: text -> tree, a parser that never evaluates what it reads
- ``algebra``: polynomials in local partials, chains and paths
- ``results``: what a check returns (verdict, reasons)
- ``concrete``: grading a formula or a number by value
- ``grade``: grading one answer (how each factor reads, what differs)
- ``extract``: finding the answers in a homework file, and grading each
- ``report``: the text and JSON reports
"""

from derive.check.answer import parse_answer
from derive.check.extract import answers_in, check_file, check_text
from derive.check.grade import check, grade
from derive.check.report import (
    batch_to_json,
    check_to_json,
    format_batch_text,
    format_check_text,
    format_file_report,
    format_report,
    summary_line,
)
from derive.check.results import BatchResult, CheckResult, LineResult, NoLeftSide, Reason

__all__ = [
    "BatchResult",
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
