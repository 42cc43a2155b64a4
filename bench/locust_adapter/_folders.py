"""Where a test's results go, and what the web UI shows of the test running now.

``--aegis-out DIR`` on a master or a single process: a headless test's run folder is
DIR itself; in the web UI every test gets ``DIR/<start time>-<strategy>/``. Its parts
go to ``parts/`` in it, and when the test stops the process writes what a headless
``aegis-bench run`` writes, through the same summary builder: summary.json (every
field), report.html, latency.json and the pyperf file. ``--aegis-parts-only`` (how
``aegis-bench run`` calls Locust) writes the parts only: the tool then merges them
itself, with what it measured around Locust.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
import psutil

from bench.locust_adapter import _runtime
from bench.measure import (
    Part,
    ServerStats,
    count_sockets,
    loopback_port,
    oracle_state,
    server_stats,
)
from bench.options import DURATION, OUT, PARTS_ONLY, USERS
from bench.report import RunContext, build_summary, load_parts, write_run_folder

__all__ = ["FOLDERS", "TestFolders", "context_of", "write_test_run_folder"]

logger = logging.getLogger(__name__)
SAMPLE_S = 1.0


@dataclass
class TestFolders:
    """The run folder of the test running now, the last one written, the target's
    counters as the test began, and what this process samples of the machine meanwhile."""

    current: Path | None = None
    last: Path | None = None
    reset: ServerStats | None = None
    stopped_by: str | None = None  # the signal that ended Locust during the test
    missing_workers: list[str] = field(default_factory=list)
    box_cpu: list[tuple[float, float]] = field(default_factory=list)
    established: list[int] = field(default_factory=list)
    _sampler: Any = None

    def start_test(self, environment: Any, strategy: str) -> Path | None:
        """Pick the test's run folder, zero the target's counters, start sampling; the
        test's parts folder (None when this process writes no run folder)."""
        options = environment.parsed_options
        root = str(getattr(options, OUT.dest or "", "") or "")
        self.last, self.stopped_by, self.missing_workers = None, None, []
        if not root:
            self.current = None
            return None
        folder = Path(root)
        if getattr(environment, "web_ui", None) is not None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            folder = folder / f"{stamp}-{strategy}"
            suffix = 1
            while folder.exists():  # two tests started within one second
                suffix += 1
                folder = folder.with_name(f"{stamp}-{strategy}-{suffix}")
        self.current = folder
        host = environment.host or ""
        writes = not getattr(options, PARTS_ONLY.dest or "", False)
        self.reset = server_stats(host, "/_bench/reset", method="POST") if host and writes else None
        if writes:  # aegis-bench run samples the machine itself
            self.box_cpu, self.established = [], []
            self._sampler = gevent.spawn(self._sample, loopback_port(host))
        return folder / "parts"

    def _sample(self, port: int | None) -> None:
        """The machine's CPU and the connections to a loopback target, once a second."""
        psutil.cpu_percent(interval=None)
        while True:
            gevent.sleep(SAMPLE_S)
            self.box_cpu.append((time.time(), psutil.cpu_percent(interval=None)))
            sockets = count_sockets(port, "ESTABLISHED") if port is not None else None
            if sockets is not None:
                self.established.append(sockets // 2)  # both ends are on this machine

    def finish_test(self, environment: Any, runtime: _runtime.ProcessRuntime) -> None:
        """Write the stopped test's run folder, if this process writes one, and make the
        test's outcome Locust's exit code."""
        folder = self.current
        if self._sampler is not None:
            self._sampler.kill(block=False)
            self._sampler = None
        if folder is None or runtime.role == "worker":
            return
        try:
            if not getattr(environment.parsed_options, PARTS_ONLY.dest or "", False):
                summary = write_test_run_folder(environment, runtime, folder, self)
                environment.process_exit_code = summary["outcome"]["exit_code"]
                self.last = folder
                logger.info("aegis-bench: run folder %s", folder)
        except Exception:  # a report that failed must not take Locust down with it
            logger.exception("aegis-bench: the run folder %s could not be written", folder)
        finally:
            self.current = None


FOLDERS = TestFolders()


def context_of(
    environment: Any, runtime: _runtime.ProcessRuntime, folders: TestFolders, *, final: bool
) -> RunContext:
    """What the parts do not know of the test, as this process knows it."""
    host = environment.host or ""
    reading = server_stats(host, "/_bench/stats") if host else ServerStats(None, "unavailable")
    reset = folders.reset
    state, expected = oracle_state(reset, reading) if reset is not None else (reading.state, False)
    values = runtime.settings.values
    port = loopback_port(host)
    reasons = [
        f"no final part from worker(s) {', '.join(folders.missing_workers)}: their figures "
        "end at their last checkpoint"
    ] if folders.missing_workers else []  # fmt: skip
    users = values[USERS] or getattr(environment.runner, "target_user_count", 0) or 0
    return RunContext(
        strategy=runtime.strategy.name,
        users=int(users),
        target=host,
        settings=values.as_text(),
        duration_requested_s=values[DURATION],
        profile=runtime.profile,
        server=reading.data if state == "available" else None,
        server_state=state,
        oracle_expected=expected,
        partial_reasons=tuple(reasons),
        box_cpu=tuple(folders.box_cpu),
        established=tuple(folders.established),
        time_wait_after=count_sockets(port) if final and port is not None else None,
        stopped_by=folders.stopped_by,
        live=not final,
    )


def write_test_run_folder(
    environment: Any, runtime: _runtime.ProcessRuntime, folder: Path, folders: TestFolders
) -> dict[str, Any]:
    """Merge the test's parts into ``folder``'s summary.json, report and pyperf file."""
    parts: list[Part] = load_parts(folder / "parts")
    summary, recorder = build_summary(parts, context_of(environment, runtime, folders, final=True))
    write_run_folder(folder, summary, recorder)
    return summary
