"""pyperf files, the comparison, report.html and the CI gate, from one short real `ci` run.

The run: two repetitions of pooled and per-call, each a capacity and a latency run.
"""

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

from bench.options import Limits, load_limits
from bench.outcome import ReasonKind, evaluate, judge_comparison
from bench.report import CHART_TITLES, VALUES_PER_BENCHMARK
from bench.report._lifecycle import invariant_cell
from tests._helpers import part_of, summarise

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def ci_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`aegis-bench ci` over pooled and per-call with a p99 limit no run can meet."""
    out = tmp_path_factory.mktemp("ci") / "run"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "ci", "--users", "5", "--spawn-rate", "5",
         "--duration", "2s", "--warmup", "0.5", "--repeat", "2", "--max-p99-ms", "0.001",
         "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=230,
    )  # fmt: skip
    return result, out


def suite(path: Path) -> dict[str, pyperf.Benchmark]:
    return {bench.get_name(): bench for bench in pyperf.BenchmarkSuite.load(str(path))}


@pytest.mark.e2e
def test_broken_threshold_exits_1_and_is_named(ci_run: Any) -> None:
    """A threshold no run can meet makes ci exit 1 and name it."""
    result, _ = ci_run
    assert result.returncode == 1
    assert "THRESHOLD BROKEN (max-p99-ms[pooled])" in result.stderr


@pytest.mark.e2e
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


@pytest.mark.e2e
def test_each_run_folder_has_a_pyperf_file_of_quantiles(ci_run: Any) -> None:
    """Every run folder's pyperf file holds its distribution as the same number of quantiles."""
    _, out = ci_run
    pooled = suite(out / "pooled" / "capacity-1" / "pyperf-pooled.json")
    per_call = suite(out / "per-call" / "at-rate-2" / "pyperf-per-call.json")
    assert pooled["all-requests"].get_unit() == "second"
    assert pooled["all-requests"].get_metadata()["aegis_strategy"] == "pooled"
    counts = {len(b.get_values()) for b in [*pooled.values(), *per_call.values()]}
    assert counts == {VALUES_PER_BENCHMARK}


@pytest.mark.e2e
def test_comparison_pyperf_file_holds_one_run_per_repetition(ci_run: Any) -> None:
    """The top-level pyperf file has one pyperf run per repetition, one value each."""
    _, out = ci_run
    pooled = suite(out / "pyperf-pooled.json")
    for name in ("all-requests", "capacity-time-per-request"):
        benchmark = pooled[name]
        assert benchmark.get_nrun() == 2
        assert [len(run.values) for run in benchmark.get_runs()] == [1, 1]
    assert "intended start" in pooled["all-requests"].get_metadata()["aegis_value"]


