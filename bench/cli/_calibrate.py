"""The capacity forecast's calibration: a short paced run on this machine, cached.

A calibration runs 200 users with a think time of 0.5-0.7 s (about 360 requests a
second, paced, as real sessions are) for a few seconds against a throwaway embedded
target, with the run's processes, strategy, transport and counting mode, and keeps what
each request cost the client and the target. It is cached per machine (CPU model,
cores), versions (Python and the libraries summary.json lists) and those settings, in
``$AEGIS_BENCH_CACHE`` or ``$XDG_CACHE_HOME/aegis-bench`` (``~/.cache/aegis-bench``), so
it costs its 15 s once; ``--calibrate`` measures again.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.capacity import Calibration
from bench.cli._parser import UsageError
from bench.cli._target import target_of
from bench.options import (
    COUNT_CONNECTIONS,
    DURATION,
    HOST,
    OUT,
    PROCESSES,
    PROFILE,
    RATE,
    SPAWN_RATE,
    STRATEGY,
    THINK_TIME,
    TRANSPORT,
    USERS,
    WARMUP,
    Settings,
)
from bench.report import versions, write_json_atomic
from bench.think_time import ThinkTime

__all__ = ["CACHE_ENV", "cache_file", "calibration"]

CACHE_ENV = "AEGIS_BENCH_CACHE"
SESSIONS = 200
THINK = ThinkTime(0.5, 0.7)
SECONDS = 8.0


def _cache_file() -> Path:
    folder = os.environ.get(CACHE_ENV)
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = str(Path(base) / "aegis-bench")
    return Path(folder) / "calibration.json"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _key(settings: Settings) -> str:
    """What a calibration stands for: this machine, these versions, these settings."""
    return "; ".join(
        [
            f"{_cpu_model()} x{os.cpu_count()}",
            *(f"{name} {version}" for name, version in versions().items()),
            f"processes {settings[PROCESSES]}",
            f"strategy {settings[STRATEGY]}",
            f"transport {settings[TRANSPORT]}",
            f"count {settings[COUNT_CONNECTIONS]}",
        ]
    )


def _cached(key: str) -> Calibration | None:
    try:
        data = json.loads(_cache_file().read_text(encoding="utf-8"))
        return Calibration.from_json(data[key])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _measure(settings: Settings, key: str) -> Calibration:
    """Run the calibration against a throwaway embedded target; what it measured."""
    from bench.cli._run import execute_run

    with tempfile.TemporaryDirectory(prefix="aegis-calibration-") as folder:
        out = Path(folder)
        run = settings.replace(
            {USERS: SESSIONS, SPAWN_RATE: float(SESSIONS), DURATION: SECONDS, WARMUP: 1.0,
             THINK_TIME: THINK, RATE: None, HOST: None, PROFILE: None, OUT: out / "run"}
        )  # fmt: skip
        with target_of(run, out) as target:
            summary = execute_run(run.replace({HOST: target.url}), target.env, quiet=True)
    requests = int(summary["window"]["requests"] or summary["requests"])
    server_cpu = float((summary.get("server") or {}).get("cpu_s") or 0.0)
    client = summary["client_cpu_us_per_request"]
    if not client or not summary["requests"]:
        raise UsageError(
            "the capacity calibration completed no call: see aegis-bench run's own output "
            "for why, or pass --over-capacity to go without a forecast"
        )
    return Calibration(
        client_cpu_us_per_request=float(client),
        server_cpu_us_per_request=server_cpu / summary["requests"] * 1e6,
        latency_p50_ms=float(summary["latency_ms"]["p50"] or 0.0),
        sessions=SESSIONS,
        requests=requests,
        measured_at=time.strftime("%Y-%m-%d %H:%M"),
        machine=key,
    )


def _store(key: str, measured: Calibration) -> None:
    path = _cache_file()
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data[key] = measured.as_json()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, data)
    except OSError:
        pass  # no cache (a read-only home): the next run calibrates again


def calibration(settings: Settings, *, again: bool = False) -> Calibration:
    """This machine's calibration for these settings: cached, or measured now (and kept)."""
    key = _key(settings)
    cached = None if again else _cached(key)
    if cached is not None:
        return cached
    print(
        f"aegis-bench: calibrating this machine's capacity ({SESSIONS} paced sessions for "
        f"{SECONDS:g} s; kept for later runs)",
        flush=True,
    )
    measured = _measure(settings, key)
    _store(key, measured)
    return measured


def cache_file() -> Path:
    """Where calibrations are kept (``$AEGIS_BENCH_CACHE`` wins)."""
    return _cache_file()
