"""How ``aegis-bench run`` stops: real runs signalled mid-load, as a terminal or a kill would.

Each test starts ``python -m bench run`` in a session of its own (so the test can signal
its whole process group, as a terminal's Ctrl-C does), waits until the run is really
loading (a progress line with requests on stderr), notes every process of the run, then
signals it and checks the exit code, summary.json, and that no process of the run is left.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

USERS = 40
DURATION = "30s"
LOADING_TIMEOUT_S = 60.0  # start-up (target, preflight, Locust) until users make requests
EXIT_TIMEOUT_S = 15.0  # from the signal to the tool's exit
GONE_TIMEOUT_S = 20.0  # from the exit (or the SIGKILL) until no process of the run is left

# ``[     4s] users     40  requests      1,234  failures ...`` (every 2 s)
PROGRESS = re.compile(r"^\[\s*\d+s\] users\s+(\d+)\s+requests\s+([\d,]+)\s")

pytestmark = pytest.mark.e2e


class BenchRun:
    """One ``aegis-bench run`` child whose stdout and stderr are always drained."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.child = subprocess.Popen(
            [sys.executable, "-m", "bench", "run", "--users", str(USERS),
             "--duration", DURATION, "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )  # fmt: skip
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._stderr_lines: queue.Queue[str | None] = queue.Queue()
        assert self.child.stdout is not None
        assert self.child.stderr is not None
        self._readers = [
            threading.Thread(target=self._drain, args=(self.child.stdout, self.stdout, None)),
            threading.Thread(
                target=self._drain, args=(self.child.stderr, self.stderr, self._stderr_lines)
            ),
        ]
        for reader in self._readers:
            reader.daemon = True
            reader.start()
        self.processes: list[psutil.Process] = []

    @staticmethod
    def _drain(stream: Any, lines: list[str], feed: queue.Queue[str | None] | None) -> None:
        with contextlib.suppress(ValueError, OSError):  # the pipe closed under us
            for line in stream:
                lines.append(line)
                if feed is not None:
                    feed.put(line)
        if feed is not None:
            feed.put(None)

    def wait_until_loading(self, timeout_s: float = LOADING_TIMEOUT_S) -> None:
        """Return at the first progress line showing requests; fail after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._stderr_lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                pytest.fail(f"aegis-bench ended before loading:\n{self.output()}")
            match = PROGRESS.match(line)
            if match and int(match.group(2).replace(",", "")) > 0:
                return
        pytest.fail(f"no progress line with requests within {timeout_s:g} s:\n{self.output()}")

    def note_processes(self) -> list[psutil.Process]:
        """Every process of the run now (Locust, its load processes, the target)."""
        self.processes = psutil.Process(self.child.pid).children(recursive=True)
        return self.processes

    def wait(self, timeout_s: float) -> int:
        """The tool's exit code, waited for at most ``timeout_s``."""
        try:
            return self.child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"aegis-bench did not exit within {timeout_s:g} s:\n{self.output()}")

    def survivors(self, since: float) -> list[str]:
        """The noted processes still alive (not zombies) ``GONE_TIMEOUT_S`` after ``since``.

        Returns as soon as none is left; ``since`` is a ``time.monotonic()`` reading.
        """
        deadline = since + GONE_TIMEOUT_S
        while True:
            alive = [_describe(p) for p in self.processes if _alive(p)]
            if not alive or time.monotonic() > deadline:
                return alive
            time.sleep(0.2)

    def output(self) -> str:
        """What the tool printed so far (all of it once its pipes closed)."""
        for reader in self._readers:
            reader.join(timeout=1)
        return f"stdout:\n{''.join(self.stdout)}\nstderr:\n{''.join(self.stderr)}"

    def summary(self) -> dict[str, Any]:
        path = self.out / "summary.json"
        assert path.is_file(), f"no summary.json:\n{self.output()}"
        summary: dict[str, Any] = json.loads(path.read_text())
        return summary

    def cleanup(self) -> None:
        """Kill whatever is left of this run (only its own processes), close the pipes."""
        if not self.processes and self.child.poll() is None:
            with contextlib.suppress(psutil.Error):
                self.note_processes()  # the test failed before it noted them
        for process in self.processes:
            with contextlib.suppress(psutil.Error):
                if _alive(process):
                    process.kill()
        if self.child.poll() is None:
            self.child.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.child.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=10)
        for stream in (self.child.stdout, self.child.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def _alive(process: psutil.Process) -> bool:
    try:
        # is_running also checks the start time: a reused PID is not this process.
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _describe(process: psutil.Process) -> str:
    try:
        return f"{process.pid} {' '.join(process.cmdline())}"
    except psutil.Error:
        return str(process.pid)


@pytest.fixture
def bench_run(tmp_path: Path) -> Iterator[BenchRun]:
    """A started run of 40 users for 30 s; whatever is left of it is killed afterwards."""
    run = BenchRun(tmp_path / "run")
    try:
        yield run
    finally:
        run.cleanup()


def start_loading(run: BenchRun) -> None:
    """Wait until the users make requests, then note the run's processes."""
    run.wait_until_loading()
    processes = run.note_processes()
    names = " ".join(_describe(p) for p in processes)
    assert "-m locust" in names, names
    assert "-m bench.backend" in names, names


def locust_request_count(out: Path) -> int:
    """Locust's own count of requests: the Aggregated row of locust_stats.csv."""
    with (out / "locust_stats.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                return int(row["Request Count"])
    raise AssertionError("locust_stats.csv has no Aggregated row")


def check_graceful_stop(run: BenchRun, signal_name: str, code: int, exit_code: int) -> None:
    """The exit code, a partial summary agreeing with Locust's count, and no process left."""
    exited = time.monotonic()
    assert exit_code == code, run.output()
    summary = run.summary()
    assert summary["partial"] is True
    assert summary["stopped_by"] == signal_name
    assert summary["partial_reasons"], summary
    assert any(f"stopped by {signal_name}" in reason for reason in summary["partial_reasons"])
    assert summary["clients_left_open"] == 0
    locust = locust_request_count(run.out)
    assert summary["requests"] > 0
    assert abs(summary["requests"] - locust) <= 0.02 * locust, (summary["requests"], locust)
    assert run.survivors(since=exited) == []


@pytest.mark.timeout(120)
def test_sigint_to_the_group_stops_gracefully_with_130(bench_run: BenchRun) -> None:
    """Ctrl-C (SIGINT to the group) mid-run: exit 130, partial summary, all closed, none left."""
    start_loading(bench_run)
    os.killpg(bench_run.child.pid, signal.SIGINT)
    exit_code = bench_run.wait(EXIT_TIMEOUT_S)
    check_graceful_stop(bench_run, "SIGINT", 130, exit_code)


@pytest.mark.timeout(120)
def test_sigterm_to_the_pid_stops_gracefully_with_143(bench_run: BenchRun) -> None:
    """SIGTERM to the tool's PID mid-run: exit 143, partial summary, all closed, none left."""
    start_loading(bench_run)
    os.kill(bench_run.child.pid, signal.SIGTERM)
    exit_code = bench_run.wait(EXIT_TIMEOUT_S)
    check_graceful_stop(bench_run, "SIGTERM", 143, exit_code)


@pytest.mark.timeout(120)
def test_second_sigint_stops_at_once_with_a_valid_partial_summary(bench_run: BenchRun) -> None:
    """Two Ctrl-Cs a second apart: exit 130 at once, a valid partial summary, none left."""
    start_loading(bench_run)
    signalled = time.monotonic()
    os.killpg(bench_run.child.pid, signal.SIGINT)
    time.sleep(1.0)
    with contextlib.suppress(ProcessLookupError):  # it may be gone already
        os.killpg(bench_run.child.pid, signal.SIGINT)
    exit_code = bench_run.wait(EXIT_TIMEOUT_S)
    exited = time.monotonic()
    assert exited - signalled < 10.0, "the second signal did not stop it at once"
    assert exit_code == 130, bench_run.output()
    summary = bench_run.summary()  # json.loads: valid JSON
    assert summary["partial"] is True
    assert summary["stopped_by"] == "SIGINT"
    reasons = summary["partial_reasons"]
    killed = any("Locust was killed" in reason for reason in reasons)
    # Or the second signal came once Locust had already finished its graceful stop.
    already_ended = not killed and any("stopped by SIGINT" in reason for reason in reasons)
    assert killed or already_ended, reasons
    assert bench_run.survivors(since=exited) == []


@pytest.mark.timeout(120)
def test_sigkill_of_the_tool_leaves_no_process_of_the_run(bench_run: BenchRun) -> None:
    """SIGKILL of aegis-bench mid-run: Locust, its load processes and the target all exit."""
    start_loading(bench_run)
    killed = time.monotonic()
    os.kill(bench_run.child.pid, signal.SIGKILL)
    assert bench_run.wait(EXIT_TIMEOUT_S) == -signal.SIGKILL
    assert bench_run.survivors(since=killed) == []
