"""A comparison's figures per strategy, across its repetitions (``comparison`` in summary.json).

Input: the run folders of a comparison (see ``bench/cli/_compare.py``), each tagged with
its strategy, phase (``capacity``: closed loop; ``at-rate``: the open model at one
offered rate) and repetition. Output: per strategy, every headline figure as an
:class:`~bench.report._repetitions.Interval` over the repetitions, the isolation verdict
over all its runs, and the throughput ratios.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.capacity import PLANNING_THINK_S, carried_rps, sessions_carried
from bench.outcome import LEAK_FIELDS
from bench.profile import AEGIS, load_profile
from bench.report._lifecycle import combined_lifecycle
from bench.report._repetitions import RERUN_WIDENING, ratio_interval, rerun_interval
from bench.report._run_folder import load_summary
from bench.steps import calls_per_task

__all__ = [
    "AT_RATE",
    "CAPACITY",
    "PhaseRun",
    "build_comparison",
]

CAPACITY, AT_RATE = "capacity", "at-rate"


@dataclass(frozen=True)
class PhaseRun:
    """One run of a comparison: which strategy, phase and repetition, and its folder."""

    strategy: str
    phase: str
    repetition: int  # from 1
    folder: Path


def _per_request(value: float | None, requests: int, scale: float = 1.0) -> float | None:
    if value is None or not requests:
        return None
    return value * scale / requests


def _isolation(runs: list[tuple[PhaseRun, dict[str, Any]]]) -> dict[str, Any]:
    """One verdict over all of a strategy's runs: any leak leaks, any run unchecked is not
    checked (a comparison is only as checked as its least checked run)."""
    totals: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    unchecked = []
    for run, summary in runs:
        iso = summary["isolation"]
        for key in (*LEAK_FIELDS, "checked"):
            totals[key] += int(iso.get(key) or 0)
        if iso["verdict"] == "leak" and not examples:
            examples = list(iso.get("examples", []))
        if iso["verdict"] == "not checked":
            unchecked.append(f"{run.phase} {run.repetition}: {iso['reason']}")
    leaks = {key: totals[key] for key in LEAK_FIELDS if totals[key]}
    if leaks:
        verdict = "leak"
        reason = ", ".join(f"{count:,} {key.replace('_', ' ')}" for key, count in leaks.items())
    elif unchecked or not runs:
        verdict = "not checked"
        reason = "; ".join(unchecked) or "no run"
    else:
        verdict = "isolated"
        reason = f"{totals['checked']:,} identity checks over {len(runs)} runs, none failed"
    return {
        "verdict": verdict,
        "reason": reason,
        "runs": len(runs),
        "checked": totals["checked"],
        **{key: totals[key] for key in LEAK_FIELDS},
        "leaks": sum(totals[key] for key in LEAK_FIELDS),
        "examples": examples,
    }


def _figures(runs: list[tuple[PhaseRun, dict[str, Any]]], phase: str) -> list[dict[str, Any]]:
    return [summary for run, summary in sorted(runs, key=lambda r: r[0].repetition)
            if run.phase == phase]  # fmt: skip


def _server_cpu(s: dict[str, Any]) -> float | None:
    return _per_request((s.get("server") or {}).get("cpu_s"), s["requests"], 1e6)


def _sessions_carried(s: dict[str, Any]) -> int | None:
    """Sessions this box would carry at this run's CPU costs per request, each pausing
    :data:`PLANNING_THINK_S` between tasks (``bench.capacity``'s model)."""
    client = s.get("client_cpu_us_per_request")
    if not client:
        return None
    rps, _ = carried_rps(client, _server_cpu(s) or 0.0, processes=int(s["processes"] or 1))
    path = (s.get("settings") or {}).get("profile")
    calls = calls_per_task(load_profile(Path(path)) if path else AEGIS)
    return sessions_carried(rps, think_mean_s=PLANNING_THINK_S, calls_per_task=calls)


def _strategy(runs: list[tuple[PhaseRun, dict[str, Any]]]) -> dict[str, Any]:
    capacity, at_rate = _figures(runs, CAPACITY), _figures(runs, AT_RATE)

    def over(summaries: list[dict[str, Any]], pick: Any) -> dict[str, Any]:
        return rerun_interval([pick(s) for s in summaries]).as_json()

    first = runs[0][1] if runs else {}

    def intended(s: dict[str, Any], quantile: str) -> float | None:
        open_model = s.get("open_model") or {}
        return (open_model.get("latency_from_intended_start_ms") or {}).get(quantile)

    requests = sum(s["requests"] for _, s in runs)
    failures = sum(s["failures"] for _, s in runs)
    return {
        "strategy": first.get("strategy"),
        "transport": first.get("transport", "httpcore"),
        "runs": {CAPACITY: len(capacity), AT_RATE: len(at_rate)},
        "capacity_rps": over(capacity, lambda s: s["throughput_rps"] or None),
        "connections_per_request": over(capacity, lambda s: s["connections"]["per_request"]),
        "tls_handshakes_per_request": over(
            capacity,
            lambda s: _per_request(s["connections"].get("tls_handshakes"), s["requests"]),
        ),
        "client_cpu_us_per_request": over(capacity, lambda s: s["client_cpu_us_per_request"]),
        "server_cpu_us_per_request": over(capacity, _server_cpu),
        # Paced (the open model): what sessions with a think time cost, and so carry.
        "client_cpu_us_per_request_at_rate": over(
            at_rate, lambda s: s["client_cpu_us_per_request"]
        ),
        "sessions_carried": over(at_rate, _sessions_carried),
        "achieved_rate_rps": over(at_rate, lambda s: s["throughput_rps"] or None),
        "latency_at_rate_ms": {
            q: over(at_rate, lambda s, q=q: intended(s, q)) for q in ("p50", "p99")
        },
        "service_time_at_rate_ms": {
            q: over(at_rate, lambda s, q=q: s["latency_ms"][q]) for q in ("p50", "p99")
        },
        "late_starts_at_rate": sum(
            int((s.get("open_model") or {}).get("late_starts") or 0) for s in at_rate
        ),
        "scheduled_at_rate": sum(
            int((s.get("open_model") or {}).get("scheduled") or 0) for s in at_rate
        ),
        "saturated_runs": {
            CAPACITY: sum(1 for s in capacity if s["generator"]["saturated"]),
            AT_RATE: sum(1 for s in at_rate if s["generator"]["saturated"]),
        },
        # Latency at the offered rate is the generator's, not the target's, if any
        # latency run saturated the generator.
        "latency_bound_by_generator": any(s["generator"]["saturated"] for s in at_rate),
        "requests": requests,
        "failures": failures,
        "error_rate": round(failures / requests, 6) if requests else 0.0,
        "partial_runs": sum(1 for _, s in runs if s["partial"]),
        "isolation": _isolation(runs),
        "lifecycle": combined_lifecycle([s.get("lifecycle") or {} for _, s in runs]),
    }


def build_comparison(
    runs: list[PhaseRun],
    strategies: list[str],
    *,
    repetitions: int,
    offered_rate_rps: float | None,
    offered_rate_from: str,
) -> dict[str, Any]:
    """The ``comparison`` section: per-strategy intervals, throughput ratios, the method."""
    loaded = [(run, load_summary(run.folder)) for run in runs]
    per_strategy = {
        name: _strategy([(run, s) for run, s in loaded if run.strategy == name])
        for name in strategies
    }

    def capacities(name: str) -> list[float | None]:
        by_repetition = {
            run.repetition: s["throughput_rps"] or None
            for run, s in loaded
            if run.strategy == name and run.phase == CAPACITY
        }
        return [by_repetition.get(i) for i in range(1, repetitions + 1)]

    first = strategies[0]
    ratios = {
        name: ratio_interval(capacities(first), capacities(name)).as_json()
        for name in strategies[1:]
    }
    return {
        "repetitions": repetitions,
        "interval": (
            f"95% rerun interval across the repetitions (Student's t, sqrt(2/N), widened "
            f"x{RERUN_WIDENING:g}): where the same command's value should land 95% of the time"
        ),
        "first": first,
        "second": strategies[1] if len(strategies) > 1 else None,
        "throughput_ratio": ratios.get(strategies[1]) if len(strategies) > 1 else None,
        "throughput_ratios": ratios,
        "offered_rate_rps": offered_rate_rps,
        "offered_rate_from": offered_rate_from,
        "strategies": per_strategy,
    }
