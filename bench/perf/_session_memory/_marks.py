"""Memory marks, and what a phase is charged: the growth between two marks, per session.

Which figures a mark holds depends on the measuring process: ``rss`` counts the objects
the cyclic GC tracks, by type; ``traced`` takes a ``tracemalloc`` snapshot (its own
process, since tracing inflates RSS and its snapshots are objects too); every process
reads its resident memory.
"""

from __future__ import annotations

import gc
import os
from collections import Counter
from pathlib import Path
from typing import Any

from bench.perf._session_memory._common import TOP

# The repository's root (this file is bench/perf/_session_memory/_marks.py): traced file
# names are shown relative to it when no other marker matches.
_ROOT = Path(__file__).resolve().parents[3]


def mark(kind: str) -> dict[str, Any]:
    """The process's memory now, after a full collection, as the ``kind`` process sees it."""
    # Imported here, not at import time: the measuring process imports Locust first.
    from bench.measure import rss_bytes

    gc.collect()
    mark: dict[str, Any] = {"rss": rss_bytes()}
    if kind == "rss":  # the traced process's snapshots are objects too
        mark["types"] = _type_counts()
        mark["tracked"] = sum(mark["types"].values())
    elif kind == "traced":
        import tracemalloc  # only the traced process traces

        snapshot = tracemalloc.take_snapshot().filter_traces(
            (
                tracemalloc.Filter(False, tracemalloc.__file__),
                tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
                tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
            )
        )
        mark["snapshot"] = snapshot
    return mark


def charge(kind: str, before: dict[str, Any], after: dict[str, Any], count: int) -> dict[str, Any]:
    """What grew from ``before`` to ``after``, divided among ``count`` sessions."""
    entry: dict[str, Any] = {"rss_kib": (after["rss"] - before["rss"]) / 1024 / count}
    if kind == "rss":
        entry["gc_objects"] = (after["tracked"] - before["tracked"]) / count
        grown = after["types"] - before["types"]
        entry["types"] = [
            {"type": name, "per_session": round(number / count, 2)}
            for name, number in grown.most_common(TOP)
        ]
    elif kind == "traced":
        stats = after["snapshot"].compare_to(before["snapshot"], "filename")
        entry["traced_kib"] = sum(s.size_diff for s in stats) / 1024 / count
        entry["traced_blocks"] = sum(s.count_diff for s in stats) / count
        entry["files"] = [
            {
                "file": _short(s.traceback[0].filename),
                "kib": round(s.size_diff / 1024 / count, 3),
                "blocks": round(s.count_diff / count, 2),
            }
            for s in sorted(stats, key=lambda s: -s.size_diff)[:TOP]
            if s.size_diff > 0
        ]
    return entry


def _type_counts() -> Counter[str]:
    counts: Counter[str] = Counter()
    for obj in gc.get_objects():
        kind = type(obj)
        counts[f"{kind.__module__}.{kind.__qualname__}"] += 1
    return counts


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename.removeprefix(str(_ROOT) + os.sep)
