"""Simulated users on plain asyncio, without Locust: what the bare driver and
``bench.testing`` run.

Each user takes its client from a strategy, signs in (registering first), browses the
default scenario's steps (``bench.steps``) until its deadline, signs out (with the
replay check), and gives its client back to the strategy whatever happened, as a Locust
user does. A user that could not sign in browses nothing: it counts as a user without a
session, with the reason. A crowd of users fills one recorder and makes one
:class:`~bench.measure.Part`, the record a Locust load process writes, so
``bench.report.build_summary`` judges it with the same code as any run.

The browsing deadline is either the crowd's start plus ``duration_s`` (the bare driver,
users spawned at a rate) or, with ``together``, ``duration_s`` after the last user
signed in or failed to (``bench.testing``: every user browses the whole time, alongside
all the others). ``step_timeout_s`` bounds each step of a user (the sign-in, each
browsing step, the sign-out): a user whose step overruns stops there. ``time_limit_s``
bounds the whole crowd: users still running then are cancelled and the part says it is
not final. Either way every client goes back to the strategy (``release``, then the
strategy's ``shutdown``), on cancellation too.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.measure import ACTING_USER, CallRecord, Part, Recorder, cpu_seconds, rss_bytes
from bench.session import MeasuredSession
from bench.steps import end_session, pick_step, start_session
from bench.strategies import ClientStrategy, StrategyContext

__all__ = ["PASSWORD", "Crowd", "CrowdRun", "run_crowd"]

PASSWORD = "bench-password"


def _prefix() -> str:
    # Unique per crowd, so crowds sharing a backend (or rerun against it) never collide.
    return f"b{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Crowd:
    """How many users run, for how long, and within which bounds.

    Users are named ``<prefix>-<index>``; all of them share ``password`` (a secret: it is
    never written anywhere). ``spawn_rate`` is users started per second (None: all at
    once); ``session_kind`` is :class:`MeasuredSession` or its uninstrumented sibling.
    """

    users: int
    duration_s: float
    spawn_rate: float | None = None
    together: bool = False
    step_timeout_s: float | None = None
    time_limit_s: float | None = None
    session_kind: type[MeasuredSession] = MeasuredSession
    password: str = field(default=PASSWORD, repr=False)
    prefix: str = field(default_factory=_prefix)


@dataclass
class CrowdRun:
    """A crowd's part, and what ended users early.

    ``errors`` are the exceptions that ended a user (a client factory's, a client's
    ``aclose``), ``stopped_users`` the users stopped by a step over ``step_timeout_s``,
    ``finished`` False when ``time_limit_s`` cut the crowd short.
    """

    part: Part
    errors: list[BaseException]
    stopped_users: int
    finished: bool


@dataclass
class _Tally:
    """What the crowd's users did, for its part."""

    alive: int = 0
    alive_peak: int = 0
    built: int = 0
    released: int = 0
    without_session: int = 0
    stopped: int = 0
    sign_in_failures: Counter[str] = field(default_factory=Counter)


class _Deadline:
    """When the users stop browsing: fixed at the start, or once every user arrived."""

    def __init__(self, crowd: Crowd) -> None:
        self._duration_s = crowd.duration_s
        self._waiting = crowd.users if crowd.together else 0
        self._left: set[str] = set()
        self._everyone_in = asyncio.Event()
        self.at = time.monotonic() + crowd.duration_s

    async def arrive(self, name: str) -> float:
        """User ``name`` is ready to browse; its deadline (after waiting for the others)."""
        self.leave(name)
        await self._everyone_in.wait()
        return self.at

    def leave(self, name: str) -> None:
        """User ``name`` is done signing in, one way or another (a repeat is a no-op)."""
        if name in self._left:
            return
        self._left.add(name)
        if self._waiting:
            self._waiting -= 1
            if not self._waiting:
                self.at = time.monotonic() + self._duration_s
        if not self._waiting:
            self._everyone_in.set()


