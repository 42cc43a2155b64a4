"""``check_isolation``: many users at once on the caller's client, judged as a run is.

The order of one check:

1. The arguments are checked: a clear ``ValueError`` or ``TypeError`` names what is wrong.
2. **The control.** A few users share one ``APIClient`` (``bench.strategies``'
   ``shared`` negative control: one cookie jar for all of them) against the same
   backend with the same profile. Their leaks must be caught; when they are not, this
   backend cannot show a leak with this profile, the verdict is ``not checked`` with
   the control's reason, and the caller's factory is never called.
3. **The caller's client.** ``users`` users, each with a new client from the factory,
   register or sign in all at once, browse the default scenario's steps
   (``bench.steps``: identity, data, sign-out-and-in with the replay of the signed-out
   cookie) for ``duration`` seconds alongside each other, sign out (and replay), and
   have their clients closed, on errors and cancellation too.
4. **The verdict** is the ``isolation`` section of the summary
   ``bench.report.build_summary`` makes of those users, the same code every run's
   verdict comes from (client side only: a check never reads a backend's instruments).

Time is bounded: each request by its client's timeout, each step of a user by
:data:`STEP_TIMEOUT_S`, the whole check by :func:`time_budget_s`. A check cut short
by its budget is ``not checked``, unless it had already caught a leak.
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.asyncio_driver import Crowd, CrowdRun, run_crowd
from bench.profile import AEGIS, Profile, load_profile
from bench.registry import IsolationVerdict
from bench.report import RunContext, build_summary
from bench.strategies import ClientStrategy, SharedStrategy, StrategyContext
from bench.testing._clients import ClientFactory, FactoryClients
from bench.testing._report import IsolationReport, report_of

__all__ = [
    "CONTROL_DURATION_S",
    "CONTROL_USERS",
    "STEP_TIMEOUT_S",
    "check_isolation",
    "time_budget_s",
]

# The control: enough users to share a client, browsing long enough for a few steps each.
CONTROL_USERS = 4
CONTROL_DURATION_S = 1.0
# A step is at most a sign-out, a replay and a sign-in (and a refresh and retry).
STEP_TIMEOUT_S = 30.0
# The control's clients wait this long per request (the caller's clients, their own).
REQUEST_TIMEOUT_S = 10.0
DRIVER = "bench.testing"


def time_budget_s(users: int, duration: float) -> float:
    """The longest a check may take: its browsing, plus 30 s for the control and the
    sign-ins and sign-outs, plus 0.25 s per user (a backend hashing passwords signs
    users in one after another: tens of milliseconds each)."""
    return 30.0 + duration + 0.25 * users


def _profile(profile: str | Path | None) -> Profile:
    if profile is None:
        return AEGIS
    path = Path(profile)
    if not path.is_file():
        raise ValueError(
            f"profile {str(path)!r} is not a file: pass the path of a profile TOML "
            "(such as scenarios/profiles/fastapi_users.toml), or None for the Aegis routes"
        )
    return load_profile(path)  # a ProfileError (a ValueError) names the key at fault


def _checked(
    client_factory: Any, base_url: Any, users: Any, duration: Any, profile: Any
) -> Profile:
    """The profile to use, once every argument is known to be usable."""
    if not callable(client_factory):
        raise TypeError(
            f"client_factory must be a callable taking the base URL and returning a new "
            f"client (such as lambda url: APIClient(url)), not {type(client_factory).__name__}"
        )
    parts = urlsplit(base_url) if isinstance(base_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"base_url must be the backend's http:// or https:// URL, such as "
            f"http://127.0.0.1:8000, not {base_url!r}"
        )
    if isinstance(users, bool) or not isinstance(users, int) or users < 2:
        raise ValueError(
            f"users must be a whole number of at least 2 (a leak crosses from one user to "
            f"another), not {users!r}"
        )
    if (
        isinstance(duration, bool)
        or not isinstance(duration, int | float)
        or not math.isfinite(duration)
        or duration <= 0
    ):
        raise ValueError(f"duration must be a positive number of seconds, not {duration!r}")
    return _profile(profile)


@contextlib.contextmanager
def _quiet_client_log() -> Iterator[None]:
    """The control's clients fail on purpose (lost sessions): no warning per call."""
    client_log = logging.getLogger("aegis_client")
    level = client_log.level
    client_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        client_log.setLevel(level)


