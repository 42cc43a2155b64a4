"""What one session costs in memory, component by component, and what the GC makes of it.

Run (a benchmark, not a test: keep to a few thousand sessions on a small machine)::

    nice -n 10 python -m bench.perf.session_memory --sessions 1000 [--json results/mem.json]
        [--requests 5000] [--concurrency 32] [--rounds 1] [--thresholds 10000,10,10]
        [--no-greenlet-tree]

It starts the reference backend (its own process, loopback, port 0), then three
measuring processes, one after the other, each patched by Locust as a Locust load
process is (Locust imported first, one uvloop loop in a native thread behind the
adapter's ``LoopBridge``, the adapter's thread primitives restored). Each builds
``--sessions`` sessions as the adapter does, in four steps, and charges each step to
one component:

1. **client**: ``strategy.new_client(context)`` on the loop thread (``APIClient``, its
   ``httpx.AsyncClient`` and cookie jar, the ``InstrumentedTransport``, httpx's transport
   and httpcore's pool), no connection yet;
2. **measurement**: a ``MeasuredSession`` per client, with its sink (a pending list);
3. **connection**: the session signs in (``bench.steps.start_session``: registration
   signs in), which leaves a cookie in the jar and one keep-alive connection in the
   pool (httpcore connection, h11 state, anyio stream, the loop's socket transport);
4. **Locust user + greenlet**: an ``AegisUser`` subclass that adopts the session,
   started in a gevent ``Group`` as Locust's runner starts users, and parked as Locust
   parks a thinking user (``TaskSet.wait`` -> ``gevent.sleep``).

The processes:

- ``rss``: resident memory (``/proc/self/statm`` after ``gc.collect()``; it sees C
  allocations too, such as uvloop's and the greenlets' saved stacks) and the objects
  the cyclic GC tracks, by type. Then, as a check on the sum, as many sessions again
  built by the adapter's own ``AegisUser.on_start`` (client over the bridge, sign-in
  with ``run_step``) and parked the same way.
- ``traced``: the same under ``tracemalloc`` (which inflates RSS, hence its own
  process): where the bytes are, grouped by source file.
- ``gc``: with the sessions parked, what the GC walks (tracked objects, gen 2) and what
  ``gc.collect()`` of each generation costs, without and with ``gc.freeze()``. Then
  ``--requests`` identity calls made through the parked users' ``run_step``
  (``--concurrency`` greenlets, each over its own share of the users), once per GC
  setting (as is; frozen; and with ``--thresholds``, with and without freezing), each
  from a full collection, ``--rounds`` times: process CPU and GC time per request, the
  collections of each generation, and the cyclic garbage found per request.

Figures are per session: the growth over ``--sessions`` sessions built after a warm-up
of 20, divided by their number. ``--json`` writes all of it, per-process raw figures
included.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["main"]

WARMUP_SESSIONS = 20
PASSWORD = "bench-password"
SIGN_IN_CONCURRENCY = 64
SPAWN_BATCH = 250
# Sessions must keep their one connection however long a phase takes: neither side
# retires it while the script runs (a real run with think times uses --keepalive 25).
CLIENT_KEEPALIVE_S = 3600.0
SERVER_KEEPALIVE_S = 7200.0
THINK_TIME = "3600"  # a parked user sleeps this long between its tasks
KINDS = ("rss", "traced", "gc")
COMPONENTS = ("client", "measurement", "connection", "user")
LABELS = {
    "client": "client (APIClient, httpx, pool)",
    "measurement": "measurement (MeasuredSession)",
    "connection": "connection (sign-in, h11, socket)",
    "user": "Locust user + parked greenlet",
    "sum": "sum of the components",
    "adapter": "adapter path (AegisUser.on_start)",
}
TOP = 12
RSS_SAMPLE_S = 0.1
CHILD_TIMEOUT_S = 1800


# -- the measuring process -------------------------------------------------------------


def _patch_like_locust() -> None:
    """Import Locust first, as a Locust process does: it monkey-patches with gevent."""
    import locust  # noqa: F401


class _Measurer:
    """Builds sessions phase by phase inside a Locust-patched process, measuring each."""

    def __init__(self, url: str, sessions: int, kind: str) -> None:
        _patch_like_locust()
        import logging

        import bench.locust_adapter  # noqa: F401  (hides trio, registers listeners)
        from bench.locust_adapter import _runtime
        from bench.locust_adapter._bridge import LoopBridge
        from bench.locust_adapter._unpatch import restore_thread_primitives
        from bench.measure import raise_open_file_limit
        from bench.strategies import create_strategy
        from bench.think_time import ThinkTime

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
        self.runtime = _runtime.ProcessRuntime(
            role="local",
            strategy=create_strategy("pooled"),
            think_time=ThinkTime.parse(THINK_TIME),
            out_dir=None,
            bridge=self.bridge,
            keepalive_s=CLIENT_KEEPALIVE_S,
        )
        _runtime.install(self.runtime)
        self.context = self.runtime.context_for(url)
        self.environment, self.parked_class, self.adapter_class = _user_classes(url)
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
        import gc

        from bench.measure import rss_bytes

        gc.collect()
        mark: dict[str, Any] = {"rss": rss_bytes()}
        if self.kind == "rss":  # the traced process's snapshots are objects too
            mark["types"] = _type_counts()
            mark["tracked"] = sum(mark["types"].values())
        elif self.kind == "traced":
            import tracemalloc

            snapshot = tracemalloc.take_snapshot().filter_traces(
                (
                    tracemalloc.Filter(False, tracemalloc.__file__),
                    tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
                    tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
                )
            )
            mark["snapshot"] = snapshot
        return mark

    def charge(self, name: str, before: dict[str, Any], after: dict[str, Any], count: int) -> None:
        entry: dict[str, Any] = {"rss_kib": (after["rss"] - before["rss"]) / 1024 / count}
        if self.kind == "rss":
            entry["gc_objects"] = (after["tracked"] - before["tracked"]) / count
            grown = after["types"] - before["types"]
            entry["types"] = [
                {"type": kind, "per_session": round(number / count, 2)}
                for kind, number in grown.most_common(TOP)
            ]
        elif self.kind == "traced":
            stats = after["snapshot"].compare_to(before["snapshot"], "filename")
            entry["traced_kib"] = sum(s.size_diff for s in stats) / 1024 / count
            entry["traced_blocks"] = sum(s.count_diff for s in stats) / count
            entry["files"] = [
                {
                    "file": _short(s.traceback[0].filename),
                    "kib": round(s.size_diff / 1024 / count, 3),
                    "blocks": round(s.count_diff / count, 2),
                }
                for s in sorted(stats, key=lambda s: -s.size_diff)[:TOP]
                if s.size_diff > 0
            ]
        self.result.setdefault("components", {})[name] = entry

    def run(self, load: dict[str, Any]) -> dict[str, Any]:
        import gc

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
            self.result["gc"] = self._gc_figures()
            if load["requests"]:
                self.result["load"] = self._load(users, **load)
        else:
            self.keep.append(self.adapter_users(count))
            self.charge("adapter", marks[-1], self.mark(), count)
        if self.kind == "traced":
            import tracemalloc

            tracemalloc.stop()
        self.result["thresholds"] = list(gc.get_threshold())
        self.result["elapsed_s"] = round(time.monotonic() - started, 1)
        return self.result

    def _gc_figures(self) -> dict[str, Any]:
        import gc

        figures = {"no_freeze": _gc_state()}
        gc.freeze()
        figures["after_freeze"] = _gc_state()
        gc.unfreeze()
        return figures

    def _load(
        self,
        users: list[Any],
        requests: int,
        concurrency: int,
        thresholds: tuple[int, int, int] | None,
        rounds: int,
    ) -> dict[str, Any]:
        """Identity calls over the built sessions, CPU and GC time per request, per GC setting.

        Each setting starts from a full collection, as the adapter would freeze once its
        users are spawned; the settings take turns, ``rounds`` times.
        """
        import gc

        default = gc.get_threshold()
        variants: list[tuple[str, tuple[int, int, int] | None, bool]] = [
            ("as_is", None, False),
            ("freeze", None, True),
        ]
        if thresholds is not None:
            variants += [("thresholds", thresholds, False), ("freeze_thresholds", thresholds, True)]
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in variants}
        for _ in range(rounds):
            for name, setting, freeze in variants:
                gc.collect()
                if freeze:
                    gc.freeze()
                gc.set_threshold(*(setting or default))
                try:
                    runs[name].append(self._requests(users, requests, concurrency))
                finally:
                    gc.set_threshold(*default)
                    gc.unfreeze()
        figures: dict[str, Any] = {
            # RSS growth over the first run (GC as is), from the sessions built to its peak:
            # what the calls themselves leave resident (later runs reuse that memory).
            "rss_growth_kib_per_session": runs["as_is"][0]["rss_growth_kib_per_session"],
            "requests": requests,
            "concurrency": concurrency,
            "rounds": rounds,
            "thresholds": list(thresholds) if thresholds else None,
            "variants": {},
        }
        for name, measured in runs.items():
            # CPU per request: the median and the least of the rounds (other work on the
            # machine only ever adds to it); the GC figures: the mean.
            cpu = [run["cpu_us_per_request"] for run in measured]
            summary: dict[str, Any] = {
                "cpu_us_per_request": round(statistics.median(cpu), 1),
                "cpu_us_per_request_min": min(cpu),
            }
            for key in ("gc_us_per_request", "collected_per_request"):
                summary[key] = round(statistics.mean(run[key] for run in measured), 2)
            summary["collections"] = {
                gen: sum(run["collections"][gen] for run in measured) for gen in ("0", "1", "2")
            }
            each = [ms for run in measured for ms in run["gen2_ms"]]
            summary["gen2_ms_each"] = round(statistics.mean(each), 1) if each else None
            summary["failures"] = sum(run["failures"] for run in measured)
            summary["runs"] = measured
            figures["variants"][name] = summary
        return figures

    def _requests(self, users: list[Any], requests: int, concurrency: int) -> dict[str, Any]:
        """``requests`` identity calls through the users' ``run_step``, as their tasks make them.

        ``concurrency`` greenlets take turns over the parked users (each its own share, so
        no session runs two calls at once); each call hops to the loop and back and is
        reported as the adapter reports it.
        """
        import gc

        import gevent

        from bench.measure import cpu_seconds, rss_bytes

        identity = self.runtime.profile.identity
        remaining = [requests]
        failures = [0]

        async def call(session: Any) -> Any:
            return await session.get(identity)

        def worker(mine: list[Any]) -> None:
            turn = 0
            while remaining[0] > 0:
                remaining[0] -= 1
                user = mine[turn % len(mine)]
                turn += 1
                if user.run_step(call) is None:
                    failures[0] += 1

        timings: dict[int, list[float]] = {0: [], 1: [], 2: []}
        open_at: list[float] = []
        collected = [0]

        def on_gc(phase: str, info: dict[str, Any]) -> None:
            if phase == "start":
                open_at.append(time.perf_counter())
            elif open_at:
                timings[info["generation"]].append(time.perf_counter() - open_at.pop())
                collected[0] += info["collected"]

        start_rss = rss_bytes()
        peak_rss = [start_rss]

        def sample_rss() -> None:
            while True:
                peak_rss[0] = max(peak_rss[0], rss_bytes())
                gevent.sleep(RSS_SAMPLE_S)

        shares = [users[first::concurrency] for first in range(min(concurrency, len(users)))]
        sampler = gevent.spawn(sample_rss)
        gc.callbacks.append(on_gc)
        cpu, wall = cpu_seconds(), time.perf_counter()
        try:
            gevent.joinall([gevent.spawn(worker, share) for share in shares], raise_error=True)
        finally:
            cpu, wall = cpu_seconds() - cpu, time.perf_counter() - wall
            gc.callbacks.remove(on_gc)
            sampler.kill()
        peak_rss[0] = max(peak_rss[0], rss_bytes())
        gc_s = sum(sum(values) for values in timings.values())
        return {
            "failures": failures[0],
            "cpu_us_per_request": round(cpu / requests * 1e6, 1),
            "wall_s": round(wall, 2),
            "gc_us_per_request": round(gc_s / requests * 1e6, 1),
            "collected_per_request": round(collected[0] / requests, 2),
            "collections": {str(gen): len(values) for gen, values in timings.items()},
            "gen2_ms": [round(value * 1e3, 2) for value in timings[2]],
            "rss_growth_kib_per_session": round((peak_rss[0] - start_rss) / 1024 / len(users), 2),
        }


def _user_classes(url: str) -> tuple[Any, Any, Any]:
    """Locust's environment and two AegisUser subclasses: one adopts a session, one builds it."""
    import locust
    from locust.env import Environment

    from bench.locust_adapter import AegisUser

    def nothing(user: Any) -> None:
        return None

    class ParkedUser(AegisUser):
        """Adopts a session built beforehand; its only task does nothing, then it thinks."""

        abstract = False
        host = url
        tasks = [nothing]  # noqa: RUF012 - Locust's own class attribute

        def on_start(self) -> None:
            return None  # the session was given to it before start

        def on_stop(self) -> None:
            return None

    class AdapterUser(AegisUser):
        """The adapter's own on_start (client over the bridge, sign-in with run_step)."""

        abstract = False
        host = url
        tasks = [nothing]  # noqa: RUF012 - Locust's own class attribute

        def on_stop(self) -> None:
            return None

    environment = Environment(user_classes=[ParkedUser, AdapterUser], events=locust.events)
    return environment, ParkedUser, AdapterUser


