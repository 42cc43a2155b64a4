"""CPU time and memory of this process, for CPU-per-request and RSS-per-session figures."""

from __future__ import annotations

import resource

import psutil

__all__ = ["cpu_seconds", "rss_bytes"]

_PROCESS = psutil.Process()


def cpu_seconds() -> float:
    """User plus system CPU time of this process so far, all threads included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_bytes() -> int:
    """Resident set size now (sees OpenSSL's heap, which tracemalloc cannot)."""
    return int(_PROCESS.memory_info().rss)
