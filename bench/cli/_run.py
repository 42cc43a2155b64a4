"""One headless run: Locust as a child, the target's counters around it, summary.json.

``execute_run`` zeroes the target's counters, runs Locust (``_locust_child``), restarts
the embedded target when asked, waits for the load processes' final parts, and merges
them with what it measured around Locust through the one summary builder.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.capacity import Forecast
from bench.cli._locust_child import LocustOutcome, Samples, run_locust
from bench.cli._signals import STOP
from bench.measure import (
    ServerStats,
    count_sockets,
    loopback_port,
    merge_readings,
    oracle_state,
    server_stats,
)
from bench.options import (
    DURATION,
    HOST,
    OUT,
    PARTS_ONLY,
    PROCESSES,
    PROFILE,
    PROGRESS,
    RESTART_TARGET_AT,
    STRATEGY,
    USERS,
    Limits,
    Settings,
)
from bench.profile import AEGIS, load_profile
from bench.report import RunContext, build_summary, load_parts, write_run_folder

__all__ = ["execute_run"]

# How long the final part files may take to appear after Locust exited.
PARTS_TIMEOUT_S = 10.0


def _wait_for_parts(folder: Path, processes: int, timeout_s: float = PARTS_TIMEOUT_S) -> None:
    """Wait (bounded) until every load process has written its final part file.

    Locust's master waits for its forked load processes before it exits, so the parts
    are normally there already; the wait covers a slow file system.
    """
    expected = processes + (1 if processes > 1 else 0)  # workers, plus the master
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        parts = load_parts(folder)
        if len(parts) >= expected and all(part.final for part in parts):
            return
        time.sleep(0.2)


def _partial_reasons(outcome: LocustOutcome | None, parts: list[Any]) -> list[str]:
    """Why the run did not complete, as far as watching Locust tells (signals aside)."""
    if outcome is None:
        return []  # stopped before the load started: the stop signal says it all
    reasons = []
    if outcome.stopped and not STOP.requested:
        reasons.append("Locust overran its run time and stop timeout and was asked to stop")
    if outcome.killed:
        reasons.append("Locust was killed (a second signal, or it overran its grace period)")
    if outcome.exit_code not in (0, 1) and not STOP.requested and not outcome.killed:
        reasons.append(f"Locust exited with code {outcome.exit_code}: see locust.log")
    if not parts:
        reasons.append("no load process wrote its measurements")
    return reasons


class _TargetLives:
    """The embedded target's lives during one run: each from a reset to its last reading.

    A restart the tool makes (``--restart-target-at``) ends one life with a reading of
    its counters and starts the next with a reset; the server-side figures are then the
    sum of all lives, and the summary lists each restart with how long the target was
    down.
    """

    def __init__(self, host: str, restart_target: Callable[[], None] | None) -> None:
        self._host = host
        self._restart_target = restart_target
        self._reset = server_stats(host, "/_bench/reset", method="POST")
        self._began = time.monotonic()
        self._ended: list[tuple[ServerStats, ServerStats]] = []
        self.restarts: list[dict[str, float | str]] = []

    def restart(self, at_s: float) -> None:
        assert self._restart_target is not None
        before = server_stats(self._host, "/_bench/stats")
        began = time.monotonic()
        self._ended.append((self._reset, before))
        try:
            self._restart_target()
        except Exception as exc:  # it did not come back: the run goes on against nothing
            self.restarts.append({"at_s": round(at_s, 1), "error": str(exc)[:300]})
            self._reset = ServerStats(None, "not restarted")
            return
        self.restarts.append({"at_s": round(at_s, 1), "down_s": round(time.monotonic() - began, 2)})
        # Arm its faults on the run's schedule, and keep what it counted since it started.
        elapsed = {"elapsed_s": time.monotonic() - self._began, "zero": False}
        self._reset = server_stats(self._host, "/_bench/reset", method="POST", json=elapsed)

    def finish(self) -> tuple[ServerStats, str, bool]:
        """The counters of the whole run (summed over lives), their state, whether expected."""
        lives = [*self._ended, (self._reset, server_stats(self._host, "/_bench/stats"))]
        failed = [r["error"] for r in self.restarts if "error" in r]
        if failed:  # the counters of its last life are lost with it
            return ServerStats(None, "not restarted"), f"not restarted: {failed[0]}", True
        for reset, reading in lives:
            state, expected = oracle_state(reset, reading)
            if state != "available":
                return reading, state, expected
        if len(lives) == 1:
            return lives[0][1], "available", True
        merged = merge_readings([reading.data or {} for _, reading in lives])
        return ServerStats(merged, "available"), "available", True


def execute_run(
    settings: Settings,
    env: tuple[tuple[str, str], ...] = (),
    restart_target: Callable[[], None] | None = None,
    limits: Limits | None = None,
    forecast: Forecast | None = None,
    *,
    quiet: bool = False,
) -> dict[str, Any]:
    """Run against the target at ``HOST`` (already up); write the run folder, return its summary.

    The reference backend's counters are zeroed first, and its boot id noted (see
    ``oracle_state``). ``restart_target`` restarts the embedded target, once, at
    ``settings[RESTART_TARGET_AT]``. A stop asked for before the load started starts
    none, and the summary says so.
    """
    host, out = settings.required(HOST), settings.required(OUT)
    restart_at = settings.get(RESTART_TARGET_AT)
    lives = _TargetLives(host, restart_target if restart_at else None)
    out.mkdir(parents=True, exist_ok=True)
    samples = Samples()
    child = settings.replace({PARTS_ONLY: True, PROGRESS: True})
    restart = (restart_at, lives.restart) if restart_at and restart_target else None
    outcome = None if STOP.requested else run_locust(child, env, samples, restart, quiet=quiet)
    if outcome is not None and not outcome.killed:
        _wait_for_parts(out / "parts", settings[PROCESSES])
    reading, state, oracle_expected = lives.finish()
    parts = load_parts(out / "parts")
    port = loopback_port(host)
    path = settings[PROFILE]
    profile = load_profile(path) if path is not None else AEGIS
    context = RunContext(
        strategy=settings[STRATEGY],
        users=settings[USERS],
        target=host,
        settings=settings.as_text(),
        duration_requested_s=settings[DURATION],
        profile=profile,
        server=reading.data if state == "available" else None,
        server_state=state,
        oracle_expected=oracle_expected,
        partial_reasons=tuple(_partial_reasons(outcome, parts)),
        box_cpu=tuple(samples.box_cpu),
        established=tuple(samples.established),
        time_wait_after=count_sockets(port) if port is not None else None,
        locust_exit_code=outcome.exit_code if outcome is not None else None,
        stopped_by=STOP.name,
        target_restarts=tuple(lives.restarts),
        limits=limits or Limits(),
        forecast=forecast.as_json() if forecast is not None else None,
    )
    summary, recorder = build_summary(parts, context)
    write_run_folder(out, summary, recorder)
    return summary