async def _browse(
    session: MeasuredSession, deadline: _Deadline, crowd: Crowd, tally: _Tally
) -> None:
    """Sign in, browse until the deadline, sign out: each step bounded."""
    async with asyncio.timeout(crowd.step_timeout_s):
        signed_in = await start_session(session)
    if not signed_in:
        tally.without_session += 1
        tally.sign_in_failures[session.last_failure or "no session"] += 1
    until = await deadline.arrive(session.username)
    if not signed_in:
        return
    tally.alive += 1
    tally.alive_peak = max(tally.alive_peak, tally.alive)
    try:
        rng = random.Random()
        while time.monotonic() < until:
            async with asyncio.timeout(crowd.step_timeout_s):
                await pick_step(rng)(session)
        async with asyncio.timeout(crowd.step_timeout_s):
            await end_session(session)
    finally:
        tally.alive -= 1


async def _user(
    strategy: ClientStrategy,
    context: StrategyContext,
    crowd: Crowd,
    name: str,
    sink: Callable[[CallRecord], None],
    deadline: _Deadline,
    tally: _Tally,
) -> None:
    ACTING_USER.set(name)  # this task's context only: the transport's X-Bench-User
    try:
        client = strategy.new_client(context)
        tally.built += 1
        try:
            session = crowd.session_kind(client, name, crowd.password, sink, context.profile)
            await _browse(session, deadline, crowd, tally)
        except TimeoutError:  # a step overran its bound: this user stops here
            tally.stopped += 1
        finally:
            await strategy.release(client)
            tally.released += 1
    finally:
        deadline.leave(name)  # a no-op once it arrived; else the others need not wait


async def run_crowd(strategy: ClientStrategy, context: StrategyContext, crowd: Crowd) -> CrowdRun:
    """Run the crowd's users against ``context``'s target; their part and what stopped them.

    Returns once every user has stopped and the strategy has shut down. Cancelling the
    caller cancels the users, who still give their clients back before it propagates.
    """
    if crowd.users < 1:
        raise ValueError(f"a crowd needs at least one user, not {crowd.users}")
    recorder, tally, deadline = Recorder(), _Tally(), _Deadline(crowd)
    started_at, cpu_start, rss_start = time.time(), cpu_seconds(), rss_bytes()
    limit = None if crowd.time_limit_s is None else time.monotonic() + crowd.time_limit_s
    tasks: list[asyncio.Task[None]] = []
    pending: set[asyncio.Task[None]] = set()
    rss_peak = rss_start
    try:
        for index in range(crowd.users):
            name = f"{crowd.prefix}-{index}"
            user = _user(strategy, context, crowd, name, recorder.record, deadline, tally)
            tasks.append(asyncio.create_task(user))
            if crowd.spawn_rate and index + 1 < crowd.users:
                await asyncio.sleep(1.0 / crowd.spawn_rate)
        rss_peak = rss_bytes()
        timeout = None if limit is None else max(0.0, limit - time.monotonic())
        _, pending = await asyncio.wait(tasks, timeout=timeout)
    finally:
        for task in tasks:
            task.cancel()  # a no-op for the users already done
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        await strategy.shutdown()
    errors = [
        outcome
        for outcome in outcomes
        if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError)
    ]
    part = Part(
        role="local",
        pid=os.getpid(),
        final=not pending,
        strategy=strategy.name,
        started_at=started_at,
        stopped_at=time.time(),
        cpu_s=cpu_seconds() - cpu_start,
        rss_at_start=rss_start,
        rss_peak=max(rss_peak, rss_bytes()),
        users_peak=tally.alive_peak,
        clients_built=tally.built,
        clients_released=tally.released,
        users_without_session=tally.without_session,
        sign_in_failures=dict(tally.sign_in_failures),
        recorder=recorder.drain(),
    )
    return CrowdRun(part, errors, tally.stopped, finished=not pending)
