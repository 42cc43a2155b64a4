"""What the parts of the session memory benchmark share: its figures and labels.

Only the standard library is imported here: the measuring process imports this module
before Locust, which must come first (it patches with gevent).
"""

from __future__ import annotations

import argparse

WARMUP_SESSIONS = 20
PASSWORD = "bench-password"
SIGN_IN_CONCURRENCY = 64
SPAWN_BATCH = 250
# Sessions must keep their one connection however long a phase takes: neither side
# retires it while the script runs (a real run with think times uses --keepalive 25).
CLIENT_KEEPALIVE_S = 3600.0
SERVER_KEEPALIVE_S = 7200.0
THINK_TIME_TEXT = "3600"  # a parked user sleeps this long between its tasks
KINDS = ("rss", "traced", "gc")
COMPONENTS = ("client", "measurement", "connection", "user")
LABELS = {
    "client": "client (APIClient, httpx, pool)",
    "measurement": "measurement (MeasuredSession)",
    "connection": "connection (sign-in, h11, socket)",
    "user": "Locust user + parked greenlet",
    "sum": "sum of the components",
    "adapter": "adapter path (AegisUser.on_start)",
}
TOP = 12
RSS_SAMPLE_S = 0.1
CHILD_TIMEOUT_S = 1800


def thresholds(text: str) -> tuple[int, int, int]:
    """``--thresholds``: the three values ``gc.set_threshold()`` takes, as ``10000,10,10``.

    Both command lines use it: the driver's, and the measuring process's it passes on.
    """
    parts = [int(part) for part in text.split(",")]
    if len(parts) != 3 or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: three positive integers, as 10000,10,10")
    return parts[0], parts[1], parts[2]
