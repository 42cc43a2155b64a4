"""The ramp, paced: a load process lets only so many sign-ins (and sign-outs) be in flight.

Locust starts users at ``--spawn-rate``, and each signs in at once. When the box is
busy (15,000 sessions on 2 cores), thousands of sign-ins in flight overflowed the
target's accept queue and the generator's loop: connect timeouts, retries, users left
without a session, a run that never reached its steady state. So each sign-in (the
first, and every later one) waits for a place: at most ``window`` are in flight in this
process, and the window follows their latency, additive increase, multiplicative
decrease (TCP's AIMD): it grows by one after a window's worth of sign-ins that answered
within :data:`TARGET_SHARE` of the client's timeout, and halves on one that did not, or
failed. A saturated box then signs its users in slowly instead of timing them out, and
every user gets a session. Sign-outs take a place too (the Locust adapter's user does
so): a stop of 15,000 users otherwise sends 15,000 sign-outs at once, and 80 of them
timed out connecting in one measured run.

Nothing here imports gevent: the Locust adapter hands in gevent's semaphore (so a
greenlet waits for its place cooperatively), tests a thread's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAX_WINDOW", "MIN_WINDOW", "START_WINDOW", "TARGET_SHARE", "SignInGate"]

MIN_WINDOW, START_WINDOW, MAX_WINDOW = 4, 32, 256
# A sign-in slower than this share of the client's timeout shrinks the window: at a
# quarter, a sign-in still has three quarters of its timeout left before it fails.
TARGET_SHARE = 0.25


@dataclass
class SignInGate:
    """At most ``window`` sign-ins in flight in this process, the window adapting (AIMD)."""

    timeout_s: float
    # Makes the semaphore greenlets (or threads) wait on: gevent.lock.Semaphore in Locust.
    semaphore: Callable[[int], Any]
    window: int = START_WINDOW
    in_flight: int = 0
    peak_in_flight: int = 0
    longest_wait_s: float = 0.0
    _places: Any = field(init=False)
    _debt: int = 0  # places to take back as sign-ins end (the window shrank)
    _grown: int = 0  # sign-ins within target since the window last grew

    def __post_init__(self) -> None:
        self._places = self.semaphore(self.window)

    def enter(self) -> None:
        """Wait (this greenlet only) for a place among the sign-ins in flight."""
        began = time.monotonic()
        self._places.acquire()
        self.longest_wait_s = max(self.longest_wait_s, time.monotonic() - began)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def leave(self, latency_s: float, ok: bool) -> None:
        """A sign-in ended after ``latency_s``: adapt the window, give the place back."""
        self.in_flight -= 1
        if ok and latency_s <= TARGET_SHARE * self.timeout_s:
            self._grown += 1
            if self._grown >= self.window and self.window < MAX_WINDOW:
                self._grown = 0
                self.window += 1
                self._places.release()  # one place more
        elif self.window > MIN_WINDOW:
            shrunk = max(MIN_WINDOW, self.window // 2)
            self._debt += self.window - shrunk
            self.window, self._grown = shrunk, 0
        if self._debt:
            self._debt -= 1  # this place is taken back
        else:
            self._places.release()
