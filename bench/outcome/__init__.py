"""Outcomes: one place decides whether a run, or a comparison, completed and passed.

``run``, ``compare`` and ``ci`` take their exit codes from here, and so do the CI gate
(``junit.xml``, ``ci.md``), Locust's own exit code and the web UI's Sessions tab. The
exit codes are one table (:func:`exit_code_table`), printed by ``--help`` and the docs.
"""

from bench.outcome._exit import MEANINGS, ExitCode, exit_code_table
from bench.outcome._gate import Check, evaluate
from bench.outcome._judge import (
    LEAK_FIELDS,
    Outcome,
    Reason,
    ReasonKind,
    judge_comparison,
    judge_run,
    leak_count,
)

__all__ = [
    "LEAK_FIELDS",
    "MEANINGS",
    "Check",
    "ExitCode",
    "Outcome",
    "Reason",
    "ReasonKind",
    "evaluate",
    "exit_code_table",
    "judge_comparison",
    "judge_run",
    "leak_count",
]
