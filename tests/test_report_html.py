"""report.html, a comparison's and a run's: the answer first, small, offline, escaped.

Built from fake run folders (summary.json from the real ``build_summary`` over recorded
calls, plus latency.json), with no run, network or subprocess: three strategies, three
repetitions of each phase, one of them named with markup and leaking.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from bench import numbers as fmt
from bench.report import (
    CAPACITY,
    CHART_TITLES,
    write_run_report,
)
from bench.report._page import prose
from tests._fake_compare import HOSTILE, STRATEGIES, Reports, fake_comparison


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Reports:
    """A three-strategy comparison, N = 3, and the report of every run folder."""
    return fake_comparison(tmp_path_factory.mktemp("compare"))


def strategy_colours(page: str) -> dict[str, set[str]]:
    """Every colour each strategy's marks and swatches are drawn in."""
    found = defaultdict(set)
    for tag in re.findall(r"<[^>]*data-strategy=[^>]*>", page):
        name = re.search(r'data-strategy="([^"]*)"', tag).group(1)  # type: ignore[union-attr]
        found[name] |= set(re.findall(r'(?:stroke="|fill="|background:)(#[0-9A-Fa-f]{6})', tag))
    return found


def test_compare_report_prints_both_phases_figures_with_their_intervals(reports: Reports) -> None:
    """Every capacity and at-rate figure of every strategy reads as value [low, high]."""
    comparison = reports.combined["comparison"]
    for name, f in comparison["strategies"].items():
        for figure, show in [(f["capacity_rps"], fmt.rate), (f["connections_per_request"],
                             fmt.per_request), (f["client_cpu_us_per_request"], fmt.us),
                             (f["server_cpu_us_per_request"], fmt.us),
                             (f["achieved_rate_rps"], fmt.rate),
                             (f["latency_at_rate_ms"]["p50"], fmt.ms),
                             (f["latency_at_rate_ms"]["p99"], fmt.ms),
                             (f["service_time_at_rate_ms"]["p99"], fmt.ms)]:  # fmt: skip
            assert figure["ci_low"] is not None, name
            assert f">{fmt.interval(figure, show)} " in reports.page


def test_compare_report_prints_the_throughput_ratios_with_their_intervals(
    reports: Reports,
) -> None:
    """Each throughput ratio against the first strategy reads as value [low, high]x, N = 3."""
    for ratio in reports.combined["comparison"]["throughput_ratios"].values():
        assert f">{fmt.interval(ratio, fmt.ratio)}x · N = 3<" in reports.page


def test_compare_report_marks_generator_bound_latencies(reports: Reports) -> None:
    """A strategy whose at-rate runs saturated the generator has its latencies marked."""
    p99 = reports.combined["comparison"]["strategies"]["per-call"]["latency_at_rate_ms"]["p99"]
    assert f">{fmt.interval(p99, fmt.ms)} ms{fmt.GENERATOR_BOUND} · N = 3<" in reports.page


def test_compare_report_leads_with_the_verdict_then_the_headline(reports: Reports) -> None:
    """Isolation verdicts and the outcome come before the headline, the figures after it."""
    page = reports.page
    order = [page.index(">LEAK ("), page.index("exit code 1"), page.index("<h2>Headline</h2>"),
             page.index("<h2>Compared figures</h2>"), page.index(CHART_TITLES[0]),
             page.index("<h2>Every run</h2>")]  # fmt: skip
    assert order == sorted(order)


def test_headline_shows_names_as_code_without_backticks(reports: Reports) -> None:
    """The headline's backticked names become <code>; no backtick reaches the page."""
    assert "`" not in reports.page
    assert "<code>pooled</code> sustains" in reports.page


def test_an_unpaired_backtick_is_dropped() -> None:
    """A sentence with an odd number of backticks loses the unpaired one."""
    assert prose("`a` b `c") == "<code>a</code> b c"


def test_compare_report_is_under_1_5_mb(reports: Reports) -> None:
    """The comparison's report.html stays under 1.5 MB."""
    assert (reports.out / "report.html").stat().st_size < 1_500_000


def test_run_report_is_smaller_than_the_compare_report(reports: Reports) -> None:
    """Each run's report.html is smaller than the comparison's."""
    top = (reports.out / "report.html").stat().st_size
    assert max(p.stat().st_size for p in reports.out.glob("*/*/report.html")) < top