def _type_counts() -> Counter[str]:
    import gc

    counts: Counter[str] = Counter()
    for obj in gc.get_objects():
        kind = type(obj)
        counts[f"{kind.__module__}.{kind.__qualname__}"] += 1
    return counts


def _gc_state() -> dict[str, Any]:
    """Objects the GC tracks and walks, and what a collection of each kind costs now."""
    import gc

    gc.collect()
    state: dict[str, Any] = {
        "tracked": len(gc.get_objects()),
        "gen2": len(gc.get_objects(generation=2)),
        "frozen": gc.get_freeze_count(),
    }
    for generation in (0, 1, 2):
        wall, cpu = [], []
        for _ in range(5):
            started_wall, started_cpu = time.perf_counter(), time.thread_time()
            gc.collect(generation)
            wall.append(time.perf_counter() - started_wall)
            cpu.append(time.thread_time() - started_cpu)
        state[f"collect{generation}_ms"] = round(statistics.median(wall) * 1e3, 3)
        state[f"collect{generation}_cpu_ms"] = round(statistics.median(cpu) * 1e3, 3)
    return state


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    root = str(Path(__file__).resolve().parents[2]) + os.sep
    return filename.removeprefix(root)


def _thresholds(text: str) -> tuple[int, int, int]:
    parts = [int(part) for part in text.split(",")]
    if len(parts) != 3 or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: three positive integers, as 10000,10,10")
    return parts[0], parts[1], parts[2]


