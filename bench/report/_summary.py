"""``summary.json``: the one documented result schema, made by one builder for every door.

A run's load processes each leave a :class:`~bench.measure.Part`; :func:`build_summary`
merges them with a :class:`RunContext`, what the parts cannot know (how the run was asked
for, what the target saw, how the run ended). ``aegis-bench run``, the Locust master, a
web-UI test and the bare driver all call it, so every door writes every field; a field a
door cannot know is ``null``, never missing. The schema (version 1) is documented field
by field in the docs; fields are added, never renamed.
"""

from __future__ import annotations

import json
import platform
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.measure import LATE_START_S, Part, PartError, Recorder
from bench.options import ALL, TRANSPORT, Limits
from bench.outcome import judge_run
from bench.profile import AEGIS, Profile
from bench.report._generator import generator_section
from bench.report._isolation import isolation_section
from bench.report._lifecycle_summary import failures_by_kind, lifecycle_section
from bench.report._steady import endpoint_latency, latency, rss_kib_per_session, window_section

__all__ = ["SCHEMA_VERSION", "RunContext", "build_summary", "load_parts", "versions"]

SCHEMA_VERSION = 1
_VERSIONED = (
    "httpx", "httpcore", "httpx-aiohttp", "aiohttp", "anyio", "locust", "uvloop", "gevent",
    "uvicorn", "starlette", "aegis-bench",
)  # fmt: skip


def versions() -> dict[str, str]:
    """Versions of Python and of the libraries whose cost the figures measure."""
    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def _transport(loads: list[Part], context: RunContext) -> str:
    """The HTTP stack the load processes sent through, as they report it (else as asked,
    else httpx's own: a driver without the option)."""
    used = sorted({part.transport for part in loads if part.transport})
    return ",".join(used) or context.settings.get(TRANSPORT.name) or str(TRANSPORT.default)


