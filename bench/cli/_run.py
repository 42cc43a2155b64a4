"""``aegis-bench run``: one headless Locust run, its summary.json and a result table.

The CLI never imports Locust (importing it monkey-patches the process): it starts the
embedded target and ``python -m locust`` as child processes, waits, then merges the part
files the load processes wrote into ``summary.json``.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.cli._args import UsageError, check_open_files
from bench.measure import count_sockets
from bench.profile import ProfileError, load_profile
from bench.report import build_summary, load_parts, write_json_atomic
from bench.strategies import strategy_names

__all__ = ["RunSettings", "default_scenario", "execute_run"]

# Grace given to users to finish their task and sign out after the run time.
STOP_TIMEOUT_S = 10
# Beyond run time + stop timeout, Locust gets this long before it is stopped by force.
EXTRA_WAIT_S = 60


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

    @classmethod
    def from_args(
        cls,
        args: argparse.Namespace,
        *,
        strategy: str,
        out: Path,
        env: tuple[tuple[str, str], ...] = (),
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
        )

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
        check_open_files(self.users, self.processes, embedded_target=self.host is None)


def _locust_command(settings: RunSettings, host: str) -> list[str]:
    command = [
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
        "--client-strategy", settings.strategy,
        "--think-time", settings.think_time,
        "--client-keepalive", f"{settings.keepalive_s:g}",
        "--count-connections", settings.count_with,
        "--aegis-out", str(settings.out / "parts"),
        "--aegis-progress",
    ]  # fmt: skip
    if settings.processes > 1:
        command += ["--processes", str(settings.processes)]
    if settings.profile is not None:
        command += ["--target-profile", str(settings.profile)]
    return command


def _fetch_server_stats(host: str, path: str, method: str = "GET") -> dict[str, Any] | None:
    """The reference backend's instruments, or None when the host has none."""
    try:
        with httpx.Client(base_url=host, timeout=10.0, trust_env=False, verify=False) as client:
            response = client.request(method, path)
    except httpx.HTTPError:
        return None
    if not response.is_success:
        return None
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _run_locust(settings: RunSettings, host: str, established: list[int]) -> tuple[int, bool]:
    """Run Locust to the end; returns (exit code, interrupted).

    On loopback it also samples, about once a second, the TCP connections established
    to the target's port, as the kernel sees them (``/proc/net/tcp``, what ``ss`` reads),
    into ``established``.
    """
    port = _port_of(host) if _is_loopback(host) else None
    next_sample = 0.0
    settings.out.mkdir(parents=True, exist_ok=True)
    with (settings.out / "locust-stdout.txt").open("wb") as stdout:
        child = subprocess.Popen(
            _locust_command(settings, host), stdout=stdout, env={**os.environ, **dict(settings.env)}
        )
        deadline = time.monotonic() + settings.duration_s + STOP_TIMEOUT_S + EXTRA_WAIT_S
        interrupted = False
        try:
            while child.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
                if port is not None and time.monotonic() >= next_sample:
                    next_sample = time.monotonic() + 1.0
                    sockets = count_sockets(port, "ESTABLISHED")
                    if sockets is not None:
                        # Both ends live on this host: each connection shows twice.
                        established.append(sockets // 2)
        except KeyboardInterrupt:
            interrupted = True
            sys.stderr.write("aegis-bench: interrupted, stopping Locust and keeping what it has\n")
        if child.poll() is None:
            interrupted = True
            child.send_signal(signal.SIGTERM)  # Locust writes its results on SIGTERM
            try:
                child.wait(timeout=STOP_TIMEOUT_S + 20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        return child.returncode, interrupted


def _wait_for_parts(folder: Path, processes: int, timeout_s: float = 60.0) -> None:
    """Wait (bounded) until every load process has written its part file.

    With ``--processes`` the workers are forked children that may still be signing their
    users out and writing after the master has exited.
    """
    expected = processes + (1 if processes > 1 else 0)  # workers, plus the master
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(list(folder.glob("part-*.json"))) < expected:
        time.sleep(0.2)


def execute_run(settings: RunSettings, host: str) -> dict[str, Any]:
    """Run against ``host`` (already up), write summary.json, and return it."""
    _fetch_server_stats(host, "/_bench/reset", method="POST")
    started = time.monotonic()
    established: list[int] = []
    exit_code, interrupted = _run_locust(settings, host, established)
    elapsed = time.monotonic() - started
    _wait_for_parts(settings.out / "parts", settings.processes)
    server = _fetch_server_stats(host, "/_bench/stats")
    time_wait = count_sockets(_port_of(host)) if _is_loopback(host) else None
    parts = load_parts(settings.out / "parts")
    partial = interrupted or not parts or exit_code not in (0, 1) or elapsed < settings.duration_s
    summary, recorder = build_summary(
        parts,
        strategy=settings.strategy,
        users=settings.users,
        duration_requested_s=settings.duration_s,
        partial=partial,
        target=host,
        server=server,
        time_wait_after=time_wait,
    )
    summary["connections"]["os_established_peak"] = max(established) if established else None
    summary["profile"] = settings.profile.stem if settings.profile else "aegis"
    summary["locust_exit_code"] = exit_code
    summary["interrupted"] = interrupted
    write_json_atomic(settings.out / "latency.json", recorder.drain())
    write_json_atomic(settings.out / "summary.json", summary)
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
