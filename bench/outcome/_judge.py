"""The one place a run, or a comparison, is judged: complete or not, passed or failed, why.

:func:`judge_run` reads a run's ``summary.json``; :func:`judge_comparison` its runs and
the gate's threshold checks. Every door takes its verdict from here: the exit codes of
``run``, ``compare`` and ``ci``, the gate's ``junit.xml`` and ``ci.md``, Locust's own
exit code, and the web UI's Sessions tab. A check that never ran is never a pass: it
is "not checked", and fails the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bench.options import Limits
from bench.outcome._exit import ExitCode
from bench.registry import IsolationVerdict

__all__ = [
    "LEAK_FIELDS",
    "Outcome",
    "Reason",
    "ReasonKind",
    "judge_comparison",
    "judge_run",
    "leak_count",
]

# The isolation counters that are leaks (each fails a run, whatever else it did).
LEAK_FIELDS = (
    "client_side_leaks",
    "server_side_leaks",
    "shared_connections",
    "replay_accepted",
    "foreign_sessions",
)
_SIGNALS = {"SIGINT": ExitCode.SIGINT, "SIGTERM": ExitCode.SIGTERM}


class ReasonKind(StrEnum):
    """Why a run did not pass; the value heads its line in the terminal."""

    LEAK = "ISOLATION FAILED"
    INVARIANT_BROKEN = "LIFECYCLE INVARIANT BROKEN"
    FAILED_REQUESTS = "REQUESTS FAILED"
    NOT_CHECKED = "ISOLATION NOT CHECKED"
    NOT_EXERCISED = "NOT EXERCISED"
    NO_SESSION = "USERS WITHOUT A SESSION"
    THRESHOLD = "THRESHOLD BROKEN"
    INCOMPLETE = "RUN INCOMPLETE"
    INTERRUPTED = "STOPPED"


# Findings stand whatever else happened to the run: they decide the code first.
_FINDINGS = frozenset({ReasonKind.LEAK, ReasonKind.INVARIANT_BROKEN})


@dataclass(frozen=True)
class Reason:
    """One reason a run did not pass: its kind, what it concerns and what happened."""

    kind: ReasonKind
    text: str
    subject: str = ""  # the strategy or run it concerns, when several
    examples: tuple[Mapping[str, Any], ...] = ()

    def line(self) -> str:
        """``KIND (subject): text``, as the terminal prints it."""
        subject = f" ({self.subject})" if self.subject else ""
        return f"{self.kind.value}{subject}: {self.text}"

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind.name.lower(), "subject": self.subject, "text": self.text}


@dataclass(frozen=True)
class Outcome:
    """A run's (or a comparison's) verdict: every reason, and the exit code they give."""

    reasons: tuple[Reason, ...] = ()
    stopped_by: str | None = None
    checks: tuple[Any, ...] = field(default=(), compare=False)  # the gate's, when any

    @property
    def complete(self) -> bool:
        """It ran to its end: not stopped by a signal, nothing overran, lost or killed."""
        return self.stopped_by is None and not any(
            r.kind is ReasonKind.INCOMPLETE for r in self.reasons
        )

    @property
    def passed(self) -> bool:
        """Complete, and every check ran and held."""
        return self.complete and not self.reasons

    @property
    def exit_code(self) -> int:
        """The one exit-code rule (see :data:`bench.outcome.MEANINGS`): a signal's code
        first, then 1 for a finding (a leak, a broken invariant), then 3 for a run that
        did not complete, then 1 for any other reason, else 0."""
        if self.stopped_by in _SIGNALS:
            return _SIGNALS[self.stopped_by]
        kinds = {reason.kind for reason in self.reasons}
        if kinds & _FINDINGS:
            return ExitCode.FAILED
        if ReasonKind.INCOMPLETE in kinds:
            return ExitCode.INCOMPLETE
        return ExitCode.FAILED if kinds else ExitCode.OK

    def as_json(self) -> dict[str, Any]:
        return {
            "complete": self.complete,
            "passed": self.passed,
            "exit_code": int(self.exit_code),
            "reasons": [reason.as_json() for reason in self.reasons],
        }


def leak_count(isolation: Mapping[str, Any]) -> int:
    """Every leak an isolation section counted, of any kind."""
    return sum(int(isolation.get(key) or 0) for key in LEAK_FIELDS)


def _isolation(summary: Mapping[str, Any], limits: Limits) -> Iterable[Reason]:
    isolation = summary.get("isolation") or {}
    verdict = isolation.get("verdict")
    leaks = leak_count(isolation)
    if verdict == IsolationVerdict.LEAK and leaks > limits.max_leaks:
        examples = tuple(isolation.get("examples") or ())[:5]
        yield Reason(ReasonKind.LEAK, str(isolation.get("reason")), examples=examples)
    elif verdict == IsolationVerdict.NOT_CHECKED:
        yield Reason(ReasonKind.NOT_CHECKED, str(isolation.get("reason")))


def _invariants(summary: Mapping[str, Any]) -> Iterable[Reason]:
    lifecycle = summary.get("lifecycle") or {}
    for name, counts in (lifecycle.get("invariants") or {}).items():
        if counts.get("broken"):
            examples = tuple(
                e for e in lifecycle.get("invariant_examples") or () if e.get("invariant") == name
            )[:5]
            yield Reason(
                ReasonKind.INVARIANT_BROKEN,
                f"{name}, {counts['broken']:,} of {counts['checked']:,} checks",
                examples=examples,
            )


def _failures(summary: Mapping[str, Any], limits: Limits) -> Iterable[Reason]:
    failures, requests = int(summary.get("failures") or 0), int(summary.get("requests") or 0)
    if limits.max_error_rate is None or not failures:
        return
    rate = failures / requests if requests else 1.0
    if rate > limits.max_error_rate:
        kinds = ", ".join(f"{k} {n:,}" for k, n in (summary.get("failures_by_kind") or {}).items())
        allowed = f" (allowed {limits.max_error_rate:.2%})" if limits.max_error_rate else ""
        yield Reason(
            ReasonKind.FAILED_REQUESTS,
            f"{failures:,} of {requests:,} calls failed{allowed}: {kinds or 'see locust.log'}",
        )


def _sessions(summary: Mapping[str, Any]) -> Iterable[Reason]:
    without = (summary.get("users_without_session") or {}).get("count") or 0
    if without:
        yield Reason(
            ReasonKind.NO_SESSION,
            f"{without:,} of {int(summary.get('users') or 0):,} users ended without a session: "
            "their sign-ins failed or never had their turn (see users_without_session)",
        )


def _exercised(summary: Mapping[str, Any]) -> Iterable[Reason]:
    for name, entry in (summary.get("exercised") or {}).items():
        if not entry.get("count"):
            counted = "none" if entry.get("count") == 0 else "the run could not count them"
            yield Reason(
                ReasonKind.NOT_EXERCISED,
                f"{name} {entry['asked']} asked for {entry['what']}, {counted}: its effect "
                "was never exercised, so nothing it would show was checked",
            )


def judge_run(
    summary: Mapping[str, Any], limits: Limits | None = None, *, subject: str = ""
) -> Outcome:
    """The verdict on one run's summary, under ``limits`` (the summary's own by default)."""
    if limits is None:
        limits = Limits.from_json(summary.get("limits"))
    stopped_by = summary.get("stopped_by")
    reasons: list[Reason] = []
    for text in summary.get("partial_reasons") or ():
        stop = bool(stopped_by) and text.startswith(f"stopped by {stopped_by}")
        reasons.append(Reason(ReasonKind.INTERRUPTED if stop else ReasonKind.INCOMPLETE, text))
    if stopped_by and not any(r.kind is ReasonKind.INTERRUPTED for r in reasons):
        reasons.insert(0, Reason(ReasonKind.INTERRUPTED, f"stopped by {stopped_by}"))
    reasons += _isolation(summary, limits)
    reasons += _invariants(summary)
    reasons += _failures(summary, limits)
    reasons += _sessions(summary)
    reasons += _exercised(summary)
    if subject:
        reasons = [Reason(r.kind, r.text, subject, r.examples) for r in reasons]
    return Outcome(tuple(reasons), stopped_by)


def judge_comparison(
    runs: Sequence[tuple[str, Mapping[str, Any]]],
    checks: Sequence[Any],
    *,
    stopped_by: str | None = None,
) -> Outcome:
    """The verdict on a comparison: each run's own reasons (its leaks and failed requests
    aside, which the gate's ``checks`` judge over every run), and every broken check.

    ``runs`` are (label, summary) pairs; ``checks`` the gate's (``bench.report.Check``).
    """
    reasons: list[Reason] = []
    lenient = Limits(max_leaks=2**62, max_error_rate=None)
    for label, summary in runs:
        outcome = judge_run(summary, lenient, subject=label)
        reasons += [r for r in outcome.reasons if r.kind is not ReasonKind.INTERRUPTED]
        stopped_by = stopped_by or outcome.stopped_by
    if stopped_by:
        reasons.insert(0, Reason(ReasonKind.INTERRUPTED, f"stopped by {stopped_by}"))
    for check in checks:
        if not check.passed:
            reasons.append(Reason(check.kind, f"{check.message} (limit {check.shown(check.limit)})",
                                  check.name))  # fmt: skip
    return Outcome(tuple(reasons), stopped_by, tuple(checks))
