"""The steady-state window over all load processes, and the latency figures it gives."""

from __future__ import annotations

from typing import Any

from bench.measure import Part, Recorder

__all__ = ["endpoint_latency", "latency", "rss_kib_per_session", "window_section"]


def _ms(microseconds: float) -> float:
    return round(microseconds / 1000.0, 3)


def latency(histogram: Any) -> dict[str, float | None]:
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


def endpoint_latency(stats: Any) -> dict[str, float | None]:
    """An endpoint's p50 and p99 in the figures (None when none fell in the window)."""
    if stats is None or stats.histogram.get_total_count() == 0:
        return {"p50_ms": None, "p99_ms": None}
    return {
        "p50_ms": _ms(stats.histogram.get_value_at_percentile(50)),
        "p99_ms": _ms(stats.histogram.get_value_at_percentile(99)),
    }


def window_section(load_parts: list[Part]) -> tuple[dict[str, Any], Recorder | None]:
    """The steady-state window over all load processes, and its merged recorder.

    The window exists when every load process opened one: throughput is then the sum of
    each process's window requests over its window's length, and CPU per request the
    window's CPU over its requests. None as recorder when there is no window.
    """
    windows = [part.window for part in load_parts]
    warmups = [w.warmup_s for w in windows if w.warmup_s is not None]
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
    if not windows or any(w.opened_at is None or w.closed_at is None for w in windows):
        return section, None
    recorder, rate, cpu_s = Recorder(), 0.0, 0.0
    for window in windows:
        recorder.merge(window.recorder)
        length = (window.closed_at or 0.0) - (window.opened_at or 0.0)
        if length > 0:
            own = sum(
                e["counters"].get("requests", 0)
                for e in window.recorder.get("endpoints", {}).values()
            )
            rate += own / length
        cpu_s += window.cpu_s
    counters = recorder.total().counters
    opened = min(float(w.opened_at) for w in windows if w.opened_at is not None)
    closed = max(float(w.closed_at) for w in windows if w.closed_at is not None)
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


def rss_kib_per_session(load_parts: list[Part], use_window: bool) -> float | None:
    """The load processes' RSS growth from test start, per session, at its peak.

    From the peak within the steady-state window when there is one: the ramp's and the
    stop's bursts of calls in flight (every user signs out at once) raise the whole
    run's peak by a third to a half again, and are not what holding a session costs.
    """
    growth = users = 0
    for part in load_parts:
        peak = part.window.rss_peak if use_window else part.rss_peak
        if use_window and not peak:
            return None  # a part written before the window recorded its RSS
        growth += max(0, peak - part.rss_at_start)
        users += part.window.users_at_open if use_window else part.users_peak
    return round(growth / users / 1024, 1) if users else None
