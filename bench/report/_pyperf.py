"""pyperf files: one per run folder, and one per strategy at the top of a comparison.

**A comparison's** ``pyperf-<strategy>.json`` (:func:`write_repetitions_pyperf`) holds
one pyperf *run* per repetition, as pyperf models repeated processes, so
``python -m pyperf compare_to`` sees the spread between repetitions, the spread a user
meets when rerunning. Each run holds one value per benchmark, that repetition's
measurement: ``all-requests`` and one benchmark per endpoint give the median latency
from each request's intended start at the offered rate (the open-model runs; the
closed-loop median when there were none), and ``capacity-time-per-request`` the inverse
of the closed-loop throughput. The metadata key ``aegis_value`` says which.

**A run folder's** ``pyperf-<strategy>.json`` (:func:`write_pyperf_file`) describes that
one run's latency distribution: one benchmark per endpoint plus ``all-requests``, unit
``second``, readable by ``python -m pyperf stats`` and ``hist``. Compare runs with the
comparison's files, not these: their values are quantiles of one run (below), and a
t-test over them mistakes one run's sampling for the spread between runs.

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

import re
from pathlib import Path
from typing import Any

import pyperf

from bench.measure._recorder import EndpointStats
from bench.report._run_folder import load_run, load_summary

__all__ = ["VALUES_PER_BENCHMARK", "pyperf_path", "write_pyperf_file", "write_repetitions_pyperf"]

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
    summary, recorder = load_run(run_dir)
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


def _median_s(histogram: Any) -> float | None:
    if histogram is None or histogram.get_total_count() == 0:
        return None
    return float(max(1, histogram.get_value_at_percentile(50))) / 1e6


def _run_measurements(folder: Path) -> dict[str, float]:
    """One repetition's value per benchmark name (seconds), from its run folder."""
    summary, recorder = load_run(folder)
    open_model = bool(summary.get("open_model"))
    values = {}
    named = {"all-requests": recorder.total(), **recorder.endpoints}
    for endpoint, stats in named.items():
        value = _median_s(stats.intended if open_model else stats.histogram)
        if value is not None:
            values[_benchmark_name(endpoint)] = value
    return values


CAPACITY_BENCHMARK = "capacity-time-per-request"


def write_repetitions_pyperf(
    out_dir: Path,
    strategy: str,
    latency_runs: list[Path],
    capacity_runs: list[Path],
    metadata: dict[str, Any],
) -> Path | None:
    """Write a comparison's ``pyperf-<strategy>.json``: one pyperf run per repetition.

    ``latency_runs`` and ``capacity_runs`` are the repetitions' run folders, in order
    (pass only repetitions every strategy completed, so that each file holds the same
    number of values, as ``compare_to``'s t-test needs). None when nothing was measured.
    """
    per_benchmark: dict[str, list[float]] = {}
    described: dict[str, str] = {}
    for folder in latency_runs:
        for name, value in _run_measurements(folder).items():
            per_benchmark.setdefault(name, []).append(value)
            described[name] = "median latency (s) of one repetition"
    for folder in capacity_runs:
        rps = float(load_summary(folder).get("throughput_rps") or 0.0)
        if rps > 0:
            per_benchmark.setdefault(CAPACITY_BENCHMARK, []).append(1.0 / rps)
            described[CAPACITY_BENCHMARK] = (
                "seconds per request at capacity (1 / closed-loop throughput) of one repetition"
            )
    benchmarks = []
    common = {"unit": "second", "aegis_strategy": strategy, **metadata}
    for name, values in per_benchmark.items():
        if name != CAPACITY_BENCHMARK:
            described[name] += (
                ", from each request's intended start at the offered rate"
                if metadata.get("aegis_offered_rate_rps")
                else ", closed loop"
            )
        runs = [
            pyperf.Run(
                [value],
                metadata={
                    **common,
                    "name": name,
                    "aegis_value": described[name],
                    "aegis_repetition": index + 1,
                },
                collect_metadata=False,
            )
            for index, value in enumerate(values)
        ]
        benchmarks.append(pyperf.Benchmark(runs))
    if not benchmarks:
        return None
    path = out_dir / f"pyperf-{strategy}.json"
    pyperf.BenchmarkSuite(benchmarks).dump(str(path), replace=True)
    return path
