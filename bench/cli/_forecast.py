"""``aegis-bench run``'s capacity forecast: stated before the ramp, refused when over.

A paced run (a think time, or ``--rate``) gets a forecast from this machine's
calibration (``_calibrate.py``): what the box carries, what the run offers, the
headroom. One that offers more than the box carries is refused with what to change,
unless ``--over-capacity``. A closed loop offers whatever the generator can do: it
saturates by design, needs no calibration, and is never refused.
"""

from __future__ import annotations

import math
import os

from bench.capacity import Forecast, forecast, sessions_carried
from bench.cli._calibrate import calibration
from bench.cli._parser import UsageError
from bench.options import (
    BURSTS,
    CALIBRATE,
    CHURN,
    OVER_CAPACITY,
    PROCESSES,
    PROFILE,
    RATE,
    THINK_TIME,
    USERS,
    Settings,
)
from bench.profile import AEGIS, load_profile
from bench.steps import calls_per_task

__all__ = ["forecast_run"]


def _advice(result: Forecast, think_mean_s: float) -> str:
    """What to change so that the run fits the box."""
    cal = result.calibration
    per_call = cal.latency_p50_ms / 1000
    needed_think = result.sessions * result.calls_per_task / result.capacity_rps - (
        result.calls_per_task * per_call
    )
    fitting_users = sessions_carried(
        result.capacity_rps,
        think_mean_s=think_mean_s,
        calls_per_task=result.calls_per_task,
        latency_s=per_call,
    )
    ways = []
    if think_mean_s > 0:
        ways.append(f"a mean think time of {math.ceil(needed_think):,} s or more (--think-time)")
        ways.append(f"{fitting_users:,} users or fewer (--users)")
    else:
        ways.append(f"a lower --rate (at most {result.capacity_rps:,.0f})")
    if result.bound_by == "generator" and result.processes < (os.cpu_count() or 1):
        ways.append(f"more load processes (--processes {os.cpu_count()})")
    ways.append("workers on a second machine (docs/distributed.md)")
    return "; ".join(ways)


def forecast_run(settings: Settings, *, default_scenario: bool) -> Forecast | None:
    """The run's forecast, printed; a :class:`UsageError` when it is over capacity and
    not allowed to be. None for a closed loop (nothing to forecast)."""
    think = settings[THINK_TIME]
    think_mean_s = (think.low + think.high) / 2
    rate = settings.get(RATE)
    if not rate and think_mean_s <= 0:
        return None  # a closed loop offers whatever the generator can do: nothing to forecast
    path = settings[PROFILE]
    profile = load_profile(path) if path is not None else AEGIS
    calls = calls_per_task(profile, churn=settings[CHURN], bursts=settings[BURSTS])
    result = forecast(
        calibration(settings, again=settings[CALIBRATE]),
        users=settings[USERS],
        processes=settings[PROCESSES],
        think_mean_s=think_mean_s,
        calls_per_task=calls if default_scenario or rate else 1.0,
        rate_rps=rate,
    )
    for line in result.lines():
        print(f"aegis-bench: {line}", flush=True)
    if not default_scenario and not rate:
        print("aegis-bench: (a custom scenario: its calls per task are taken as 1)")
    if result.over_capacity and not settings[OVER_CAPACITY]:
        assert result.offered_rps is not None
        raise UsageError(
            f"this run would offer about {result.offered_rps:,.0f} requests a second, more "
            f"than the {result.capacity_rps:,.0f} this box carries with the target on it: "
            f"the generator would saturate and the ramp time out. Change one of: "
            f"{_advice(result, think_mean_s)}; or pass --over-capacity to run it anyway "
            "(flagged generator-bound)"
        )
    return result
