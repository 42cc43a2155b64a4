"""A comparison's figures as forest plots: each figure a panel, each strategy a row.

The figures are those ``compare.md`` tables (``comparison.strategies[name]``, built by
``bench/report/_comparison.py``): the capacity phase's (capacity, connections, TLS
handshakes when any strategy made one, client and server CPU per request), the
at-rate phase's (latency from intended start and service time, p50 and p99, marked
when the load generator bounded them; the rate achieved; the paced client CPU per
request and the sessions the box would carry at it), and the throughput ratios
against the first strategy, drawn against a dashed line at 1 (equal).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import numbers as fmt
from bench.capacity import PLANNING_THINK_S
from bench.report._forest import ForestRow, forest
from bench.report._page import figure
from bench.report._svg import esc

__all__ = ["compared_figures"]


@dataclass(frozen=True)
class _Figure:
    """Where a figure sits in a strategy's section, and how it reads."""

    path: tuple[str, ...]
    title: str
    about: str
    unit: str
    show: Callable[[float | None], str]
    latency: bool = False


_CAPACITY = (
    _Figure(("capacity_rps",), "Capacity", "requests completed per second in the steady-state "
            "window", "rps", fmt.rate),
    _Figure(("connections_per_request",), "Connections per request", "TCP connections the "
            "clients opened, per request", "conns / request", fmt.per_request),
    _Figure(("tls_handshakes_per_request",), "TLS handshakes per request", "handshakes the "
            "clients made, per request", "TLS / request", fmt.per_request),
    _Figure(("client_cpu_us_per_request",), "Client CPU per request", "the load processes' "
            "CPU time over the window's requests", "µs", fmt.us),
    _Figure(("server_cpu_us_per_request",), "Server CPU per request", "the reference "
            "backend's CPU time over its requests", "µs", fmt.us),
)  # fmt: skip
_AT_RATE = (
    _Figure(("latency_at_rate_ms", "p50"), "p50 latency", "from each request's intended "
            "start, so a request held up by a slow one counts its wait", "ms", fmt.ms, True),
    _Figure(("latency_at_rate_ms", "p99"), "p99 latency", "from each request's intended "
            "start", "ms", fmt.ms, True),
    _Figure(("service_time_at_rate_ms", "p50"), "p50 service time", "from when each request "
            "actually began", "ms", fmt.ms, True),
    _Figure(("service_time_at_rate_ms", "p99"), "p99 service time", "from when each request "
            "actually began", "ms", fmt.ms, True),
    _Figure(("achieved_rate_rps",), "Achieved rate", "requests completed per second in the "
            "steady-state window", "rps", fmt.rate),
    _Figure(("client_cpu_us_per_request_at_rate",), "Client CPU per request, paced", "the "
            "load processes' CPU time over the window's requests at the offered rate", "µs",
            fmt.us),
    _Figure(("sessions_carried",), "Sessions this box would carry", "at these CPU costs, "
            f"each session pausing {PLANNING_THINK_S:g} s between tasks", "sessions", fmt.count),
)  # fmt: skip


def _pick(figures: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    found: Any = figures
    for key in path:
        found = (found or {}).get(key)
    return found if isinstance(found, dict) else None


def _panel(spec: _Figure, strategies: dict[str, Any], colours: dict[str, str]) -> str:
    rows = [
        ForestRow(name, colours[name], _pick(figures, spec.path),
                  spec.latency and bool(figures.get("latency_bound_by_generator")))
        for name, figures in strategies.items()
    ]  # fmt: skip
    chart = forest(rows, spec.show, f" {spec.unit}", label=f"{spec.title} ({spec.unit})")
    return figure(f"{esc(spec.title)} <span class='note'>({esc(spec.unit)}: {esc(spec.about)})"
                  "</span>", chart)  # fmt: skip


def _made_handshakes(strategies: dict[str, Any]) -> bool:
    return any(
        (_pick(figures, ("tls_handshakes_per_request",)) or {}).get("value")
        for figures in strategies.values()
    )


def _ratios(comparison: dict[str, Any], colours: dict[str, str]) -> str:
    first = comparison["first"]
    rows = [
        ForestRow(name, colours[name], ratio)
        for name, ratio in comparison["throughput_ratios"].items()
    ]
    if not rows:
        return ""
    chart = forest(rows, fmt.ratio, "x", label="throughput ratio", reference=1.0)
    caption = (
        f"Throughput ratio <span class='note'>({esc(first)}'s capacity over each strategy's, "
        "from each repetition's own ratio; the dashed line is 1, equal)</span>"
    )
    return figure(caption, chart)


def compared_figures(comparison: dict[str, Any], colours: dict[str, str]) -> str:
    """The "Compared figures" section: both phases' panels and the throughput ratios."""
    strategies = comparison["strategies"]
    n = comparison["repetitions"]
    rate = comparison["offered_rate_rps"]
    capacity = [
        spec
        for spec in _CAPACITY
        if spec.path != ("tls_handshakes_per_request",) or _made_handshakes(strategies)
    ]
    parts = [
        "<h2>Compared figures</h2><p>Each row is one strategy: the dot is the mean over its "
        "repetitions, the whisker its interval, each ring one repetition; where two "
        "whiskers overlap, a rerun could swap the two. The figures stand at the right, "
        f"printed as in compare.md. The interval: {esc(comparison.get('interval', ''))}.</p>",
        f"<h3>Capacity (closed loop, N = {n})</h3>",
        _ratios(comparison, colours),
        *(_panel(spec, strategies, colours) for spec in capacity),
    ]
    if rate:
        parts.append(f"<h3>At {fmt.rate(rate)} req/s offered (open model, N = {n})</h3>")
        parts += [_panel(spec, strategies, colours) for spec in _AT_RATE]
    else:
        parts.append(
            "<h3>Latency at an offered rate: not measured</h3>"
            f"<p>{esc(comparison.get('offered_rate_from', ''))}</p>"
        )
    return "".join(parts)