def _child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=KINDS, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--requests", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--thresholds", type=_thresholds, default=None)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-greenlet-tree", action="store_true")
    args = parser.parse_args(argv)
    if args.no_greenlet_tree:
        os.environ["GEVENT_TRACK_GREENLET_TREE"] = "false"
    measurer = _Measurer(args.url, args.sessions, args.child)
    result = measurer.run(
        {
            "requests": args.requests,
            "concurrency": args.concurrency,
            "thresholds": args.thresholds,
            "rounds": args.rounds,
        }
    )
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    # Sessions, connections and the loop thread go with the process: no teardown to time.
    os._exit(0)


# -- the driving process ---------------------------------------------------------------


def _measure(kind: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        *(sys.executable, "-m", "bench.perf.session_memory", "--child", kind, "--url", url),
        *("--sessions", str(args.sessions), "--requests", str(args.requests)),
        *("--concurrency", str(args.concurrency), "--rounds", str(args.rounds)),
    ]
    if args.thresholds is not None:
        command += ["--thresholds", ",".join(map(str, args.thresholds))]
    if args.no_greenlet_tree:
        command.append("--no-greenlet-tree")
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {kind} measurement failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def render(results: dict[str, Any]) -> str:
    """The readable report of one run (what its measuring processes found)."""
    lines: list[str] = []
    if "rss" in results and "traced" in results:
        lines += _render_memory(results["rss"], results["traced"])
    if "gc" in results:
        lines += ["", *_render_gc(results["gc"])] if lines else _render_gc(results["gc"])
    return "\n".join(lines)


