"""A part: what one load process (or a master) measured of one test, as a typed record.

Written by the load processes (the Locust adapter, the bare driver) into
``parts/part-<role>-<pid>-<test>.json`` or sent to a master, and read by whoever merges
them (``bench.report.build_summary``). Versioned: :data:`PART_SCHEMA` changes when a
field changes meaning; a reader refuses a part of another schema instead of misreading
it (:class:`PartError`). New fields get defaults, so older parts of the same schema read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PART_SCHEMA", "Part", "PartError", "PartGenerator", "PartLifecycle", "PartWindow"]

PART_SCHEMA = 2


class PartError(ValueError):
    """A part that cannot be read as this version's :class:`Part`."""


@dataclass
class PartWindow:
    """The process's steady-state window (see ``bench.locust_adapter``'s ``Window``)."""

    warmup_s: float | None = None
    opened_at: float | None = None
    closed_at: float | None = None
    still_open: bool = False
    cpu_s: float = 0.0
    users_at_open: int = 0
    rss_peak: int = 0
    # [start, end) of the window in generator.cpu_percent and .loop_lag_ms.
    cpu_samples: list[int | None] = field(default_factory=lambda: [None, None])
    lag_samples: list[int | None] = field(default_factory=lambda: [None, None])
    recorder: dict[str, Any] = field(default_factory=dict)  # a Recorder snapshot


@dataclass
class PartGenerator:
    """How busy the process was: CPU % per second, event-loop lag, the GC freeze."""

    cpu_percent: list[float] = field(default_factory=list)
    loop_lag_ms: list[float] = field(default_factory=list)
    gc_frozen_objects: int | None = None
    gc_freeze_s: float | None = None


@dataclass
class PartLifecycle:
    """What the process counted of the session lifecycle."""

    recycled_clients: int = 0
    signed_in_again: int = 0
    bursts: int = 0  # burst tasks run (concurrent calls of one client)
    refresh_served: dict[str, int] = field(default_factory=dict)  # 401s served -> refreshes
    invariants: dict[str, dict[str, int]] = field(default_factory=dict)  # checked, broken
    invariant_examples: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Part:
    """One process's measurements of one test so far (``final`` once its users stopped)."""

    role: str  # "local", "worker" or "master"
    pid: int = 0
    test_seq: int = 0
    final: bool = False
    strategy: str = ""
    transport: str = ""  # the HTTP stack its clients sent through (an option's name)
    started_at: float | None = None
    stopped_at: float | None = None
    cpu_s: float = 0.0
    rss_at_start: int = 0
    rss_peak: int = 0
    users_peak: int = 0
    clients_built: int = 0
    clients_released: int = 0
    sessions_alive: int = 0
    users_signing_in: int = 0
    # The pace of sign-ins and sign-outs (bench/pacing.py): the window of them in flight
    # at the end, the most in flight at once, the longest one waited for a place.
    gate_window: int | None = None
    gate_in_flight_peak: int = 0
    gate_wait_longest_s: float = 0.0
    users_without_session: int = 0
    sign_in_failures: dict[str, int] = field(default_factory=dict)
    lifecycle: PartLifecycle = field(default_factory=PartLifecycle)
    generator: PartGenerator = field(default_factory=PartGenerator)
    recorder: dict[str, Any] = field(default_factory=dict)  # a Recorder snapshot
    window: PartWindow = field(default_factory=PartWindow)
    rate_rps: float | None = None
    schema: int = PART_SCHEMA

    @property
    def is_load(self) -> bool:
        """A process that ran users (a master runs none)."""
        return self.role != "master"

    def to_json(self) -> dict[str, Any]:
        """The part as plain JSON- and msgpack-safe data."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Part:
        """A part from :meth:`to_json`'s data; :class:`PartError` for anything else."""
        if not isinstance(data, dict) or data.get("schema") != PART_SCHEMA:
            found = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise PartError(f"not a part of schema {PART_SCHEMA} (found {found!r})")
        try:
            return cls(
                **_known(cls, data),
                lifecycle=PartLifecycle(**_known(PartLifecycle, data.get("lifecycle") or {})),
                generator=PartGenerator(**_known(PartGenerator, data.get("generator") or {})),
                window=PartWindow(**_known(PartWindow, data.get("window") or {})),
            )
        except TypeError as exc:
            raise PartError(f"malformed part: {exc}") from None


_NESTED = {"lifecycle", "generator", "window"}


def _known(kind: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(kind)} - _NESTED
    return {key: value for key, value in data.items() if key in names}
