"""The session lifecycle's invariants: their names, what each holds, how each is counted.

Every invariant is reported as ``{"checked": n, "broken": n}`` in summary.json's
``lifecycle.invariants``; one that never ran is listed with 0 checks and named under
``lifecycle.not_checked`` (no evidence either way, never "held").

Three are judged by the load processes on their tasks and clients (counted in their
parts); the others are verdicts on calls, a (checked, broken) pair of verdict names
the recorder counts, or counters of the reference backend's oracle.
"""

from __future__ import annotations

from bench.measure._context import CURRENT_CALL

__all__ = [
    "BOUNDED_REQUESTS",
    "CALL_INVARIANTS",
    "INVARIANTS",
    "NEEDS",
    "NEW_CLIENT_EMPTY_JAR",
    "NO_COOKIE_AFTER_SIGN_OUT_SERVER",
    "SINGLE_FLIGHT",
    "note_unauthorized",
]

NEW_CLIENT_EMPTY_JAR = "new_client_empty_jar"
BOUNDED_REQUESTS = "bounded_requests_per_task"
SINGLE_FLIGHT = "single_flight_refresh"
NO_COOKIE_AFTER_SIGN_OUT_SERVER = "no_cookie_after_sign_out_at_server"

# Every invariant, with what it holds (the README's table says the same).
INVARIANTS = {
    NEW_CLIENT_EMPTY_JAR: "a client a strategy builds starts with an empty cookie jar",
    BOUNDED_REQUESTS: "a task makes at most 8 calls, a call at most 3 exchanges",
    SINGLE_FLIGHT: "a burst of 401s (a task's concurrent calls) is served by one refresh "
    "at a time: none starts while another of the session is in flight",
    "on_unauthorized_once": "on_unauthorized runs once per session lost, until a new one",
    "no_cookie_after_sign_out": "the call after a sign-out carries no session cookie",
    NO_COOKIE_AFTER_SIGN_OUT_SERVER: "the target sees no signed-out session's cookie "
    "(replays aside)",
}

# What a run needs before an invariant can be checked at all (said when it was not).
NEEDS = {
    NEW_CLIENT_EMPTY_JAR: "clients built through a strategy",
    BOUNDED_REQUESTS: "tasks run through AegisUser",
    SINGLE_FLIGHT: "concurrent calls that get 401 together: --bursts with --expire-every",
    "on_unauthorized_once": "sessions lost for good: --refresh-outage with --expire-every, "
    "or --restart-target-at",
    "no_cookie_after_sign_out": "sign-outs followed by a call",
    NO_COOKIE_AFTER_SIGN_OUT_SERVER: "the reference backend's oracle",
}

# Invariants judged on calls: name -> (verdict of a check, verdict of a break).
CALL_INVARIANTS = {
    "on_unauthorized_once": ("on_unauthorized", "on_unauthorized_again"),
    "no_cookie_after_sign_out": ("after_sign_out_checked", "cookie_after_sign_out"),
}


def note_unauthorized() -> None:
    """The ``on_unauthorized`` handler of every measured client: marks the call in flight.

    The session that made the call reads the mark when the call returns, counts it, and
    does what the Aegis app does: signs out locally and signs in again (see
    ``MeasuredSession``).
    """
    record = CURRENT_CALL.get()
    if record is not None:
        record.verdict("on_unauthorized")
