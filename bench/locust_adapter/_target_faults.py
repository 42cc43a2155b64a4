"""Faults for the reference backend, set at each test start from the tool's options.

The options (``--target-fault-5xx`` and the rest) are fields of the web UI's start
form, so each test can ask for its own faults. A test that asks for none after one that
did turns them off again. Only a master or a single process sets them, and never under
``aegis-bench run`` (``--aegis-parts-only``), whose embedded target got its faults on
the command line.
"""

from __future__ import annotations

import logging
from typing import Any

from bench.measure import server_stats

__all__ = ["FAULTS_PATH", "apply_target_faults", "why_target_cannot_inject"]

FAULTS_PATH = "/_bench/faults"
logger = logging.getLogger(__name__)
# Whether this process last set faults on the target (a test asking none clears them).
_SET: list[bool] = [False]


def why_target_cannot_inject(host: str) -> str | None:
    """Why ``host`` cannot take fault settings (not the reference backend), or None."""
    reading = server_stats(host, "/_bench/stats") if host else None
    if reading is not None and reading.state == "available":
        return None
    state = reading.state if reading is not None else "no host"
    return (
        f"aegis-bench: the target fault fields need the reference backend as target, and "
        f"{host or 'the target'} has no /_bench/ routes ({state}): set them to 0, or start "
        "the UI with aegis-bench ui (which embeds it)"
    )


def apply_target_faults(host: str, faults: dict[str, Any] | None) -> None:
    """Set ``faults`` on the target (``POST /_bench/faults``); None clears earlier ones."""
    if not host or (faults is None and not _SET[0]):
        return
    result = server_stats(host, FAULTS_PATH, method="POST", json=faults or {})
    if result.state == "available":
        _SET[0] = faults is not None
    else:  # still set, as far as we know: the next test tries to clear them again
        logger.error("aegis-bench: the target did not take the faults: %s", result.state)
