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

from bench.measure import (
    CALL_INVARIANTS,
    INVARIANTS,
    LATE_START_S,
    MAX_FINDINGS,
    NO_COOKIE_AFTER_SIGN_OUT_SERVER,
    Recorder,
)
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


# When the load generator, not the target, bounds the latencies a run reports (see the
# README's "Generator saturation" for the runs that calibrated these):
SATURATED_CPU_PERCENT = 90.0  # one load process's CPU (its GIL caps it at one core)
SATURATED_BOX_CPU_PERCENT = 90.0  # the whole machine, the embedded target included
# Event-loop lag (how late a timer fires on a load process's loop) that is this share of
# the reported median latency: that much of every request's time is the generator's.
SATURATED_LAG_SHARE = 0.10
# Lag below this is the loop's timer resolution (libuv's clock ticks in milliseconds),
# not queueing, however short the latencies it is compared with.
LAG_FLOOR_MS = 2.0


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _window_slice(values: list[float], bounds: Any) -> list[float]:
    """The samples a part's window covers (all of them when it has no window)."""
    if not isinstance(bounds, list) or len(bounds) != 2 or bounds[0] is None:
        return values
    start, end = bounds
    inside = values[int(start) : None if end is None else int(end)]
    return inside or values


def _generator(
    load_parts: list[dict[str, Any]],
    *,
    latency_p50_ms: float | None,
    box_cpu_percent: list[float] | None,
    use_window: bool,
) -> dict[str, Any]:
    """Whether the load generator bounded the run's latencies, and why.

    Flagged when a load process ran its core full, when the machine's CPU (the embedded
    target included) was full, or when event-loop lag was a tenth of the median latency
    or more (and at least :data:`LAG_FLOOR_MS`). Samples come from the steady-state window
    when there is one.
    """
    processes = []
    for part in load_parts:
        generator = part.get("generator", {})
        window = part.get("window") or {}
        cpu = [float(v) for v in generator.get("cpu_percent", [])]
        lag = [float(v) for v in generator.get("loop_lag_ms", [])]
        if use_window:
            cpu = _window_slice(cpu, window.get("cpu_samples"))
            lag = _window_slice(lag, window.get("lag_samples"))
        processes.append(
            {
                "pid": part.get("pid"),
                "cpu_percent_p50": _percentile(cpu, 0.5),
                "cpu_percent_max": max(cpu) if cpu else None,
                "loop_lag_ms_p50": _percentile(lag, 0.5),
                "loop_lag_ms_p99": _percentile(lag, 0.99),
                "loop_lag_ms_max": max(lag) if lag else None,
                "gc_frozen_objects": generator.get("gc_frozen_objects"),
                "gc_freeze_s": generator.get("gc_freeze_s"),
            }
        )
    reasons = []
    for process in processes:
        if (process["cpu_percent_p50"] or 0) >= SATURATED_CPU_PERCENT:
            reasons.append(
                f"load process {process['pid']} ran at {process['cpu_percent_p50']:.0f}% CPU"
            )
        lag_p50 = process["loop_lag_ms_p50"]
        share = lag_p50 / latency_p50_ms if lag_p50 is not None and latency_p50_ms else 0.0
        if lag_p50 is not None and lag_p50 >= LAG_FLOOR_MS and share >= SATURATED_LAG_SHARE:
            reasons.append(
                f"load process {process['pid']}'s event loop lagged {lag_p50:.1f} ms, "
                f"{share:.0%} of the {latency_p50_ms:.1f} ms median latency"
            )
    box_p50 = _percentile(box_cpu_percent or [], 0.5)
    if box_p50 is not None and box_p50 >= SATURATED_BOX_CPU_PERCENT:
        reasons.append(f"the machine's CPU ran at {box_p50:.0f}% (target included)")
    return {
        "saturated": bool(reasons),
        "reasons": reasons,
        "box_cpu_percent_p50": box_p50,
        "processes": processes,
    }


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


def _latency(histogram: Any) -> dict[str, float | None]:
    """p50, p90, p99, max and mean of a microsecond histogram, in ms (None when empty)."""
    if histogram is None or histogram.get_total_count() == 0:
        return {"p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    return {
        "p50": _ms(histogram.get_value_at_percentile(50)),
        "p90": _ms(histogram.get_value_at_percentile(90)),
        "p99": _ms(histogram.get_value_at_percentile(99)),
        "max": _ms(histogram.get_max_value()),
        "mean": _ms(histogram.get_mean_value()),
    }


