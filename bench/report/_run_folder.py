"""Reading a run folder's files back (later reports, comparisons, pyperf files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.measure import Recorder

__all__ = ["load_run", "load_summary"]


def load_summary(folder: Path) -> dict[str, Any]:
    """A run folder's summary.json."""
    data: dict[str, Any] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return data


def load_run(folder: Path) -> tuple[dict[str, Any], Recorder]:
    """A run folder's summary and its latency recorder (empty without latency.json)."""
    recorder = Recorder()
    latency = folder / "latency.json"
    if latency.is_file():
        recorder.merge(json.loads(latency.read_text(encoding="utf-8")))
    return load_summary(folder), recorder