def _summary(
    run: CrowdRun, strategy: ClientStrategy, crowd: Crowd, base_url: str, profile: Profile
) -> dict[str, Any]:
    """The summary every run's verdict comes from, made of this crowd's part."""
    context = RunContext(
        strategy=strategy.name,
        users=crowd.users,
        target=base_url,
        duration_requested_s=crowd.duration_s,
        profile=profile,
        driver=DRIVER,
    )
    summary, _ = build_summary([run.part], context)
    return summary


def _cut_short(budget_s: float) -> str:
    return (
        f"the check did not finish within its {budget_s:.0f} s budget: the backend "
        "answered too slowly for these users; give fewer users or a shorter duration"
    )


async def check_isolation(
    client_factory: ClientFactory,
    base_url: str,
    users: int = 50,
    duration: float = 10.0,
    profile: str | Path | None = None,
) -> IsolationReport:
    """Run ``users`` sessions at once, each on its own client from ``client_factory``,
    against ``base_url`` for ``duration`` seconds of browsing, and judge isolation.

    ``client_factory(base_url)`` returns a new client: an ``APIClient``, a subclass, or
    an object with its verbs, ``aclose`` and ``cookie_jar``. ``profile`` is the path of a
    profile TOML for a backend whose routes are not Aegis's. The report's verdict is
    ``isolated``, ``leak`` or ``not checked`` (see the module's docstring for the order
    of things and the bounds). Raises ``ValueError`` or ``TypeError`` for unusable
    arguments, and whatever the factory raised, once every client is closed.
    """
    target = _checked(client_factory, base_url, users, duration, profile)
    budget_s = time_budget_s(users, duration)
    ends_at = time.monotonic() + budget_s
    context = StrategyContext(base_url, timeout=REQUEST_TIMEOUT_S, profile=target)
    password = secrets.token_urlsafe(12)  # one per check: shared by its users, never shown

    def crowd(size: int, seconds: float) -> Crowd:
        limit = max(0.0, ends_at - time.monotonic())
        return Crowd(
            size,
            seconds,
            together=True,
            step_timeout_s=STEP_TIMEOUT_S,
            time_limit_s=limit,
            password=password,
        )

    control_strategy = SharedStrategy()
    control_crowd = crowd(CONTROL_USERS, CONTROL_DURATION_S)
    with _quiet_client_log():
        control = await run_crowd(control_strategy, context, control_crowd)
    if control.errors:
        raise control.errors[0]
    control_summary = _summary(control, control_strategy, control_crowd, base_url, target)
    caught = control_summary["isolation"]
    if caught["verdict"] != IsolationVerdict.LEAK:
        why = caught["reason"] if control.finished else _cut_short(budget_s)
        failures = control_summary["users_without_session"]["sign_in_failures"]
        if failures:
            why += "; sign-ins failed: " + ", ".join(f"{f} ({n}x)" for f, n in failures.items())
        reason = (
            f"the built-in leaky control ({CONTROL_USERS} users sharing one client) went "
            f"uncaught ({why}): this backend cannot show a leak with the {target.name} "
            "profile, so the client was not judged"
        )
        return IsolationReport(IsolationVerdict.NOT_CHECKED, reason, control=f"not caught: {why}")
    clients = FactoryClients(client_factory)
    users_crowd = crowd(users, float(duration))
    run = await run_crowd(clients, context, users_crowd)
    if run.errors:
        raise run.errors[0]
    summary = _summary(run, clients, users_crowd, base_url, target)
    cut_short = not run.finished and summary["isolation"]["verdict"] != IsolationVerdict.LEAK
    return report_of(
        summary,
        verdict=IsolationVerdict.NOT_CHECKED if cut_short else None,
        reason=_cut_short(budget_s) if cut_short else None,
        stopped_users=run.stopped_users,
        unwatched_clients=clients.unwatched,
        control=f"caught: {caught['reason']}",
    )
