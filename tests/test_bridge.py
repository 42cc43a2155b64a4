"""The greenlet <-> asyncio loop bridge, in a gevent-patched child process as in Locust."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PRELUDE = textwrap.dedent(
    """
    from gevent import monkey
    monkey.patch_all()
    import asyncio, threading
    import gevent
    from bench.locust_adapter._bridge import LoopBridge
    bridge = LoopBridge()
    """
)


def run_patched(body: str) -> str:
    """Run ``body`` after the prelude in a fresh patched interpreter; return its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_results_come_back_to_each_greenlet() -> None:
    """Many greenlets hand coroutines over at once and each gets its own result."""
    out = run_patched(
        """
        async def double(n):
            await asyncio.sleep(0.001)
            return n * 2
        def worker(i):
            return [bridge.run(lambda: double(i * 10 + k)) for k in range(10)]
        jobs = [gevent.spawn(worker, i) for i in range(50)]
        gevent.joinall(jobs, raise_error=True)
        ok = all(job.value == [(i * 10 + k) * 2 for k in range(10)] for i, job in enumerate(jobs))
        print(ok)
        """
    )
    assert out == "True"


def test_coroutines_run_on_the_loop_thread() -> None:
    """The coroutine runs in the bridge's native thread, not in the greenlet's."""
    out = run_patched(
        """
        import _thread
        async def where():
            return _thread.get_ident()
        main = gevent.monkey.get_original("_thread", "get_ident")()
        print(bridge.run(where) != main)
        """
    )
    assert out == "True"


def test_exceptions_reach_the_waiting_greenlet() -> None:
    """An exception raised by the coroutine is raised in the greenlet that waited, as the
    task's outcome: the greenlet is not taken for killed (no abandoning, no settle wait)."""
    out = run_patched(
        """
        async def boom():
            raise KeyError("lost")
        abandoned = []
        abandon = bridge._abandon
        bridge._abandon = lambda handover: (abandoned.append(1), abandon(handover))
        try:
            bridge.run(boom)
        except KeyError as exc:
            print("caught", exc, "abandoned", len(abandoned))
        """
    )
    assert out == "caught 'lost' abandoned 0"


def test_other_greenlets_run_while_one_waits() -> None:
    """Waiting on the loop blocks only the calling greenlet, not the hub."""
    out = run_patched(
        """
        ticks = []
        def ticker():
            for _ in range(5):
                ticks.append(1)
                gevent.sleep(0.01)
        t = gevent.spawn(ticker)
        bridge.run(lambda: asyncio.sleep(0.2))
        print(len(ticks))
        t.join()
        """
    )
    assert out == "5"


def test_killed_greenlet_cancels_its_task() -> None:
    """Killing a waiting greenlet cancels its coroutine, which has ended once the kill returns."""
    out = run_patched(
        """
        cancelled = []
        async def slow():
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise
        g = gevent.spawn(bridge.run, slow)
        gevent.sleep(0.05)
        g.kill(block=True, timeout=5)
        ended_before_kill_returned = cancelled == [True]
        async def one():
            return 1
        print(ended_before_kill_returned, bridge.run(one))
        """
    )
    assert out == "True 1"


@pytest.mark.parametrize(
    ("task_s", "grace_s", "ended"),
    [(0.2, 2.0, "by itself"), (30, 0.2, "cancelled")],
    ids=["ends-within-its-grace", "outlasts-its-grace"],
)
def test_a_kill_lets_a_begun_task_end_within_its_grace_then_cancels_it(
    task_s: float, grace_s: float, ended: str
) -> None:
    """grace_if_killed_s: a killed greenlet's task ends by itself within the grace, else is
    cancelled."""
    out = run_patched(
        f"""
        ended = []
        async def call():
            try:
                await asyncio.sleep({task_s})
                ended.append("by itself")
            except asyncio.CancelledError:
                ended.append("cancelled")
                raise
        g = gevent.spawn(bridge.run, call, grace_if_killed_s={grace_s})
        gevent.sleep(0.05)
        g.kill(block=True, timeout=5)
        print(ended)
        """
    )
    assert out == f"[{ended!r}]"


def test_a_hand_over_that_must_finish_outlives_the_kill_of_its_greenlet() -> None:
    """finish_if_killed: the coroutine runs to its end, even if the kill came before it began."""
    out = run_patched(
        """
        finished = []
        async def release(name):
            await asyncio.sleep(0.2)
            finished.append(name)
        started = gevent.spawn(bridge.run, lambda: release("started"), finish_if_killed=True)
        gevent.sleep(0.05)  # its coroutine is running: the kill comes mid-way
        started.kill(block=True, timeout=5)
        # Killed as soon as it has handed over (the loop may not have taken it yet).
        early = gevent.spawn(bridge.run, lambda: release("early"), finish_if_killed=True)
        gevent.sleep(0)
        early.kill(block=True, timeout=5)
        gevent.sleep(0.5)
        print(sorted(finished))
        """
    )
    assert out == "['early', 'started']"


def test_greenlets_log_while_the_loop_thread_logs() -> None:
    """A greenlet's log record is written at once while the loop thread logs without pause.

    Under gevent's own logging locks such a record could wait forever (the loop thread's
    releases never woke the greenlet): a locustfile with httpx at DEBUG overran its run
    time because Locust's "--run-time limit reached" record never got written.
    """
    out = run_patched(
        """
        import logging, os, tempfile, time
        from bench.locust_adapter._unpatch import restore_thread_primitives
        restore_thread_primitives()
        path = os.path.join(tempfile.mkdtemp(), "log")
        logging.basicConfig(filename=path, level=logging.DEBUG, format="%(message)s")
        log = logging.getLogger("t")
        async def chatter():
            while not stopped:
                log.debug("loop")
                await asyncio.sleep(0)
        stopped = False
        bridge.loop.call_soon_threadsafe(lambda: bridge.loop.create_task(chatter()))
        gevent.sleep(0.2)
        late = 0
        for i in range(50):
            started = time.monotonic()
            with gevent.Timeout(5, False):
                log.info("greenlet %d", i)
            late += time.monotonic() - started > 1
            gevent.sleep(0.01)
        stopped = True
        gevent.sleep(0.1)
        lines = open(path).read().splitlines()
        print(late, lines.count("loop") > 0, sum(x.startswith("greenlet ") for x in lines))
        """
    )
    assert out == "0 True 50"
