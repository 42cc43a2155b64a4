"""Writing a finished run's folder: the same files for a CLI run, a web-UI test and a master."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.measure import Recorder
from bench.report._atomic import write_json_atomic
from bench.report._html import write_run_report
from bench.report._pyperf import write_pyperf_file

__all__ = ["write_run_folder"]


def write_run_folder(folder: Path, summary: dict[str, Any], recorder: Recorder) -> None:
    """Write latency.json, summary.json, the run's pyperf file and report.html, each
    atomically (report.html last: it reads the others back)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / "latency.json", recorder.drain())
    write_json_atomic(folder / "summary.json", summary)
    write_pyperf_file(folder)
    write_run_report(folder)
