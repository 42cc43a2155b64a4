"""Keep the cyclic garbage collector off the sessions' long-lived objects.

Every live session holds a few hundred objects (its client, pool, connection, cookie
jar, Locust user and greenlet) that live as long as the run. Python's cyclic GC walks
the oldest generation again and again, so its cost per request grew with the sessions
held: 809 µs per request at 300 sessions, 1,243 at 3,000, and 779 and 774 with the GC
off. Turning it off is no fix (RSS grew 2-10x: the clients make reference cycles).
Instead, once all users are spawned and signed in, one full collection clears the
garbage the ramp made and ``gc.freeze()`` moves every survivor to the permanent
generation, which no later collection walks. Objects made afterwards (each request's)
are collected as usual.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass

__all__ = ["Freeze", "freeze_long_lived"]


@dataclass(frozen=True)
class Freeze:
    """What a freeze did: objects moved out of the GC's reach, and the collection's cost."""

    frozen_objects: int
    collect_s: float


def freeze_long_lived() -> Freeze:
    """Collect once, then freeze every surviving object (see the module docstring)."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    return Freeze(gc.get_freeze_count(), time.perf_counter() - started)