def _render_memory(rss: dict[str, Any], traced: dict[str, Any]) -> list[str]:
    count = rss["sessions"]
    lines = [
        f"Per session, {count} sessions (pooled strategy, signed in, one keep-alive "
        f"connection each, after a warm-up of {WARMUP_SESSIONS}):",
        "",
        f"{'component':<36}{'RSS KiB':>9}{'traced KiB':>12}{'blocks':>9}{'GC objects':>12}",
    ]
    for name in (*COMPONENTS, "sum", "adapter"):
        measured, seen = rss["components"][name], traced["components"][name]
        if name in ("sum", "adapter"):
            lines.append("-" * 78 if name == "sum" else "")
        lines.append(
            f"{LABELS[name]:<36}{measured['rss_kib']:>9.1f}{seen['traced_kib']:>12.1f}"
            f"{seen['traced_blocks']:>9.1f}{measured['gc_objects']:>12.1f}"
        )
    lines += ["", "Where the traced bytes are (tracemalloc, by file; KiB and blocks per session):"]
    for name in (*COMPONENTS, "adapter"):
        lines.append(f"  {LABELS[name]}:")
        for entry in traced["components"][name]["files"]:
            if entry["kib"] >= 0.05:
                lines.append(
                    f"    {entry['kib']:>7.2f} KiB {entry['blocks']:>6.1f}  {entry['file']}"
                )
    lines += ["", "Objects the cyclic GC tracks, by type (per session):"]
    for name in (*COMPONENTS, "adapter"):
        types = rss["components"][name]["types"]
        shown = ", ".join(f"{t['type'].rsplit('.', 1)[-1]} {t['per_session']:g}" for t in types)
        lines.append(f"  {LABELS[name]}: {shown}")
    return lines


