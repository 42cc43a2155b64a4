"""The session lifecycle's invariants: each declared once, with what it means, what
exercises it, and how it is counted.

Every invariant is reported as ``{"checked": n, "broken": n}`` in summary.json's
``lifecycle.invariants``; one that never ran is listed with 0 checks and named under
``lifecycle.not_checked`` (no evidence either way, never "held").

What exercises an invariant names options, not flags: each door names them as its user
knows them (``--bursts`` on aegis-bench's command line, ``aegis_bursts`` on the form).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bench.options import BURSTS, EXPIRE_EVERY, REFRESH_OUTAGE, RESTART_TARGET_AT, Door, Option
from bench.registry._verdicts import Verdict

__all__ = ["INVARIANTS", "Invariant", "InvariantSpec", "needs"]


class Invariant(StrEnum):
    """A lifecycle invariant (its value is its name in summary.json)."""

    NEW_CLIENT_EMPTY_JAR = "new_client_empty_jar"
    BOUNDED_REQUESTS = "bounded_requests_per_task"
    SINGLE_FLIGHT = "single_flight_refresh"
    ON_UNAUTHORIZED_ONCE = "on_unauthorized_once"
    NO_COOKIE_AFTER_SIGN_OUT = "no_cookie_after_sign_out"
    NO_COOKIE_AFTER_SIGN_OUT_SERVER = "no_cookie_after_sign_out_at_server"


@dataclass(frozen=True)
class InvariantSpec:
    """What an invariant holds, what a run needs to check it, and how it is counted.

    ``exercised_by`` are alternatives: each a group of options set together. ``verdicts``
    is the (checked, broken) pair of call verdicts for an invariant judged on calls.
    """

    meaning: str
    needs: str
    counted: str
    exercised_by: Sequence[Sequence[Option[Any]]] = field(default_factory=tuple)
    verdicts: tuple[Verdict, Verdict] | None = None


INVARIANTS: dict[Invariant, InvariantSpec] = {
    Invariant.NEW_CLIENT_EMPTY_JAR: InvariantSpec(
        "a client a strategy builds starts with an empty cookie jar",
        "clients built through a strategy",
        "by the load processes, on each client built",
    ),
    Invariant.BOUNDED_REQUESTS: InvariantSpec(
        "a task makes at most 8 calls, a call at most 3 exchanges",
        "tasks run through AegisUser",
        "by the load processes, on each task",
    ),
    Invariant.SINGLE_FLIGHT: InvariantSpec(
        "a burst of 401s (a task's concurrent calls) is served by one refresh at a time: "
        "none starts while another of the session is in flight",
        "concurrent calls that get 401 together",
        "by the load processes, on each task whose calls ran concurrently and refreshed",
        exercised_by=((BURSTS, EXPIRE_EVERY),),
    ),
    Invariant.ON_UNAUTHORIZED_ONCE: InvariantSpec(
        "on_unauthorized runs once per session lost, until a new one",
        "sessions lost for good",
        "on calls: each on_unauthorized, broken when it ran again for a lost session",
        exercised_by=((REFRESH_OUTAGE, EXPIRE_EVERY), (RESTART_TARGET_AT,)),
        verdicts=(Verdict.ON_UNAUTHORIZED, Verdict.ON_UNAUTHORIZED_AGAIN),
    ),
    Invariant.NO_COOKIE_AFTER_SIGN_OUT: InvariantSpec(
        "the call after a sign-out carries no session cookie",
        "sign-outs followed by a call",
        "on calls: the first call after each sign-out",
        verdicts=(Verdict.AFTER_SIGN_OUT_CHECKED, Verdict.COOKIE_AFTER_SIGN_OUT),
    ),
    Invariant.NO_COOKIE_AFTER_SIGN_OUT_SERVER: InvariantSpec(
        "the target sees no signed-out session's cookie (replays aside)",
        "the reference backend's oracle",
        "by the reference backend's oracle, on each request after a sign-out",
    ),
}


def needs(invariant: str, door: Door) -> str:
    """What a run needs before ``invariant`` can be checked, naming options for ``door``."""
    spec = INVARIANTS.get(Invariant(invariant)) if invariant in set(Invariant) else None
    if spec is None:
        return "a scenario that checks it"
    ways = [" with ".join(option.label(door) for option in group) for group in spec.exercised_by]
    return spec.needs + (f": {' or '.join(ways)}" if ways else "")
