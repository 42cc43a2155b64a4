"""One outcome function: complete or not, passed or failed, every reason, one exit code.

Summaries here come from the real builder over parts; the exit codes are the table's.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.measure import CallRecord, Recorder
from bench.options import Limits
from bench.outcome import ExitCode, ReasonKind, judge_comparison, judge_run
from tests._helpers import part_of, summarise

pytestmark = pytest.mark.timeout(30)

ME = "/api/v1/auth/me"


def recorded(*records: CallRecord) -> dict[str, Any]:
    recorder = Recorder()
    for record in records:
        recorder.record(record)
    return recorder.snapshot()


def checked(ok: bool = True, **fields: Any) -> CallRecord:
    """A call whose identity was checked (and held), ok or failed."""
    return CallRecord("GET", ME, ok=ok, status=200 if ok else 503, http_requests=1,
                      identity_checks=1, **fields)  # fmt: skip


def run(*records: CallRecord, **context: Any) -> dict[str, Any]:
    part = part_of(recorder=recorded(*(records or (checked(),))))
    return summarise([part], **context)


def kinds(summary: dict[str, Any]) -> list[ReasonKind]:
    return [reason.kind for reason in judge_run(summary).reasons]


def test_a_complete_run_whose_checks_held_passes_with_0() -> None:
    """Checks ran and held, nothing failed: complete, passed, exit 0, no reason."""
    summary = run()
    outcome = judge_run(summary)
    assert (outcome.complete, outcome.passed, outcome.exit_code) == (True, True, ExitCode.OK)
    assert summary["outcome"] == outcome.as_json()


def test_a_run_that_did_not_complete_never_exits_0() -> None:
    """A partial run (Locust overran, was killed) exits 3, the incomplete-run code."""
    summary = run(partial_reasons=("Locust was killed (it overran its grace period)",))
    outcome = judge_run(summary)
    assert summary["partial"] is True
    assert not outcome.complete
    assert outcome.exit_code == ExitCode.INCOMPLETE


def test_a_load_process_that_never_wrote_its_final_part_makes_the_run_incomplete() -> None:
    """A part left as a checkpoint is a run that did not complete: exit 3."""
    part = part_of(recorder=recorded(checked()), final=False)
    summary = summarise([part])
    assert judge_run(summary).exit_code == ExitCode.INCOMPLETE


def test_a_leak_in_an_incomplete_run_still_exits_1() -> None:
    """A finding stands whatever else happened: a leak gives 1 even in a partial run."""
    leak = checked(verdicts=["leak"])
    summary = run(leak, partial_reasons=("Locust was killed",))
    assert set(kinds(summary)) == {ReasonKind.INCOMPLETE, ReasonKind.LEAK}
    assert judge_run(summary).exit_code == ExitCode.FAILED


@pytest.mark.parametrize(("signal", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_gives_its_own_code(signal: str, code: int) -> None:
    """A run stopped by a signal exits with that signal's code, and says when it stopped."""
    summary = run(stopped_by=signal, duration_requested_s=30.0)
    outcome = judge_run(summary)
    assert outcome.exit_code == code
    assert summary["partial_reasons"][0].startswith(f"stopped by {signal} after")
    assert outcome.reasons[0].kind is ReasonKind.INTERRUPTED


def test_a_failed_request_fails_a_run_unless_the_limit_allows_it() -> None:
    """Failed requests fail the run by default; a max error rate above theirs lets it pass."""
    summary = run(checked(), checked(ok=False))
    assert kinds(summary) == [ReasonKind.FAILED_REQUESTS]
    assert judge_run(summary, Limits(max_error_rate=0.5)).passed


def test_a_broken_invariant_fails_the_run_and_names_it() -> None:
    """A lifecycle invariant that broke is a reason of its own, naming the invariant."""
    part = part_of(
        recorder=recorded(checked()),
        lifecycle={"invariants": {"single_flight_refresh": {"checked": 17, "broken": 14}}},
    )
    outcome = judge_run(summarise([part]))
    [reason] = outcome.reasons
    assert reason.kind is ReasonKind.INVARIANT_BROKEN
    assert reason.text == "single_flight_refresh, 14 of 17 checks"
    assert outcome.exit_code == ExitCode.FAILED


def test_an_option_asked_for_and_never_exercised_fails_as_not_exercised() -> None:
    """--churn asked, no client recycled: no evidence of what churn would show, exit 1."""
    summary = run(settings={"churn": "0.05"})
    assert summary["exercised"]["churn"] == {
        "asked": "0.05", "what": "clients recycled", "count": 0,
        "counted_as": "lifecycle.recycled_clients",
    }  # fmt: skip
    [reason] = judge_run(summary).reasons
    assert reason.kind is ReasonKind.NOT_EXERCISED
    assert "churn 0.05 asked for clients recycled, none" in reason.text


def test_an_option_exercised_passes() -> None:
    """Churn that recycled clients is evidence: no reason."""
    part = part_of(recorder=recorded(checked()), lifecycle={"recycled_clients": 3})
    summary = summarise([part], settings={"churn": "0.05"})
    assert summary["exercised"]["churn"]["count"] == 3
    assert judge_run(summary).passed


def test_a_run_that_checked_nothing_is_not_checked_and_fails() -> None:
    """No identity check ran: isolation not checked, exit 1, never ok."""
    summary = summarise([part_of()])
    assert kinds(summary) == [ReasonKind.NOT_CHECKED]
    assert judge_run(summary).exit_code == ExitCode.FAILED


def test_a_comparison_takes_every_runs_reasons_and_its_thresholds() -> None:
    """A comparison fails on any run's reason, named by the run, and on a broken check."""
    good, unchecked = run(), summarise([part_of()])
    runs = [("pooled capacity 1", good), ("per-call capacity 1", unchecked)]
    outcome = judge_comparison(runs, [])
    assert [(r.kind, r.subject) for r in outcome.reasons] == [
        (ReasonKind.NOT_CHECKED, "per-call capacity 1")
    ]
    assert outcome.exit_code == ExitCode.FAILED
    stopped = judge_comparison([("pooled capacity 1", good)], [], stopped_by="SIGTERM")
    assert stopped.exit_code == ExitCode.SIGTERM


def lifecycle_unchecked(**settings: str) -> dict[str, Any]:
    """A run's summary in which nothing checked single flight, with these settings."""
    return run(settings=settings)


def test_an_invariant_a_run_set_out_to_exercise_is_noted_when_not_checked() -> None:
    """Bursts asked for, single flight never checked: the terminal says what it needs."""
    from bench.cli._report import notes_of

    notes = notes_of(lifecycle_unchecked(bursts="0.1"))
    [note] = [n for n in notes if "single_flight_refresh" in n]
    assert note.endswith(
        "needs concurrent calls that get 401 together: --bursts with --expire-every"
    )


def test_an_invariant_a_run_never_set_out_to_exercise_stays_out_of_the_terminal() -> None:
    """Nothing asked of the lifecycle: invariants not checked are the report's news."""
    from bench.cli._report import notes_of

    assert not [n for n in notes_of(lifecycle_unchecked()) if "not checked" in n]
