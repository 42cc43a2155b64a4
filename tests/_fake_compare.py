"""A fake three-strategy comparison (N = 3, both phases) with every report written.

Run folders hold a summary.json from the real ``build_summary`` over recorded calls and a
latency.json; no run, network or subprocess. One strategy is named with markup and
leaks in one run. Shared by the report tests and the browser tests that look at it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.measure import CallRecord, Recorder
from bench.outcome import judge_run
from bench.report import (
    AT_RATE,
    CAPACITY,
    PhaseRun,
    write_compare,
    write_comparison_report,
    write_run_report,
)
from tests._helpers import part_of, summarise

__all__ = ["EXAMPLE", "HOSTILE", "RATE", "STRATEGIES", "Reports", "fake_comparison"]

RATE = 150.0
HOSTILE = "x<script>y"  # a strategy name a scenario could register: markup, escaped
STRATEGIES = ("pooled", "per-call", HOSTILE)
SLOWER = {"pooled": 1, "per-call": 4, HOSTILE: 2}  # each strategy's latency factor
EXAMPLE = {"kind": "leak", "endpoint": "/api/<script>alert(1)</script>", "user": "u1",
           "got": "u2"}  # fmt: skip


def make_run(folder: Path, strategy: str, phase: str, repetition: int) -> None:
    """A run folder: 200 calls whose latency grows with the strategy's factor and the
    repetition, the throughput shrinking with it."""
    rate = RATE if phase == AT_RATE else None
    recorder = Recorder()
    spread = SLOWER[strategy] * (1 + 0.1 * repetition)  # so repetitions differ
    for i in range(200):
        recorder.record(
            CallRecord("GET", "/api/v1/auth/me", latency_s=spread * (1 + i % 20) / 1000,
                       ok=True, http_requests=1, identity_checks=1,
                       new_connections=1 if strategy == "per-call" or i == 0 else 0,
                       start_delay_s=(i % 7) / 1000 if rate else None)
        )  # fmt: skip
    recorded = recorder.drain()
    part = part_of(recorder=recorded, started_at=100.0, stopped_at=102.0, cpu_s=0.25,
                   users_peak=5, rate_rps=rate)  # fmt: skip
    summary = summarise([part], strategy=strategy, users=5, duration_requested_s=2.0,
                        target="http://localhost")  # fmt: skip
    summary["throughput_rps"] = 1000.0 / spread
    summary["server"] = {"cpu_s": 0.05 * spread}
    if (strategy, phase, repetition) == (HOSTILE, AT_RATE, 2):
        summary["isolation"].update(verdict="leak", client_side_leaks=3, failed=True,
                                    reason="3 client-side leaks", examples=[EXAMPLE])  # fmt: skip
    if (strategy, phase) == ("per-call", AT_RATE):
        summary["generator"]["saturated"] = True
    summary["outcome"] = judge_run(summary).as_json()  # over the changed figures
    folder.mkdir(parents=True)
    (folder / "latency.json").write_text(json.dumps(recorded))
    (folder / "summary.json").write_text(json.dumps(summary))


@dataclass
class Reports:
    out: Path
    combined: dict[str, Any]
    page: str  # the comparison's report.html
    run_page: str  # the leaking run's


def fake_comparison(out: Path) -> Reports:
    """A three-strategy comparison, N = 3, in ``out``, and the report of every run folder."""
    runs = []
    for repetition in (1, 2, 3):
        for phase in (CAPACITY, AT_RATE):
            for strategy in STRATEGIES:
                folder = out / strategy / f"{phase}-{repetition}"
                make_run(folder, strategy, phase, repetition)
                write_run_report(folder)
                runs.append(PhaseRun(strategy, phase, repetition, folder))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("bench.report._compare._pyperf_table", lambda paths, name: "")
        combined, _ = write_compare(out, runs, list(STRATEGIES), repetitions=3,
                                    offered_rate_rps=RATE, offered_rate_from="--rate")  # fmt: skip
    page = write_comparison_report(out, combined).read_text()
    run_page = (out / HOSTILE / f"{AT_RATE}-2" / "report.html").read_text()
    return Reports(out, combined, page, run_page)
