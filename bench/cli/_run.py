"""``aegis-bench run``: one headless Locust run, its summary.json and a result table.

The CLI never imports Locust (importing it monkey-patches the process): it starts the
embedded target and ``python -m locust`` as child processes, waits, then merges the part
files the load processes wrote into ``summary.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from bench._lifeline import preexec_die_with_parent
from bench.cli._args import UsageError, check_open_files
from bench.cli._signals import STOP
from bench.measure import ServerStats, count_sockets, merge_readings, oracle_state, server_stats
from bench.profile import AEGIS, Profile, ProfileError, load_profile
from bench.report import build_summary, load_parts, write_run_folder
from bench.strategies import strategy_names

__all__ = [
    "STOP_TIMEOUT_S",
    "STORM_BURSTS",
    "LocustOutcome",
    "RunSettings",
    "default_scenario",
    "execute_run",
    "stop_grace_s",
    "storm_bursts",
    "tool_options",
]

# Grace given to users to finish their task and sign out after the run time.
STOP_TIMEOUT_S = 10


# The share of tasks that are bursts in a run with expiry storms, unless --bursts says:
# single flight exists for the burst of 401s a storm brings, and only a burst can show
# whether it holds (a burst opens extra keep-alive connections, so never by default
# otherwise).
STORM_BURSTS = 0.05


def storm_bursts(bursts: float | None, expire_every_s: float | None) -> float:
    """``--bursts`` as given; when not given, :data:`STORM_BURSTS` with ``--expire-every``."""
    if bursts is not None:
        return bursts
    return STORM_BURSTS if expire_every_s else 0.0


def stop_grace_s(users: int) -> float:
    """How long stopping may take: the users' stop timeout, then their sign-outs.

    Beyond run time + stop timeout Locust gets this long before it is asked to stop,
    and once asked (or once its master ended) this long again before its process group
    is killed. Signing 15,000 users out on a saturated generator took over a minute.
    """
    return STOP_TIMEOUT_S + 20 + users / 100


# How long the final part files may take to appear after Locust exited.
PARTS_TIMEOUT_S = 10.0


def default_scenario() -> Path:
    """The bundled default locustfile, ``scenarios/aegis_session.py``."""
    return Path(__file__).resolve().parents[2] / "scenarios" / "aegis_session.py"


@dataclass(frozen=True)
class RunSettings:
    """Everything one run needs; ``host=None`` means the embedded target."""

    strategy: str
    users: int
    spawn_rate: float
    duration_s: float
    processes: int
    host: str | None
    out: Path
    think_time: str
    scenario: Path
    profile: Path | None = None
    keepalive_s: float = 4.0
    env: tuple[tuple[str, str], ...] = ()  # extra environment for Locust (SSL_CERT_FILE)
    count_with: str = "stream"
    timeout_s: float = 10.0
    warmup_s: float = 2.0
    rate_rps: float | None = None  # open model; None: closed loop
    churn: float = 0.0  # share of tasks that recycle the client
    bursts: float = 0.0  # share of tasks that make concurrent calls
    restart_target_at_s: float | None = None  # restart the embedded target this far in

    @classmethod
    def from_args(
        cls,
        args: argparse.Namespace,
        *,
        strategy: str,
        out: Path,
        env: tuple[tuple[str, str], ...] = (),
        rate_rps: float | None = None,
    ) -> RunSettings:
        return cls(
            strategy=strategy,
            users=args.users,
            spawn_rate=args.spawn_rate,
            duration_s=args.duration,
            processes=args.processes,
            host=args.host,
            out=out,
            think_time=args.think_time,
            scenario=Path(args.scenario) if args.scenario else default_scenario(),
            profile=args.profile,
            keepalive_s=args.keepalive,
            env=env,
            count_with=args.count_connections,
            timeout_s=args.timeout,
            warmup_s=args.warmup,
            rate_rps=rate_rps,
            churn=args.churn,
            bursts=storm_bursts(args.bursts, args.expire_every),
            restart_target_at_s=args.restart_target_at,
        )

    def load_profile(self) -> Profile:
        """The run's target profile (Aegis's routes unless ``--profile``)."""
        return load_profile(self.profile) if self.profile is not None else AEGIS

    def validate(self) -> None:
        """Fail with a usage error before anything starts."""
        if not self.scenario.is_file():
            raise UsageError(
                f"scenario file {self.scenario} not found: pass --scenario PATH to a locustfile"
            )
        if self.scenario == default_scenario() and self.strategy not in strategy_names():
            raise UsageError(
                f"unknown strategy {self.strategy!r}: choose one of "
                f"{', '.join(strategy_names())}, or plug your own in with --scenario"
            )
        if self.profile is not None:
            try:
                load_profile(self.profile)
            except ProfileError as exc:
                raise UsageError(str(exc)) from None
        if self.out.exists() and any((self.out / "parts").glob("part-*.json")):
            raise UsageError(f"{self.out} already holds a run: choose another --out folder")
        most = max(4, 4 * (os.cpu_count() or 1))
        if self.processes > most:
            raise UsageError(
                f"--processes {self.processes} is far more than this machine's "
                f"{os.cpu_count()} cores can run (at most {most}): each load process needs "
                "a core's share; use about one per core"
            )
        if self.users < self.processes:
            raise UsageError(
                f"--users {self.users} cannot be spread over --processes {self.processes}: "
                "give at least one user per load process"
            )
        check_open_files(self.users, self.processes, embedded_target=self.host is None)
        restart_at = self.restart_target_at_s
        if restart_at is not None:
            if self.host is not None:
                raise UsageError(
                    "--restart-target-at restarts the embedded target: drop --host "
                    "(restart your own target yourself; the run then says so)"
                )
            if restart_at >= self.duration_s:
                raise UsageError(
                    f"--restart-target-at {restart_at:g} must fall within --duration "
                    f"({self.duration_s:g} s)"
                )


def tool_options(settings: RunSettings) -> list[str]:
    """The tool's own options on Locust's command line (a headless run's, the web UI's)."""
    options = [
        "--client-strategy", settings.strategy,
        "--think-time", settings.think_time,
        "--client-keepalive", f"{settings.keepalive_s:g}",
        "--count-connections", settings.count_with,
        "--client-timeout", f"{settings.timeout_s:g}",
        "--aegis-warmup", f"{settings.warmup_s:g}",
        "--aegis-rate", f"{settings.rate_rps or 0:g}",
        "--aegis-churn", f"{settings.churn:g}",
        "--aegis-bursts", f"{settings.bursts:g}",
        "--aegis-out", str(settings.out),
    ]  # fmt: skip
    if settings.processes > 1:
        options += ["--processes", str(settings.processes)]
    if settings.profile is not None:
        options += ["--target-profile", str(settings.profile)]
    return options


def _locust_command(settings: RunSettings, host: str) -> list[str]:
    return [
        sys.executable, "-m", "locust",
        "-f", str(settings.scenario),
        "--headless",
        "--users", str(settings.users),
        "--spawn-rate", f"{settings.spawn_rate:g}",
        "--run-time", f"{int(settings.duration_s)}s",
        "--stop-timeout", str(STOP_TIMEOUT_S),
        "--host", host,
        "--only-summary",
        "--csv", str(settings.out / "locust"),
        "--html", str(settings.out / "locust.html"),
        "--logfile", str(settings.out / "locust.log"),
        *tool_options(settings),
        "--aegis-parts-only",
        "--aegis-progress",
    ]  # fmt: skip


def _run_locust(
    settings: RunSettings,
    host: str,
    established: list[int],
    box_cpu: list[tuple[float, float]],
    restart: Callable[[float], None] | None = None,
) -> LocustOutcome:
    """Run Locust to the end, or until a stop request; see :class:`LocustOutcome`.

    Locust runs in a session of its own, so a terminal's Ctrl-C reaches only this tool,
    which then asks Locust to stop once, with SIGTERM: Locust stops its users (they sign
    out and close their clients) and writes its results, and its load processes write
    their final parts. A second signal, or Locust overrunning its grace, kills Locust's
    whole process group; the parts then hold their last checkpoints. Locust also dies
    with this process, whatever ends it.

    On loopback it also samples, about once a second, the TCP connections established
    to the target's port, as the kernel sees them (``/proc/net/tcp``, what ``ss`` reads),
    into ``established``; and the whole machine's CPU use, as (unix time, percent of
    all cores), into ``box_cpu``: the target's share counts when the box is full.

    ``restart`` is called once, ``settings.restart_target_at_s`` after Locust started,
    with that time. The load goes on meanwhile (its calls fail to connect); this loop's
    sampling and stop handling wait until the target is back (a second or two).
    """
    port = _port_of(host) if _is_loopback(host) else None
    next_sample = 0.0
    psutil.cpu_percent(interval=None)  # the first call only starts the count
    with (settings.out / "locust-stdout.txt").open("wb") as stdout:
        child = subprocess.Popen(
            _locust_command(settings, host),
            stdout=stdout,
            env={**os.environ, **dict(settings.env)},
            start_new_session=True,
            preexec_fn=preexec_die_with_parent(),
        )
        grace = stop_grace_s(settings.users)
        began = time.monotonic()
        deadline = began + settings.duration_s + STOP_TIMEOUT_S + grace
        restart_at = settings.restart_target_at_s
        asked_to_stop_at: float | None = None
        master_gone_at: float | None = None
        killed = False
        # Locust's master can end before its forked load processes have stopped their
        # users: the run is over only when the whole process group is gone.
        while child.poll() is None or (not killed and _group_alive(child.pid)):
            now = time.monotonic()
            if master_gone_at is None and child.returncode is not None:
                master_gone_at = now
            overran = [t for t in (asked_to_stop_at, master_gone_at) if t is not None]
            if not killed and (STOP.immediate or (overran and now > min(overran) + grace)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                killed = True
            elif (
                asked_to_stop_at is None
                and child.returncode is None
                and (STOP.requested or now > deadline)
            ):
                child.send_signal(signal.SIGTERM)  # Locust's graceful shutdown (its handler)
                asked_to_stop_at = now
            if (
                restart is not None
                and restart_at is not None
                and now - began >= restart_at
                and asked_to_stop_at is None
                and child.returncode is None
            ):
                restart(now - began)
                restart = None
            if now >= next_sample:
                next_sample = now + 1.0
                box_cpu.append((time.time(), psutil.cpu_percent(interval=None)))
                sockets = count_sockets(port, "ESTABLISHED") if port is not None else None
                if sockets is not None:
                    # Both ends live on this host: each connection shows twice.
                    established.append(sockets // 2)
            time.sleep(0.1)
        return LocustOutcome(child.returncode, asked_to_stop_at is not None, killed)


def _group_alive(pgid: int) -> bool:
    """True while a live (not zombie) process of the process group ``pgid`` remains."""
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                return True
        except (OSError, psutil.Error):
            continue
    return False


@dataclass(frozen=True)
class LocustOutcome:
    """How Locust ended: its exit code, whether it was asked to stop, whether it was killed."""

    exit_code: int
    stopped: bool
    killed: bool


def _wait_for_parts(folder: Path, processes: int, timeout_s: float = PARTS_TIMEOUT_S) -> None:
    """Wait (bounded) until every load process has written its final part file.

    Locust's master waits for its forked load processes before it exits, so the parts
    are normally there already; the wait covers a slow file system.
    """
    expected = processes + (1 if processes > 1 else 0)  # workers, plus the master
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        parts = load_parts(folder)
        if len(parts) >= expected and all(part.get("final") for part in parts):
            return
        time.sleep(0.2)


def _partial_reasons(
    settings: RunSettings, outcome: LocustOutcome | None, elapsed: float, parts: list[Any]
) -> list[str]:
    reasons = []
    if outcome is None:
        return [f"stopped by {STOP.name} before the load started"]
    if STOP.requested:
        reasons.append(f"stopped by {STOP.name} after {elapsed:.0f} s of {settings.duration_s:g} s")
    if outcome.stopped and not STOP.requested:
        reasons.append("Locust overran its run time and stop timeout and was asked to stop")
    if outcome.killed:
        reasons.append("Locust was killed (a second signal, or it overran its grace period)")
    if outcome.exit_code not in (0, 1) and not STOP.requested:
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

    @property
    def restart(self) -> Callable[[float], None] | None:
        return self._restart if self._restart_target is not None else None

    def _restart(self, at_s: float) -> None:
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
    settings: RunSettings, host: str, restart_target: Callable[[], None] | None = None
) -> dict[str, Any]:
    """Run against ``host`` (already up), write summary.json, and return it.

    The reference backend's counters are zeroed first, and its boot id noted (see
    ``oracle_state``). ``restart_target`` restarts the embedded target, once, at
    ``settings.restart_target_at_s``. A stop asked for before the load started starts
    none, and the summary says so.
    """
    lives = _TargetLives(host, restart_target if settings.restart_target_at_s else None)
    settings.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    established: list[int] = []
    box_cpu: list[tuple[float, float]] = []
    outcome = (
        None if STOP.requested else _run_locust(settings, host, established, box_cpu, lives.restart)
    )
    elapsed = time.monotonic() - started
    if outcome is not None and not outcome.killed:
        _wait_for_parts(settings.out / "parts", settings.processes)
    reading, state, oracle_expected = lives.finish()
    time_wait = count_sockets(_port_of(host)) if _is_loopback(host) else None
    parts = load_parts(settings.out / "parts")
    summary, recorder = build_summary(
        parts,
        strategy=settings.strategy,
        users=settings.users,
        duration_requested_s=settings.duration_s,
        partial=outcome is None or outcome.stopped or outcome.killed,
        target=host,
        server=reading.data if state == "available" else None,
        server_state=state,
        oracle_expected=oracle_expected,
        time_wait_after=time_wait,
        profile=settings.load_profile(),
        partial_reasons=_partial_reasons(settings, outcome, elapsed, parts),
        box_cpu=box_cpu,
    )
    summary["connections"]["os_established_peak"] = max(established) if established else None
    summary["profile"] = settings.profile.stem if settings.profile else "aegis"
    summary["locust_exit_code"] = outcome.exit_code if outcome is not None else None
    summary["interrupted"] = STOP.requested
    summary["stopped_by"] = STOP.name
    summary["target_restarts"] = lives.restarts
    write_run_folder(settings.out, summary, recorder)
    return summary


def _port_of(host: str) -> int:
    parts = urlsplit(host)
    return parts.port or (443 if parts.scheme == "https" else 80)


def _is_loopback(host: str) -> bool:
    name = urlsplit(host).hostname or ""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
