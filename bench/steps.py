"""The default scenario's steps: coroutines over a :class:`~bench.session.MeasuredSession`.

The Locust users (``scenarios/aegis_session.py``) and the bare asyncio driver
(``bench/perf/bare_driver.py``) run the very same steps with the same weights.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from bench.profile import Profile
from bench.session import MeasuredSession

__all__ = [
    "STEPS",
    "STEP_WEIGHTS",
    "Step",
    "browse_burst",
    "browse_data",
    "browse_identity",
    "calls_per_task",
    "end_session",
    "pick_step",
    "sign_in",
    "sign_out_and_in",
    "start_session",
]


async def start_session(session: MeasuredSession) -> bool:
    """Register the user, or sign in when the name is taken; True when signed in."""
    profile = session.profile
    user_key, password_key = profile.register_fields
    body = {user_key: session.login_name, password_key: session.password}
    registered = await session.post(profile.register, json=body) is not None
    if registered and session.session_cookie() is not None:  # registration signed us in
        session.signed_in = True
        return True
    return await sign_in(session)


async def sign_in(session: MeasuredSession) -> bool:
    """Sign a registered user in (a recycled client's first step); True when signed in."""
    credentials = {"username": session.login_name, "password": session.password}
    answer = await session.post_form(session.profile.sign_in, credentials)
    if session.profile.sign_in_answers == "cookie-only":  # 204: success is the cookie
        session.signed_in = answer is not None and session.session_cookie() is not None
    else:
        session.signed_in = answer is not None
    if answer is not None and not session.signed_in:
        session.last_failure = (
            f"POST {session.profile.sign_in}: no {session.profile.cookie_name} cookie issued"
        )
    return session.signed_in


async def browse_identity(session: MeasuredSession) -> None:
    """Ask whose session this is (identity check)."""
    await session.get(session.profile.identity)


async def browse_data(session: MeasuredSession) -> None:
    """List the user's records on each data route (owner check)."""
    for data in session.profile.data:
        await session.get(data.route)


async def browse_burst(session: MeasuredSession) -> None:
    """Ask for identity and data at once, as an app's components do on one page
    (``--bursts``: not in the default mix, since concurrent calls of one client open
    more than one keep-alive connection).

    After an expiry the calls get 401 together: a client refreshes once for all of them
    (single flight), which the ``single_flight_refresh`` invariant checks.
    """
    routes = [session.profile.identity, *(d.route for d in session.profile.data)]
    await asyncio.gather(*(session.get(route) for route in [*routes, routes[0]]))


async def _sign_out(session: MeasuredSession) -> None:
    old_cookie = await session.sign_out()
    if old_cookie is not None:  # only a confirmed sign-out of this session tests the backend
        await session.replay(old_cookie)


async def sign_out_and_in(session: MeasuredSession) -> None:
    """Sign out (then replay the old cookie) and straight back in on the same client."""
    await _sign_out(session)
    await sign_in(session)


async def end_session(session: MeasuredSession) -> None:
    """Sign out at the end of the user's life (the client is released separately)."""
    if session.signed_in:
        await _sign_out(session)


# Weighted steps of one browsing round, shared by Locust tasks and the bare driver.
Step = Callable[[MeasuredSession], Awaitable[None]]
STEPS: tuple[Step, ...] = (browse_identity, browse_data, sign_out_and_in)
STEP_WEIGHTS: tuple[int, ...] = (10, 10, 1)
# A recycled client signs out half the time (sign-out, replay), then signs in.
RECYCLE_CALLS = 0.5 * 2 + 1


def calls_per_task(profile: Profile, *, churn: float = 0.0, bursts: float = 0.0) -> float:
    """The calls one task of the default scenario makes on average, with ``churn`` and
    ``bursts`` shares of its tasks recycling the client or bursting (what the capacity
    forecast multiplies users by)."""
    data = len(profile.data)
    calls = (1, data, 3)  # identity; each data route; sign-out, replay, sign-in
    browse = sum(w * n for w, n in zip(STEP_WEIGHTS, calls, strict=True)) / sum(STEP_WEIGHTS)
    burst = 1 + data + 1  # identity, each data route, identity again (browse_burst)
    return (1 - churn - bursts) * browse + bursts * burst + churn * RECYCLE_CALLS


def pick_step(rng: random.Random) -> Step:
    """Choose the next step with the scenario's weights."""
    return rng.choices(STEPS, STEP_WEIGHTS)[0]
