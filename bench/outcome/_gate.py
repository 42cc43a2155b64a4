"""The gate's thresholds over a comparison: each limit against what the runs measured.

Figures are values over the repetitions; their intervals are shown in the messages.
Every check a comparison's :class:`~bench.options.Limits` sets is judged here, and
:func:`bench.outcome.judge_comparison` turns the broken ones into reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import numbers as fmt
from bench.options import Limits
from bench.outcome._judge import ReasonKind

__all__ = ["Check", "evaluate"]

# How each threshold's limit and observed value print, by the check name before any "[".
_SHOWN: dict[str, Callable[[float | None], str]] = {
    "max-leaks": fmt.count,
    "max-error-rate": fmt.percent,
    "max-p99-ms": fmt.ms,
    "max-conns-per-request": fmt.per_request,
    "min-speedup": fmt.ratio,
}


@dataclass(frozen=True)
class Check:
    """One threshold judged: what was allowed, what was seen, and whether it held."""

    name: str
    limit: float
    observed: float | None
    passed: bool
    message: str
    kind: ReasonKind = ReasonKind.THRESHOLD

    def shown(self, value: float | None) -> str:
        """``value`` (this check's limit or observation) printed as its quantity is."""
        show = _SHOWN.get(self.name.split("[", 1)[0])
        if show is None:
            return fmt.NOT_AVAILABLE if value is None else str(value)
        return show(value)


def _p99(figures: dict[str, Any]) -> tuple[float | None, str]:
    """The p99 the gate judges: at the offered rate when measured."""
    at_rate = figures["latency_at_rate_ms"]["p99"]
    if at_rate.get("value") is not None:
        return at_rate["value"], f"p99 at the offered rate {fmt.interval(at_rate, fmt.ms)} ms"
    return None, "no latency runs at an offered rate"


def evaluate(limits: Limits, comparison: dict[str, Any]) -> list[Check]:
    """Judge every threshold ``limits`` sets over a comparison (the combined summary's
    ``comparison``): leaks over every run, then per strategy."""
    strategies: dict[str, dict[str, Any]] = comparison["strategies"]
    n = comparison["repetitions"]
    leaks = sum(f["isolation"]["leaks"] for f in strategies.values())
    checks = [
        Check("max-leaks", limits.max_leaks, leaks, leaks <= limits.max_leaks,
              f"{fmt.count(leaks)} leaks (client, server, shared connections, accepted "
              "replays, foreign sessions) over every run", ReasonKind.LEAK)
    ]  # fmt: skip
    for name, figures in strategies.items():
        if limits.max_error_rate is not None:
            rate = float(figures["error_rate"])
            checks.append(
                Check(f"max-error-rate[{name}]", limits.max_error_rate, rate,
                      rate <= limits.max_error_rate,
                      f"{name}: error rate {fmt.percent(rate)} over every run "
                      f"({fmt.count(figures['failures'])} of {fmt.count(figures['requests'])} "
                      "calls failed)", ReasonKind.FAILED_REQUESTS)
            )  # fmt: skip
        if limits.max_p99_ms is not None:
            p99, shown = _p99(figures)
            ok = p99 is not None and p99 <= limits.max_p99_ms
            checks.append(
                Check(f"max-p99-ms[{name}]", limits.max_p99_ms, p99, ok,
                      f"{name}: {shown} (N = {n})")
            )  # fmt: skip
        # Every variant that pools (pooled itself, or pooled on each transport compared).
        if limits.max_conns_per_request is not None and figures.get("strategy", name) == "pooled":
            per_request = figures["connections_per_request"]
            value = per_request.get("value")
            ok = value is not None and value <= limits.max_conns_per_request
            checks.append(
                Check(f"max-conns-per-request[{name}]", limits.max_conns_per_request, value,
                      ok, f"{name}: {fmt.interval(per_request, fmt.per_request)} connections "
                      f"per request (N = {n})")
            )  # fmt: skip
    if limits.min_speedup is not None:
        checks.append(_speedup(limits.min_speedup, strategies, n))
    return checks


def _speedup(limit: float, strategies: dict[str, dict[str, Any]], n: int) -> Check:
    """pooled's mean capacity over per-call's, judged on its value."""
    pooled, per_call = strategies.get("pooled"), strategies.get("per-call")
    if not pooled or not per_call:
        return Check("min-speedup", limit, None, False,
                     "min-speedup needs both a pooled and a per-call run")  # fmt: skip
    a, b = pooled["capacity_rps"].get("value"), per_call["capacity_rps"].get("value")
    if not a or not b:
        return Check("min-speedup", limit, None, False,
                     "min-speedup: a strategy completed no call")  # fmt: skip
    speedup = a / b
    return Check("min-speedup", limit, round(speedup, 3), speedup >= limit,
                 f"pooled/per-call capacity {fmt.ratio(speedup)}x (N = {n})")  # fmt: skip
