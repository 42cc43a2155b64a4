"""The reference backend's faults, as the fault options set them."""

from __future__ import annotations

from bench.faults import Faults
from bench.options import _catalog as c
from bench.options._settings import Settings

__all__ = ["faults_of"]


def faults_of(settings: Settings, *, slow_s: float, after_reset: bool = True) -> Faults:
    """The faults the settings ask of the reference backend (none for unset options).

    ``slow_s``: how long a slow answer is held back (beyond the client's timeout);
    ``after_reset``: inject nothing before the target's first reset (a run's start).
    """
    return Faults(
        error_rate=settings.get(c.FAULT_5XX) or 0.0,
        slow_rate=settings.get(c.FAULT_SLOW) or 0.0,
        slow_s=slow_s,
        reset_rate=settings.get(c.FAULT_RESET) or 0.0,
        expire_every_s=settings.get(c.EXPIRE_EVERY),
        refresh_outage=settings.get(c.REFRESH_OUTAGE),
        after_reset=after_reset,
    )