def test_each_strategy_keeps_one_colour_in_every_chart(reports: Reports) -> None:
    """Each strategy's marks are drawn in one colour, a different one for each strategy."""
    colours = strategy_colours(reports.page)
    assert set(colours) == {*map(str, STRATEGIES)} - {HOSTILE} | {"x&lt;script&gt;y"}
    assert all(len(found) == 1 for found in colours.values()), colours
    assert len({next(iter(found)) for found in colours.values()}) == len(STRATEGIES)


def test_a_run_report_draws_its_strategy_in_the_comparisons_colour(reports: Reports) -> None:
    """A run's report draws its strategy in the colour the comparison gives it."""
    run_page = (reports.out / "per-call" / f"{CAPACITY}-1" / "report.html").read_text()
    assert strategy_colours(run_page)["per-call"] == strategy_colours(reports.page)["per-call"]


def test_every_chart_scales_to_the_page(reports: Reports) -> None:
    """Every chart is an SVG with a viewBox at 100% width, so none scrolls sideways."""
    for page in (reports.page, reports.run_page):
        charts = re.findall(r"<svg[^>]*>", page)
        assert charts
        assert all('viewBox="' in tag and 'width="100%"' in tag for tag in charts)


def test_data_from_the_runs_is_escaped(reports: Reports) -> None:
    """Markup in a strategy's name and an example's endpoint is escaped in both reports."""
    for page in (reports.page, reports.run_page):
        assert "<script" not in page
        assert "x&lt;script&gt;y" in page
    assert "/api/&lt;script&gt;alert(1)&lt;/script&gt;" in reports.page


def test_reports_load_nothing_from_the_network(reports: Reports) -> None:
    """No src, href or CSS url() names an absolute address; links are relative."""
    for page in (reports.page, reports.run_page):
        targets = re.findall(r'(?:src|href)="([^"]*)"', page) + re.findall(r"url\(", page)
        assert not [t for t in targets if not re.fullmatch(r"[\w./&;-]+/report\.html", t)]
        assert "http://localhost" not in re.sub(r"target http://localhost", "", page)


def test_every_run_is_listed_with_a_link_to_its_report(reports: Reports) -> None:
    """The "Every run" table links each run folder's own report.html, which exists."""
    links = re.findall(r'href="([^"]*)"', reports.page)
    assert len(links) == len(reports.combined["runs"]) == 18
    for entry in reports.combined["runs"]:
        assert f"{entry['folder']}/report.html".replace("<", "&lt;").replace(">", "&gt;") in links
    assert all((reports.out / entry["folder"] / "report.html").is_file()
               for entry in reports.combined["runs"])  # fmt: skip


def test_lifecycle_has_a_row_per_invariant_and_a_column_per_strategy(reports: Reports) -> None:
    """The lifecycle table is transposed: one row per invariant, one column per strategy."""
    section = reports.page[reports.page.index("<h2>Session lifecycle</h2>") :]
    row = re.search(r"<tr><th><code>new_client_empty_jar</code></th>(.*?)</tr>", section)
    assert row is not None
    assert row.group(1).count("<td") == len(STRATEGIES)


def test_run_report_leads_with_its_outcome_and_isolation(reports: Reports) -> None:
    """A leaking run's report opens with FAILED, then LEAK, then its evidence and charts."""
    page = reports.run_page
    order = [page.index("FAILED"), page.index(">LEAK (3 client-side leaks)<"),
             page.index("<h2>Isolation evidence</h2>"), page.index(CHART_TITLES[0])]  # fmt: skip
    assert order == sorted(order)
    assert all(title in page for title in CHART_TITLES)


def test_a_long_runs_report_stays_small(reports: Reports, tmp_path: Path) -> None:
    """A run of two hours draws its per-second charts in a report under 40 KB."""
    folder = tmp_path / "long"
    folder.mkdir()
    source = reports.out / "pooled" / f"{CAPACITY}-1"
    latency = json.loads((source / "latency.json").read_text())
    latency["timeline"] = {str(1_000 + s): [100 + s % 7, 0, s % 3] for s in range(7_200)}
    (folder / "latency.json").write_text(json.dumps(latency))
    (folder / "summary.json").write_text((source / "summary.json").read_text())
    assert write_run_report(folder).stat().st_size < 40_000
