"""pyperf files, the comparison, report.html and the CI gate, from one short real `ci` run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pyperf
import pytest

from bench.report import (
    CHART_TITLES,
    VALUES_PER_BENCHMARK,
    Thresholds,
    build_summary,
    evaluate,
    load_thresholds,
)

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def ci_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`aegis-bench ci` over pooled and per-call with a p99 limit no run can meet."""
    out = tmp_path_factory.mktemp("ci") / "run"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "ci", "--users", "5", "--duration", "4s",
         "--max-p99-ms", "0.001", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=170,
    )  # fmt: skip
    return result, out


def suite(path: Path) -> dict[str, pyperf.Benchmark]:
    return {bench.get_name(): bench for bench in pyperf.BenchmarkSuite.load(str(path))}


def test_broken_threshold_exits_1_and_is_named(ci_run: Any) -> None:
    """A threshold no run can meet makes ci exit 1 and name it."""
    result, _ = ci_run
    assert result.returncode == 1
    assert "THRESHOLD BROKEN: max-p99-ms[pooled]" in result.stderr


def test_junit_file_parses_and_counts_failures(ci_run: Any) -> None:
    """junit.xml is valid XML with one case per threshold and the broken ones failed."""
    _, out = ci_run
    root = ET.parse(out / "junit.xml").getroot()
    cases = root.findall("testcase")
    failed = [case.get("name") for case in cases if case.find("failure") is not None]
    assert root.get("failures") == str(len(failed))
    assert "max-leaks" in [case.get("name") for case in cases]
    assert set(failed) == {"max-p99-ms[pooled]", "max-p99-ms[per-call]"}
    assert "FAILED" in (out / "ci.md").read_text()


def test_pyperf_files_load_with_equal_value_counts(ci_run: Any) -> None:
    """Each strategy's pyperf file loads, and every benchmark holds the same number of values."""
    _, out = ci_run
    pooled = suite(out / "pooled" / "pyperf-pooled.json")
    per_call = suite(out / "per-call" / "pyperf-per-call.json")
    assert "all-requests" in pooled
    assert pooled["all-requests"].get_unit() == "second"
    assert pooled["all-requests"].get_metadata()["aegis_strategy"] == "pooled"
    counts = {len(b.get_values()) for b in [*pooled.values(), *per_call.values()]}
    assert counts == {VALUES_PER_BENCHMARK}


def test_pyperf_compare_to_reads_both_runs(ci_run: Any) -> None:
    """python -m pyperf compare_to runs cleanly on the two strategies' files."""
    _, out = ci_run
    result = subprocess.run(
        [sys.executable, "-m", "pyperf", "compare_to",
         str(out / "pooled" / "pyperf-pooled.json"),
         str(out / "per-call" / "pyperf-per-call.json"), "--table"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "all-requests" in result.stdout


def test_compare_md_holds_the_verdict_and_isolation(ci_run: Any) -> None:
    """compare.md shows the throughput ratio, connections per request and isolation results."""
    _, out = ci_run
    text = (out / "compare.md").read_text()
    assert "## Isolation" in text
    assert re.search(r"\| per-call \| [\d,]+ \| 0\.\d+ \| 1\.0 \|", text)
    combined = json.loads((out / "summary.json").read_text())
    assert combined["kind"] == "compare"
    assert set(combined["runs"]) == {"pooled", "per-call"}
    assert combined["throughput_ratio"]["pooled"] == 1.0


def test_report_html_is_one_offline_file_with_the_charts(ci_run: Any) -> None:
    """report.html embeds plotly, loads no script from the network, and holds the charts."""
    _, out = ci_run
    page = (out / "report.html").read_text()
    assert not re.search(r"<script[^>]+src=", page)
    assert "Plotly" in page
    for title in CHART_TITLES:
        assert title in page


def test_thresholds_file_rejects_unknown_keys(tmp_path: Path) -> None:
    """A thresholds file with a misspelt key is refused, naming it."""
    path = tmp_path / "t.toml"
    path.write_text("max_p99 = 5\n")
    with pytest.raises(ValueError, match="max_p99"):
        load_thresholds(path)


def test_leaks_of_the_shared_control_do_not_break_the_gate() -> None:
    """The deliberately leaking shared strategy never counts against max-leaks."""
    leaky = {"client_side_leaks": 9, "server_side_leaks": 9, "shared_connections": 1,
             "replay_accepted": 0, "checked": 50, "verdict": "leak", "reason": "leaks"}  # fmt: skip
    clean = {**dict.fromkeys(leaky, 0), "checked": 50, "verdict": "isolated", "reason": ""}
    runs = {
        "pooled": {"isolation": clean, "error_rate": 0.0},
        "shared": {"isolation": leaky, "error_rate": 0.0},
    }
    leaks, *_ = evaluate(Thresholds(), runs)
    assert leaks.passed
    runs["pooled"]["isolation"] = leaky
    leaks, *_ = evaluate(Thresholds(), runs)
    assert not leaks.passed


def test_a_run_that_checked_nothing_fails_the_gate() -> None:
    """A run whose isolation was not checked breaks the gate: no evidence is never a pass."""
    unchecked = {"client_side_leaks": 0, "checked": 0, "verdict": "not checked",
                 "reason": "0 identity checks: no call completed"}  # fmt: skip
    checks = evaluate(Thresholds(), {"pooled": {"isolation": unchecked, "error_rate": 0.0}})
    broken = [check for check in checks if not check.passed]
    assert [check.name for check in broken] == ["isolation-checked[pooled]"]
    assert "not checked" in broken[0].message


def test_more_users_than_requested_is_noted() -> None:
    """A run where Locust ran more users than asked for says so in summary notes."""
    part = {"role": "worker", "users_peak": 19_250, "recorder": {}}
    summary, _ = build_summary(
        [part], strategy="pooled", users=15_000, duration_requested_s=150.0, partial=False,
        target="http://127.0.0.1:1", server=None,
    )  # fmt: skip
    [note] = summary["notes"]
    assert "19,250 users for 15,000 requested" in note
