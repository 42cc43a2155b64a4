"""After each hand-over of a user's step: its invariants checked, its calls reported.

On the greenlet side, once the step's calls are back from the loop: the step's own
lifecycle invariants are judged (no request loop; single flight for concurrent calls
that refreshed), each call goes to the process's recorders and to Locust's
``events.request`` (so Locust's tables, CSV, HTML report and exit code see it), and each
verdict that Locust should show as a row of its own (``LEAK`` for leaks, ``LOST
SESSION``, ``BROKEN``: ``bench.registry.ROW_KINDS``) is fired as a failed row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.locust_adapter._runtime import ProcessRuntime
from bench.measure import CallRecord
from bench.registry import ROW_KINDS, Invariant
from bench.registry import Verdict as V
from bench.session import REPLAY

__all__ = [
    "MAX_CALLS_PER_STEP",
    "MAX_EXCHANGES_PER_CALL",
    "APICallFailed",
    "SessionFinding",
    "check_step",
    "report_calls",
]

# No request loops (BOUNDED_REQUESTS): a step (one task's hand-over) makes at most this
# many calls, and a call at most this many exchanges (the request, one refresh, a retry).
MAX_CALLS_PER_STEP = 8
MAX_EXCHANGES_PER_CALL = 3


class APICallFailed(Exception):
    """A verb returned ``None``; the message is the status or exception class."""


class SessionFinding(Exception):
    """A call showed a leak, a lost session or a broken invariant (its row's kind says)."""


def check_step(
    runtime: ProcessRuntime, username: str, calls: list[CallRecord], concurrency: int
) -> None:
    """The invariants of one hand-over: no request loop; and, when its calls ran
    ``concurrency`` > 1 at once and refreshed, one refresh at a time (single flight:
    checked only where a burst could break it). Counts how many 401s each refresh served
    (more than one: a burst served by a single flight)."""
    exchanges = max(call.http_requests for call in calls)
    runtime.check_invariant(
        Invariant.BOUNDED_REQUESTS,
        len(calls) <= MAX_CALLS_PER_STEP and exchanges <= MAX_EXCHANGES_PER_CALL,
        lambda: {
            "user": username,
            "calls": str(len(calls)),
            "most_exchanges_in_a_call": str(exchanges),
        },
    )
    judged = [call for call in calls if call.verdicts is not None]
    if not judged:  # the common case: nothing happened to the session
        return
    # A 401 on a credential route is wrong credentials; on a replay, its refusal.
    credential = runtime.profile.credential_routes
    unauthorized = refreshes = overlapping = 0
    for call in judged:
        assert call.verdicts is not None
        if call.endpoint not in credential and call.method != REPLAY:
            # 401s a refresh could serve: a retry's 401 is followed by none.
            unauthorized += call.verdicts.count(V.UNAUTHORIZED)
            unauthorized -= call.verdicts.count(V.RETRY_UNAUTHORIZED)
            refreshes += call.verdicts.count(V.REFRESH)
            overlapping += call.verdicts.count(V.REFRESH_CONCURRENT)
    if not refreshes:
        return
    runtime.refresh_served[max(1, round(unauthorized / refreshes))] += refreshes
    if concurrency > 1:
        runtime.check_invariant(
            Invariant.SINGLE_FLIGHT,
            overlapping == 0,
            lambda: {
                "user": username,
                "unauthorized": str(unauthorized),
                "refreshes": str(refreshes),
                "refreshes_overlapping": str(overlapping),
            },
        )


def report_calls(
    runtime: ProcessRuntime,
    fire: Callable[..., Any],
    calls: list[CallRecord],
    start_delay: float | None,
) -> None:
    """Record each call and fire Locust's ``events.request`` for it, then its rows.

    With ``start_delay`` (an open-model step) the first call carries that delay and the
    others none.
    """
    if start_delay is not None:
        for index, call in enumerate(calls):
            call.start_delay_s = start_delay if index == 0 else 0.0
    record = runtime.record
    for call in calls:
        record(call)
        fire(
            request_type=call.method,
            name=call.endpoint,
            response_time=call.latency_s * 1000.0,
            response_length=call.response_bytes,
            exception=None if call.ok else APICallFailed(call.failure_message()),
            context={},
        )
        if call.verdicts is not None:
            _fire_rows(fire, call)


def _fire_rows(fire: Callable[..., Any], call: CallRecord) -> None:
    """One failed row in Locust's stats per finding on this call, named by its kind
    (``LEAK GET /api/v1/auth/me``). The rows count no request in aegis-bench's figures."""
    for verdict in call.verdicts or ():
        row = ROW_KINDS.get(verdict)  # type: ignore[call-overload]
        if row is not None:
            kind, meaning = row
            fire(
                request_type=str(kind),
                name=f"{call.method} {call.endpoint}",
                response_time=0.0,
                response_length=0,
                exception=SessionFinding(f"{verdict}: {meaning}"),
                context={},
            )
