"""Helpers shared by tests: a free loopback port, a real CLI run, a summary of records."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.measure import CallRecord, Recorder
from bench.report import build_summary

__all__ = ["bench_run", "free_port", "summary_of"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bench_run(out: Path, *options: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """A real ``aegis-bench run`` against the embedded target; its result and summary."""
    result = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--out", str(out), *options],
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return result, summary


def summary_of(records: list[CallRecord], target: str, **options: Any) -> dict[str, Any]:
    """The summary ``build_summary`` makes of these records (one local process)."""
    recorder = Recorder()
    for record in records:
        recorder.record(record)
    options.setdefault("server", None)
    summary, _ = build_summary(
        [{"role": "local", "recorder": recorder.snapshot()}], strategy="pooled", users=1,
        duration_requested_s=None, partial=False, target=target, **options,
    )  # fmt: skip
    return summary
