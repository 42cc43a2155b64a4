"""The body of a comparison's report.html: the answer first, then what it rests on.

In order: the isolation verdict per strategy and the comparison's outcome (passed or
not, its exit code and every reason); the headline sentences; the isolation evidence
when a run kept examples; every compared figure with its interval (``_figures.py``);
each strategy's latency by percentile over its at-rate runs; connections opened per
second in each phase, one line per run; the session lifecycle per strategy; every run,
with a link to its own report.html. Everything is read from the combined summary.json
and the run folders it lists (their latency.json); nothing is recomputed that
compare.md prints, so both say the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import numbers as fmt
from bench.measure import EndpointStats, Recorder
from bench.report._charts import (
    CONNECTIONS,
    CONNECTIONS_TITLE,
    LATENCY_TITLE,
    Latencies,
    Timeline,
    per_second_chart,
    percentile_chart,
)
from bench.report._colours import colours
from bench.report._compare import comparison_headline, run_label
from bench.report._comparison import AT_RATE, CAPACITY
from bench.report._figures import compared_figures
from bench.report._page import (
    cell,
    evidence,
    figure,
    legend,
    lifecycle,
    outcome,
    prose,
    swatch,
    verdict_cell,
)
from bench.report._run_folder import load_run
from bench.report._svg import esc

__all__ = ["comparison_body"]

_PHASES = {CAPACITY: "capacity runs (closed loop)", AT_RATE: "at-rate runs (open model)"}


def _settings(combined: dict[str, Any]) -> str:
    comparison = combined["comparison"]
    first = combined["runs"][0]["summary"] if combined["runs"] else {}
    rate = comparison["offered_rate_rps"]
    offered = (
        f"{fmt.rate(rate)} req/s ({comparison['offered_rate_from']})"
        if rate
        else f"nothing: {comparison['offered_rate_from']}"
    )
    return (
        f'<p class="note">{fmt.count(first.get("users"))} users, '
        f"{fmt.seconds(first.get('duration_requested_s'))} s per run, target "
        f"{esc(first.get('target', 'n/a'))}. Each strategy ran N = {comparison['repetitions']} "
        f"times in each phase, alternately; the latency runs offered {esc(offered)}.</p>"
    )


def _verdicts(comparison: dict[str, Any], palette: dict[str, str]) -> str:
    """Each strategy's isolation over all its runs, and its calls."""
    rows = []
    for name, figures in comparison["strategies"].items():
        iso = figures["isolation"]
        rows.append(
            f"<tr><td>{swatch(name, palette[name])}{esc(name)}</td>{verdict_cell(iso)}"
            f"{cell(fmt.count(iso['runs']), numeric=True)}"
            f"{cell(fmt.count(iso['checked']), numeric=True)}"
            f"{cell(fmt.count(iso['leaks']), numeric=True)}"
            f"{cell(fmt.count(figures['requests']), numeric=True)}"
            f"{cell(fmt.percent(figures['error_rate']), numeric=True)}</tr>"
        )
    return (
        "<table><tr><th>strategy</th><th>isolation (every run)</th><th>runs</th>"
        "<th>identity checks</th><th>leaks</th><th>calls</th><th>failed</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _latency(runs: list[tuple[dict[str, Any], Recorder]], palette: dict[str, str]) -> str:
    """Each strategy's at-rate runs merged (its capacity runs when it has none)."""
    curves, phases = [], set()
    for name, colour in palette.items():
        mine = [(e, r) for e, r in runs if e["strategy"] == name]
        phase = AT_RATE if any(e["phase"] == AT_RATE for e, _ in mine) else CAPACITY
        phases.add(phase)
        stats = EndpointStats()
        for entry, recorder in mine:
            if entry["phase"] == phase:
                stats.merge(recorder.total())
        curves.append(Latencies(name, colour, stats))
    over = " and ".join(_PHASES[p] for p in sorted(phases))
    return "<h2>Latency</h2>" + figure(
        f"{LATENCY_TITLE} <span class='note'>({esc(over)}, each strategy's merged; the "
        "steady-state windows' requests)</span>",
        percentile_chart(curves),
        "Solid: latency from each request's intended start (what the headline's p50 and p99 "
        "measure); dashed: service time, from when it actually began. A dot marks p50, p90, "
        "p99, p99.9 and p99.99; rest the pointer on one to read it.",
    )


def _connections(runs: list[tuple[dict[str, Any], Recorder]], palette: dict[str, str]) -> str:
    """Connections opened per second in each phase, one line per run."""
    charts = []
    for phase, about in _PHASES.items():
        lines = [
            Timeline(e["strategy"], palette[e["strategy"]], run_label(e), r.timeline)
            for e, r in runs
            if e["phase"] == phase and r.timeline
        ]
        if lines:
            caption = f"{CONNECTIONS_TITLE} <span class='note'>({about}, one line per run)</span>"
            charts.append(figure(caption, per_second_chart(lines, CONNECTIONS, "connections / s")))
    return "<h2>Connections</h2>" + "".join(charts) if charts else ""


def _run_outcome(summary: dict[str, Any]) -> str:
    section = summary.get("outcome")
    if not section:
        return cell(fmt.NOT_AVAILABLE)
    if section.get("passed"):
        return cell("passed")
    state = "FAILED" if section.get("complete", True) else "INCOMPLETE"
    why = "; ".join(str(r.get("text", "")) for r in section.get("reasons") or [])
    return f'<td class="bad" title="{esc(why)}">{state}, exit {esc(section.get("exit_code"))}</td>'


def _every_run(entries: list[dict[str, Any]], palette: dict[str, str]) -> str:
    rows = []
    for entry in entries:
        s = entry["summary"]
        open_model = s.get("open_model") or {}
        latency = open_model.get("latency_from_intended_start_ms") or s["latency_ms"]
        bound = bool(s.get("latency_bound_by_generator"))
        link = esc(f"{Path(entry['folder']).as_posix()}/report.html")
        rows.append(
            f"<tr><td>{swatch(entry['strategy'], palette[entry['strategy']])}"
            f"{esc(entry['strategy'])}</td>{cell(entry['phase'])}"
            f"{cell(entry['repetition'], numeric=True)}{verdict_cell(s['isolation'])}"
            f"{_run_outcome(s)}{cell(fmt.rate(s['throughput_rps']), numeric=True)}"
            f"{cell(fmt.bounded(fmt.ms(latency['p50']), bound), numeric=True)}"
            f"{cell(fmt.bounded(fmt.ms(latency['p99']), bound), numeric=True)}"
            f"{cell(fmt.per_request(s['connections']['per_request']), numeric=True)}"
            f'<td><a href="{link}">report</a></td></tr>'
        )
    return (
        "<h2>Every run</h2><p>p50 and p99 of an at-rate run are from intended start, of a "
        "capacity run service time; each run's own report holds its charts.</p>"
        "<table><tr><th>strategy</th><th>phase</th><th>repetition</th><th>isolation</th>"
        "<th>outcome</th><th>throughput rps</th><th>p50 ms</th><th>p99 ms</th>"
        "<th>conns / request</th><th>folder</th></tr>" + "".join(rows) + "</table>"
    )


def comparison_body(out_dir: Path, combined: dict[str, Any]) -> str:
    """The page's body, from the combined summary and the run folders under ``out_dir``."""
    comparison = combined["comparison"]
    palette = colours(comparison["strategies"])
    runs = [(entry, load_run(out_dir / entry["folder"])[1]) for entry in combined["runs"]]
    names = " vs ".join(comparison["strategies"])
    sentences = comparison_headline(comparison)
    columns = [
        (name, f["lifecycle"], palette[name]) for name, f in comparison["strategies"].items()
    ]
    return "".join(
        [
            f"<h1>aegis-bench comparison: {esc(names)}</h1>",
            legend(palette),
            _settings(combined),
            "<h2>Verdict</h2>",
            _verdicts(comparison, palette),
            outcome(combined["outcome"], "comparison") if combined.get("outcome") else "",
            "<h2>Headline</h2>" if sentences else "",
            *(f'<p class="headline">{prose(sentence)}</p>' for sentence in sentences),
            evidence([(run_label(entry), entry["summary"]) for entry in combined["runs"]]),
            compared_figures(comparison, palette),
            _latency(runs, palette),
            _connections(runs, palette),
            lifecycle(columns),
            _every_run(combined["runs"], palette),
        ]
    )
