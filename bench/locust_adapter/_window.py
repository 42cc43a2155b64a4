"""A load process's steady-state window: opened once spawned and warmed up, until stop."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.measure import PartWindow, Recorder, cpu_seconds, rss_bytes

__all__ = ["Window"]


@dataclass
class Window:
    """The steady-state window of this process: open once spawned and warmed up, until stop.

    Latency, throughput and CPU per request come from the calls recorded while it is
    open; ramp-up (users signing in) and the stop (users signing out) stay outside.
    """

    opened_at: float | None = None
    closed_at: float | None = None
    cpu_at_open: float = 0.0
    cpu_at_close: float = 0.0
    users_at_open: int = 0
    # The process's peak RSS while the window is open: what holding the sessions under
    # steady load costs, without the ramp's and the stop's bursts of calls in flight.
    rss_peak: int = 0
    # Where the window starts and ends in the process's CPU and loop-lag samples.
    samples_at_open: tuple[int, int] = (0, 0)
    samples_at_close: tuple[int, int] | None = None

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None and self.closed_at is None

    def open(self, users: int, samples: tuple[int, int]) -> None:
        """Open the window now (once: a test restarted later does not reopen it)."""
        if self.opened_at is None:
            self.opened_at, self.cpu_at_open, self.users_at_open = time.time(), cpu_seconds(), users
            self.samples_at_open = samples
            self.rss_peak = rss_bytes()

    def close(self, samples: tuple[int, int]) -> None:
        """Close the window now, if it is open."""
        if self.is_open:
            self.closed_at, self.cpu_at_close = time.time(), cpu_seconds()
            self.samples_at_close = samples

    def as_part(self, steady: Recorder, warmup_s: float) -> PartWindow:
        """The window as a part records it (still open: up to now)."""
        closed = self.closed_at
        cpu = self.cpu_at_close if closed is not None else cpu_seconds()
        close = self.samples_at_close or (None, None)
        return PartWindow(
            warmup_s=warmup_s,
            opened_at=self.opened_at,
            closed_at=closed if closed is not None else time.time(),
            still_open=self.is_open,
            cpu_s=cpu - self.cpu_at_open if self.opened_at is not None else 0.0,
            users_at_open=self.users_at_open,
            rss_peak=self.rss_peak,
            cpu_samples=[self.samples_at_open[0], close[0]],
            lag_samples=[self.samples_at_open[1], close[1]],
            recorder=steady.snapshot(),
        )
