"""``report.html``: one self-contained page of charts, openable offline.

Plotly draws three charts (latency CDF per strategy, connections opened per second,
throughput per second); its JavaScript is embedded once, so the file needs no network.
Isolation results come first, in red when a strategy leaked.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bench.measure import Recorder
from bench.report._atomic import write_text_atomic
from bench.report._compare import load_run

__all__ = ["CHART_TITLES", "write_report_html"]

CHART_TITLES = (
    "Latency distribution (CDF, all requests)",
    "Connections opened per second",
    "Throughput (requests per second)",
)
_CDF_POINTS = [p / 10 for p in range(1, 1000)] + [99.9, 99.95, 99.99, 100.0]


def _cdf(recorder: Recorder) -> tuple[list[float], list[float]]:
    histogram = recorder.total().histogram
    if histogram.get_total_count() == 0:
        return [], []
    return [histogram.get_value_at_percentile(p) / 1000.0 for p in _CDF_POINTS], _CDF_POINTS


def _timeline(recorder: Recorder, column: int) -> tuple[list[int], list[int]]:
    if not recorder.timeline:
        return [], []
    start = min(recorder.timeline)
    seconds = sorted(recorder.timeline)
    return [s - start for s in seconds], [recorder.timeline[s][column] for s in seconds]


def _headline(runs: list[tuple[dict[str, Any], Recorder]]) -> str:
    rows = []
    for summary, _ in runs:
        iso = summary["isolation"]
        leak = iso["failed"]
        style = ' style="color:#b00020;font-weight:bold"' if leak else ""
        latency = summary["latency_ms"]
        rows.append(
            "<tr>"
            f"<td>{html.escape(summary['strategy'])}</td>"
            f"<td{style}>{'LEAK' if leak else 'isolated'} ({iso['client_side_leaks']} client, "
            f"{iso['server_side_leaks']} server, {iso['replay_accepted']} replays)</td>"
            f"<td>{summary['throughput_rps']:,.0f}</td><td>{latency['p50']}</td>"
            f"<td>{latency['p99']}</td><td>{summary['connections']['per_request']}</td>"
            f"<td>{summary['client_cpu_us_per_request']}</td>"
            "</tr>"
        )
    return (
        "<table><tr><th>strategy</th><th>isolation</th><th>throughput rps</th>"
        "<th>p50 ms</th><th>p99 ms</th><th>connections / request</th>"
        "<th>client CPU µs / request</th></tr>" + "".join(rows) + "</table>"
    )


def write_report_html(out_dir: Path, run_dirs: list[Path]) -> Path:
    """Write ``report.html`` for the given run folders and return its path."""
    runs = [load_run(run_dir) for run_dir in run_dirs]
    figure = make_subplots(rows=3, cols=1, subplot_titles=CHART_TITLES, vertical_spacing=0.08)
    for summary, recorder in runs:
        name = summary["strategy"]
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
        "td,th{border:1px solid #ccc;padding:4px 8px}</style></head><body>"
        "<h1>aegis-bench report</h1>" + _headline(runs) + charts + "</body></html>"
    )
    path = out_dir / "report.html"
    write_text_atomic(path, page)
    return path
