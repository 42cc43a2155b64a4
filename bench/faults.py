"""Fault settings for the reference backend: what to inject, checked.

Pure data and parsing (no server code), shared by the backend, the CLI and the Locust
adapter, which checks the web UI's fault fields before the backend sees them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Faults", "faults_from_json", "faults_to_json", "parse_outage"]


@dataclass(frozen=True)
class Faults:
    """Which faults to inject, and how often (rates are fractions of requests, 0 to 1)."""

    error_rate: float = 0.0
    slow_rate: float = 0.0
    slow_s: float = 11.0
    reset_rate: float = 0.0
    expire_every_s: float | None = None
    refresh_outage: tuple[float, float] | None = None
    # Inject nothing before the first /_bench/reset: the tool's preflight user must see
    # the embedded target as it is, and a run's faults start with the run (its reset).
    after_reset: bool = False

    @property
    def any(self) -> bool:
        return bool(
            self.error_rate
            or self.slow_rate
            or self.reset_rate
            or self.expire_every_s
            or self.refresh_outage
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "error_rate": self.error_rate,
            "slow_rate": self.slow_rate,
            "slow_s": self.slow_s,
            "reset_rate": self.reset_rate,
            "expire_every_s": self.expire_every_s,
            "refresh_outage": list(self.refresh_outage) if self.refresh_outage else None,
            "after_reset": self.after_reset,
        }


def faults_to_json(faults: Faults) -> dict[str, Any]:
    """The body of ``POST /_bench/faults`` that sets ``faults`` (:func:`faults_from_json`)."""
    body = faults.as_dict()
    del body["after_reset"]  # faults set on a running target apply from its next reset
    return body


def faults_from_json(data: Any, slow_s: float) -> Faults:
    """Faults from ``/_bench/faults``'s JSON body; ValueError saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("send a JSON object of fault settings")
    unknown = set(data) - {"error_rate", "slow_rate", "reset_rate", "expire_every_s",
                           "refresh_outage", "slow_s"}  # fmt: skip
    if unknown:
        raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
    rates = {}
    for name in ("error_rate", "slow_rate", "reset_rate"):
        value = data.get(name, 0.0)
        if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be a number between 0 and 1")
        rates[name] = float(value)
    if sum(rates.values()) > 1.0:
        raise ValueError("error_rate, slow_rate and reset_rate share the calls: at most 1 in all")
    every = data.get("expire_every_s")
    if every is not None and (not isinstance(every, int | float) or not 0 < every < 1e9):
        raise ValueError("expire_every_s must be a number of seconds above 0, or null")
    outage = data.get("refresh_outage")
    if outage is not None:
        if not (isinstance(outage, list) and len(outage) == 2):
            raise ValueError("refresh_outage must be [start, length] in seconds, or null")
        outage = parse_outage(f"{outage[0]}+{outage[1]}")
    slow = data.get("slow_s", slow_s)
    if not isinstance(slow, int | float) or not 0 < slow < 3600:
        raise ValueError("slow_s must be a number of seconds above 0")
    return Faults(
        **rates, slow_s=float(slow), expire_every_s=every, refresh_outage=outage, after_reset=True
    )


def parse_outage(text: str) -> tuple[float, float]:
    """``START+LENGTH`` in seconds (``30+10``); ValueError saying the form otherwise."""
    start, plus, length = text.partition("+")
    try:
        values = (float(start), float(length)) if plus else None
    except ValueError:
        values = None
    if values is None or not all(v >= 0 and v == v and v != float("inf") for v in values):
        raise ValueError(
            f"refresh outage {text!r} is not START+LENGTH in seconds, e.g. 30+10 "
            "(30 s into the run, for 10 s)"
        )
    return values