def _window(load_parts: list[dict[str, Any]]) -> tuple[dict[str, Any], Recorder | None]:
    """The steady-state window over all load processes, and its merged recorder.

    The window exists when every load process opened one: throughput is then the sum of
    each process's window requests over its window's length, and CPU per request the
    window's CPU over its requests. None as recorder when there is no window.
    """
    windows = [part.get("window") or {} for part in load_parts]
    warmups = [w.get("warmup_s") for w in windows if w.get("warmup_s") is not None]
    section: dict[str, Any] = {
        "opened": False,
        "warmup_s": warmups[0] if warmups else None,
        "opened_at": None,
        "closed_at": None,
        "duration_s": None,
        "requests": 0,
        "failures": 0,
        "throughput_rps": None,
        "cpu_s": None,
    }
    if not windows or any(w.get("opened_at") is None for w in windows):
        return section, None
    recorder, rate, cpu_s = Recorder(), 0.0, 0.0
    for window in windows:
        snapshot = window.get("recorder", {})
        recorder.merge(snapshot)
        length = float(window["closed_at"]) - float(window["opened_at"])
        if length > 0:
            own = sum(
                e["counters"].get("requests", 0) for e in snapshot.get("endpoints", {}).values()
            )
            rate += own / length
        cpu_s += float(window.get("cpu_s", 0.0))
    counters = recorder.total().counters
    opened = min(float(w["opened_at"]) for w in windows)
    closed = max(float(w["closed_at"]) for w in windows)
    section.update(
        opened=True,
        opened_at=opened,
        closed_at=closed,
        duration_s=round(closed - opened, 3),
        requests=counters["requests"],
        failures=counters["failures"],
        throughput_rps=round(rate, 1),
        cpu_s=round(cpu_s, 4),
    )
    return section, recorder


REPLAY_METHOD = "REPLAY"  # bench.session.REPLAY: the report does not import sessions


def _failure_kind(reason: str) -> str:
    """The kind of a failure reason (``HTTP 503``, ``ReadTimeout``, ``truncated body: ...``)."""
    if reason.startswith("HTTP "):
        code = reason[5:8]
        if code == "401":
            return "unauthorized"
        if code.startswith("5"):
            return "server_error"
        return "unusable_answer" if code.startswith("2") else "client_error"
    if reason.startswith("truncated body"):
        return "truncated"
    if "Timeout" in reason:
        return "timeout"
    return "connect" if reason.startswith("Connect") else "other"


def _failures_by_kind(recorder: Recorder) -> dict[str, int]:
    """Every failed call by kind; the counts sum to ``failures``."""
    kinds: Counter[str] = Counter()
    for stats in recorder.endpoints.values():
        for reason, count in stats.failure_reasons.items():
            kinds[_failure_kind(reason)] += count
        # Reasons are kept for every failure; any shortfall is named, not dropped.
        missing = stats.counters["failures"] - sum(stats.failure_reasons.values())
        if missing > 0:
            kinds["other"] += missing
    return dict(kinds.most_common())


def _lifecycle(
    recorder: Recorder,
    profile: Profile,
    load_parts: list[dict[str, Any]],
    oracle: dict[str, Any] | None,
) -> dict[str, Any]:
    """The session lifecycle: as the wire showed it (401s, refreshes, retries, sign-ins,
    registrations included, and sign-outs), what the sessions did about it (the
    ``on_unauthorized`` calls, users signed in again, clients recycled), and every
    invariant with how often it ran and broke (see ``bench.measure.INVARIANTS``).

    ``oracle`` is the target's oracle counters when it has them (the server side of
    "no cookie after sign-out").
    """
    verdicts: Counter[str] = Counter()
    for name, stats in recorder.endpoints.items():
        method, _, path = name.partition(" ")
        # A replay's 401 is the refusal it tests for; a sign-in's, wrong credentials.
        if method != REPLAY_METHOD and path not in profile.credential_routes:
            verdicts.update(stats.verdicts)

    def requests_to(*paths: str) -> int:
        return sum(
            stats.counters["requests"]
            for name, stats in recorder.endpoints.items()
            if name.partition(" ")[2] in paths
        )

    processes = _lifecycle_of_processes(load_parts)
    checked, broken = processes.pop("checked"), processes.pop("broken")
    all_verdicts = recorder.total().verdicts
    for name, (ran, failed) in CALL_INVARIANTS.items():
        checked[name] += all_verdicts[ran]
        broken[name] += all_verdicts[failed]
    examples = processes.pop("examples")
    if oracle is not None and "signed_out_checked" in oracle:
        checked[NO_COOKIE_AFTER_SIGN_OUT_SERVER] += int(oracle["signed_out_checked"])
        broken[NO_COOKIE_AFTER_SIGN_OUT_SERVER] += int(oracle["signed_out_cookie"])
        examples += [
            {"invariant": NO_COOKIE_AFTER_SIGN_OUT_SERVER, **example}
            for example in oracle.get("signed_out_examples") or []
        ]
    refreshes = verdicts["refresh"]
    return {
        "unauthorized": verdicts["unauthorized"],
        "refreshes": refreshes,
        # How many 401s each refresh served, as its task saw them: over 1, single flight.
        "unauthorized_per_refresh": (
            round((verdicts["unauthorized"] - verdicts["retry_unauthorized"]) / refreshes, 2)
            if refreshes
            else None
        ),
        "refresh_failures": verdicts["refresh_failed"],
        "retries": verdicts["retry"],
        "on_unauthorized": verdicts["on_unauthorized"],
        "sign_ins": requests_to(profile.sign_in, profile.register),
        "sign_outs": requests_to(profile.sign_out),
        **processes,
        "invariants": {
            name: {"checked": checked[name], "broken": broken[name]}
            for name in [*INVARIANTS, *(n for n in checked if n not in INVARIANTS)]
        },
        "not_checked": [name for name in INVARIANTS if not checked[name]],
        "invariants_broken": sum(broken.values()),
        "invariant_examples": examples[:MAX_FINDINGS],
    }