def load_parts(folder: Path) -> list[Part]:
    """Every part file a run's processes wrote into ``folder``; unreadable ones skipped."""
    parts = []
    for path in sorted(folder.glob("part-*.json")):
        try:
            parts.append(Part.from_json(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, PartError):
            continue
    return parts


@dataclass(frozen=True)
class RunContext:
    """What a run's parts do not know, from the door that ran it.

    ``server`` is the target's ``/_bench/stats`` (None for backends without one) and
    ``server_state`` how reading it went (``available``, ``unavailable``, ``no answer:
    ...``, ``restarted ...``); ``oracle_expected``: the target had an oracle when the run
    began, so its absence now is missing evidence. ``settings`` are the run's option
    values as text, by option name; ``box_cpu`` the machine's CPU use sampled as (unix
    time, percent); ``established`` the TCP connections to a loopback target sampled
    about once a second.
    """

    strategy: str
    users: int
    target: str
    settings: Mapping[str, str] = field(default_factory=dict)
    duration_requested_s: float | None = None
    profile: Profile = AEGIS
    server: dict[str, Any] | None = None
    server_state: str | None = None
    oracle_expected: bool = False
    partial_reasons: tuple[str, ...] = ()
    box_cpu: tuple[tuple[float, float], ...] = ()
    established: tuple[int, ...] = ()
    time_wait_after: int | None = None
    locust_exit_code: int | None = None  # None when Locust itself wrote the summary
    stopped_by: str | None = None  # "SIGINT" or "SIGTERM" when a signal stopped the run
    target_restarts: tuple[Mapping[str, Any], ...] = ()
    limits: Limits = field(default_factory=Limits)
    driver: str = "locust"
    # The capacity forecast made before the ramp (``bench.capacity.Forecast.as_json``).
    forecast: Mapping[str, Any] | None = None
    # A snapshot of a test still running (the web UI's live view): its parts are
    # checkpoints and its clients open by nature, which says nothing of how it will end.
    live: bool = False


def _notes(users: int, users_peak: int, window_opened: bool, requests: int) -> list[str]:
    """Things a reader of the figures must know that are not failures."""
    notes = []
    if users_peak > users:
        notes.append(
            f"Locust ran up to {users_peak:,} users for {users:,} requested: its master "
            "re-dispatched users after missing a load process's heartbeat (a saturated "
            "generator; see locust.log), so more sessions ran than asked for"
        )
    if not window_opened and requests:
        notes.append(
            "no steady-state window (the run ended before all users were spawned and warmed "
            "up): latency, throughput and CPU figures cover the whole run, ramp-up included"
        )
    return notes


def _partial_reasons(
    context: RunContext, parts: list[Part], left_open: int, duration_s: float
) -> list[str]:
    reasons = list(context.partial_reasons)
    if context.live:
        return reasons
    if context.stopped_by:
        asked = context.duration_requested_s
        of = f" of {asked:g} s" if asked else ""
        reasons.insert(0, f"stopped by {context.stopped_by} after {duration_s:.0f} s{of}")
    unfinished = [p for p in parts if not p.final]
    if unfinished:
        reasons.append(
            f"{len(unfinished)} load process(es) stopped before their final write: "
            "their figures end at their last checkpoint"
        )
    if left_open > 0 and not context.stopped_by:
        reasons.append(f"{left_open:,} clients left open: not every user stopped")
    return reasons


def _exercised(settings: Mapping[str, str], summary: dict[str, Any]) -> dict[str, Any]:
    """Each option the run set whose effect it counts: what it asked for, and the count."""
    section = {}
    for option in ALL:
        asked = settings.get(option.name, "")
        if option.evidence is None or asked in ("", "0", "False", "false"):
            continue
        section[option.name] = {
            "asked": asked,
            "what": option.evidence.what,
            "count": option.evidence.count(summary),
            "counted_as": option.evidence.where,
        }
    return section


def _forecast(predicted: Mapping[str, Any] | None, achieved: float | None) -> dict[str, Any] | None:
    """The forecast next to what the run achieved (None when none was made)."""
    if predicted is None:
        return None
    offered = predicted.get("offered_rps")
    ratio = round(achieved / offered, 3) if achieved and offered else None
    return {**predicted, "achieved_rps": achieved, "achieved_over_offered": ratio}


def _box_cpu_in(samples: tuple[tuple[float, float], ...], window: dict[str, Any]) -> list[float]:
    """The machine-wide CPU samples taken inside the window (all when there is none)."""
    if not window["opened"]:
        return [pct for _, pct in samples]
    inside = [pct for t, pct in samples if window["opened_at"] <= t <= window["closed_at"]]
    return inside or [pct for _, pct in samples]


def _open_model(figures: Recorder, rate_rps: float | None) -> dict[str, Any] | None:
    if not rate_rps:
        return None
    total = figures.total()
    return {
        "rate_rps": rate_rps,
        "latency_from_intended_start_ms": latency(total.intended),
        "scheduled": total.counters["scheduled"],
        "late_starts": total.counters["late_starts"],
        "late_start_threshold_ms": LATE_START_S * 1000,
    }


def build_summary(parts: list[Part], context: RunContext) -> tuple[dict[str, Any], Recorder]:
    """Merge the parts into summary.json's dict; also return the merged recorder.

    Counts of requests, failures and checks cover the whole run; latency, throughput and
    CPU per request come from the steady-state window (see ``window``), or from the whole
    run, with a note, when the run never reached one. The returned recorder holds the
    figures' latencies with the whole run's timeline. ``outcome`` is the run's verdict
    (``bench.outcome.judge_run``), the same every door's exit code comes from.
    """
    recorder = Recorder()
    for part in parts:
        recorder.merge(part.recorder)
    server_state = context.server_state or ("available" if context.server else "unavailable")
    server = context.server if server_state == "available" else None
    loads = [p for p in parts if p.is_load]
    total = recorder.total()
    counters = total.counters
    requests, failures = counters["requests"], counters["failures"]
    started = [p.started_at for p in parts if p.started_at]
    stopped = [p.stopped_at for p in parts if p.stopped_at]
    duration_s = max(stopped) - min(started) if started and stopped else 0.0
    cpu_s = sum(p.cpu_s for p in parts)
    users_peak = sum(p.users_peak for p in loads)
    rss_growth = sum(max(0, p.rss_peak - p.rss_at_start) for p in loads)
    left_open = sum(p.clients_built - p.clients_released for p in loads)
    window, steady = window_section(loads)
    figures = steady if steady is not None else recorder
    if steady is not None:
        throughput = window["throughput_rps"]
        per_request = window["cpu_s"] / window["requests"] if window["requests"] else None
    else:
        throughput = round(requests / duration_s, 1) if duration_s > 0 else 0.0
        per_request = cpu_s / requests if requests else None
    latency_ms = latency(figures.total().histogram)
    generator = generator_section(
        loads,
        latency_p50_ms=latency_ms["p50"],
        box_cpu_percent=_box_cpu_in(context.box_cpu, window),
        use_window=steady is not None,
    )
    sign_in_failures: Counter[str] = Counter()
    for part in loads:
        sign_in_failures.update(part.sign_in_failures)
    reasons = _partial_reasons(context, parts, left_open, duration_s)
    server_connections = (server or {}).get("connections", {})
    summary: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "driver": context.driver,
        "strategy": context.strategy,
        "transport": _transport(loads, context),
        "profile": context.profile.name,
        "target": context.target,
        "settings": dict(sorted(context.settings.items())),
        "users": context.users,
        "users_peak": users_peak,
        "notes": _notes(context.users, users_peak, steady is not None, requests),
        "processes": len(loads),
        "duration_s": round(duration_s, 3),
        "duration_requested_s": context.duration_requested_s,
        "partial": bool(reasons or context.stopped_by),
        "partial_reasons": reasons,
        "interrupted": context.stopped_by is not None,
        "stopped_by": context.stopped_by,
        "locust_exit_code": context.locust_exit_code,
        "target_restarts": [dict(r) for r in context.target_restarts],
        "requests": requests,
        "http_requests": counters["http_requests"],
        "failures": failures,
        "failures_by_kind": failures_by_kind(recorder),
        "error_rate": round(failures / requests, 6) if requests else 0.0,
        "throughput_rps": throughput,
        "window": window,
        "latency_ms": latency_ms,
        "latency_bound_by_generator": generator["saturated"],
        "open_model": _open_model(figures, next((p.rate_rps for p in loads if p.rate_rps), None)),
        "client_cpu_us_per_request": round(per_request * 1e6, 1) if per_request else None,
        "client_cpu_s_whole_run": round(cpu_s, 3),
        "clients_left_open": left_open,
        "client_rss_kib_per_session": rss_kib_per_session(loads, steady is not None),
        "client_rss_kib_per_session_whole_run": (
            round(rss_growth / users_peak / 1024, 1) if users_peak else None
        ),
        # The pace of sign-ins and sign-outs (bench/pacing.py), over the load processes.
        "pacing": {
            "window": min(
                (p.gate_window for p in loads if p.gate_window is not None), default=None
            ),
            "in_flight_peak": sum(p.gate_in_flight_peak for p in loads),
            "wait_longest_s": max((p.gate_wait_longest_s for p in loads), default=0.0),
        },
        "users_without_session": {
            "count": sum(p.users_without_session for p in loads),
            "sign_in_failures": dict(sign_in_failures.most_common()),
        },
        "generator": generator,
        "lifecycle": lifecycle_section(
            recorder, context.profile, loads, (server or {}).get("oracle")
        ),
        "isolation": isolation_section(
            total.verdicts,
            recorder.findings,
            server,
            server_state=server_state,
            oracle_expected=context.oracle_expected,
            requests=requests,
            identity=(context.profile.identity, context.profile.identity_field),
        ),
        "connections": {
            "client_opened": counters["new_connections"],
            "server_accepted": server_connections.get("accepted"),
            "per_request": (round(counters["new_connections"] / requests, 4) if requests else None),
            "reconnects": total.verdicts["reconnected_session"],
            "server_reconnected_users": server_connections.get("users_multi_connection"),
            "tls_handshakes": counters["tls_handshakes"],
            "os_established_peak": max(context.established) if context.established else None,
            "time_wait_after": context.time_wait_after,
        },
        "endpoints": {
            name: {
                "requests": stats.counters["requests"],
                "failures": stats.counters["failures"],
                **endpoint_latency(figures.endpoints.get(name)),
                "new_connections": stats.counters["new_connections"],
                "failure_reasons": dict(stats.failure_reasons),
            }
            for name, stats in sorted(recorder.endpoints.items())
        },
        "server": server,
        "versions": versions(),
        "limits": context.limits.as_json(),
    }
    summary["forecast"] = _forecast(context.forecast, throughput)
    summary["exercised"] = _exercised(context.settings, summary)
    summary["outcome"] = judge_run(summary, context.limits).as_json()
    shown = figures.snapshot()
    shown["timeline"] = recorder.snapshot()["timeline"]
    merged = Recorder()
    merged.merge(shown)
    return summary, merged
