"""pyperf files from a run's latency histograms.

Each run folder gets ``pyperf-<strategy>.json``: one benchmark per endpoint plus
``all-requests``, unit ``second``, readable by ``python -m pyperf stats``, ``hist`` and
``compare_to``.

How values are sampled, and why: a run records every request in an HdrHistogram, so a
run of a million requests cannot be stored value by value, and pyperf's ``compare_to``
runs a t-test that silently breaks when the two sides hold different numbers of values
(the result is then always shown as significant). So every benchmark of every run holds
exactly :data:`VALUES_PER_BENCHMARK` values: the latencies at the quantiles
``(i + 0.5) / N`` for ``i = 0 .. N-1`` of that histogram (3 significant digits). These
are the distribution's own quantiles, not a random draw, so two runs with the same
latency distribution give the same values whatever their request counts, and the mean,
median and spread pyperf reports are those of the recorded distribution to within the
histogram's precision. The limit: the t-test then compares two sets of 100 quantiles,
not two samples of independent requests, so read its "significant" as "the
distributions differ visibly", and use the exact percentiles in ``summary.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyperf

from bench.measure import Recorder
from bench.measure._recorder import EndpointStats

__all__ = ["VALUES_PER_BENCHMARK", "pyperf_path", "write_pyperf_file"]

VALUES_PER_BENCHMARK = 100
_METADATA_VERSIONS = ("httpx", "httpcore", "anyio", "locust", "uvloop")


def pyperf_path(run_dir: Path, strategy: str) -> Path:
    """Where a run's pyperf file lives."""
    return run_dir / f"pyperf-{strategy}.json"


def _quantile_values(stats: EndpointStats, count: int) -> list[float]:
    histogram = stats.histogram
    return [
        max(1, histogram.get_value_at_percentile((i + 0.5) / count * 100)) / 1e6
        for i in range(count)
    ]


def _benchmark_name(endpoint: str) -> str:
    # "GET /api/v1/auth/me" -> "GET_/api/v1/auth/me": pyperf names must not hold spaces.
    return re.sub(r"\s+", "_", endpoint.strip())


def write_pyperf_file(run_dir: Path, count: int = VALUES_PER_BENCHMARK) -> Path | None:
    """Write ``pyperf-<strategy>.json`` from the run's ``latency.json`` and ``summary.json``.

    A run without a single completed call has no latency to give pyperf (whose values
    must be > 0): no file is written, None is returned, and summary.json says why.
    """
    summary: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    recorder = Recorder()
    recorder.merge(json.loads((run_dir / "latency.json").read_text()))
    metadata: dict[str, Any] = {
        "unit": "second",
        "aegis_strategy": summary["strategy"],
        "aegis_users": int(summary["users"]),
        "aegis_duration_s": float(summary["duration_s"]),
        "aegis_target": str(summary["target"]),
        "aegis_profile": str(summary.get("profile", "aegis")),
        "aegis_values": f"{count} quantiles of an HdrHistogram",
    }
    versions = summary.get("versions", {})
    for name in _METADATA_VERSIONS:
        metadata[f"{name}_version"] = str(versions.get(name, "absent"))
    benchmarks = []
    named = {"all-requests": recorder.total(), **recorder.endpoints}
    for endpoint, stats in named.items():
        if stats.histogram.get_total_count() == 0:
            continue
        run = pyperf.Run(
            _quantile_values(stats, count),
            metadata={**metadata, "name": _benchmark_name(endpoint)},
            collect_metadata=False,
        )
        benchmarks.append(pyperf.Benchmark([run]))
    if not benchmarks:
        return None
    path = pyperf_path(run_dir, summary["strategy"])
    pyperf.BenchmarkSuite(benchmarks).dump(str(path), replace=True)
    return path
