"""A run folder's files: written once a run ends, and read back by later reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.measure import Recorder
from bench.report._atomic import write_json_atomic

__all__ = ["load_run", "load_summary", "write_run_folder"]


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


def write_run_folder(folder: Path, summary: dict[str, Any], recorder: Recorder) -> None:
    """Write a finished run's files: latency.json, summary.json, its pyperf file and
    report.html, each atomically (the same for a CLI run, a web-UI test and a master)."""
    from bench.report._html import write_report_html  # plotly: imported when needed
    from bench.report._pyperf import write_pyperf_file

    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / "latency.json", recorder.drain())
    write_json_atomic(folder / "summary.json", summary)
    write_pyperf_file(folder)
    write_report_html(folder, [folder])
