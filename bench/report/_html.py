"""``report.html``: one self-contained page of charts, openable offline.

Plotly draws three charts (latency CDF per strategy, connections opened per second,
throughput per second); its JavaScript is embedded once, so the file needs no network.
Isolation results come first, in red when a strategy leaked, then the leak examples each
run's ``summary.json`` keeps (user names and endpoints only, never tokens), then the
session lifecycle (its counts and invariants, a broken one in red), then the charts.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bench import numbers as fmt
from bench.measure import Recorder
from bench.report._atomic import write_text_atomic
from bench.report._lifecycle import COUNT_COLUMNS, count_cells, invariant_cell, invariant_names
from bench.report._run_folder import load_run

__all__ = ["CHART_TITLES", "write_report_html"]

CHART_TITLES = (
    "Latency distribution (CDF, all requests)",
    "Connections opened per second",
    "Throughput (requests per second)",
)
_CDF_POINTS = [p / 10 for p in range(1, 1000)] + [99.9, 99.95, 99.99, 100.0]


def _cdf(recorder: Recorder) -> tuple[list[float], list[float]]:
    """The latency CDF: from intended start in an open-model run, else service time."""
    total = recorder.total()
    histogram = total.intended if total.intended is not None else total.histogram
    if histogram.get_total_count() == 0:
        return [], []
    return [histogram.get_value_at_percentile(p) / 1000.0 for p in _CDF_POINTS], _CDF_POINTS


def _timeline(recorder: Recorder, column: int) -> tuple[list[int], list[int]]:
    if not recorder.timeline:
        return [], []
    start = min(recorder.timeline)
    seconds = sorted(recorder.timeline)
    return [s - start for s in seconds], [recorder.timeline[s][column] for s in seconds]


def _headline(runs: list[tuple[dict[str, Any], Recorder]], labels: list[str]) -> str:
    rows = []
    for (summary, _), label in zip(runs, labels, strict=True):
        iso = summary["isolation"]
        shown = fmt.verdict(iso)
        style = ' style="color:#b00020;font-weight:bold"' if shown != "isolated" else ""
        open_model = summary.get("open_model") or {}
        latency = open_model.get("latency_from_intended_start_ms") or summary["latency_ms"]
        bound = bool(summary.get("latency_bound_by_generator"))
        rows.append(
            "<tr>"
            f"<td>{html.escape(label)}</td>"
            f"<td{style}>{shown} ({html.escape(iso['reason'])})</td>"
            f"<td>{fmt.rate(summary['throughput_rps'])}</td>"
            f"<td>{fmt.bounded(fmt.ms(latency['p50']), bound)}</td>"
            f"<td>{fmt.bounded(fmt.ms(latency['p99']), bound)}</td>"
            f"<td>{fmt.per_request(summary['connections']['per_request'])}</td>"
            f"<td>{fmt.us(summary['client_cpu_us_per_request'])}</td>"
            "</tr>"
        )
    return (
        "<table><tr><th>run</th><th>isolation</th><th>throughput rps</th>"
        "<th>p50 ms</th><th>p99 ms</th><th>connections / request</th>"
        "<th>client CPU µs / request</th></tr>" + "".join(rows) + "</table>"
    )


# The columns every example has; any other key an example holds follows them.
_EXAMPLE_COLUMNS = ("kind", "endpoint", "user", "got")


def _example_columns(examples: list[dict[str, Any]]) -> list[str]:
    """The fixed columns, then every other key in the order the examples first use it."""
    columns = list(_EXAMPLE_COLUMNS)
    for example in examples:
        columns += [key for key in example if key not in columns]
    return columns


def _cell(value: object) -> str:
    """One escaped table cell; a missing value is left empty."""
    return f"<td>{html.escape('' if value is None else str(value))}</td>"


def _evidence_table(strategy: str, examples: list[dict[str, Any]]) -> str:
    """One run's examples as a table captioned with its strategy, every value escaped."""
    columns = _example_columns(examples)
    head = "".join(f"<th>{html.escape(column)}</th>" for column in columns)
    body = "".join(
        "<tr>" + "".join(_cell(example.get(column)) for column in columns) + "</tr>"
        for example in examples
    )
    return f"<table><caption>{html.escape(strategy)}</caption><tr>{head}</tr>{body}</table>"


