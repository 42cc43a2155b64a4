"""``summary.json``: the one documented result schema every command writes.

A run's load processes each leave a part file (``parts/part-<role>-<pid>.json``, see
``bench.locust_adapter``); :func:`build_summary` merges them with what the target saw.
The schema (version 1) is documented field by field in the README; later sections are
added, never renamed.
"""

from __future__ import annotations

import json
import platform
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.measure import MAX_FINDINGS, Recorder
from bench.profile import AEGIS, Profile

__all__ = [
    "ISOLATED",
    "LEAK",
    "NOT_CHECKED",
    "SCHEMA_VERSION",
    "build_summary",
    "load_parts",
    "versions",
]

SCHEMA_VERSION = 1
_VERSIONED = ("httpx", "httpcore", "anyio", "locust", "uvloop", "gevent", "uvicorn", "starlette")


def versions() -> dict[str, str]:
    """Versions of Python and of the libraries whose cost the figures measure."""
    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def load_parts(folder: Path) -> list[dict[str, Any]]:
    """Every part file a run's processes wrote into ``folder``, unreadable ones skipped."""
    parts = []
    for path in sorted(folder.glob("part-*.json")):
        try:
            parts.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return parts


# The outcomes of an isolation verdict: evidence of none, evidence of a leak, or none.
ISOLATED, LEAK, NOT_CHECKED = "isolated", "leak", "not checked"


