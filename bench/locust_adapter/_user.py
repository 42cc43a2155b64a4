"""``AegisUser``: a Locust user that owns exactly one client for its whole life."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import gevent
from gevent import GreenletExit
from locust import User
from locust.user.task import (
    LOCUST_STATE_RUNNING,
    LOCUST_STATE_STOPPING,
    LOCUST_STATE_WAITING,
)

from bench.locust_adapter import _runtime
from bench.locust_adapter._bridge import LoopBridge
from bench.locust_adapter._steps import check_step, report_calls
from bench.measure import ACTING_USER, CallRecord
from bench.options import BURSTS, CHURN, RATE, THINK_TIME
from bench.registry import Invariant
from bench.session import MeasuredSession
from bench.steps import browse_burst, end_session, sign_in, start_session
from bench.strategies import ClientStrategy

__all__ = ["AegisUser"]

T = TypeVar("T")
DEFAULT_PASSWORD = "bench-password"
# A user whose sign-in fails waits this long before the next attempt, doubling up to the
# cap (with jitter, so users that failed together do not retry together).
SIGN_IN_BACKOFF_S = 0.5
SIGN_IN_BACKOFF_MAX_S = 10.0
# A step that signs the user in: registration (the first time) or sign-in (again).
SignIn = Callable[[MeasuredSession], Awaitable[bool]]
# The share of recycled clients whose user signs out first (the others just drop it).
SIGN_OUT_BEFORE_RECYCLE = 0.5
# Locust's graceful stop kills a user it saw waiting; the kill lands at the user's next
# switch, which can fall in the task it woke up for. Cancelling that task's call closes
# its connection, and the sign-out then opens another: 90 of 15,000 sessions reconnected
# so in one run. A step a kill lands in gets this long to end by itself first.
STEP_GRACE_S = 2.0


class AegisUser(User):
    """Abstract Locust user: one client per user, signed in on start, closed on stop.

    On start the user's strategy (``strategy`` on the class, else ``--client-strategy``)
    builds its client on the loop thread; the user registers (or signs in when the name
    is taken). On stop it signs out and hands the client back (``aclose()`` for the
    per-user strategies, exactly once).

    Task code runs async steps with :meth:`run_step`::

        class MyUser(AegisUser):
            @task
            def browse(self):
                self.run_step(lambda s: s.get("/api/v1/auth/me"))

    Each step receives the user's :class:`MeasuredSession` and runs on the loop as one
    hand-over; every API call it makes appears in Locust's statistics (name = endpoint,
    failure when the verb returned ``None``).
    """

    abstract = True
    strategy: ClientStrategy | None = None
    password: str = DEFAULT_PASSWORD

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self._runtime = _runtime.current()
        self.username = self._runtime.new_username()
        self._pending: list[CallRecord] = []
        self.session: MeasuredSession | None = None
        # Open model: when this user's next request is due (time.monotonic()), None
        # until the user has a session; each user owns an equal share of the rate.
        self._next_start: float | None = None
        self._last_step_calls = 0  # calls the last step made (the open model's slots)
        # A client built on the loop and not yet given a session: a user stopped in
        # between (killed while it waited for the build) still hands it back on stop.
        self._unclaimed: Any = None
        # Whether a sign-in ever worked: only a user that never held a session counts
        # as without one (a recycled client's new sign-in cut short by a stop does not).
        self._ever_signed_in = False

    def wait_time(self) -> float:
        """Think time between tasks (``--think-time``); in the open model, until the next is due."""
        if self._next_start is not None:
            return max(0.0, self._next_start - time.monotonic())
        return self._runtime.settings.values[THINK_TIME].sample(self._runtime.rng)

    def _request_interval_s(self) -> float | None:
        """Open model: seconds between this user's requests, so all users offer the rate."""
        rate = self._runtime.settings.values[RATE]
        if not rate:
            return None
        users = getattr(self.environment.parsed_options, "num_users", None) or 1
        return float(users) / rate

    def _strategy(self) -> ClientStrategy:
        return self.strategy or self._runtime.strategy

    def on_start(self) -> None:
        if not self.host:
            raise RuntimeError("no target host: pass --host URL (or set it in the web UI)")
        self._sign_in_with(self._new_client())

    def _new_client(self) -> Any:
        """A new client from the user's strategy, checked to start with an empty jar."""
        runtime = self._runtime
        strategy, context = self._strategy(), runtime.context_for(self.host or "")

        async def build() -> tuple[Any, int | None]:
            client = self._unclaimed = strategy.new_client(context)
            runtime.clients_built += 1  # here: counted even if this user is killed now
            jar = getattr(client, "cookie_jar", None)
            return client, None if jar is None else len(jar)

        client, cookies = self._bridge().run(build)
        if cookies is not None:
            runtime.check_invariant(
                Invariant.NEW_CLIENT_EMPTY_JAR,
                cookies == 0,
                lambda: {
                    "user": self.username,
                    "strategy": strategy.name,
                    "cookies_found": str(cookies),
                },
            )
        return client

    def _sign_in_with(self, client: Any, first: SignIn = start_session) -> None:
        runtime = self._runtime
        runtime.users_signing_in += 1
        try:
            self._start_session(client, first)
        finally:
            runtime.users_signing_in -= 1

    def run_task(self, step: Callable[[MeasuredSession], Awaitable[Any]]) -> None:
        """One task of the scenario: ``step``; or, for the ``--churn`` share of tasks,
        :meth:`recycle_client`; or, for the ``--bursts`` share, ``browse_burst``.
        Custom locustfiles' tasks call this too.

        A user whose session was lost (its client called ``on_unauthorized``, or a
        sign-in failed) signs in again instead, as the app sends its user to /login.
        """
        runtime = self._runtime
        if self.session is not None and not self.session.signed_in:
            self._sign_in_again()
            return
        values = runtime.settings.values
        churn, bursts = values[CHURN], values[BURSTS]
        draw = runtime.rng.random() if churn or bursts else 1.0
        if draw < churn:
            self.recycle_client()
        elif draw < churn + bursts:
            runtime.bursts += 1
            self.run_step(browse_burst)
        else:
            self.run_step(step)

    def _sign_in_again(self) -> None:
        """Sign the user in again on its client (retrying with backoff until it works)."""
        runtime = self._runtime
        runtime.users_signing_in += 1
        try:
            self._sign_in_until_it_works(sign_in)
        finally:
            runtime.users_signing_in -= 1
        runtime.signed_in_again += 1

    def recycle_client(self) -> None:
        """Hand the client back and start over with a new one, which signs in again.

        Half the time the user signs out first; otherwise it just drops its client, as
        an app does after an error (its session stays valid on the server).
        """
        session, self.session = self.session, None
        if session is None:
            return
        runtime, strategy = self._runtime, self._strategy()
        try:
            if runtime.rng.random() < SIGN_OUT_BEFORE_RECYCLE:
                self._signing_out(session)
        finally:
            self._release(strategy, session)
        runtime.recycled_clients += 1
        self._sign_in_with(self._new_client(), first=sign_in)  # registered already

    def _start_session(self, client: Any, first: SignIn = start_session) -> None:
        runtime = self._runtime
        self.session = MeasuredSession(
            client, self.username, self.password, self._pending.append, runtime.profile
        )
        self._unclaimed = None  # the session holds it now
        self._sign_in_until_it_works(first)
        interval = self._request_interval_s()
        if interval is not None:  # a random phase, so users' schedules do not line up
            self._next_start = time.monotonic() + runtime.rng.uniform(0.0, interval)

    def _sign_in_until_it_works(self, first: SignIn = start_session) -> None:
        """Register or sign in (``first``), retrying with backoff: no task runs without a
        session.

        Slow backends (argon2, bcrypt) time out registrations under a fast ramp; a user
        that carried on without a session would only fill the failure table with 401s.
        Each failed attempt's reason is counted. A user that never held a session counts
        as without one until an attempt succeeds (or the test stops it); a user signing
        in again (a recycled client, a lost session) had one and does not. Every attempt
        first waits for a place among the process's sign-ins in flight (the ramp's pace:
        ``bench/pacing.py``).
        """
        runtime, session = self._runtime, self.session
        assert session is not None
        never_signed_in = not self._ever_signed_in
        counted = False
        attempt = 0
        try:
            while not self._paced(first):
                if never_signed_in and not counted:
                    runtime.users_without_session += 1
                    counted = True
                runtime.sign_in_failures[session.last_failure or "no session"] += 1
                delay = min(SIGN_IN_BACKOFF_MAX_S, SIGN_IN_BACKOFF_S * 2**attempt)
                self._sleep_unless_stopping(delay * random.uniform(0.5, 1.0))
                attempt += 1
        except GreenletExit:  # stopped before it ever signed in: it ends without a session
            if never_signed_in and not counted:
                runtime.users_without_session += 1
            raise
        self._ever_signed_in = True
        if counted:
            runtime.users_without_session -= 1

    def _paced(self, first: SignIn) -> bool:
        """One sign-in attempt, once the gate gives it a place; True when signed in.

        While it waits for its place the user is ``waiting``, so a stop ends it at once.
        """
        gate = self._runtime.session_gate
        if self._state == LOCUST_STATE_STOPPING:
            raise GreenletExit()
        self._state = LOCUST_STATE_WAITING
        gate.enter()
        if self._state == LOCUST_STATE_STOPPING:
            gate.leave(0.0, ok=True)
            raise GreenletExit()
        self._state = LOCUST_STATE_RUNNING
        began, ok = time.monotonic(), False
        try:
            ok = self.run_step(first)
        finally:
            gate.leave(time.monotonic() - began, ok)
        return ok

    def _signing_out(self, session: MeasuredSession) -> None:
        """Sign out (and replay the old cookie) once the gate gives it a place.

        A stop signs every user out at once: 15,000 sign-outs and their replays in
        flight together kept two load processes busy for 20 s, and the few that needed
        a connection timed out connecting. Paced like sign-ins, they go out in turn.
        Locust waits for every stopped user's ``on_stop`` (the CLI bounds the stop).
        """
        gate = self._runtime.session_gate
        gate.enter()
        began, ok = time.monotonic(), False
        try:
            self._run_on(session, end_session)
            ok = True  # its latency is what paces the others
        finally:
            gate.leave(time.monotonic() - began, ok)

    def _sleep_unless_stopping(self, seconds: float) -> None:
        """Back off between sign-in attempts as Locust's own waits do.

        While it sleeps the user is ``waiting``, so a stop kills it at once (``on_stop``
        then runs) instead of marking it ``stopping`` and waiting for it: under a
        re-dispatch storm (a master that lost a load process's heartbeat), users left
        ``stopping`` got stopped twice and Locust raised "Tried to stop User in an
        unexpected state". A stop asked for before or during the sleep ends the user
        with ``GreenletExit``, which Locust treats as a stop (``StopUser`` from
        ``on_start`` would also log a traceback per user).
        """
        if self._state == LOCUST_STATE_STOPPING:
            raise GreenletExit()
        self._state = LOCUST_STATE_WAITING
        gevent.sleep(seconds)
        if self._state == LOCUST_STATE_STOPPING:
            raise GreenletExit()
        self._state = LOCUST_STATE_RUNNING

    def on_stop(self) -> None:
        session, self.session = self.session, None
        strategy = self._strategy()
        if self._unclaimed is not None:  # built, but the user stopped before using it
            self._release_client(strategy, self._unclaimed)
            self._unclaimed = None
        if session is None:
            return
        try:
            self._signing_out(session)
        finally:
            self._release(strategy, session)

    def _release(self, strategy: ClientStrategy, session: MeasuredSession) -> None:
        """Hand the session's client back to its strategy (which closes it), on the loop."""
        self._release_client(strategy, session.client)

    def _release_client(self, strategy: ClientStrategy, client: Any) -> None:
        """Release ``client`` on the loop; a kill of this greenlet does not cut it short.

        Locust's stop kills a user it found waiting at the user's next switch, which may
        fall in a later task (after a zero think time, say): the bridge would cancel the
        task the user waits for. A release cut short leaves the client open (seen as
        ``clients_left_open`` after runs with ``--churn``), so it runs to its end.
        """
        runtime = self._runtime

        async def release() -> None:
            await strategy.release(client)
            runtime.clients_released += 1

        self._bridge().run(release, finish_if_killed=True)

    def run_step(self, step: Callable[[MeasuredSession], Awaitable[T]]) -> T:
        """Run ``await step(session)`` on the loop, then report every call it made."""
        if self.session is None:
            raise RuntimeError("no session: run_step() is for tasks, after on_start")
        due = self._next_start
        if due is None:
            return self._run_on(self.session, step)
        return self._run_scheduled(self.session, step, due)

    def _run_scheduled(
        self, session: MeasuredSession, step: Callable[[MeasuredSession], Awaitable[T]], due: float
    ) -> T:
        """Run an open-model step that was due at ``due`` (time.monotonic()).

        Its first call's latency counts from when it was due, as wrk2 corrects for
        coordinated omission: a call that starts late because the previous one was slow
        still charges the wait to the target. Later calls of the step depend on the
        first (a sign-in after a sign-out), so they count from their own start. The
        schedule moves on by one interval per call made, so the offered rate stays the
        rate in requests, whatever the step's length.
        """
        interval = self._request_interval_s() or 0.0
        early = due - time.monotonic()
        if early > 0:  # Locust runs a user's first task at once, before any wait_time
            self._sleep_unless_stopping(early)
        try:
            return self._run_on(session, step, start_delay=time.monotonic() - due)
        finally:
            self._next_start = due + max(1, self._last_step_calls) * interval

    def _run_on(
        self,
        session: MeasuredSession,
        step: Callable[[MeasuredSession], Awaitable[T]],
        start_delay: float | None = None,
    ) -> T:
        username = self.username

        async def hand_over() -> T:
            ACTING_USER.set(username)  # this task's context only
            return await step(session)

        session.peak_in_flight = 0
        try:
            return self._bridge().run(hand_over, grace_if_killed_s=STEP_GRACE_S)
        finally:
            self._report(start_delay, session.peak_in_flight)

    def _bridge(self) -> LoopBridge:
        bridge = self._runtime.bridge
        if bridge is None:
            raise RuntimeError("this Locust process runs no users (it has no loop bridge)")
        return bridge

    def _report(self, start_delay: float | None = None, concurrency: int = 1) -> None:
        """Check the step's invariants and report its finished calls (greenlet side).

        How many calls the step made is kept for the open model's schedule.
        """
        pending = self._pending
        self._last_step_calls = len(pending)
        if not pending:
            return
        check_step(self._runtime, self.username, pending, concurrency)
        report_calls(self._runtime, self.environment.events.request.fire, pending, start_delay)
        pending.clear()
