"""The one recorder every command uses: exact latency histograms and call counters.

A :class:`Recorder` takes :class:`CallRecord` objects and keeps, per endpoint, an
HdrHistogram of latencies (microseconds, 3 significant digits, so percentiles are exact
to 0.1%, unlike Locust's rounded buckets) and counters; plus a per-second timeline for
charts. ``drain()`` hands out everything recorded since the last drain as a plain,
msgpack- and JSON-safe snapshot, and ``merge()`` adds such a snapshot in, which is how
Locust workers' numbers reach the master and how runs are combined.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from bench.measure._context import CallRecord

__all__ = [
    "COUNTERS",
    "LATE_START_S",
    "MAX_FINDINGS",
    "EndpointStats",
    "Recorder",
    "new_histogram",
]

# One microsecond to ten minutes, 3 significant digits.
_LOWEST_US, _HIGHEST_US, _DIGITS = 1, 600_000_000, 3

# Isolation findings kept as examples (the counters count them all).
MAX_FINDINGS = 10

COUNTERS = (
    "requests",
    "failures",
    "http_requests",
    "new_connections",
    "tls_handshakes",
    "response_bytes",
    "scheduled",
    "late_starts",
)

# Open model: a call that began more than this after its intended start counts as late.
LATE_START_S = 0.010


def new_histogram() -> HdrHistogram:
    """An empty latency histogram in microseconds."""
    return HdrHistogram(_LOWEST_US, _HIGHEST_US, _DIGITS)


@dataclass
class EndpointStats:
    """Everything recorded for one (method, endpoint) name.

    ``histogram`` holds service times (from the moment the call began); ``intended``,
    only for open-model calls, holds latencies from each call's intended start, which
    include the time a late call spent waiting for its turn (wrk2's correction for
    coordinated omission).
    """

    histogram: HdrHistogram = field(default_factory=new_histogram)
    counters: Counter[str] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    failure_reasons: Counter[str] = field(default_factory=Counter)
    intended: HdrHistogram | None = None

    def merge(self, other: EndpointStats) -> None:
        self.histogram.add(other.histogram)
        if other.intended is not None:
            if self.intended is None:
                self.intended = new_histogram()
            self.intended.add(other.intended)
        self.counters.update(other.counters)
        self.verdicts.update(other.verdicts)
        self.failure_reasons.update(other.failure_reasons)


class Recorder:
    """Accumulates call records; drains to and merges from plain snapshots."""

    def __init__(self, *, keep_timeline: bool = True) -> None:
        self.endpoints: dict[str, EndpointStats] = {}
        # False for a recorder whose per-second timeline nobody reads (it costs a
        # clock read and a dict update per call).
        self.keep_timeline = keep_timeline
        # Per wall-clock second: requests, failures, new connections (for charts).
        self.timeline: dict[int, list[int]] = {}
        self.findings: list[dict[str, str]] = []

    def record(self, call: CallRecord) -> None:
        """Add one finished call."""
        name = f"{call.method} {call.endpoint}"
        stats = self.endpoints.get(name)
        if stats is None:
            stats = self.endpoints[name] = EndpointStats()
        stats.histogram.record_value(max(1, round(call.latency_s * 1e6)))
        counters = stats.counters
        if call.start_delay_s is not None:
            if stats.intended is None:
                stats.intended = new_histogram()
            delay = max(0.0, call.start_delay_s)
            stats.intended.record_value(max(1, round((call.latency_s + delay) * 1e6)))
            counters["scheduled"] += 1
            if delay > LATE_START_S:
                counters["late_starts"] += 1
        counters["requests"] += 1
        counters["http_requests"] += call.http_requests
        counters["response_bytes"] += call.response_bytes
        if call.new_connections:  # rare for pooled sessions: skip the updates otherwise
            counters["new_connections"] += call.new_connections
            counters["tls_handshakes"] += call.tls_handshakes
        if call.identity_checks:
            stats.verdicts["identity_checked"] += call.identity_checks
        if call.cookie_checked:
            stats.verdicts["cookie_checked"] += 1
        if not call.ok:
            counters["failures"] += 1
            stats.failure_reasons[call.failure_message()] += 1
        if call.verdicts is not None:
            stats.verdicts.update(call.verdicts)
        if call.findings is not None and len(self.findings) < MAX_FINDINGS:
            self.findings.extend(call.findings[: MAX_FINDINGS - len(self.findings)])
        if not self.keep_timeline:
            return
        second = int(time.time())
        slot = self.timeline.get(second)
        if slot is None:
            slot = self.timeline[second] = [0, 0, 0]
        slot[0] += 1
        if not call.ok:
            slot[1] += 1
        slot[2] += call.new_connections

    def merge(self, snapshot: dict[str, Any]) -> None:
        """Add a snapshot made by :meth:`drain` (from this or another process)."""
        for name, data in snapshot.get("endpoints", {}).items():
            intended = data.get("intended")
            incoming = EndpointStats(
                histogram=HdrHistogram.decode(data["histogram"]),
                counters=Counter(data["counters"]),
                verdicts=Counter(data["verdicts"]),
                failure_reasons=Counter(data["failure_reasons"]),
                intended=HdrHistogram.decode(intended) if intended else None,
            )
            if name in self.endpoints:
                self.endpoints[name].merge(incoming)
            else:
                self.endpoints[name] = incoming
        room = MAX_FINDINGS - len(self.findings)
        if room > 0:
            self.findings.extend(snapshot.get("findings", [])[:room])
        for second, values in snapshot.get("timeline", {}).items():
            slot = self.timeline.setdefault(int(second), [0, 0, 0])
            for i, value in enumerate(values):
                slot[i] += value

    def snapshot(self) -> dict[str, Any]:
        """Everything recorded so far as a plain snapshot; the recorder keeps it all.

        Writing a snapshot never loses data: a process that writes a checkpoint and later
        its final part writes the whole run both times (the final one replaces the other).
        """
        return {
            "endpoints": {
                name: {
                    "histogram": stats.histogram.encode().decode("ascii"),
                    "counters": dict(stats.counters),
                    "verdicts": dict(stats.verdicts),
                    "failure_reasons": dict(stats.failure_reasons),
                    "intended": (
                        stats.intended.encode().decode("ascii")
                        if stats.intended is not None
                        else None
                    ),
                }
                for name, stats in self.endpoints.items()
            },
            "timeline": {str(second): values for second, values in self.timeline.items()},
            "findings": list(self.findings),
        }

    def drain(self) -> dict[str, Any]:
        """Return everything recorded since the last drain as a snapshot, and forget it."""
        snapshot = self.snapshot()
        self.endpoints = {}
        self.timeline = {}
        self.findings = []
        return snapshot

    def total(self) -> EndpointStats:
        """All endpoints merged into one."""
        combined = EndpointStats()
        for stats in self.endpoints.values():
            combined.merge(stats)
        return combined