@pytest.mark.e2e
def test_pyperf_compare_to_reads_both_strategies(ci_run: Any) -> None:
    """python -m pyperf compare_to runs cleanly on the two strategies' top-level files."""
    _, out = ci_run
    result = subprocess.run(
        [sys.executable, "-m", "pyperf", "compare_to", str(out / "pyperf-pooled.json"),
         str(out / "pyperf-per-call.json"), "--table"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "all-requests" in result.stdout


@pytest.mark.e2e
def test_compare_md_opens_with_the_headline(ci_run: Any) -> None:
    """compare.md's first paragraph is the headline sentence, with N and the offered rate."""
    _, out = ci_run
    first = (out / "compare.md").read_text().split("\n\n")[1]
    assert re.match(r"`pooled` sustains [\d.]+x `per-call`'s throughput \(95% rerun interval "
                    r"[\d.]+-[\d.]+, N = 2\); at [\d,]+ req/s offered, p50 ", first)  # fmt: skip
    assert "## Isolation" in (out / "compare.md").read_text()


@pytest.mark.e2e
def test_combined_summary_holds_the_repetitions(ci_run: Any) -> None:
    """summary.json has comparison.repetitions, the throughput ratio's interval and every run."""
    _, out = ci_run
    combined = json.loads((out / "summary.json").read_text())
    comparison = combined["comparison"]
    assert combined["kind"] == "compare"
    assert comparison["repetitions"] == 2
    ratio = comparison["throughput_ratio"]
    assert ratio["ci_low"] <= ratio["value"] <= ratio["ci_high"]
    assert comparison["offered_rate_rps"] > 0
    phases = sorted((r["strategy"], r["phase"], r["repetition"]) for r in combined["runs"])
    assert phases == sorted(
        (s, p, i) for s in ("pooled", "per-call") for p in ("capacity", "at-rate") for i in (1, 2)
    )


@pytest.mark.e2e
def test_every_run_folder_has_its_report(ci_run: Any) -> None:
    """Each run folder of the comparison holds its own report.html."""
    _, out = ci_run
    folders = [p.parent for p in out.glob("*/*/summary.json")]
    assert len(folders) == 8
    assert all((folder / "report.html").is_file() for folder in folders)


@pytest.mark.e2e
def test_report_html_is_one_offline_file_with_the_charts(ci_run: Any) -> None:
    """report.html is one small file with no script, its charts drawn as inline SVG."""
    _, out = ci_run
    page = (out / "report.html").read_text()
    assert "<script" not in page
    assert len(page.encode()) < 1_500_000
    assert "<svg " in page
    for title in CHART_TITLES:
        assert title in page


@pytest.mark.e2e
def test_compare_md_and_report_html_show_the_session_lifecycle(ci_run: Any) -> None:
    """Both reports list the lifecycle's invariants: held with its checks, or not checked."""
    _, out = ci_run
    compare_md = (out / "compare.md").read_text()
    assert "## Session lifecycle" in compare_md
    assert re.search(r"\| `new_client_empty_jar` \| held \([\d,]+ checks\) \| held", compare_md)
    assert "| `single_flight_refresh` | not checked | not checked |" in compare_md
    page = (out / "report.html").read_text()
    assert "<h2>Session lifecycle</h2>" in page
    assert "bounded_requests_per_task" in page


@pytest.mark.parametrize(
    ("counts", "shown"),
    [
        ({"checked": 1200, "broken": 0}, "held (1,200 checks)"),
        ({"checked": 30, "broken": 4}, "BROKEN 4 of 30"),
        ({"checked": 0, "broken": 0}, "not checked"),
        (None, "not checked"),
    ],
)
def test_an_invariant_reads_held_broken_or_not_checked(
    counts: dict[str, int] | None, shown: str
) -> None:
    """An invariant with no checks is never shown as held."""
    assert invariant_cell(counts) == shown


def test_thresholds_file_rejects_unknown_keys(tmp_path: Path) -> None:
    """A thresholds file with a misspelt key is refused, naming it."""
    path = tmp_path / "t.toml"
    path.write_text("max_p99 = 5\n")
    with pytest.raises(ValueError, match="max_p99"):
        load_limits(path)


def strategy_figures(**isolation: Any) -> dict[str, Any]:
    """A strategy's figures in a comparison, with ``isolation`` overriding a clean verdict."""
    none = {"value": None, "ci_low": None, "ci_high": None, "n": 0, "values": []}
    clean = {"verdict": "isolated", "reason": "", "checked": 50, "leaks": 0}
    return {
        "isolation": {**clean, **isolation},
        "error_rate": 0.0,
        "failures": 0,
        "requests": 1000,
        "latency_at_rate_ms": {"p50": none, "p99": none},
        "connections_per_request": none,
        "capacity_rps": none,
    }


def comparison(**strategies: dict[str, Any]) -> dict[str, Any]:
    return {"repetitions": 3, "strategies": strategies}


def test_leaks_of_every_strategy_break_the_gate_negative_controls_included() -> None:
    """Leaks fail the gate whichever strategy leaked: the shared control is no exception."""
    leaky = {"leaks": 19, "verdict": "leak", "reason": "leaks"}
    leaks, *_ = evaluate(
        Limits(), comparison(pooled=strategy_figures(), shared=strategy_figures(**leaky))
    )
    assert not leaks.passed
    leaks, *_ = evaluate(Limits(max_leaks=19), comparison(shared=strategy_figures(**leaky)))
    assert leaks.passed


def test_the_connections_threshold_holds_every_variant_that_pools() -> None:
    """--max-conns-per-request judges pooled on each transport compared, not per-call."""
    pools = {"value": 0.5, "ci_low": 0.4, "ci_high": 0.6, "n": 3, "values": [0.5] * 3}
    figures = {
        name: {**strategy_figures(), "strategy": strategy, "connections_per_request": pools}
        for name, strategy in (("httpcore", "pooled"), ("aiohttp", "pooled"),
                               ("per-call+aiohttp", "per-call"))
    }  # fmt: skip
    checks = evaluate(Limits(max_conns_per_request=0.1), comparison(**figures))
    judged = {c.name: c.passed for c in checks if c.name.startswith("max-conns")}
    assert judged == {"max-conns-per-request[httpcore]": False,
                      "max-conns-per-request[aiohttp]": False}  # fmt: skip


def test_a_run_that_checked_nothing_fails_the_comparison() -> None:
    """A run whose isolation was not checked fails the comparison: no evidence is no pass."""
    unchecked = summarise([part_of()])  # no call at all
    outcome = judge_comparison([("pooled capacity 1", unchecked)], [])
    assert [r.kind for r in outcome.reasons] == [ReasonKind.NOT_CHECKED]
    assert outcome.reasons[0].subject == "pooled capacity 1"
    assert outcome.exit_code == 1


def test_more_users_than_requested_is_noted() -> None:
    """A run where Locust ran more users than asked for says so in summary notes."""
    summary = summarise([part_of(role="worker", users_peak=19_250)], users=15_000)
    [note] = summary["notes"]
    assert "19,250 users for 15,000 requested" in note


def memory_part(*, window_peak: int | None) -> Any:
    """A load process's part: 100 users, RSS 100 MiB at start, 300 MiB at the stop's burst."""
    mib = 1024 * 1024
    window: dict[str, Any] = {"opened_at": 10.0, "closed_at": 20.0, "users_at_open": 100}
    if window_peak is None:
        window = {}
    else:
        window["rss_peak"] = window_peak * mib
    return part_of(role="worker", users_peak=100, rss_at_start=100 * mib, rss_peak=300 * mib,
                   window=window)  # fmt: skip


def test_rss_per_session_comes_from_the_window_and_the_whole_run_is_kept() -> None:
    """RSS per session is the window's peak growth; the stop's burst stays in _whole_run."""
    summary = summarise([memory_part(window_peak=150), memory_part(window_peak=200)], users=200)
    assert summary["client_rss_kib_per_session"] == 768.0  # (50 + 100) MiB / 200 users
    assert summary["client_rss_kib_per_session_whole_run"] == 2048.0  # 400 MiB / 200


def test_rss_per_session_without_a_window_is_the_whole_run() -> None:
    """A run without a steady-state window reports its whole run's RSS growth."""
    summary = summarise([memory_part(window_peak=None)], users=100)
    assert summary["client_rss_kib_per_session"] == 2048.0
