"""What the cyclic GC makes of parked sessions: what it walks, and its cost per request.

``gc_figures`` is the GC at rest (objects tracked, in gen 2 and frozen; what a
collection of each generation costs), without and with ``gc.freeze()``. ``load_figures``
makes identity calls through the parked users' ``run_step`` once per GC setting and
reports CPU and GC time per request, the collections and the cyclic garbage found.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from bench.perf._session_memory._common import RSS_SAMPLE_S


def gc_figures() -> dict[str, Any]:
    """The GC at rest, as is and after ``gc.freeze()`` (undone before returning)."""
    figures = {"no_freeze": gc_state()}
    gc.freeze()
    figures["after_freeze"] = gc_state()
    gc.unfreeze()
    return figures


def gc_state() -> dict[str, Any]:
    """Objects the GC tracks and walks, and what a collection of each kind costs now."""
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


def load_figures(
    users: list[Any],
    identity: str,
    requests: int,
    concurrency: int,
    thresholds: tuple[int, int, int] | None,
    rounds: int,
) -> dict[str, Any]:
    """Identity calls over the built sessions, CPU and GC time per request, per GC setting.

    Each setting starts from a full collection, as the adapter would freeze once its
    users are spawned; the settings take turns, ``rounds`` times.
    """
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
                runs[name].append(_requests(users, identity, requests, concurrency))
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


def _requests(users: list[Any], identity: str, requests: int, concurrency: int) -> dict[str, Any]:
    """``requests`` identity calls through the users' ``run_step``, as their tasks make them.

    ``concurrency`` greenlets take turns over the parked users (each its own share, so
    no session runs two calls at once); each call hops to the loop and back and is
    reported as the adapter reports it.
    """
    # Imported here, not at import time: the measuring process imports Locust first.
    import gevent

    from bench.measure import cpu_seconds, rss_bytes

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