def _checks(
    verdicts: Counter[str], oracle: dict[str, Any] | None, connections: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Each isolation check: how many times it ran, and how many times it failed."""
    return {
        "identity_client": {"ran": verdicts["identity_checked"], "failed": verdicts["leak"]},
        "session_cookie": {"ran": verdicts["cookie_checked"], "failed": verdicts["lost_session"]},
        "sign_out_cookie": {
            "ran": verdicts["sign_out_checked"],
            "failed": verdicts["foreign_session"],
        },
        "replay": {
            "ran": verdicts["replay_refused"] + verdicts["replay_accepted"],
            "failed": verdicts["replay_accepted"],
            "skipped": {
                "sign_out_failed": verdicts["replay_skipped_sign_out_failed"],
                "foreign_session": verdicts["replay_skipped_foreign_session"],
                "no_cookie": verdicts["replay_skipped_no_cookie"],
            },
        },
        "identity_server": {
            "ran": oracle.get("checked") if oracle else None,
            "failed": oracle.get("mismatches") if oracle else None,
        },
        "connections_server": {
            "ran": connections.get("accepted") if oracle else None,
            "failed": connections.get("multi_user") if oracle else None,
        },
    }


def _not_checked_reason(verdicts: Counter[str], requests: int, identity: tuple[str, str]) -> str:
    """Why no identity comparison ran, as specifically as the counters allow."""
    route, field = identity
    if verdicts["identity_field_missing"]:
        return (
            f"0 identity checks: {route} answered no field '{field}' "
            f"({verdicts['identity_field_missing']:,} times): set identity_field in the profile"
        )
    if verdicts["identity_not_object"]:
        return (
            f"0 identity checks: {route} answered something other than a JSON object "
            f"({verdicts['identity_not_object']:,} times): is 'identity' the identity route?"
        )
    if requests == 0:
        return "0 identity checks: no call completed"
    return f"0 identity checks: no identity answer from {route} and no owned records"


def _isolation(
    verdicts: Counter[str],
    findings: list[dict[str, str]],
    server: dict[str, Any] | None,
    *,
    server_state: str,
    oracle_expected: bool,
    requests: int,
    identity: tuple[str, str],
) -> dict[str, Any]:
    """Isolation judged from both sides, with one of three verdicts.

    ``leak`` when any check failed (with examples), ``not checked`` when there is no
    evidence either way (no identity comparison ran, or the target's oracle was
    expected but saw only part of the run or could not be read), else ``isolated``.
    """
    oracle = (server or {}).get("oracle") if server_state == "available" else None
    connections = (server or {}).get("connections", {}) if oracle else {}
    server_leaks = oracle.get("mismatches") if oracle else None
    examples = list(findings)
    for example in (oracle or {}).get("examples", [])[: max(0, MAX_FINDINGS - len(examples))]:
        examples.append(
            {
                "kind": "server_leak",
                "endpoint": str(example.get("path")),
                "user": str(example.get("declared")),
                "got": str(example.get("session_user")),
            }
        )
    checks = _checks(verdicts, oracle, connections)
    section: dict[str, Any] = {
        "verdict": ISOLATED,
        "reason": "",
        "checked": verdicts["identity_checked"],
        "checks": checks,
        "client_side_leaks": verdicts["leak"],
        "server_side_leaks": server_leaks,
        "shared_connections": connections.get("multi_user") if oracle else None,
        "foreign_sessions": verdicts["foreign_session"],
        "lost_sessions": verdicts["lost_session"],
        "lost_sessions_server": oracle.get("no_cookie") if oracle else None,
        "replay_checked": checks["replay"]["ran"],
        "replay_accepted": verdicts["replay_accepted"],
        "replay_skipped": sum(checks["replay"]["skipped"].values()),
        "unjudged_answers": {
            name: verdicts[name]
            for name in ("identity_field_missing", "identity_not_object", "owner_field_missing")
        },
        "server_oracle": server_state if oracle_expected or oracle else "unavailable",
        "crosswired_by_target": (server or {}).get("faults", {}).get("crosswired"),
        "examples": examples,
    }
    leaks = {
        "client-side leaks": section["client_side_leaks"],
        "server-side leaks": section["server_side_leaks"],
        "shared connections": section["shared_connections"],
        "replays accepted (the backend kept a revoked session)": section["replay_accepted"],
        "foreign sessions (a client carried someone else's session)": section["foreign_sessions"],
    }
    found = {name: count for name, count in leaks.items() if count}
    if found:
        section["verdict"] = LEAK
        section["reason"] = ", ".join(f"{count:,} {name}" for name, count in found.items())
    elif not section["checked"]:
        section["verdict"] = NOT_CHECKED
        section["reason"] = _not_checked_reason(verdicts, requests, identity)
    elif oracle_expected and not oracle:
        section["verdict"] = NOT_CHECKED
        section["reason"] = f"the target's server-side oracle {server_state}"
    else:
        server_side = (
            f", {checks['identity_server']['ran']:,} server-side checks"
            if oracle
            else "; client side only: the target has no server-side oracle"
        )
        section["reason"] = f"{section['checked']:,} identity checks{server_side}, none failed"
    section["failed"] = section["verdict"] == LEAK
    return section


# A load process past these is the bottleneck, not the target.
SATURATED_CPU_PERCENT = 90.0
SATURATED_LAG_MS = 50.0


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _generator(load_parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether the load generator limited the run: CPU and event-loop lag per process."""
    processes = []
    for part in load_parts:
        generator = part.get("generator", {})
        cpu = [float(v) for v in generator.get("cpu_percent", [])]
        lag = [float(v) for v in generator.get("loop_lag_ms", [])]
        processes.append(
            {
                "pid": part.get("pid"),
                "cpu_percent_p50": _percentile(cpu, 0.5),
                "cpu_percent_max": max(cpu) if cpu else None,
                "loop_lag_ms_p50": _percentile(lag, 0.5),
                "loop_lag_ms_p99": _percentile(lag, 0.99),
                "loop_lag_ms_max": max(lag) if lag else None,
            }
        )
    reasons = []
    for process in processes:
        if (process["cpu_percent_p50"] or 0) >= SATURATED_CPU_PERCENT:
            reasons.append(f"process {process['pid']} ran at {process['cpu_percent_p50']:.0f}% CPU")
        if (process["loop_lag_ms_p50"] or 0) >= SATURATED_LAG_MS:
            reasons.append(
                f"process {process['pid']}'s event loop lagged {process['loop_lag_ms_p50']:.0f} ms"
            )
    return {"saturated": bool(reasons), "reasons": reasons, "processes": processes}


def _notes(users: int, users_peak: int) -> list[str]:
    """Things a reader of the figures must know that are not failures."""
    notes = []
    if users_peak > users:
        notes.append(
            f"Locust ran up to {users_peak:,} users for {users:,} requested: its master "
            "re-dispatched users after missing a load process's heartbeat (a saturated "
            "generator; see locust.log), so more sessions ran than asked for"
        )
    return notes


def _ms(microseconds: float) -> float:
    return round(microseconds / 1000.0, 3)


def build_summary(
    parts: list[dict[str, Any]],
    *,
    strategy: str,
    users: int,
    duration_requested_s: float | None,
    partial: bool,
    target: str,
    server: dict[str, Any] | None,
    time_wait_after: int | None = None,
    server_state: str | None = None,
    oracle_expected: bool = False,
    profile: Profile = AEGIS,
    partial_reasons: list[str] | None = None,
) -> tuple[dict[str, Any], Recorder]:
    """Merge the parts into the summary dict; also return the merged recorder.

    ``server`` is the target's ``/_bench/stats`` (None for backends without one), and
    ``server_state`` says how reading it went (``available``, ``unavailable``, ``no
    answer: ...``, ``malformed answer: ...``, ``restarted ...``). ``oracle_expected``:
    the target had an oracle when the run began, so its absence now is missing evidence.
    A part a process left as a checkpoint (killed before its final write) makes the
    summary partial, and so does a run without a single completed call.
    """
    recorder = Recorder()
    for part in parts:
        recorder.merge(part.get("recorder", {}))
    reasons = list(partial_reasons or [])
    unfinished = [p for p in parts if p.get("final") is False]
    if unfinished:
        reasons.append(
            f"{len(unfinished)} load process(es) stopped before their final write: "
            "their figures end at their last checkpoint"
        )
    if server_state is None:
        server_state = "available" if server else "unavailable"
    load_parts_ = [p for p in parts if p.get("role") != "master"]
    total = recorder.total()
    counters = total.counters
    requests = counters["requests"]
    failures = counters["failures"]
    started = [p["started_at"] for p in parts if p.get("started_at")]
    stopped = [p["stopped_at"] for p in parts if p.get("stopped_at")]
    duration_s = max(stopped) - min(started) if started and stopped else 0.0
    cpu_s = sum(float(p.get("cpu_s", 0.0)) for p in parts)
    users_peak = sum(int(p.get("users_peak", 0)) for p in load_parts_)
    rss_growth = sum(max(0, p.get("rss_peak", 0) - p.get("rss_at_start", 0)) for p in load_parts_)
    histogram = total.histogram
    has_latency = histogram.get_total_count() > 0
    server_connections = (
        (server or {}).get("connections", {}) if server_state == "available" else {}
    )
    if requests == 0:
        reasons.append("no call completed: see locust.log and target.log in the run folder")
    sign_in_failures: Counter[str] = Counter()
    for part in load_parts_:
        sign_in_failures.update(part.get("sign_in_failures", {}))

    summary: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "strategy": strategy,
        "users": users,
        "users_peak": users_peak,
        "notes": _notes(users, users_peak),
        "processes": len(load_parts_),
        "target": target,
        "duration_s": round(duration_s, 3),
        "duration_requested_s": duration_requested_s,
        "partial": bool(partial or reasons),
        "partial_reasons": reasons,
        "requests": requests,
        "http_requests": counters["http_requests"],
        "failures": failures,
        "error_rate": round(failures / requests, 6) if requests else 0.0,
        "throughput_rps": round(requests / duration_s, 1) if duration_s > 0 else 0.0,
        "latency_ms": {
            "p50": _ms(histogram.get_value_at_percentile(50)) if has_latency else None,
            "p90": _ms(histogram.get_value_at_percentile(90)) if has_latency else None,
            "p99": _ms(histogram.get_value_at_percentile(99)) if has_latency else None,
            "max": _ms(histogram.get_max_value()) if has_latency else None,
            "mean": _ms(histogram.get_mean_value()) if has_latency else None,
        },
        "client_cpu_us_per_request": round(cpu_s / requests * 1e6, 1) if requests else None,
        "clients_left_open": sum(
            int(p.get("clients_built", 0)) - int(p.get("clients_released", 0)) for p in load_parts_
        ),
        "client_rss_kib_per_session": (
            round(rss_growth / users_peak / 1024, 1) if users_peak else None
        ),
        "users_without_session": {
            "count": sum(int(p.get("users_without_session", 0)) for p in load_parts_),
            "sign_in_failures": dict(sign_in_failures.most_common()),
        },
        "generator": _generator(load_parts_),
        "isolation": _isolation(
            total.verdicts,
            recorder.findings,
            server,
            server_state=server_state,
            oracle_expected=oracle_expected,
            requests=requests,
            identity=(profile.identity, profile.identity_field),
        ),
        "connections": {
            "client_opened": counters["new_connections"],
            "server_accepted": server_connections.get("accepted"),
            "per_request": (round(counters["new_connections"] / requests, 4) if requests else None),
            "reconnects": total.verdicts["reconnected_session"],
            "server_reconnected_users": server_connections.get("users_multi_connection"),
            "tls_handshakes": counters["tls_handshakes"],
            "time_wait_after": time_wait_after,
        },
        "endpoints": {
            name: {
                "requests": stats.counters["requests"],
                "failures": stats.counters["failures"],
                "p50_ms": _ms(stats.histogram.get_value_at_percentile(50)),
                "p99_ms": _ms(stats.histogram.get_value_at_percentile(99)),
                "new_connections": stats.counters["new_connections"],
                "failure_reasons": dict(stats.failure_reasons),
            }
            for name, stats in sorted(recorder.endpoints.items())
        },
        "server": server,
        "versions": versions(),
    }
    return summary, recorder
