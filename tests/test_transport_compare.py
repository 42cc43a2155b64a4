"""`aegis-bench compare --transports httpcore,aiohttp`: the HTTP stack as a compared
dimension, in short real Locust runs against the embedded reference backend."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.timeout(240), pytest.mark.e2e]

Compared = tuple[subprocess.CompletedProcess[str], dict[str, Any], Path]


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Compared:
    """One comparison of pooled on httpcore and on aiohttp, N = 1, shared by the tests."""
    out = tmp_path_factory.mktemp("transports") / "compare"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "compare", "--transports", "httpcore,aiohttp",
         "--repeat", "1", "--users", "10", "--duration", "3s", "--warmup", "0.5",
         "--out", str(out)],
        capture_output=True, text=True, timeout=230,
    )  # fmt: skip
    combined = json.loads((out / "summary.json").read_text())
    return result, combined, out


def test_comparing_transports_passes_with_each_isolated(compared: Compared) -> None:
    """Both stacks' runs pass, each with its own isolation verdict from real checks."""
    result, combined, _ = compared
    assert result.returncode == 0, result.stdout + result.stderr
    variants = combined["comparison"]["strategies"]
    assert list(variants) == ["httpcore", "aiohttp"]
    for figures in variants.values():
        assert figures["isolation"]["verdict"] == "isolated"
        assert figures["isolation"]["checked"] > 0


def test_each_run_says_which_stack_carried_it(compared: Compared) -> None:
    """A run's summary names its transport; the pooled strategy ran on both."""
    _, combined, out = compared
    for name in ("httpcore", "aiohttp"):
        summary = json.loads((out / name / "capacity-1" / "summary.json").read_text())
        assert (summary["transport"], summary["strategy"]) == (name, "pooled")
        figures = combined["comparison"]["strategies"][name]
        assert (figures["transport"], figures["strategy"]) == (name, "pooled")


def test_both_sides_count_the_same_connections_on_either_stack(compared: Compared) -> None:
    """The clients' count of connections opened is the server's, on httpcore and aiohttp."""
    _, _, out = compared
    for name in ("httpcore", "aiohttp"):
        summary = json.loads((out / name / "at-rate-1" / "summary.json").read_text())
        connections = summary["connections"]
        assert connections["client_opened"] > 0
        assert connections["client_opened"] == connections["server_accepted"], connections


def test_the_report_states_each_stacks_cost_and_the_sessions_it_carries(
    compared: Compared,
) -> None:
    """Client CPU per request and sessions the box would carry, per transport."""
    _, combined, out = compared
    for figures in combined["comparison"]["strategies"].values():
        assert figures["client_cpu_us_per_request"]["value"] > 0
        assert figures["sessions_carried"]["value"] > 0
    compare_md = (out / "compare.md").read_text()
    assert "sessions at 10 s think" in compare_md
    assert "so this box would carry" in compare_md
