"""The bridge from Locust's greenlets to one asyncio (uvloop) loop in a native thread.

Design (measured on this project's machines, see docs/architecture.md): one uvloop loop per Locust
process runs in a *native* OS thread, started with the original ``start_new_thread``
(a ``threading.Thread`` made after gevent's monkey-patching is a greenlet and would
freeze everything). A greenlet queues a coroutine factory on an inbox deque (waking the loop with
``loop.call_soon_threadsafe`` once per batch) and waits on a ``gevent.hub.Waiter``;
completions are queued on a second deque and wake the hub through one shared ``async_``
watcher (once per loop iteration), whose callback runs in the hub and switches back to
each waiting greenlet. Batching both ways matters: every wake-up moves the GIL between
the two threads. About 4 µs of
CPU per hop; the benchmark is ``bench/perf/bench_bridge.py``.

If a waiting greenlet is killed (Locust stopping a user), its hand-over is marked
abandoned, its task cancelled, and the greenlet waits (bounded) until the task has ended
before the kill proceeds; the task's result is then dropped quietly. A hand-over made
with ``grace_if_killed_s`` first gets that long to end by itself (a task already begun:
one not yet started never starts), and is cancelled only if it has not. A hand-over made
with ``finish_if_killed`` (a client's release) is not cancelled: it runs to its end,
started even if the kill came before the loop had begun it.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import gevent
import gevent.monkey
import uvloop
from gevent.hub import Waiter, get_hub

__all__ = ["LoopBridge"]

T = TypeVar("T")
LAG_PROBE_INTERVAL_S = 0.25
# How long a killed greenlet waits for its cancelled task to unwind.
SETTLE_TIMEOUT_S = 5.0
_start_native_thread = gevent.monkey.get_original("_thread", "start_new_thread")


class _Handover:
    """One coroutine handed from a greenlet to the loop, and the greenlet waiting on it."""

    __slots__ = (
        "abandoned",
        "delivered",
        "finish_if_killed",
        "grace_s",
        "settled",
        "task",
        "waiter",
    )

    def __init__(self, finish_if_killed: bool = False, grace_s: float = 0.0) -> None:
        self.waiter: Any = Waiter()
        self.task: asyncio.Task[Any] | None = None
        self.abandoned = False
        # The task's outcome was handed to the waiting greenlet (its exception included).
        self.delivered = False
        self.finish_if_killed = finish_if_killed
        self.grace_s = grace_s  # how long a killed greenlet lets its task end by itself
        # Set when the waiting greenlet is killed: switched once the task has really ended.
        self.settled: Any = None


class LoopBridge:
    """Runs coroutines on this process's loop thread for greenlets that wait cooperatively.

    Create it in the main thread after any fork (Locust's ``events.init``), never lazily
    from a user: concurrent lazy creation raced and deadlocked in practice.
    """

    def __init__(self) -> None:
        self.loop = uvloop.new_event_loop()
        self._done: collections.deque[tuple[_Handover, tuple[bool, Any]]] = collections.deque()
        self._watcher: Any = get_hub().loop.async_()
        self._watcher.start(self._drain)
        self._closed = False
        self.lag_ms: list[float] = []
        self._lag_probe_started = False
        self._wake_scheduled = False
        self._inbox: collections.deque[tuple[_Handover, Callable[[], Coroutine[Any, Any, Any]]]] = (
            collections.deque()
        )
        self._accept_scheduled = False
        _start_native_thread(self._run_loop, ())

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start_lag_probe(self, interval_s: float = LAG_PROBE_INTERVAL_S) -> None:
        """Sample the loop's lag (how late a timer fires, in ms) every ``interval_s``.

        A loop that is busy for longer than the requests it serves shows it here first:
        lag is the generator's own queueing, which the latency figures then include.
        """

        def probe(expected: float) -> None:
            now = self.loop.time()
            self.lag_ms.append((now - expected) * 1000.0)
            self.loop.call_at(now + interval_s, probe, now + interval_s)

        if self._lag_probe_started:
            return
        self._lag_probe_started = True

        def begin() -> None:
            first = self.loop.time() + interval_s
            self.loop.call_at(first, probe, first)

        self.loop.call_soon_threadsafe(begin)

    def run(
        self,
        factory: Callable[[], Coroutine[Any, Any, T]],
        *,
        finish_if_killed: bool = False,
        grace_if_killed_s: float = 0.0,
    ) -> T:
        """Run ``factory()`` as a task on the loop; block this greenlet (only) until it ends.

        Returns the coroutine's result or raises its exception in the calling greenlet.
        With ``finish_if_killed`` a kill of the greenlet does not cancel the task: the
        greenlet waits (bounded) for it to end, then dies. With ``grace_if_killed_s`` a
        kill lets a begun task that long to end by itself before cancelling it.
        """
        if self._closed:
            raise RuntimeError("the loop bridge is closed")
        handover = _Handover(finish_if_killed, grace_if_killed_s)
        self._inbox.append((handover, factory))
        if not self._accept_scheduled:  # one loop wake-up for a whole batch of hand-overs
            self._accept_scheduled = True
            self.loop.call_soon_threadsafe(self._accept)
        try:
            result: T = handover.waiter.get()
        except BaseException:
            # The coroutine's own exception is its outcome, delivered: the task is over.
            # Anything else is this greenlet being killed while the task runs.
            if not handover.delivered:
                self._abandon(handover)
            raise
        return result

    def _abandon(self, handover: _Handover) -> None:
        """The waiting greenlet is being killed: cancel its task and wait until it ends.

        Without the wait, a user's ``on_stop`` could start signing out while its
        cancelled task still runs (and has not yet recorded that it signed out).
        """
        handover.abandoned = True
        handover.settled = Waiter()
        if handover.grace_s and not handover.finish_if_killed:
            try:
                with gevent.Timeout(handover.grace_s, False):
                    handover.settled.get()  # switched once the task ended (its own end)
                    return
            except BaseException:  # killed again during its grace: cancel it now
                self.loop.call_soon_threadsafe(self._cancel, handover)
                raise
        if not handover.finish_if_killed:
            self.loop.call_soon_threadsafe(self._cancel, handover)
        with gevent.Timeout(SETTLE_TIMEOUT_S, False):
            handover.settled.get()

    def close(self) -> None:
        """Stop the loop thread; pending hand-overs are abandoned."""
        if self._closed:
            return
        self._closed = True
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._watcher.stop()

    # -- loop thread side -------------------------------------------------------------
    def _accept(self) -> None:
        # Clear the flag before draining, so a hand-over queued meanwhile schedules anew.
        self._accept_scheduled = False
        inbox, create_task = self._inbox, self.loop.create_task
        while inbox:
            handover, factory = inbox.popleft()
            if handover.abandoned and not handover.finish_if_killed:  # never started
                self._finish(handover, (False, None))
            else:
                handover.task = create_task(self._drive(handover, factory))

    async def _drive(
        self, handover: _Handover, factory: Callable[[], Coroutine[Any, Any, Any]]
    ) -> None:
        # Reporting from inside the task (not from a done-callback) saves a loop
        # iteration per hop.
        try:
            outcome: tuple[bool, Any] = (True, await factory())
        except BaseException as exc:  # delivered to the waiting greenlet, never lost
            outcome = (False, exc)
        self._finish(handover, outcome)

    def _finish(self, handover: _Handover, outcome: tuple[bool, Any]) -> None:
        self._done.append((handover, outcome))
        if not self._wake_scheduled:
            self._wake_scheduled = True
            self.loop.call_soon(self._wake_hub)

    def _wake_hub(self) -> None:
        # One wake-up per loop iteration, however many hand-overs finished in it: every
        # wake-up moves the GIL to the gevent thread and back.
        self._wake_scheduled = False
        self._watcher.send()

    @staticmethod
    def _cancel(handover: _Handover) -> None:
        if handover.task is not None:
            handover.task.cancel()

    # -- hub side ---------------------------------------------------------------------
    def _drain(self) -> None:
        done = self._done
        while done:
            handover, (succeeded, value) = done.popleft()
            if handover.abandoned:
                if handover.settled is not None:
                    handover.settled.switch(None)
                continue
            handover.delivered = True
            if succeeded:
                handover.waiter.switch(value)
            else:
                handover.waiter.throw(value)
