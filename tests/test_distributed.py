"""A plain Locust master and two workers, separate processes in separate folders.

The workers send their measurements to the master through Locust's messages; the
master alone writes the run folder (``--aegis-out``), the same shape as a local run's.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.backend import TargetProcess
from bench.registry import RowKind
from tests._helpers import SUMMARY_KEYS, free_port, key_paths

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "aegis_session.py"
USERS = 12

pytestmark = pytest.mark.e2e


@dataclass
class DistributedRun:
    """What a master and its workers left: the master's exit code and its folders."""

    exit_code: int
    out: Path
    csv_prefix: Path

    def summary(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.out / "summary.json").read_text())
        return data

    def locust_requests(self) -> int:
        """Locust's own aggregated count, finding rows (LEAK, LOST SESSION, BROKEN: not
        requests) left out."""
        with open(f"{self.csv_prefix}_stats.csv", newline="") as stats:
            rows = list(csv.DictReader(stats))
        kinds = {str(kind) for kind in RowKind}
        leaks = sum(int(r["Request Count"]) for r in rows if r["Type"] in kinds)
        [aggregated] = [r for r in rows if r["Name"] == "Aggregated"]
        return int(aggregated["Request Count"]) - leaks


def _locust(args: list[str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "locust", "-f", str(SCENARIO), *args],
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_distributed(tmp: Path, host: str, strategy: str) -> DistributedRun:
    """Run a master (headless, 2 expected workers) and two workers to the end."""
    port = free_port()
    folders = {name: tmp / name for name in ("master", "worker-1", "worker-2")}
    for folder in folders.values():
        folder.mkdir()
    out, csv_prefix = folders["master"] / "run", folders["master"] / "locust"
    master_args = [
        "--master", "--headless", "--expect-workers", "2",
        "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
        "--users", str(USERS), "--spawn-rate", str(USERS), "--run-time", "3s",
        "--stop-timeout", "10", "--host", host, "--client-strategy", strategy,
        "--aegis-out", str(out), "--csv", str(csv_prefix), "--only-summary",
    ]  # fmt: skip
    master = _locust(master_args, folders["master"], folders["master"] / "master.log")
    workers = [
        _locust(
            ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
            folders[name],
            folders[name] / "worker.log",
        )
        for name in ("worker-1", "worker-2")
    ]
    try:
        exit_code = master.wait(timeout=90)
        for worker in workers:
            worker.wait(timeout=30)
    finally:
        for process in (master, *workers):
            _stop(process)
    return DistributedRun(exit_code, out, csv_prefix)


@pytest.fixture(scope="module")
def pooled_run(target: TargetProcess, tmp_path_factory: pytest.TempPathFactory) -> DistributedRun:
    return run_distributed(tmp_path_factory.mktemp("pooled"), target.url, "pooled")


@pytest.fixture(scope="module")
def shared_run(target: TargetProcess, tmp_path_factory: pytest.TempPathFactory) -> DistributedRun:
    return run_distributed(tmp_path_factory.mktemp("shared"), target.url, "shared")


@pytest.mark.timeout(150)
def test_the_master_writes_the_run_folder(pooled_run: DistributedRun) -> None:
    """The master alone writes summary.json, report.html and the pyperf file."""
    assert pooled_run.exit_code == 0
    for name in ("summary.json", "report.html", "pyperf-pooled.json", "latency.json"):
        assert (pooled_run.out / name).is_file(), name
    workers = list((pooled_run.out / "parts").glob("part-worker-*.json"))
    assert len(workers) == 2


@pytest.mark.timeout(150)
def test_a_master_writes_every_summary_field(pooled_run: DistributedRun) -> None:
    """A plain Locust master's summary.json has the same keys as aegis-bench run's."""
    summary = pooled_run.summary()
    assert key_paths(summary) == SUMMARY_KEYS
    assert summary["connections"]["os_established_peak"] is not None
    assert summary["outcome"]["exit_code"] == pooled_run.exit_code == 0


@pytest.mark.timeout(150)
def test_the_master_summary_counts_what_locust_counted(pooled_run: DistributedRun) -> None:
    """The merged summary's requests equal Locust's aggregated count, checks ran."""
    summary = pooled_run.summary()
    assert summary["requests"] == pooled_run.locust_requests() > 0
    assert summary["isolation"]["verdict"] == "isolated"
    assert summary["isolation"]["checked"] > 0
    assert summary["processes"] == 2


@pytest.mark.timeout(150)
def test_pooled_opens_one_connection_per_session(pooled_run: DistributedRun) -> None:
    """Client and server agree on connections: one per pooled session."""
    connections = pooled_run.summary()["connections"]
    assert connections["client_opened"] == connections["server_accepted"] == USERS


@pytest.mark.timeout(150)
def test_a_leak_on_a_worker_fails_the_whole_run(shared_run: DistributedRun) -> None:
    """The shared control's leaks, seen by workers, are the master's verdict and exit code."""
    summary = shared_run.summary()
    assert summary["isolation"]["verdict"] == "leak"
    assert summary["isolation"]["client_side_leaks"] > 0
    assert shared_run.exit_code != 0


@pytest.mark.timeout(150)
def test_leaks_are_rows_of_locusts_own_failures(shared_run: DistributedRun) -> None:
    """Locust's failures CSV lists the leaks as LEAK rows naming the call and the kind."""
    with open(f"{shared_run.csv_prefix}_failures.csv", newline="") as failures:
        leaks = [row for row in csv.DictReader(failures) if row["Method"] == "LEAK"]
    assert leaks
    assert {row["Name"] for row in leaks} & {"GET /api/v1/auth/me", "GET /api/v1/insights/projects"}
    assert any("answered another user's data" in row["Error"] for row in leaks)