def _render_gc(collecting: dict[str, Any]) -> list[str]:
    count = collecting["sessions"]
    lines = [
        f"Cyclic GC with {count + WARMUP_SESSIONS} sessions parked (thresholds "
        f"{collecting['thresholds']}); gc.collect(generation), CPU ms, median of 5:",
        f"{'':<14}{'tracked':>10}{'gen2':>10}{'frozen':>10}"
        f"{'gen0 ms':>9}{'gen1 ms':>9}{'full ms':>9}",
    ]
    for label, key in (("no freeze", "no_freeze"), ("gc.freeze()", "after_freeze")):
        state = collecting["gc"][key]
        lines.append(
            f"{label:<14}{state['tracked']:>10}{state['gen2']:>10}{state['frozen']:>10}"
            f"{state['collect0_cpu_ms']:>9.2f}{state['collect1_cpu_ms']:>9.2f}"
            f"{state['collect2_cpu_ms']:>9.1f}"
        )
    load = collecting.get("load")
    if not load:
        return lines
    thresholds = ",".join(map(str, load["thresholds"] or ()))
    labels = {
        "as_is": "GC as is",
        "freeze": "gc.freeze()",
        "thresholds": f"thr {thresholds}",
        "freeze_thresholds": "freeze+thr",
    }
    lines += [
        "",
        f"{load['requests']} identity calls per run, {load['concurrency']} at a time, through "
        f"the users' run_step, {load['rounds']} run(s) per setting; CPU: median and least of "
        "the runs, GC time and cyclic garbage found: mean; collections: all runs:",
        f"{'':<18}{'CPU us/req':>11}{'min':>8}{'GC us/req':>10}{'gen0':>7}{'gen1':>6}{'gen2':>6}"
        f"{'ms/gen2':>9}{'garbage/req':>12}{'failed':>7}",
    ]
    for key, run in load["variants"].items():
        each = run["gen2_ms_each"]
        lines.append(
            f"{labels[key]:<18}{run['cpu_us_per_request']:>11.1f}"
            f"{run['cpu_us_per_request_min']:>8.1f}{run['gc_us_per_request']:>10.1f}"
            f"{run['collections']['0']:>7}{run['collections']['1']:>6}"
            f"{run['collections']['2']:>6}{(f'{each:.1f}' if each else '-'):>9}"
            f"{run['collected_per_request']:>12.2f}{run['failures']:>7}"
        )
    lines.append(
        f"RSS growth over the first run (GC as is), built sessions to peak: "
        f"{load['rss_growth_kib_per_session']:.2f} KiB per session"
    )
    return lines


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if "--child" in argv:
        _child(argv)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sessions", type=int, default=1000, help="sessions to measure")
    parser.add_argument(
        "--requests",
        type=int,
        default=5000,
        help="identity calls per GC setting for the load figures (0: none)",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight at once")
    parser.add_argument("--rounds", type=int, default=1, help="turns of the GC settings")
    parser.add_argument(
        "--thresholds",
        type=_thresholds,
        default=None,
        help="also load with these gc.set_threshold() values (as 10000,10,10)",
    )
    parser.add_argument(
        "--no-greenlet-tree",
        action="store_true",
        help="measure with gevent's greenlet tree tracking off (GEVENT_TRACK_GREENLET_TREE)",
    )
    parser.add_argument(
        "--only",
        choices=KINDS,
        action="append",
        help="run only this measuring process (repeatable; default: all three)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.rounds < 1 or args.concurrency < 1 or args.requests < 0:
        parser.error("--sessions, --rounds and --concurrency must be positive")
    from bench.backend import TargetConfig, TargetProcess

    with TargetProcess(TargetConfig(port=0, keep_alive_s=SERVER_KEEPALIVE_S)) as target:
        results = {kind: _measure(kind, target.url, args) for kind in args.only or KINDS}
    print(render(results))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