def _evidence(runs: list[tuple[dict[str, Any], Recorder]], labels: list[str]) -> str:
    """The "Isolation evidence" section: a table per run with examples, or nothing."""
    tables = [
        _evidence_table(label, examples)
        for (summary, _), label in zip(runs, labels, strict=True)
        if (examples := summary["isolation"].get("examples"))
    ]
    if not tables:
        return ""
    return (
        "<h2>Isolation evidence</h2><p>The examples each run kept; the counts above count "
        "every case.</p>" + "".join(tables)
    )


def _lifecycle(runs: list[tuple[dict[str, Any], Recorder]], labels: list[str]) -> str:
    """The "Session lifecycle" section: a row of counts and invariants per run."""
    lifecycles = [summary.get("lifecycle") or {} for summary, _ in runs]
    names = invariant_names(lifecycles)
    head = "".join(
        f"<th>{html.escape(h)}</th>"
        for h in ["run", *(heading for heading, _ in COUNT_COLUMNS), *names]
    )
    rows = []
    for label, lifecycle in zip(labels, lifecycles, strict=True):
        cells = [_cell(label), *(_cell(value) for value in count_cells(lifecycle))]
        for name in names:
            shown = invariant_cell((lifecycle.get("invariants") or {}).get(name))
            style = ' style="color:#b00020;font-weight:bold"' if shown.startswith("BROKEN") else ""
            cells.append(f"<td{style}>{html.escape(shown)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<h2>Session lifecycle</h2><p>401s, refreshes (and the 401s each served), retries, "
        "on_unauthorized calls, users signed in again and clients recycled; each invariant "
        "held, broke, or was not checked (nothing exercised it).</p>"
        f"<table><tr>{head}</tr>{''.join(rows)}</table>"
    )


def write_report_html(
    out_dir: Path,
    run_dirs: list[Path],
    *,
    labels: list[str] | None = None,
    headline: list[str] | None = None,
) -> Path:
    """Write ``report.html`` for the given run folders and return its path.

    ``labels`` name the runs (default: their strategies); ``headline`` sentences (a
    comparison's) open the page. Latencies are the open model's from intended start
    when the run had a rate, and marked when the load generator bounded them.
    """
    runs = [load_run(run_dir) for run_dir in run_dirs]
    labels = labels or [summary["strategy"] for summary, _ in runs]
    figure = make_subplots(rows=3, cols=1, subplot_titles=CHART_TITLES, vertical_spacing=0.08)
    for (_, recorder), name in zip(runs, labels, strict=True):
        x, y = _cdf(recorder)
        figure.add_trace(go.Scatter(x=x, y=y, name=f"{name} latency", mode="lines"), row=1, col=1)
        seconds, opened = _timeline(recorder, 2)
        figure.add_trace(go.Scatter(x=seconds, y=opened, name=f"{name} connections"), row=2, col=1)
        seconds, requests = _timeline(recorder, 0)
        figure.add_trace(go.Scatter(x=seconds, y=requests, name=f"{name} rps"), row=3, col=1)
    figure.update_xaxes(type="log", title_text="latency (ms, log scale)", row=1, col=1)
    figure.update_yaxes(title_text="percentile", row=1, col=1)
    figure.update_xaxes(title_text="seconds since start", row=2, col=1)
    figure.update_xaxes(title_text="seconds since start", row=3, col=1)
    figure.update_layout(height=1200, title_text="aegis-bench report")
    charts = figure.to_html(include_plotlyjs=True, full_html=False)
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>aegis-bench report</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px}caption{font-weight:bold;text-align:left}"
        "</style></head><body>"
        "<h1>aegis-bench report</h1>"
        + "".join(f"<p>{html.escape(sentence)}</p>" for sentence in headline or [])
        + _headline(runs, labels)
        + _evidence(runs, labels)
        + _lifecycle(runs, labels)
        + charts
        + "</body></html>"
    )
    path = out_dir / "report.html"
    write_text_atomic(path, page)
    return path
