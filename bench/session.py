"""A simulated user's session and the default Aegis scenario, in plain asyncio.

:class:`MeasuredSession` gives scenario code the client's own verbs, timing each call
and handing a :class:`CallRecord` to a sink. The scenario steps below are coroutines,
so the Locust users and the bare asyncio driver (``bench/perf``) run the very same code.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aegis_client import APIClient, JSONResult, register, sign_in, sign_out
from bench.measure import CURRENT_CALL, CallRecord

__all__ = [
    "ME",
    "PROJECTS",
    "STEPS",
    "STEP_WEIGHTS",
    "MeasuredSession",
    "Step",
    "browse_me",
    "browse_projects",
    "end_session",
    "pick_step",
    "sign_out_and_in",
    "start_session",
]

ME = "/api/v1/auth/me"
PROJECTS = "/api/v1/insights/projects"


class MeasuredSession:
    """One user's session: its client, its name and password, and where records go.

    The verbs behave exactly like the client's; each call is timed around the verb, so
    a refresh-and-retry is part of the call's latency, as a user would feel it.
    """

    def __init__(
        self,
        client: APIClient,
        username: str,
        password: str,
        sink: Callable[[CallRecord], None],
    ) -> None:
        self.client = client
        self.username = username
        self.password = password
        self._sink = sink

    async def get(
        self, endpoint: str, params: Mapping[str, Any] | None = None
    ) -> JSONResult | None:
        """``client.get``, recorded."""
        record = CallRecord("GET", endpoint)
        return self._finish(record, await self._timed(record, self.client.get(endpoint, params)))

    async def post(self, endpoint: str, json: Any = None) -> JSONResult | None:
        """``client.post``, recorded."""
        record = CallRecord("POST", endpoint)
        return self._finish(record, await self._timed(record, self.client.post(endpoint, json)))

    async def post_form(self, endpoint: str, data: Mapping[str, str]) -> JSONResult | None:
        """``client.post_form``, recorded."""
        record = CallRecord("POST", endpoint)
        return self._finish(
            record, await self._timed(record, self.client.post_form(endpoint, data))
        )

    def clear_cookies(self) -> None:
        """``client.clear_cookies``."""
        self.client.clear_cookies()

    async def _timed(self, record: CallRecord, call: Any) -> JSONResult | None:
        token = CURRENT_CALL.set(record)
        started = time.perf_counter()
        try:
            result: JSONResult | None = await call
        finally:
            record.latency_s = time.perf_counter() - started
            CURRENT_CALL.reset(token)
        return result

    def _finish(self, record: CallRecord, result: JSONResult | None) -> JSONResult | None:
        record.ok = result is not None
        self._sink(record)
        return result


async def start_session(session: MeasuredSession) -> bool:
    """Register the user, or sign in when the name is taken; True when signed in."""
    if await register(session, session.username, session.password) is not None:
        return True
    return await sign_in(session, session.username, session.password) is not None


async def browse_me(session: MeasuredSession) -> None:
    """Ask who the session belongs to."""
    await session.get(ME)


async def browse_projects(session: MeasuredSession) -> None:
    """List the session user's projects."""
    await session.get(PROJECTS)


async def sign_out_and_in(session: MeasuredSession) -> None:
    """Sign out and straight back in on the same client (same pool, new session)."""
    await sign_out(session)
    await sign_in(session, session.username, session.password)


async def end_session(session: MeasuredSession) -> None:
    """Sign out at the end of the user's life (the client is released separately)."""
    await sign_out(session)


# Weighted steps of one browsing round, shared by Locust tasks and the bare driver.
Step = Callable[[MeasuredSession], Awaitable[None]]
STEPS: tuple[Step, ...] = (browse_me, browse_projects, sign_out_and_in)
STEP_WEIGHTS: tuple[int, ...] = (10, 10, 1)


def pick_step(rng: random.Random) -> Step:
    """Choose the next step with the scenario's weights."""
    return rng.choices(STEPS, STEP_WEIGHTS)[0]
