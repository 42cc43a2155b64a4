"""The measuring process: sessions built phase by phase, each phase charged its memory.

A ``Measurer`` lives in a child process patched as a Locust load process is (Locust
imported first, one uvloop loop in a native thread behind the adapter's ``LoopBridge``,
the adapter's thread primitives restored). It builds its sessions in four steps, marks
the memory after each (``_marks``), and, in the ``gc`` process, measures the cyclic GC
with the sessions parked (``_gc``). Everything it builds stays alive until the process
exits.
"""

from __future__ import annotations

import gc
import os
import time
from typing import Any

from bench.perf._session_memory import _gc, _marks
from bench.perf._session_memory._common import (
    CLIENT_KEEPALIVE_S,
    COMPONENTS,
    PASSWORD,
    SIGN_IN_CONCURRENCY,
    SPAWN_BATCH,
    THINK_TIME_TEXT,
    WARMUP_SESSIONS,
)
from bench.perf._session_memory._users import user_classes


def _patch_like_locust() -> None:
    """Import Locust first, as a Locust process does: it monkey-patches with gevent."""
    import locust  # noqa: F401


class Measurer:
    """Builds sessions phase by phase inside a Locust-patched process, measuring each."""

    def __init__(self, url: str, sessions: int, kind: str) -> None:
        _patch_like_locust()
        # Everything else is imported after Locust, here and in the methods below.
        import logging

        import bench.locust_adapter  # noqa: F401  (hides trio, registers listeners)
        from bench.locust_adapter import _runtime
        from bench.locust_adapter._bridge import LoopBridge
        from bench.locust_adapter._settings import default_settings
        from bench.locust_adapter._unpatch import restore_thread_primitives
        from bench.measure import raise_open_file_limit
        from bench.options import KEEPALIVE, STRATEGY, THINK_TIME

        for name, level in (
            ("httpx", logging.WARNING),
            ("httpcore", logging.WARNING),
            ("aegis_client", logging.ERROR),
        ):
            logging.getLogger(name).setLevel(level)
        raise_open_file_limit()
        restore_thread_primitives()
        self.url, self.count, self.kind = url, sessions, kind
        self.bridge = LoopBridge()
        settings = default_settings(
            {STRATEGY: "pooled", THINK_TIME: THINK_TIME_TEXT, KEEPALIVE: f"{CLIENT_KEEPALIVE_S:g}"}
        )
        self.runtime = _runtime.ProcessRuntime(
            role="local", settings=settings, out_dir=None, bridge=self.bridge
        )
        _runtime.install(self.runtime)
        self.context = self.runtime.context_for(url)
        self.environment, self.parked_class, self.adapter_class = user_classes(url)
        self.keep: list[Any] = []  # everything built stays alive until the process exits
        self.result: dict[str, Any] = {"sessions": sessions, "pid": os.getpid()}

    # phases -----------------------------------------------------------------------------
    def build_clients(self, count: int) -> list[Any]:
        strategy, context = self.runtime.strategy, self.context

        async def build() -> list[Any]:
            return [strategy.new_client(context) for _ in range(count)]

        clients: list[Any] = self.bridge.run(build)
        return clients

    def build_sessions(self, clients: list[Any]) -> list[Any]:
        from bench.session import MeasuredSession

        sessions = []
        for client in clients:
            pending: list[Any] = []
            sessions.append(
                MeasuredSession(
                    client,
                    self.runtime.new_username(),
                    PASSWORD,
                    pending.append,
                    self.runtime.profile,
                )
            )
        return sessions

    def sign_in(self, sessions: list[Any]) -> None:
        import asyncio

        from bench.measure import ACTING_USER
        from bench.steps import start_session

        async def one(session: Any, gate: asyncio.Semaphore) -> bool:
            async with gate:
                ACTING_USER.set(session.username)
                return await start_session(session)

        async def every() -> list[bool]:
            gate = asyncio.Semaphore(SIGN_IN_CONCURRENCY)
            return await asyncio.gather(*(one(session, gate) for session in sessions))

        outcomes = self.bridge.run(every)
        failed = outcomes.count(False)
        if failed:
            raise RuntimeError(f"{failed} of {len(sessions)} sessions could not sign in")
        for session in sessions:
            self._drain(session)
            if session.connections_opened != 1:
                raise RuntimeError(f"a session opened {session.connections_opened} connections")

    def _drain(self, session: Any) -> None:
        """Hand the session's finished records to the recorder, as the adapter's report does."""
        sink = session._sink
        pending = sink.__self__
        for record in pending:
            self.runtime.recorder.record(record)
        pending.clear()

    def park_users(self, sessions: list[Any]) -> list[Any]:
        """An AegisUser per session, started as Locust starts users, parked as it parks them."""
        from gevent.pool import Group

        group, users = Group(), []
        for session in sessions:
            user = self.parked_class(self.environment)
            user.username = session.username  # the adapter's user and session share it
            user.session = session
            users.append(user)
        self._start(users, group)
        self.keep.append(group)
        return users

    def adapter_users(self, count: int) -> list[Any]:
        """Users built entirely by the adapter's own on_start, then parked."""
        from gevent.pool import Group

        group = Group()
        users = [self.adapter_class(self.environment) for _ in range(count)]
        self._start(users, group)
        self.keep.append(group)
        for user in users:
            if user.session is None or not user.session.signed_in:
                raise RuntimeError("an adapter user has no session")
        return users

    def _start(self, users: list[Any], group: Any) -> None:
        import gevent
        from locust.user.task import LOCUST_STATE_WAITING

        for first in range(0, len(users), SPAWN_BATCH):
            batch = users[first : first + SPAWN_BATCH]
            for user in batch:
                user.start(group)
            deadline = time.monotonic() + 120.0
            while any(user._state != LOCUST_STATE_WAITING for user in batch):
                if time.monotonic() > deadline:
                    raise RuntimeError("users did not park within 120 s")
                dead = [g for g in group if g.dead and g.exception is not None]
                if dead:
                    raise RuntimeError(f"a user failed: {dead[0].exception!r}")
                gevent.sleep(0.01)

    # measuring --------------------------------------------------------------------------
    def mark(self) -> dict[str, Any]:
        return _marks.mark(self.kind)

    def charge(self, name: str, before: dict[str, Any], after: dict[str, Any], count: int) -> None:
        entry = _marks.charge(self.kind, before, after, count)
        self.result.setdefault("components", {})[name] = entry

    def run(self, load: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        # Warm-up: imports, caches and first-use costs of every phase, kept alive.
        warm_clients = self.build_clients(WARMUP_SESSIONS)
        warm = self.build_sessions(warm_clients)
        self.sign_in(warm)
        self.keep += [warm, self.park_users(warm)]
        if self.kind != "gc":
            self.keep.append(self.adapter_users(WARMUP_SESSIONS))
        if self.kind == "traced":
            import tracemalloc

            tracemalloc.start(1)
        count = self.count
        marks = [self.mark()]
        clients = self.build_clients(count)
        marks.append(self.mark())
        sessions = self.build_sessions(clients)
        marks.append(self.mark())
        self.sign_in(sessions)
        marks.append(self.mark())
        users = self.park_users(sessions)
        self.keep += [sessions, users]
        marks.append(self.mark())
        for index, name in enumerate(COMPONENTS):
            self.charge(name, marks[index], marks[index + 1], count)
        self.charge("sum", marks[0], marks[-1], count)
        if self.kind == "gc":
            self.result["gc"] = _gc.gc_figures()
            if load["requests"]:
                self.result["load"] = _gc.load_figures(users, self.runtime.profile.identity, **load)
        else:
            self.keep.append(self.adapter_users(count))
            self.charge("adapter", marks[-1], self.mark(), count)
        if self.kind == "traced":
            import tracemalloc

            tracemalloc.stop()
        self.result["thresholds"] = list(gc.get_threshold())
        self.result["elapsed_s"] = round(time.monotonic() - started, 1)
        return self.result
