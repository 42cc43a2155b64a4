"""The test running now (or the last one), as the web UI's Sessions tab shows it.

Made by the same summary builder as a run folder's summary.json, from the parts so far
(a master's workers send theirs every 2 s) and the target's counters, so the tab's
verdict is the run's outcome (``bench.outcome``) as it stands.
"""

from __future__ import annotations

import time
from typing import Any

import gevent

from bench.locust_adapter import _runtime
from bench.locust_adapter._collect import COLLECTOR
from bench.locust_adapter._folders import TestFolders, context_of
from bench.report import build_summary

__all__ = ["LIVE_LIFECYCLE", "live_view"]

# The lifecycle figures the live view shows (summary.json's names).
LIVE_LIFECYCLE = (
    "unauthorized",
    "refreshes",
    "refresh_failures",
    "on_unauthorized",
    "signed_in_again",
    "recycled_clients",
    "bursts",
    "invariants_broken",
    "not_checked",
)
# How long a view of a stopped test waits for its run folder (written in about 1 s).
FOLDER_WAIT_S = 10.0


def live_view(environment: Any, folders: TestFolders) -> dict[str, Any]:
    """The test running now (or the last), as ``/aegis/sessions`` serves it.

    ``isolation``, ``connections`` and ``outcome`` are summary.json's sections, computed
    from the parts so far and the target's counters.
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
    parts.append(runtime.part())
    summary, _ = build_summary(parts, context_of(environment, runtime, folders, final=False))
    loads = [part for part in parts if part.is_load]
    return {
        "strategy": runtime.strategy.name,
        "state": getattr(runner, "state", None),
        "outcome": summary["outcome"],
        "sessions_alive": sum(part.sessions_alive for part in loads),
        "requests": summary["requests"],
        "failures": summary["failures"],
        "isolation": summary["isolation"],
        "connections": summary["connections"],
        "lifecycle": {
            "clients_built": sum(part.clients_built for part in loads),
            "clients_released": sum(part.clients_released for part in loads),
            "users_signing_in": sum(part.users_signing_in for part in loads),
            "users_without_session": summary["users_without_session"]["count"],
            **{key: summary["lifecycle"][key] for key in LIVE_LIFECYCLE},
        },
        "failures_by_kind": summary["failures_by_kind"],
        "generator": {
            "saturated": summary["generator"]["saturated"],
            "reasons": summary["generator"].get("reasons", []),
        },
        "run_folder": str(folders.last) if folders.last is not None else None,
    }
