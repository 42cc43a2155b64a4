"""One way to print numbers and write files: formatters, the outputs using them, file modes.

The outputs are built from a fake two-repetition comparison (run folders whose
summary.json comes from the real ``build_summary`` over a recorded part, plus
latency.json), with no run, network or subprocess: pyperf's ``compare_to`` table is
stubbed out of compare.md.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench import numbers as fmt
from bench.measure import CallRecord, Recorder
from bench.options import Limits
from bench.report import (
    AT_RATE,
    CAPACITY,
    CHART_TITLES,
    PhaseRun,
    print_comparison,
    print_table,
    write_compare,
    write_comparison_report,
    write_gate_markdown,
    write_pyperf_file,
    write_run_report,
    write_text_atomic,
)
from tests._helpers import part_of, summarise

LEAKS = 22_442
RPS = 12_345.6
RATE = 200.0
EXAMPLES = [
    {"kind": "leak", "endpoint": "/api/v1/auth/me", "user": "u1-3", "got": "u1-7"},
    {"kind": "server_leak", "endpoint": "/api/<script>x", "user": "<b>eve</b>", "got": "a&b",
     "status": "200"},
]  # fmt: skip


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    """Run the block under ``mask``, then restore the process's umask."""
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def make_run(
    run_dir: Path, strategy: str, rate: float | None = None, **isolation: Any
) -> dict[str, Any]:
    """A run folder with latency.json and summary.json; ``isolation`` overrides that section.

    With ``rate`` it is an open-model run: its calls carry start delays.
    """
    recorder = Recorder()
    for i in range(200):
        recorder.record(
            CallRecord("GET", "/api/v1/auth/me", latency_s=(1 + i % 20) / 1000, ok=True,
                       http_requests=1, new_connections=1 if i == 0 else 0, identity_checks=1,
                       start_delay_s=(i % 7) / 1000 if rate else None)
        )  # fmt: skip
    recorded = recorder.drain()
    part = part_of(recorder=recorded, started_at=100.0, stopped_at=102.0, cpu_s=0.25,
                   users_peak=5, rate_rps=rate)  # fmt: skip
    summary = summarise(
        [part], strategy=strategy, users=5, duration_requested_s=2.0, target="http://localhost"
    )
    summary["throughput_rps"] = RPS
    summary["connections"].update(client_opened=LEAKS, server_accepted=LEAKS)
    summary["isolation"].update(isolation)
    run_dir.mkdir(parents=True)
    (run_dir / "latency.json").write_text(json.dumps(recorded))
    (run_dir / "summary.json").write_text(json.dumps(summary))
    return summary


@dataclass
class Outputs:
    """Every human-readable output of a comparison, and where the files went."""

    out: Path
    summary: dict[str, Any]  # the leaking run's (pooled, at the offered rate, repetition 1)
    terminal: str
    compare_md: str
    report_html: str
    ci_md: str


