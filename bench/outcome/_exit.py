"""The exit codes of ``aegis-bench``, and of Locust running the tool: one table.

``--help`` and the docs print :func:`exit_code_table`; every command's exit code, the
CI gate's and Locust's own come from :meth:`bench.outcome.Outcome.exit_code`.
"""

from __future__ import annotations

import textwrap
from enum import IntEnum

__all__ = ["ExitCode", "exit_code_table"]


class ExitCode(IntEnum):
    """What a run's exit code says (the value is the code)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    INCOMPLETE = 3
    SIGINT = 130
    SIGTERM = 143


MEANINGS = {
    ExitCode.OK: "the run completed, every check ran (each at least once) and held, no "
    "request failed, and every threshold held",
    ExitCode.FAILED: "a leak, a broken lifecycle invariant, users left without a session, a failed "
    "request (over --max-error-rate, 0 unless ci says otherwise), a broken threshold, "
    "isolation not checked, or an option whose effect the run never exercised. A leak or "
    "a broken invariant gives 1 even when the run did not complete",
    ExitCode.USAGE: "a usage error, a failed preflight or a scenario that does not "
    "import: one line saying what to change, no load started",
    ExitCode.INCOMPLETE: "the run did not complete: Locust overran its run time and was "
    "stopped or killed, a load process was lost or killed before its final write, or "
    "users did not stop (clients left open); the run folder is written, marked partial",
    ExitCode.SIGINT: "stopped by SIGINT (Ctrl-C); the run folder is complete and marked partial",
    ExitCode.SIGTERM: "stopped by SIGTERM (kill, timeout, a CI cancel); the same",
}


def exit_code_table(markdown: bool = True) -> str:
    """The exit codes and their meanings: a Markdown table, or plain lines for --help."""
    if markdown:
        rows = [f"| {int(code)} | {meaning} |" for code, meaning in MEANINGS.items()]
        return "\n".join(["| code | when |", "|---|---|", *rows])
    return "\n".join(
        textwrap.fill(meaning, 79, initial_indent=f"  {int(code):>3}  ", subsequent_indent=" " * 7)
        for code, meaning in MEANINGS.items()
    )
