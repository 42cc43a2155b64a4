"""Keep the cyclic garbage collector off the sessions' long-lived objects.

Every live session holds a few hundred objects (its client, pool, connection, cookie
jar, Locust user and greenlet) that live as long as the run. Python's cyclic GC walks
the oldest generation again and again, so its cost per request grew with the sessions
held: 809 µs per request at 300 sessions, 1,243 at 3,000, and 779 and 774 with the GC
off. Turning it off was no fix then (RSS grew 2-10x: every httpx response and its spent
body stream referred to each other, a cycle only the collector frees; ``APIClient`` now
breaks it, and a request leaves no cyclic garbage: ``bench/perf/session_memory.py``).

So, once all users are spawned and signed in, one full collection clears the garbage
the ramp made, ``gc.freeze()`` moves every survivor to the permanent generation, which
no later collection walks (a full collection at 3,000 sessions: 141-231 ms before, 0
after), and the youngest generation's threshold goes from 700 to
:data:`GEN0_THRESHOLD` allocations: with no cyclic garbage per request, collections
found nothing and still cost 50-100 µs per request at 32-256 concurrent calls; at
50,000 none ran (measured with ``python -m bench.perf.session_memory``). Objects made
afterwards are still collected, less often.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass

__all__ = ["GEN0_THRESHOLD", "Freeze", "freeze_long_lived"]

GEN0_THRESHOLD = 50_000


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
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, older, oldest)
    return Freeze(gc.get_freeze_count(), time.perf_counter() - started)
