"""Construction time of ``APIClient`` against a stock ``httpx.AsyncClient()``.

Run::

    python -m bench.perf.bench_construct -o results/construct.json
    python -m pyperf stats results/construct.json

A stock ``httpx.AsyncClient()`` builds its own ``SSLContext`` (even for ``http://``
URLs); ``APIClient`` shares one per process, so thousands of sessions stay cheap.
Memory per client is measured by ``bench.perf.bench_rss`` (RSS, which sees OpenSSL's
heap; tracemalloc does not).
"""

from __future__ import annotations

import time

import httpx
import pyperf

from aegis_client import APIClient


def _construct_apiclient(loops: int) -> float:
    APIClient()  # the process's shared SSL context exists before timing, as in a real run
    started = time.perf_counter()
    for _ in range(loops):
        APIClient()
    return time.perf_counter() - started


def _construct_httpx(loops: int) -> float:
    started = time.perf_counter()
    for _ in range(loops):
        httpx.AsyncClient()
    return time.perf_counter() - started


def main() -> None:
    runner = pyperf.Runner()
    runner.metadata["description"] = "Time to construct one client"
    runner.bench_time_func("construct-apiclient", _construct_apiclient)
    runner.bench_time_func("construct-httpx-asyncclient", _construct_httpx)


if __name__ == "__main__":
    main()
