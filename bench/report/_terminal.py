"""The terminal's result table: one column per run, isolation first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import numbers as fmt

__all__ = ["print_comparison", "print_table"]


def _yes_no(flag: object) -> str:
    return "yes" if flag else "no"


def _lifecycle(key: str) -> Callable[[dict[str, Any]], str]:
    """A count of the summary's lifecycle section (``n/a`` for a summary without one)."""
    return lambda s: fmt.count((s.get("lifecycle") or {}).get(key))


def print_table(summaries: list[dict[str, Any]]) -> None:
    """The short result table: one column per run, every figure printed by ``bench.numbers``."""
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("ISOLATION", lambda s: fmt.verdict(s["isolation"])),
        ("client-side leaks", lambda s: fmt.count(s["isolation"]["client_side_leaks"])),
        ("server-side leaks", lambda s: fmt.count(s["isolation"]["server_side_leaks"])),
        ("shared connections", lambda s: fmt.count(s["isolation"]["shared_connections"])),
        ("replays accepted", lambda s: fmt.count(s["isolation"]["replay_accepted"])),
        ("foreign sessions", lambda s: fmt.count(s["isolation"].get("foreign_sessions"))),
        ("lost sessions", lambda s: fmt.count(s["isolation"]["lost_sessions"])),
        ("identity checks", lambda s: fmt.count(s["isolation"]["checked"])),
        ("strategy", lambda s: s["strategy"]),
        ("users", lambda s: fmt.count(s["users"])),
        ("duration s", lambda s: fmt.seconds(s["duration_s"])),
        ("requests", lambda s: fmt.count(s["requests"])),
        ("failures", lambda s: fmt.count(s["failures"])),
        ("401s", _lifecycle("unauthorized")),
        ("refreshes", _lifecycle("refreshes")),
        ("refresh failures", _lifecycle("refresh_failures")),
        ("on_unauthorized", _lifecycle("on_unauthorized")),
        ("signed in again", _lifecycle("signed_in_again")),
        ("recycled clients", _lifecycle("recycled_clients")),
        ("invariants broken", _lifecycle("invariants_broken")),
        ("throughput rps", lambda s: fmt.rate(s["throughput_rps"])),
        ("p50 ms", _latency("latency_ms", "p50")),
        ("p90 ms", _latency("latency_ms", "p90")),
        ("p99 ms", _latency("latency_ms", "p99")),
        ("max ms", _latency("latency_ms", "max")),
        ("client CPU us/req", lambda s: fmt.us(s["client_cpu_us_per_request"])),
        ("client RSS KiB/session", lambda s: fmt.kib(s["client_rss_kib_per_session"])),
        ("connections client", lambda s: fmt.count(s["connections"]["client_opened"])),
        ("connections server", lambda s: fmt.count(s["connections"]["server_accepted"])),
        ("conns per request", lambda s: fmt.per_request(s["connections"]["per_request"])),
        ("reconnects", lambda s: fmt.count(s["connections"]["reconnects"])),
        ("TIME_WAIT after", lambda s: fmt.count(s["connections"]["time_wait_after"])),
        ("generator saturated", lambda s: _yes_no(s["generator"]["saturated"])),
        ("partial", lambda s: _yes_no(s["partial"])),
    ]
    if any(s.get("open_model") for s in summaries):
        at = next(i for i, (label, _) in enumerate(rows) if label == "max ms") + 1
        rows[at:at] = [
            ("offered rps", lambda s: fmt.rate((s.get("open_model") or {}).get("rate_rps"))),
            ("p50 ms from intended start", _intended("p50")),
            ("p99 ms from intended start", _intended("p99")),
            ("late starts", lambda s: fmt.count((s.get("open_model") or {}).get("late_starts"))),
        ]
    _print_rows(rows, summaries)


def _latency(section: str, quantile: str) -> Callable[[dict[str, Any]], str]:
    """A run's latency cell, marked when the load generator bounded it."""
    return lambda s: fmt.bounded(
        fmt.ms(s[section][quantile]), bool(s.get("latency_bound_by_generator"))
    )


def _intended(quantile: str) -> Callable[[dict[str, Any]], str]:
    """An open-model run's latency from intended start (n/a for a closed-loop run)."""

    def cell(s: dict[str, Any]) -> str:
        latency = (s.get("open_model") or {}).get("latency_from_intended_start_ms") or {}
        return fmt.bounded(fmt.ms(latency.get(quantile)), bool(s.get("latency_bound_by_generator")))

    return cell


def _print_rows(
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]], columns: list[dict[str, Any]]
) -> None:
    """Print a label column and one right-aligned column per item, as wide as needed."""
    width = max(len(label) for label, _ in rows)
    cells = [(label, [cell(item) for item in columns]) for label, cell in rows]
    column = max([14, *(len(c) for _, values in cells for c in values)])
    for label, values in cells:
        print(f"{label:<{width}}  " + "  ".join(f"{value:>{column}}" for value in values))


def _saturated(phase: str) -> Callable[[dict[str, Any]], str]:
    """A strategy's saturated runs of one phase, as ``k of N``."""
    return lambda f: f"{f['saturated_runs'][phase]} of {f['runs'][phase]}"


def print_comparison(comparison: dict[str, Any]) -> None:
    """A comparison's figures, one column per strategy: values over the repetitions
    with their 95% rerun intervals."""
    n = comparison["repetitions"]
    rate = comparison["offered_rate_rps"]

    def latency(section: str, q: str) -> Callable[[dict[str, Any]], str]:
        return lambda f: fmt.bounded(
            fmt.interval(f[section][q], fmt.ms), f["latency_bound_by_generator"]
        )

    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("ISOLATION (every run)", lambda f: fmt.verdict(f["isolation"])),
        ("leaks", lambda f: fmt.count(f["isolation"]["leaks"])),
        ("identity checks", lambda f: fmt.count(f["isolation"]["checked"])),
        (f"capacity rps (N = {n})", lambda f: fmt.interval(f["capacity_rps"], fmt.rate)),
        (
            "conns per request",
            lambda f: fmt.interval(f["connections_per_request"], fmt.per_request),
        ),
        ("client CPU us/req", lambda f: fmt.interval(f["client_cpu_us_per_request"], fmt.us)),
        ("server CPU us/req", lambda f: fmt.interval(f["server_cpu_us_per_request"], fmt.us)),
    ]
    if rate:
        rows += [
            (f"p50 ms at {fmt.rate(rate)} rps", latency("latency_at_rate_ms", "p50")),
            (f"p99 ms at {fmt.rate(rate)} rps", latency("latency_at_rate_ms", "p99")),
        ]
    rows += [(f"saturated {phase} runs", _saturated(phase)) for phase in ("capacity", "at-rate")]
    strategies = comparison["strategies"]
    _print_rows(
        [("strategy", lambda f: str(f["name"])), *rows],
        [{"name": name, **figures} for name, figures in strategies.items()],
    )
