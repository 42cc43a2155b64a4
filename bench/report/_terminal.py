"""The terminal's result table: one column per run, isolation first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["print_table"]


def _fmt(value: object, spec: str = "") -> str:
    if value is None:
        return "n/a"
    return format(value, spec) if spec else str(value)


def print_table(summaries: list[dict[str, Any]]) -> None:
    """The short result table: one column per run."""
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("ISOLATION", lambda s: "LEAK" if s["isolation"]["failed"] else "ok"),
        ("client-side leaks", lambda s: _fmt(s["isolation"]["client_side_leaks"], ",")),
        ("server-side leaks", lambda s: _fmt(s["isolation"]["server_side_leaks"])),
        ("shared connections", lambda s: _fmt(s["isolation"]["shared_connections"])),
        ("replays accepted", lambda s: _fmt(s["isolation"]["replay_accepted"])),
        ("lost sessions", lambda s: _fmt(s["isolation"]["lost_sessions"], ",")),
        ("identity checks", lambda s: _fmt(s["isolation"]["checked"], ",")),
        ("strategy", lambda s: s["strategy"]),
        ("users", lambda s: _fmt(s["users"])),
        ("duration s", lambda s: _fmt(s["duration_s"], ".1f")),
        ("requests", lambda s: _fmt(s["requests"], ",")),
        ("failures", lambda s: _fmt(s["failures"], ",")),
        ("throughput rps", lambda s: _fmt(s["throughput_rps"], ",.0f")),
        ("p50 ms", lambda s: _fmt(s["latency_ms"]["p50"])),
        ("p90 ms", lambda s: _fmt(s["latency_ms"]["p90"])),
        ("p99 ms", lambda s: _fmt(s["latency_ms"]["p99"])),
        ("max ms", lambda s: _fmt(s["latency_ms"]["max"])),
        ("client CPU us/req", lambda s: _fmt(s["client_cpu_us_per_request"])),
        ("client RSS KiB/session", lambda s: _fmt(s["client_rss_kib_per_session"])),
        ("connections client", lambda s: _fmt(s["connections"]["client_opened"], ",")),
        ("connections server", lambda s: _fmt(s["connections"]["server_accepted"])),
        ("conns per request", lambda s: _fmt(s["connections"]["per_request"])),
        ("reconnects", lambda s: _fmt(s["connections"]["reconnects"])),
        ("TIME_WAIT after", lambda s: _fmt(s["connections"]["time_wait_after"])),
        ("generator saturated", lambda s: "yes" if s["generator"]["saturated"] else "no"),
        ("partial", lambda s: "yes" if s["partial"] else "no"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, cell in rows:
        values = "  ".join(f"{cell(s):>14}" for s in summaries)
        print(f"{label:<{width}}  {values}")
