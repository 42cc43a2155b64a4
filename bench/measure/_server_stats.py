"""Reading the reference backend's instruments (``/_bench/...``), and saying how it went.

The server-side verdict rests on what this returns, so every way of not getting the
counters is told apart: a backend without them (``unavailable``: not the reference
backend), one that did not answer in time (``no answer: ReadTimeout``), and one whose
answer lacks what the summary reads (``malformed answer: ...``). Never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["ServerStats", "merge_readings", "oracle_state", "server_stats"]

STATS_TIMEOUT_S = 10.0
# What the summary reads from ``/_bench/stats``: section -> integer fields.
_REQUIRED = {
    "oracle": ("declared", "checked", "mismatches", "no_cookie"),
    "connections": ("accepted", "multi_user", "users_multi_connection"),
}


@dataclass(frozen=True)
class ServerStats:
    """The answer (None unless usable) and a state: ``available`` or why not."""

    data: dict[str, Any] | None
    state: str


def _problem(data: Any) -> str | None:
    """What a stats answer lacks, or None when the summary can read it."""
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, not an object"
    for section, fields in _REQUIRED.items():
        values = data.get(section)
        if not isinstance(values, dict):
            return f"no '{section}' object"
        for name in fields:
            value = values.get(name)
            if not isinstance(value, int) or isinstance(value, bool):
                return f"'{section}.{name}' is not a count"
    return None


def server_stats(host: str, path: str, method: str = "GET", json: Any = None) -> ServerStats:
    """Call one admin route of the target (with a ``json`` body, if given); the parsed
    answer and how the call went."""
    try:
        with httpx.Client(
            base_url=host, timeout=STATS_TIMEOUT_S, trust_env=False, verify=False
        ) as client:
            response = client.request(method, path, json=json)
    except httpx.HTTPError as exc:
        return ServerStats(None, f"no answer: {type(exc).__name__}")
    if response.status_code in (404, 405):
        return ServerStats(None, "unavailable")
    if not response.is_success:
        return ServerStats(None, f"no answer: HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        return ServerStats(None, f"malformed answer from {path}: not JSON")
    if path.endswith("/stats"):
        problem = _problem(data)
        if problem is not None:
            return ServerStats(None, f"malformed answer from {path}: {problem}")
    return ServerStats(data if isinstance(data, dict) else None, "available")


def oracle_state(reset: ServerStats, reading: ServerStats) -> tuple[str, bool]:
    """How the target's oracle covered the run, and whether one was expected.

    Expected when the target answered the reset before the run, or answers its stats
    now: then a boot id that changed (a restart) or a reset that failed means its
    counters cover only part of the run, which is no server-side evidence.
    """
    state = reading.state
    expected = reset.state == "available" or reading.state == "available"
    if reading.data is None:
        return state, expected
    boot_before = (reset.data or {}).get("boot_id")
    if reset.data is None:
        return f"not reset before the run ({reset.state}): its counters are not this run's", True
    if reading.data.get("boot_id") != boot_before:
        return "restarted during the run: its counters cover only the part after that", True
    return state, expected


# Counters that are a state now, not a sum over time: the last reading's value stands.
_LAST_ONLY = frozenset({"open", "active", "boot_id", "config", "users_seen"})
_MAX_ONLY = frozenset({"max_requests_per_connection"})
MAX_MERGED_EXAMPLES = 10


def merge_readings(readings: list[dict[str, Any]]) -> dict[str, Any]:
    """The counters of one target over several lives (a restart between each reading):
    counts add up, examples are pooled (a few), and states are the last reading's."""
    merged: dict[str, Any] = {}
    for reading in readings:
        merged = _merge(merged, reading)
    return merged


def _merge(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    merged = dict(before)
    for key, value in after.items():
        old = before.get(key)
        if key in _LAST_ONLY or old is None:
            merged[key] = value
        elif key in _MAX_ONLY:
            merged[key] = max(old, value)
        elif isinstance(value, dict) and isinstance(old, dict):
            merged[key] = _merge(old, value)
        elif isinstance(value, list) and isinstance(old, list):
            merged[key] = (old + value)[:MAX_MERGED_EXAMPLES]
        elif isinstance(value, int | float) and not isinstance(value, bool):
            merged[key] = round(old + value, 3) if isinstance(value, float) else old + value
        else:
            merged[key] = value
    return merged
