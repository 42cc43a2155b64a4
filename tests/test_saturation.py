"""The saturation thresholds, justified on this machine by two real runs.

A closed loop with 200 users and no think time drives the load generator as hard as it
goes: it must be flagged. The open model at half the capacity that run measured leaves
the generator room: it must not be.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.timeout(150), pytest.mark.e2e]


def run(out: Path, *options: str) -> dict[str, Any]:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "run",
            "--duration",
            "6s",
            "--warmup",
            "1",
            "--out",
            str(out),
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=70,
        check=True,
    )
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


@pytest.fixture(scope="module")
def closed_loop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A closed-loop run of 200 users without think time."""
    return run(tmp_path_factory.mktemp("closed") / "run", "--users", "200")


def test_a_closed_loop_at_full_speed_is_flagged(closed_loop: dict[str, Any]) -> None:
    """200 users without think time saturate the generator, and its latencies say so."""
    assert closed_loop["window"]["opened"]
    assert closed_loop["generator"]["saturated"], closed_loop["generator"]
    assert closed_loop["latency_bound_by_generator"]


def test_the_open_model_at_half_capacity_is_not_flagged(
    closed_loop: dict[str, Any], tmp_path: Path
) -> None:
    """50 users offering half the measured capacity leave the generator unsaturated."""
    rate = round(closed_loop["throughput_rps"] / 2)
    # The forecast's capacity comes from paced sessions, which cost more CPU a request
    # than this few-session open model does: it errs low here, and would refuse the run.
    summary = run(tmp_path / "run", "--users", "50", "--rate", str(rate), "--over-capacity")
    assert not summary["generator"]["saturated"], summary["generator"]
    assert summary["open_model"]["rate_rps"] == rate
    assert summary["throughput_rps"] == pytest.approx(rate, rel=0.1)
