"""The body of one run's report.html: its verdict first, then its figures and charts.

In order: the run's outcome (passed or not, its exit code and every reason) and its
isolation verdict with the checks' counts; the isolation evidence when the run kept
examples; its figures (as the terminal table prints them); its latency by percentile;
connections opened and requests per second over time, the steady-state window shaded;
its session lifecycle. Read from the run folder's summary.json and latency.json.
"""

from __future__ import annotations

from typing import Any

from bench import numbers as fmt
from bench.measure import Recorder
from bench.outcome import judge_run
from bench.report._charts import (
    CONNECTIONS,
    CONNECTIONS_TITLE,
    LATENCY_TITLE,
    REQUESTS,
    REQUESTS_TITLE,
    Latencies,
    Timeline,
    per_second_chart,
    percentile_chart,
)
from bench.report._colours import colours
from bench.report._page import cell, evidence, figure, legend, lifecycle, outcome, verdict_cell
from bench.report._svg import esc

__all__ = ["run_body"]

# Isolation counters shown under the verdict, in reading order.
_CHECKS = (
    ("identity checks", "checked"),
    ("client-side leaks", "client_side_leaks"),
    ("server-side leaks", "server_side_leaks"),
    ("shared connections", "shared_connections"),
    ("replays accepted", "replay_accepted"),
    ("foreign sessions", "foreign_sessions"),
    ("lost sessions (client side)", "lost_sessions"),
    ("lost sessions (target side)", "lost_sessions_server"),
)


def _settings(summary: dict[str, Any]) -> str:
    rate = (summary.get("open_model") or {}).get("rate_rps")
    model = f"open model at {fmt.rate(rate)} req/s offered" if rate else "closed loop"
    return (
        f'<p class="note">{fmt.count(summary.get("users"))} users, '
        f"{fmt.seconds(summary.get('duration_requested_s'))} s asked for "
        f"({fmt.seconds(summary.get('duration_s'))} s run), {model}, target "
        f"{esc(summary.get('target', 'n/a'))}.</p>"
    )


def _isolation(summary: dict[str, Any]) -> str:
    iso = summary["isolation"]
    rows = [f"<tr><th>isolation</th>{verdict_cell(iso)}</tr>"] + [
        f"<tr><th>{esc(heading)}</th>{cell(fmt.count(iso.get(key)), numeric=True)}</tr>"
        for heading, key in _CHECKS
        if key in iso
    ]
    return f"<table>{''.join(rows)}</table>"


def _figures(summary: dict[str, Any]) -> str:
    """The run's figures, one per row, each printed as every other output prints it."""
    open_model = summary.get("open_model") or {}
    intended = open_model.get("latency_from_intended_start_ms") or {}
    bound = bool(summary.get("latency_bound_by_generator"))
    service, connections = summary["latency_ms"], summary["connections"]
    requests = summary["requests"]
    server_cpu = (summary.get("server") or {}).get("cpu_s")

    def latency(value: float | None) -> str:
        return fmt.bounded(fmt.ms(value), bound)

    rows = [("throughput", fmt.rate(summary["throughput_rps"]), "rps")]
    if intended:
        rows += [(f"{q} from intended start", latency(intended[q]), "ms") for q in ("p50", "p99")]
    rows += [
        *((f"{q} service time", latency(service.get(q)), "ms") for q in ("p50", "p99")),
        ("connections per request", fmt.per_request(connections["per_request"]), ""),
        ("connections opened (client / server)", f"{fmt.count(connections.get('client_opened'))}"
         f" / {fmt.count(connections.get('server_accepted'))}", ""),
        ("TLS handshakes", fmt.count(connections.get("tls_handshakes")), ""),
        ("client CPU per request", fmt.us(summary["client_cpu_us_per_request"]), "µs"),
        ("server CPU per request",
         fmt.us(server_cpu * 1e6 / requests if server_cpu is not None and requests else None),
         "µs"),
        ("calls", fmt.count(requests), ""),
        ("failed calls", f"{fmt.count(summary['failures'])} ({fmt.percent(summary['error_rate'])})",
         ""),
        ("load generator saturated", "yes" if summary["generator"]["saturated"] else "no", ""),
    ]  # fmt: skip
    body = "".join(
        f"<tr><th>{esc(name)}</th>{cell(value, numeric=True)}{cell(unit)}</tr>"
        for name, value, unit in rows
    )
    return f"<h2>Figures</h2><table>{body}</table>"


def _charts(summary: dict[str, Any], recorder: Recorder, colour: str) -> str:
    strategy = summary["strategy"]
    window = summary.get("window") or {}
    shaded = (window["opened_at"], window["closed_at"]) if window.get("opened") else None
    line = Timeline(strategy, colour, strategy, recorder.timeline, shaded)
    latency = percentile_chart([Latencies(strategy, colour, recorder.total())])
    return (
        "<h2>Charts</h2>"
        + figure(
            f"{LATENCY_TITLE} <span class='note'>(the requests the figures come from)</span>",
            latency,
            "Solid: from each request's intended start (open model); dashed: service time. "
            "A closed-loop run has service time only, solid.",
        )
        + ('<p class="note">Shaded: the steady-state window the figures come from.</p>'
           if shaded else "")
        + figure(CONNECTIONS_TITLE, per_second_chart([line], CONNECTIONS, "connections / s"))
        + figure(REQUESTS_TITLE, per_second_chart([line], REQUESTS, "requests / s"))
    )  # fmt: skip


def run_body(summary: dict[str, Any], recorder: Recorder) -> str:
    """The page's body for one run."""
    strategy = summary["strategy"]
    colour = colours([strategy])[strategy]
    verdict = summary.get("outcome") or judge_run(summary, subject=strategy).as_json()
    return "".join(
        [
            f"<h1>aegis-bench run: {esc(strategy)}</h1>",
            legend({strategy: colour}),
            _settings(summary),
            "<h2>Verdict</h2>",
            outcome(verdict, "run"),
            _isolation(summary),
            evidence([(strategy, summary)]),
            _figures(summary),
            _charts(summary, recorder, colour),
            lifecycle([(strategy, summary.get("lifecycle") or {}, colour)]),
        ]
    )
