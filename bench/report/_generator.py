"""summary.json's ``generator``: whether the load generator, not the target, bounded a run.

See the docs' "Generator saturation" for the runs that calibrated the limits.
"""

from __future__ import annotations

from typing import Any

from bench.capacity import SATURATED_BOX_CPU_PERCENT, SATURATED_CPU_PERCENT
from bench.measure import Part

__all__ = ["LAG_FLOOR_MS", "SATURATED_CPU_PERCENT", "generator_section", "percentile"]

# Event-loop lag (how late a timer fires on a load process's loop) that is this share of
# the reported median latency: that much of every request's time is the generator's.
SATURATED_LAG_SHARE = 0.10
# Lag below this is the loop's timer resolution (libuv's clock ticks in milliseconds),
# not queueing, however short the latencies it is compared with.
LAG_FLOOR_MS = 2.0


def percentile(values: list[float], fraction: float) -> float | None:
    """The value at ``fraction`` of the sorted values (None when there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _window_slice(values: list[float], bounds: list[int | None]) -> list[float]:
    """The samples a part's window covers (all of them when it has no window)."""
    if len(bounds) != 2 or bounds[0] is None:
        return values
    start, end = bounds
    inside = values[start:end]
    return inside or values


def generator_section(
    load_parts: list[Part],
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
        cpu, lag = part.generator.cpu_percent, part.generator.loop_lag_ms
        if use_window:
            cpu = _window_slice(cpu, part.window.cpu_samples)
            lag = _window_slice(lag, part.window.lag_samples)
        processes.append(
            {
                "pid": part.pid,
                "cpu_percent_p50": percentile(cpu, 0.5),
                "cpu_percent_max": max(cpu) if cpu else None,
                "loop_lag_ms_p50": percentile(lag, 0.5),
                "loop_lag_ms_p99": percentile(lag, 0.99),
                "loop_lag_ms_max": max(lag) if lag else None,
                "gc_frozen_objects": part.generator.gc_frozen_objects,
                "gc_freeze_s": part.generator.gc_freeze_s,
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
    box_p50 = percentile(box_cpu_percent or [], 0.5)
    if box_p50 is not None and box_p50 >= SATURATED_BOX_CPU_PERCENT:
        reasons.append(f"the machine's CPU ran at {box_p50:.0f}% (target included)")
    return {
        "saturated": bool(reasons),
        "reasons": reasons,
        "box_cpu_percent_p50": box_p50,
        "processes": processes,
    }
