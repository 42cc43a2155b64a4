"""The pyperf benchmark scripts run and write files that pyperf reads back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest

from bench.backend import TargetProcess

pytestmark = pytest.mark.timeout(240)

QUICK = ["-p", "1", "-n", "2", "-w", "0", "-l", "20"]


def run_module(module: str, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", module, *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=220,
    )


def load(path: Path) -> dict[str, pyperf.Benchmark]:
    return {bench.get_name(): bench for bench in pyperf.BenchmarkSuite.load(str(path))}


@pytest.mark.e2e
def test_construct_benchmark_writes_both_clients(tmp_path: Path) -> None:
    """bench_construct times APIClient and stock httpx construction into one pyperf file."""
    out = tmp_path / "construct.json"
    run_module("bench.perf.bench_construct", *QUICK, "-o", str(out))
    benchmarks = load(out)
    assert set(benchmarks) == {"construct-apiclient", "construct-httpx-asyncclient"}
    assert all(value > 0 for bench in benchmarks.values() for value in bench.get_values())


@pytest.mark.e2e
def test_rss_benchmark_stores_bytes(tmp_path: Path) -> None:
    """bench_rss stores RSS per client with unit byte, and a stock client costs more."""
    out = tmp_path / "rss.json"
    run_module("bench.perf.bench_rss", "--samples", "1", "-o", str(out))
    benchmarks = load(out)
    assert benchmarks["rss-per-apiclient"].get_unit() == "byte"
    assert benchmarks["rss-per-httpx-asyncclient"].mean() > benchmarks["rss-per-apiclient"].mean()


@pytest.mark.e2e
def test_get_benchmark_measures_both_clients_on_the_real_backend(
    tmp_path: Path, target: TargetProcess
) -> None:
    """bench_get measures CPU per get for APIClient and bare httpx against the backend."""
    out = tmp_path / "get.json"
    run_module("bench.perf.bench_get", *QUICK, "--target-url", target.url, "-o", str(out))
    benchmarks = load(out)
    assert set(benchmarks) == {"apiclient-get-cpu", "bare-httpx-get-cpu"}
    assert all(value > 0 for bench in benchmarks.values() for value in bench.get_values())


@pytest.mark.e2e
def test_bridge_benchmark_runs(tmp_path: Path) -> None:
    """bench_bridge measures the hop cost in gevent-patched workers."""
    out = tmp_path / "bridge.json"
    run_module("bench.perf.bench_bridge", *QUICK[:-2], "-l", "2000", "-o", str(out))
    values = load(out)["bridge-hop-cpu"].get_values()
    assert all(value > 0 for value in values)


def write_compare_summary(folder: Path, ratio: float, low: float, high: float) -> None:
    """A compare folder whose summary holds only a throughput ratio with its interval."""
    folder.mkdir()
    interval = {"value": ratio, "ci_low": low, "ci_high": high}
    comparison = {"throughput_ratio": interval, "strategies": {}}
    (folder / "summary.json").write_text(json.dumps({"comparison": comparison}))


@pytest.mark.e2e
def test_calibration_counts_reruns_outside_each_others_interval(tmp_path: Path) -> None:
    """calibrate_intervals reports how often a rerun's value fell in another's interval."""
    write_compare_summary(tmp_path / "a", 1.5, 1.4, 1.6)
    write_compare_summary(tmp_path / "b", 1.55, 1.5, 1.6)
    write_compare_summary(tmp_path / "c", 2.0, 1.9, 2.1)
    done = subprocess.run(
        [sys.executable, "-m", "bench.perf.calibrate_intervals", "--from-folders",
         *(str(tmp_path / name) for name in "abc")],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    result = json.loads((tmp_path / "calibration.json").read_text())
    # Of 6 ordered pairs only a->b and b->a hold (1.55 in [1.4, 1.6]; 1.5 in [1.5, 1.6]).
    assert result["pairs"] == 6
    assert result["coverage"] == pytest.approx(2 / 6)
    assert "widening for 95% coverage" in done.stdout