def _lifecycle_of_processes(load_parts: list[dict[str, Any]]) -> dict[str, Any]:
    """What the load processes counted of the lifecycle, summed over their parts."""
    recycled = signed_in_again = 0
    served: Counter[str] = Counter()
    checked, broken = Counter[str](), Counter[str]()
    examples: list[dict[str, str]] = []
    for part in load_parts:
        lifecycle = part.get("lifecycle") or {}
        recycled += int(lifecycle.get("recycled_clients", 0))
        signed_in_again += int(lifecycle.get("signed_in_again", 0))
        served.update({k: int(v) for k, v in (lifecycle.get("refresh_served") or {}).items()})
        for name, counts in (lifecycle.get("invariants") or {}).items():
            checked[name] += int(counts.get("checked", 0))
            broken[name] += int(counts.get("broken", 0))
        examples += lifecycle.get("invariant_examples") or []
    return {
        "refresh_served": dict(sorted(served.items(), key=lambda item: int(item[0]))),
        "signed_in_again": signed_in_again,
        "recycled_clients": recycled,
        "checked": checked,
        "broken": broken,
        "examples": examples,
    }


def _rss_kib_per_session(load_parts: list[dict[str, Any]], use_window: bool) -> float | None:
    """The load processes' RSS growth from test start, per session, at its peak.

    From the peak within the steady-state window when there is one: the ramp's and the
    stop's bursts of calls in flight (every user signs out at once) raise the whole
    run's peak by a third to a half again, and are not what holding a session costs.
    """
    growth = users = 0
    for part in load_parts:
        window = part.get("window") or {}
        peak = int(window.get("rss_peak") or 0) if use_window else int(part.get("rss_peak", 0))
        if use_window and not peak:
            return None  # a part written before the window recorded its RSS
        growth += max(0, peak - int(part.get("rss_at_start", 0)))
        users += int(window.get("users_at_open", 0) if use_window else part.get("users_peak", 0))
    return round(growth / users / 1024, 1) if users else None


def _intended(recorder: Recorder) -> Any:
    """All endpoints' from-intended-start histograms merged (None outside the open model)."""
    return recorder.total().intended


