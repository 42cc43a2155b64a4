"""Where a test's results go, and what the web UI shows of the test running now.

``--aegis-out DIR`` on a master or a single process: a headless test's run folder is
DIR itself; in the web UI every test gets ``DIR/<start time>-<strategy>/``. Its parts
go to ``parts/`` in it, and when the test stops the process writes what a headless
``aegis-bench run`` writes: summary.json, report.html, latency.json and the pyperf file.
``--aegis-parts-only`` (how ``aegis-bench run`` calls Locust) writes the parts only:
the tool then merges them itself, with what it measured around Locust.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gevent

from bench.locust_adapter import _runtime
from bench.locust_adapter._collect import COLLECTOR, write_test_run_folder
from bench.measure import ServerStats, server_stats
from bench.report import build_summary

__all__ = ["FOLDERS", "TestFolders", "live_view", "part_extra"]

logger = logging.getLogger(__name__)


def part_extra(environment: Any, runtime: _runtime.ProcessRuntime) -> dict[str, Any]:
    """What a master's or single process's part adds: the test as Locust was asked for it."""
    if runtime.role == "worker":
        return {}
    options = environment.parsed_options
    return {
        "host": environment.host,
        "users_requested": getattr(options, "num_users", None),
        "run_time_s": getattr(options, "run_time", None),
        "profile": runtime.profile.name,
    }


@dataclass
class TestFolders:
    """The run folder of the test running now, the last one written, and the target's
    counters as the test began."""

    current: Path | None = None
    last: Path | None = None
    reset: ServerStats | None = None

    def start_test(self, environment: Any, strategy: str) -> Path | None:
        """Pick the test's run folder and zero the target's counters; its parts folder."""
        options = environment.parsed_options
        root = str(getattr(options, "aegis_out", "") or "")
        self.last = None
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
        parts_only = bool(getattr(options, "aegis_parts_only", False))
        host = environment.host or ""
        self.reset = (
            server_stats(host, "/_bench/reset", method="POST") if host and not parts_only else None
        )
        return folder / "parts"

    def finish_test(self, environment: Any, runtime: _runtime.ProcessRuntime) -> None:
        """Write the stopped test's run folder, if this process writes one."""
        folder = self.current
        if folder is None or runtime.role == "worker":
            return
        try:
            if not getattr(environment.parsed_options, "aegis_parts_only", False):
                write_test_run_folder(environment, runtime, folder, self.reset)
                self.last = folder
                logger.info("aegis-bench: run folder %s", folder)
        except Exception:  # a report that failed must not take Locust down with it
            logger.exception("aegis-bench: the run folder %s could not be written", folder)
        finally:
            self.current = None


FOLDERS = TestFolders()
# The lifecycle figures the live view shows (summary.json's names).
LIVE_LIFECYCLE = (
    "unauthorized",
    "refreshes",
    "refresh_failures",
    "on_unauthorized",
    "signed_in_again",
    "recycled_clients",
    "invariants_broken",
    "not_checked",
)
# How long a view of a stopped test waits for its run folder (written in about 1 s).
FOLDER_WAIT_S = 10.0


def live_view(environment: Any, folders: TestFolders) -> dict[str, Any]:
    """The test running now (or the last), as ``/aegis/sessions`` serves it.

    ``isolation`` and ``connections`` are summary.json's sections, computed from the
    parts so far (a master's workers send theirs every 2 s) and the target's counters.
    """
    runtime = _runtime.current()
    runner = environment.runner
    if getattr(runner, "state", None) == "stopped" and folders.current is not None:
        # Locust shows a test stopped before its test_stop listeners (which write the
        # run folder) have run, and its UI polls no more once it saw "stopped": the
        # view that tells it so waits for the folder, so the tab's last row names it.
        deadline = time.monotonic() + FOLDER_WAIT_S
        while folders.current is not None and time.monotonic() < deadline:
            gevent.sleep(0.1)
    parts = list(COLLECTOR.parts.values()) if runtime.role == "master" else []
    parts.append(runtime.part(part_extra(environment, runtime)))
    host = environment.host or ""
    reading = server_stats(host, "/_bench/stats") if host else ServerStats(None, "unavailable")
    summary, _ = build_summary(
        parts,
        strategy=runtime.strategy.name,
        users=int(getattr(environment.parsed_options, "num_users", 0) or 0),
        duration_requested_s=None,
        partial=False,
        target=host,
        server=reading.data,
        server_state=reading.state,
        oracle_expected=folders.reset is not None and folders.reset.state == "available",
        profile=runtime.profile,
    )
    load_parts = [part for part in parts if part.get("role") != "master"]

    def total(name: str) -> int:
        return sum(int(part.get(name) or 0) for part in load_parts)

    return {
        "strategy": runtime.strategy.name,
        "state": getattr(runner, "state", None),
        "sessions_alive": total("sessions_alive"),
        "requests": summary["requests"],
        "failures": summary["failures"],
        "isolation": summary["isolation"],
        "connections": summary["connections"],
        "lifecycle": {
            "clients_built": total("clients_built"),
            "clients_released": total("clients_released"),
            "users_without_session": total("users_without_session"),
            **{key: summary["lifecycle"][key] for key in LIVE_LIFECYCLE},
        },
        "failures_by_kind": summary["failures_by_kind"],
        "generator": {
            "saturated": summary["generator"]["saturated"],
            "reasons": summary["generator"].get("reasons", []),
        },
        "run_folder": str(folders.last) if folders.last is not None else None,
    }
