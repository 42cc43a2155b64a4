"""CPU cost of one greenlet -> asyncio loop -> greenlet hand-over (the Locust bridge).

Run::

    python -m bench.perf.bench_bridge -o results/bridge.json
    python -m pyperf stats results/bridge.json

Each value is the process CPU time (``time.process_time``: all threads, so the loop
thread's share is included) divided by the number of hops, with 100 greenlets handing
trivial coroutines over concurrently, as Locust users do. The bar is 5 µs per hop.
Worker processes are gevent-patched exactly as a Locust process is; the pyperf
manager process is not.
"""

from __future__ import annotations

import sys

if "--worker" in sys.argv:  # patch only the measuring processes, as Locust would
    from gevent import monkey

    monkey.patch_all()

import time

import pyperf

CONCURRENCY = 100


async def _noop() -> None:
    return None


def _hops(loops: int) -> float:
    """Run ``loops`` hand-overs from CONCURRENCY greenlets; return CPU seconds used."""
    import gevent

    from bench.locust_adapter._bridge import LoopBridge

    bridge = _hops.bridge  # type: ignore[attr-defined]
    per_greenlet, remainder = divmod(loops, CONCURRENCY)

    def worker(count: int) -> None:
        for _ in range(count):
            bridge.run(_noop)

    counts = [per_greenlet + (1 if i < remainder else 0) for i in range(CONCURRENCY)]
    started = time.process_time()
    gevent.joinall([gevent.spawn(worker, count) for count in counts if count])
    elapsed = time.process_time() - started
    assert isinstance(bridge, LoopBridge)
    return elapsed


def main() -> None:
    runner = pyperf.Runner()
    runner.metadata["description"] = "CPU per greenlet->loop->greenlet hop, 100 greenlets"
    if "--worker" in sys.argv:
        from bench.locust_adapter._bridge import LoopBridge

        _hops.bridge = LoopBridge()  # type: ignore[attr-defined]
    runner.bench_time_func("bridge-hop-cpu", _hops, inner_loops=1)


if __name__ == "__main__":
    main()