def _box_cpu_in(samples: list[tuple[float, float]] | None, window: dict[str, Any]) -> list[float]:
    """The machine-wide CPU samples taken inside the window (all when there is none)."""
    if not samples:
        return []
    if not window["opened"]:
        return [pct for _, pct in samples]
    inside = [pct for t, pct in samples if window["opened_at"] <= t <= window["closed_at"]]
    return inside or [pct for _, pct in samples]


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
    box_cpu: list[tuple[float, float]] | None = None,
) -> tuple[dict[str, Any], Recorder]:
    """Merge the parts into the summary dict; also return the merged recorder.

    ``server`` is the target's ``/_bench/stats`` (None for backends without one), and
    ``server_state`` says how reading it went (``available``, ``unavailable``, ``no
    answer: ...``, ``malformed answer: ...``, ``restarted ...``). ``oracle_expected``:
    the target had an oracle when the run began, so its absence now is missing evidence.
    A part a process left as a checkpoint (killed before its final write) makes the
    summary partial, and so does a run without a single completed call.

    Counts of requests, failures and isolation checks cover the whole run; latency,
    throughput and CPU per request come from the steady-state window (see ``window``),
    or from the whole run, with a note, when the run never reached one. ``box_cpu`` is
    the machine's CPU use, sampled as (unix time, percent) while the run went. The
    returned recorder holds the figures' latencies with the whole run's timeline.
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
    window, steady = _window(load_parts_)
    rss_per_session = _rss_kib_per_session(load_parts_, steady is not None)
    figures = steady if steady is not None else recorder
    figures_total = figures.total()
    histogram = figures_total.histogram
    server_connections = (
        (server or {}).get("connections", {}) if server_state == "available" else {}
    )
    if requests == 0:
        reasons.append("no call completed: see locust.log and target.log in the run folder")
    notes = _notes(users, users_peak)
    if steady is None and requests:
        notes.append(
            "no steady-state window (the run ended before all users were spawned and warmed "
            "up): latency, throughput and CPU figures cover the whole run, ramp-up included"
        )
    if steady is not None:
        throughput = window["throughput_rps"]
        window_requests = window["requests"]
        cpu_per_request = (
            round(window["cpu_s"] / window_requests * 1e6, 1) if window_requests else None
        )
    else:
        throughput = round(requests / duration_s, 1) if duration_s > 0 else 0.0
        cpu_per_request = round(cpu_s / requests * 1e6, 1) if requests else None
    latency = _latency(histogram)
    intended = _intended(figures)
    rate_rps = next((p.get("rate_rps") for p in load_parts_ if p.get("rate_rps")), None)
    generator = _generator(
        load_parts_,
        latency_p50_ms=latency["p50"],
        box_cpu_percent=_box_cpu_in(box_cpu, window),
        use_window=steady is not None,
    )
    sign_in_failures: Counter[str] = Counter()
    for part in load_parts_:
        sign_in_failures.update(part.get("sign_in_failures", {}))

    summary: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "strategy": strategy,
        "users": users,
        "users_peak": users_peak,
        "notes": notes,
        "processes": len(load_parts_),
        "target": target,
        "duration_s": round(duration_s, 3),
        "duration_requested_s": duration_requested_s,
        "partial": bool(partial or reasons),
        "partial_reasons": reasons,
        "requests": requests,
        "http_requests": counters["http_requests"],
        "failures": failures,
        "failures_by_kind": _failures_by_kind(recorder),
        "error_rate": round(failures / requests, 6) if requests else 0.0,
        "throughput_rps": throughput,
        "window": window,
        "latency_ms": latency,
        "latency_bound_by_generator": generator["saturated"],
        "open_model": (
            {
                "rate_rps": rate_rps,
                "latency_from_intended_start_ms": _latency(intended),
                "scheduled": figures_total.counters["scheduled"],
                "late_starts": figures_total.counters["late_starts"],
                "late_start_threshold_ms": LATE_START_S * 1000,
            }
            if rate_rps
            else None
        ),
        "client_cpu_us_per_request": cpu_per_request,
        "client_cpu_s_whole_run": round(cpu_s, 3),
        "clients_left_open": sum(
            int(p.get("clients_built", 0)) - int(p.get("clients_released", 0)) for p in load_parts_
        ),
        "client_rss_kib_per_session": rss_per_session,
        "client_rss_kib_per_session_whole_run": (
            round(rss_growth / users_peak / 1024, 1) if users_peak else None
        ),
        "users_without_session": {
            "count": sum(int(p.get("users_without_session", 0)) for p in load_parts_),
            "sign_in_failures": dict(sign_in_failures.most_common()),
        },
        "generator": generator,
        "lifecycle": _lifecycle(
            recorder,
            profile,
            load_parts_,
            (server or {}).get("oracle") if server_state == "available" else None,
        ),
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
                **_endpoint_latency(figures.endpoints.get(name)),
                "new_connections": stats.counters["new_connections"],
                "failure_reasons": dict(stats.failure_reasons),
            }
            for name, stats in sorted(recorder.endpoints.items())
        },
        "server": server,
        "versions": versions(),
    }
    shown = figures.snapshot()
    shown["timeline"] = recorder.snapshot()["timeline"]
    merged = Recorder()
    merged.merge(shown)
    return summary, merged


def _endpoint_latency(stats: Any) -> dict[str, float | None]:
    """An endpoint's p50 and p99 in the figures (None when none fell in the window)."""
    if stats is None or stats.histogram.get_total_count() == 0:
        return {"p50_ms": None, "p99_ms": None}
    return {
        "p50_ms": _ms(stats.histogram.get_value_at_percentile(50)),
        "p99_ms": _ms(stats.histogram.get_value_at_percentile(99)),
    }
