"""CPU time and memory of this process, for CPU-per-request and RSS-per-session figures."""

from __future__ import annotations

import os
import resource

__all__ = ["cpu_seconds", "raise_open_file_limit", "rss_bytes"]

_PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds() -> float:
    """User plus system CPU time of this process so far, all threads included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_bytes() -> int:
    """Resident set size of the calling process now (sees OpenSSL's heap, unlike tracemalloc).

    Read from ``/proc/self`` on every call: a handle made before a fork (Locust's
    ``--processes``) would go on reporting the parent.
    """
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:  # not Linux: the peak is the best portable figure
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def raise_open_file_limit() -> int:
    """Raise this process's soft open-file limit to the hard one; return that limit.

    Every session holds a socket: thousands of sessions need as many descriptors.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard
