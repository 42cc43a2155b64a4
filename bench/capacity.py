"""What this machine carries, and what a run will ask of it: the capacity forecast.

Before users start, ``aegis-bench run`` states three figures: the request rate this box
carries with the target on it (from a short calibration run, :class:`Calibration`,
cached per machine and version), what the requested users and think time will offer,
and the headroom between them. A run that would offer more than the box carries is
refused, with what to change, unless asked to go ahead: it would saturate the load
generator, and a saturated ramp turns into thousands of timeouts.

The model (measured on this project's 2-core machines, 2026-12-03):

- **Capacity**: a load process runs on one core at most (its GIL), and the machine's
  cores are shared with the target. So the box carries
  ``min(processes * P, cores * B / (client + server))`` requests a second at a client's
  ``client`` and the target's ``server`` CPU seconds per request, with ``P`` and ``B`` the
  CPU shares past which a run counts as generator-bound (:data:`SATURATED_CPU_PERCENT`,
  :data:`SATURATED_BOX_CPU_PERCENT`, the same limits that flag a run saturated). CPU per
  request is calibrated under paced load (users with a think time), which costs more per
  request than a saturated closed loop (each request wakes the loop on its own): the
  forecast errs low near the box's limit, where each wake of a loop serves several
  requests (2026-12-06, calibrated at 928 µs: 791 µs per request at 15,000 sessions
  and 1,666 requests a second). At a low rate it grows a little with sessions once the
  GC freeze is in (1,007 and 1,051 µs at 1,500 sessions, 1,062 to 1,070 at 15,000, at
  about 330 requests a second), where there is headroom to spare: so the calibration
  at 200 sessions stands for all.
- **Offered rate**: users each run one task, then wait their think time:
  ``users * calls_per_task / (think_mean + calls_per_task * latency)``; with ``--rate``
  (the open model), the rate. A closed loop (no think time) offers whatever the
  generator can do: it saturates by design, and is never refused.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "PLANNING_THINK_S",
    "SATURATED_BOX_CPU_PERCENT",
    "SATURATED_CPU_PERCENT",
    "Calibration",
    "Forecast",
    "carried_rps",
    "forecast",
    "sessions_carried",
]

# The think time a comparison states each variant's sessions at (a page view a few
# seconds long): how many sessions the box would carry with it.
PLANNING_THINK_S = 10.0
SATURATED_CPU_PERCENT = 90.0  # one load process's CPU (its GIL caps it at one core)
SATURATED_BOX_CPU_PERCENT = 90.0  # the whole machine, the embedded target included


@dataclass(frozen=True)
class Calibration:
    """What a short paced run measured on this machine (see ``bench/cli/_calibrate.py``)."""

    client_cpu_us_per_request: float
    server_cpu_us_per_request: float
    latency_p50_ms: float
    sessions: int
    requests: int
    measured_at: str  # ISO date and time
    machine: str  # what the cache is keyed by: CPU model, cores, versions

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        return cls(**data)


@dataclass(frozen=True)
class Forecast:
    """A run's forecast: what the box carries, what the run offers, the headroom."""

    capacity_rps: float
    offered_rps: float | None  # None: a closed loop (as fast as the generator goes)
    bound_by: str  # "generator" (its processes' cores) or "machine" (all cores, target's too)
    sessions: int
    processes: int
    calls_per_task: float
    calibration: Calibration

    @property
    def headroom(self) -> float | None:
        """Capacity over the offered rate, less one: 0.5 is 50% to spare, below 0 over."""
        if not self.offered_rps:
            return None
        return self.capacity_rps / self.offered_rps - 1.0

    @property
    def over_capacity(self) -> bool:
        """The run would offer more than the box carries (a closed loop never is)."""
        return self.offered_rps is not None and self.offered_rps > self.capacity_rps

    def lines(self) -> list[str]:
        """The forecast as the terminal states it before the ramp."""
        cal = self.calibration
        offered = (
            f"this run offers about {self.offered_rps:,.0f} requests a second ("
            f"{self.sessions:,} users, {self.calls_per_task:.2f} calls a task)"
            if self.offered_rps is not None
            else "this run is a closed loop: it offers whatever the generator can do"
        )
        headroom = self.headroom
        spare = (
            f"{headroom:+.0%} ({'over capacity' if headroom < 0 else 'to spare'})"
            if headroom is not None
            else "none: a closed loop saturates the generator by design"
        )
        return [
            f"capacity: this box carries about {self.capacity_rps:,.0f} requests a second "
            f"with the target on it ({self.processes} load process(es); calibrated "
            f"{cal.measured_at}: {cal.client_cpu_us_per_request:,.0f} µs of client and "
            f"{cal.server_cpu_us_per_request:,.0f} µs of server CPU a request)",
            f"offered: {offered}",
            f"headroom: {spare}",
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "capacity_rps": round(self.capacity_rps, 1),
            "offered_rps": None if self.offered_rps is None else round(self.offered_rps, 1),
            "headroom": None if self.headroom is None else round(self.headroom, 3),
            "over_capacity": self.over_capacity,
            "bound_by": self.bound_by,
            "sessions": self.sessions,
            "processes": self.processes,
            "calls_per_task": round(self.calls_per_task, 3),
            "calibration": self.calibration.as_json(),
        }


def carried_rps(
    client_cpu_us: float, server_cpu_us: float, *, processes: int, cores: int | None = None
) -> tuple[float, str]:
    """Requests a second the box carries at these CPU costs per request (see the model),
    and what bounds it: ``"generator"`` (its processes' cores) or ``"machine"``."""
    cores = cores or os.cpu_count() or 1
    client_s, server_s = client_cpu_us / 1e6, server_cpu_us / 1e6
    generator = processes * (SATURATED_CPU_PERCENT / 100) / client_s
    box = cores * (SATURATED_BOX_CPU_PERCENT / 100) / (client_s + server_s)
    return min(generator, box), "generator" if generator < box else "machine"


def sessions_carried(
    rps: float, *, think_mean_s: float, calls_per_task: float, latency_s: float = 0.0
) -> int:
    """Sessions that offer ``rps`` between them, each task's calls followed by a think
    time of ``think_mean_s`` (the offered rate's formula, solved for the users)."""
    return int(rps * (think_mean_s + calls_per_task * latency_s) / calls_per_task)


def forecast(
    calibration: Calibration,
    *,
    users: int,
    processes: int,
    think_mean_s: float,
    calls_per_task: float,
    rate_rps: float | None = None,
    cores: int | None = None,
) -> Forecast:
    """The forecast of a run of ``users`` on ``processes`` load processes (see the model)."""
    capacity, bound_by = carried_rps(
        calibration.client_cpu_us_per_request,
        calibration.server_cpu_us_per_request,
        processes=processes,
        cores=cores,
    )
    if rate_rps:
        offered: float | None = rate_rps
    elif think_mean_s > 0:
        task_s = calls_per_task * calibration.latency_p50_ms / 1000
        offered = users * calls_per_task / (think_mean_s + task_s)
    else:
        offered = None
    return Forecast(
        capacity_rps=capacity,
        bound_by=bound_by,
        offered_rps=offered,
        sessions=users,
        processes=processes,
        calls_per_task=calls_per_task,
        calibration=calibration,
    )