LEAKY = {"client_side_leaks": LEAKS, "failed": True, "verdict": "leak",
         "reason": "22,442 client-side leaks", "examples": EXAMPLES}  # fmt: skip


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    """Two repetitions of pooled and per-call, one pooled run leaking, reported every way."""
    out = tmp_path_factory.mktemp("compare")
    runs, summaries = [], {}
    for repetition in (1, 2):
        for phase in (CAPACITY, AT_RATE):
            for strategy in ("pooled", "per-call"):
                folder = out / strategy / f"{phase}-{repetition}"
                leaky = (strategy, phase, repetition) == ("pooled", AT_RATE, 1)
                summaries[folder] = make_run(
                    folder, strategy, RATE if phase == AT_RATE else None,
                    **(LEAKY if leaky else {"examples": []}),
                )  # fmt: skip
                runs.append(PhaseRun(strategy, phase, repetition, folder))
    leaky_summary = summaries[out / "pooled" / f"{AT_RATE}-1"]
    terminal = io.StringIO()
    with umask(0o022), pytest.MonkeyPatch.context() as patch:
        patch.setattr("bench.report._compare._pyperf_table", lambda paths, name: "")
        limits = Limits(max_error_rate=0.01, max_p99_ms=5.0, min_speedup=1.5)
        combined, outcome = write_compare(
            out, runs, ["pooled", "per-call"], repetitions=2, offered_rate_rps=RATE,
            offered_rate_from="--rate", limits=limits,
        )  # fmt: skip
        comparison = combined["comparison"]
        write_comparison_report(out, combined)
        write_gate_markdown(out / "ci.md", outcome, comparison)
        with contextlib.redirect_stdout(terminal):
            print_table([leaky_summary, summaries[out / "per-call" / f"{AT_RATE}-1"]])
            print_comparison(comparison)
    return Outputs(
        out=out,
        summary=leaky_summary,
        terminal=terminal.getvalue(),
        compare_md=(out / "compare.md").read_text(),
        report_html=(out / "report.html").read_text(),
        ci_md=(out / "ci.md").read_text(),
    )


def terminal_row(outputs: Outputs, label: str) -> list[str]:
    """The cells of one terminal table row (the pooled run's first)."""
    [line] = [line for line in outputs.terminal.splitlines() if line.startswith(label + "  ")]
    return line[len(label) :].split()


def evidence(page: str) -> str:
    """The Isolation evidence section of report.html (empty when there is none)."""
    match = re.search(r"<h2>Isolation evidence</h2>.*?(?=<h2>|<div)", page, re.DOTALL)
    return match.group(0) if match else ""


# The formatters' rules.


@pytest.mark.parametrize(("n", "text"), [(22442, "22,442"), (999, "999"), (10**6, "1,000,000")])
def test_count_separates_thousands(n: int, text: str) -> None:
    """A count gets a comma between thousands and none below a thousand."""
    assert fmt.count(n) == text


@pytest.mark.parametrize(
    "formatter",
    [fmt.count, fmt.rate, fmt.seconds, fmt.ms, fmt.us, fmt.kib, fmt.per_request, fmt.ratio,
     fmt.percent],
)  # fmt: skip
def test_a_missing_value_prints_na(formatter: Any) -> None:
    """Every formatter prints None as n/a."""
    assert formatter(None) == "n/a"


def test_rate_is_whole_requests_per_second() -> None:
    """Requests per second print rounded to whole requests, with a thousands separator."""
    assert fmt.rate(12345.6) == "12,346"


def test_seconds_have_one_decimal() -> None:
    """Run time in seconds prints with one decimal."""
    assert (fmt.seconds(4), fmt.seconds(1800.46)) == ("4.0", "1,800.5")


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.52341, "0.523"), (12.34, "12.3"), (0.0001234, "0.000123"), (99.96, "100")],
)
def test_measured_figures_keep_three_significant_digits(value: float, text: str) -> None:
    """A measured figure prints with three significant digits."""
    assert fmt.ms(value) == text


def test_measured_figures_keep_every_integer_digit() -> None:
    """A measured figure of a thousand or more keeps its integer part, comma-separated."""
    assert (fmt.ms(123.4), fmt.us(22442.3)) == ("123", "22,442")


def test_measured_figures_below_100_keep_one_decimal() -> None:
    """Trailing zeros are dropped, but a measured figure below 100 keeps one decimal."""
    assert (fmt.per_request(1.0), fmt.ratio(0.5), fmt.kib(12), fmt.us(0)) == (
        "1.0",
        "0.5",
        "12.0",
        "0.0",
    )


def test_measured_quantities_share_one_rule() -> None:
    """ms, us, KiB, per-request and ratio figures all print one value the same way."""
    value = 0.0123456
    assert {f(value) for f in (fmt.ms, fmt.us, fmt.kib, fmt.per_request, fmt.ratio)} == {"0.0123"}


