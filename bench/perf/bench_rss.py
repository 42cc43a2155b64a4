"""Resident memory per client: ``APIClient`` against a stock ``httpx.AsyncClient()``.

Run::

    python -m bench.perf.bench_rss -o results/rss.json [--samples 5]
    python -m pyperf stats results/rss.json

Each sample is a fresh interpreter that builds N clients (2000 ``APIClient``, 50 stock
``httpx.AsyncClient``) after a warm-up client, and reports the RSS growth divided by N.
RSS is used because the stock client's cost is OpenSSL's heap, which ``tracemalloc``
cannot see. Values are stored in a pyperf file with unit ``byte``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pyperf

_SAMPLE = """
import gc, json, sys, psutil, httpx
from aegis_client import APIClient
kind, count = sys.argv[1], int(sys.argv[2])
build = APIClient if kind == "apiclient" else httpx.AsyncClient
keep = [build()]  # warm-up: imports, and APIClient's one shared SSL context
gc.collect()
before = psutil.Process().memory_info().rss
keep += [build() for _ in range(count)]
gc.collect()
after = psutil.Process().memory_info().rss
print(json.dumps(max(1, after - before) / count))
"""

CASES = {"rss-per-apiclient": ("apiclient", 2000), "rss-per-httpx-asyncclient": ("httpx", 50)}


def _sample(kind: str, count: int) -> float:
    output = subprocess.run(
        [sys.executable, "-c", _SAMPLE, kind, str(count)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    return float(json.loads(output))


def main() -> None:
    parser = argparse.ArgumentParser(description="RSS per client, in a pyperf file")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    benchmarks = []
    for name, (kind, count) in CASES.items():
        values = [_sample(kind, count) for _ in range(args.samples)]
        run = pyperf.Run(
            values,
            metadata={"name": name, "unit": "byte", "clients_per_sample": count},
            collect_metadata=False,
        )
        benchmarks.append(pyperf.Benchmark([run]))
        mean = sum(values) / len(values)
        print(f"{name}: {mean / 1024:.1f} KiB per client ({args.samples} samples)")
    pyperf.BenchmarkSuite(benchmarks).dump(str(args.output), replace=True)


if __name__ == "__main__":
    main()
