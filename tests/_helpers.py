"""Helpers shared by tests: a free loopback port, a real CLI run, summaries of records."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.measure import PART_SCHEMA, CallRecord, Part, Recorder
from bench.report import RunContext, build_summary

__all__ = [
    "SUMMARY_KEYS",
    "bench_run",
    "free_port",
    "key_paths",
    "part_of",
    "summarise",
    "summary_of",
]


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


def part_of(**fields: Any) -> Part:
    """A part with these fields (JSON-shaped, as a load process writes them), final."""
    return Part.from_json({"role": "local", "final": True, **fields, "schema": PART_SCHEMA})


def summarise(parts: list[Part], **context: Any) -> dict[str, Any]:
    """The summary ``build_summary`` makes of these parts (context fields overridable)."""
    context.setdefault("strategy", "pooled")
    context.setdefault("users", 1)
    context.setdefault("target", "http://127.0.0.1:1")
    summary, _ = build_summary(parts, RunContext(**context))
    return summary


def summary_of(records: list[CallRecord], target: str, **context: Any) -> dict[str, Any]:
    """The summary ``build_summary`` makes of these records (one local process)."""
    recorder = Recorder()
    for record in records:
        recorder.record(record)
    return summarise([part_of(recorder=recorder.snapshot())], target=target, **context)


# Sections keyed by data (endpoints, option names, failure kinds...), not by schema.
_DATA_KEYED = frozenset(
    {"settings", "endpoints", "failures_by_kind", "exercised", "server", "versions",
     "refresh_served", "invariants", "sign_in_failures", "limits"}
)  # fmt: skip


def key_paths(summary: dict[str, Any], prefix: str = "") -> set[str]:
    """Every key of a summary.json, as dotted paths into its fixed sections."""
    paths = set()
    for key, value in summary.items():
        path = f"{prefix}{key}"
        paths.add(path)
        if isinstance(value, dict) and key not in _DATA_KEYED:
            paths |= key_paths(value, path + ".")
    return paths


def _documented_keys() -> set[str]:
    """The keys the summary builder writes, whatever the door: of a summary of nothing."""
    return key_paths(summarise([part_of()]))


SUMMARY_KEYS = _documented_keys()