def test_percent_takes_a_fraction() -> None:
    """percent prints a fraction as percent with three significant digits."""
    assert (fmt.percent(0.000123), fmt.percent(0.5)) == ("0.0123%", "50.0%")


# The outputs print one quantity one way.


def test_terminal_separates_client_and_server_connections_alike(outputs: Outputs) -> None:
    """The terminal prints connections opened by the client and accepted by the server alike."""
    assert terminal_row(outputs, "connections client")[0] == "22,442"
    assert terminal_row(outputs, "connections server")[0] == "22,442"


def test_terminal_table_starts_with_the_isolation_verdict(outputs: Outputs) -> None:
    """The first terminal row is ISOLATION with each run's verdict."""
    assert outputs.terminal.splitlines()[0].split() == ["ISOLATION", "LEAK", "isolated"]


def test_a_count_prints_the_same_in_every_output(outputs: Outputs) -> None:
    """A leak count prints 22,442 in the terminal, compare.md, report.html and ci.md."""
    assert terminal_row(outputs, "client-side leaks")[0] == "22,442"
    assert terminal_row(outputs, "leaks")[0] == "22,442"
    assert "| pooled | **LEAK**: 22,442 client side leaks | 4 | 22,442 |" in outputs.compare_md
    assert ">LEAK (22,442 client-side leaks)<" in outputs.report_html
    assert re.search(r"^\| pooled \|.*\| 22,442 \|$", outputs.ci_md, re.MULTILINE)


def test_a_rate_prints_the_same_in_every_output(outputs: Outputs) -> None:
    """Throughput prints 12,346 rps in the terminal, compare.md, report.html and ci.md."""
    assert terminal_row(outputs, "throughput rps")[0] == "12,346"
    assert "| pooled | 12,346 [12,346, 12,346] |" in outputs.compare_md
    assert '<td class="n">12,346</td>' in outputs.report_html
    assert "| pooled | 12,346 [12,346, 12,346] |" in outputs.ci_md


def test_a_latency_prints_the_same_in_every_output(outputs: Outputs) -> None:
    """The p99 latency prints one way in the terminal, compare.md, report.html and ci.md."""
    p99 = fmt.ms(outputs.summary["open_model"]["latency_from_intended_start_ms"]["p99"])
    over_repetitions = f"{p99} [{p99}, {p99}]"
    assert terminal_row(outputs, "p99 ms from intended start")[0] == p99
    assert terminal_row(outputs, "p99 ms at 200 rps")[0] == p99
    assert re.search(rf"\| pooled \| [\d.]+ \[[\d., ]+\] \| {re.escape(over_repetitions)} \|",
                     outputs.compare_md)  # fmt: skip
    assert f'<td class="n">{p99}</td>' in outputs.report_html
    assert f"| {over_repetitions} | 0.005 [0.005, 0.005] |" in outputs.ci_md


def test_thresholds_print_as_their_quantity(outputs: Outputs) -> None:
    """ci.md prints each threshold's limit and observation with the rule of its quantity."""
    assert "| max-leaks | 0 | 22,442 |" in outputs.ci_md
    assert "| max-error-rate[pooled] | 1.0% | 0.0% |" in outputs.ci_md
    assert "| min-speedup | 1.5 | 1.0 |" in outputs.ci_md


def test_no_count_goes_without_thousands_separators(outputs: Outputs) -> None:
    """No table cell in the terminal, compare.md or ci.md holds four digits in a row."""
    tables = [outputs.terminal] + [
        line
        for text in (outputs.compare_md, outputs.ci_md)
        for line in text.splitlines()
        if line.startswith("|")
    ]
    assert not [cell for cell in tables if re.search(r"(?<![\d.])\d{4,}", cell)]


# report.html shows the isolation evidence.


def test_report_html_lists_each_example(outputs: Outputs) -> None:
    """report.html's evidence section holds every example's kind, user, endpoint and got."""
    section = evidence(outputs.report_html)
    for example in EXAMPLES:
        for key in ("kind", "endpoint", "user", "got"):
            assert f"<td>{html.escape(example[key])}</td>" in section


def test_report_html_escapes_example_values(outputs: Outputs) -> None:
    """Example values are HTML-escaped, never inserted as markup."""
    section = evidence(outputs.report_html)
    assert "<td>&lt;b&gt;eve&lt;/b&gt;</td>" in section
    assert "<td>/api/&lt;script&gt;x</td>" in section
    assert "<td>a&amp;b</td>" in section
    assert "<b>eve</b>" not in outputs.report_html
    assert "/api/<script>" not in outputs.report_html


def test_extra_example_keys_become_columns(outputs: Outputs) -> None:
    """A key beyond kind, endpoint, user and got gets its own column, empty where absent."""
    section = evidence(outputs.report_html)
    header = "<tr><th>kind</th><th>endpoint</th><th>user</th><th>got</th><th>status</th></tr>"
    assert header in section
    assert "<td>u1-7</td><td></td></tr>" in section


def test_evidence_has_a_table_only_for_runs_with_examples(outputs: Outputs) -> None:
    """The evidence section captions the leaking run and leaves out the clean one."""
    section = evidence(outputs.report_html)
    assert "<caption>pooled at-rate 1</caption>" in section
    assert "per-call" not in section


def test_evidence_sits_between_the_headline_and_the_charts(outputs: Outputs) -> None:
    """The evidence section follows the headline table and precedes the charts."""
    page = outputs.report_html
    headline = page.index(">LEAK (")
    section = page.index("<h2>Isolation evidence</h2>")
    assert headline < section < page.index(CHART_TITLES[0])


def test_report_without_examples_has_no_evidence_section(tmp_path: Path) -> None:
    """A report over runs without examples has no Isolation evidence heading."""
    make_run(tmp_path / "clean", "pooled", examples=[])
    page = write_run_report(tmp_path / "clean").read_text()
    assert "Isolation evidence" not in page


# Written files get the mode ordinary files get.


def test_written_file_is_0644_under_umask_022(tmp_path: Path) -> None:
    """An atomically written file gets mode 0644 under umask 022, not mkstemp's 0600."""
    with umask(0o022):
        write_text_atomic(tmp_path / "a.txt", "x")
    assert mode(tmp_path / "a.txt") == 0o644


def test_written_file_follows_the_umask(tmp_path: Path) -> None:
    """The mode is 0666 less the umask: 0640 under umask 027."""
    with umask(0o027):
        write_text_atomic(tmp_path / "a.txt", "x")
    assert mode(tmp_path / "a.txt") == 0o640


def test_rewriting_a_0600_file_makes_it_0644(tmp_path: Path) -> None:
    """Writing over a 0600 result file leaves a 0644 one, with the new content."""
    path = tmp_path / "summary.json"
    path.write_text("old")
    path.chmod(0o600)
    with umask(0o022):
        write_text_atomic(path, "new")
    assert (mode(path), path.read_text()) == (0o644, "new")


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    """After a write, the folder holds only the written file."""
    write_text_atomic(tmp_path / "a.txt", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_report_files_are_0644(outputs: Outputs) -> None:
    """compare.md, the combined summary.json, report.html and ci.md are 0644 under umask 022."""
    names = ("compare.md", "summary.json", "report.html", "ci.md")
    assert {name: oct(mode(outputs.out / name)) for name in names} == dict.fromkeys(
        names, oct(0o644)
    )


def test_pyperf_file_is_0644_under_umask_022(tmp_path: Path) -> None:
    """pyperf's own dump writes the pyperf file 0644 under umask 022."""
    make_run(tmp_path / "run", "pooled")
    with umask(0o022):
        path = write_pyperf_file(tmp_path / "run")
    assert mode(path) == 0o644
