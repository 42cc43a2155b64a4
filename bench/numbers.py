"""How every human-readable output prints a number: one rule per kind of quantity.

The terminal table, ``compare.md``, ``report.html``, ``ci.md`` and the gate's messages
all print through these functions, so one quantity reads the same in each of them.
``summary.json`` keeps raw numbers; this is only for people.

The rule:

* A missing value (``None``) prints as ``n/a``, whatever the quantity.
* Counts (:func:`count`) and requests per second (:func:`rate`) are whole numbers with a
  comma between thousands: ``22,442``; ``12,345.6`` rps prints ``12,346``.
* Seconds of run time (:func:`seconds`) get one decimal: ``30.0``, ``1,800.5``.
* Every other measured figure (:func:`ms`, :func:`us`, :func:`kib`, :func:`per_request`,
  :func:`ratio`, :func:`percent`) gets three significant digits, the precision the latency
  histograms record, but never loses a digit of its integer part, and trailing zeros
  after the first decimal are dropped; below 100 one decimal always shows, so a measured
  ``1.0`` still reads as a measurement. ``0.52341`` -> ``0.523``, ``12.34`` -> ``12.3``,
  ``1.0`` -> ``1.0``, ``0.0001234`` -> ``0.000123``, ``123.4`` -> ``123``,
  ``22442.3`` -> ``22,442``. :func:`percent` takes a fraction and prints percent:
  ``0.000123`` -> ``0.0123%``.

Units stay in column headers and labels, not in the figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = [
    "GENERATOR_BOUND",
    "NOT_AVAILABLE",
    "bounded",
    "count",
    "interval",
    "kib",
    "ms",
    "per_request",
    "percent",
    "rate",
    "ratio",
    "seconds",
    "us",
    "verdict",
]

NOT_AVAILABLE = "n/a"
# Appended to a latency the load generator, not the target, bounded (a saturated run).
GENERATOR_BOUND = " (generator-bound)"
_SIGNIFICANT = 3


def count(n: float | None) -> str:
    """A whole number with thousands separators: ``22442`` -> ``22,442``."""
    if n is None:
        return NOT_AVAILABLE
    return f"{round(n):,}"


def rate(x: float | None) -> str:
    """Requests per second, whole, with thousands separators: ``12345.6`` -> ``12,346``."""
    if x is None:
        return NOT_AVAILABLE
    return f"{x:,.0f}"


def seconds(x: float | None) -> str:
    """A duration in seconds with one decimal: ``30`` -> ``30.0``."""
    if x is None:
        return NOT_AVAILABLE
    return f"{x:,.1f}"


def _significant(x: float) -> str:
    """Three significant digits, the integer part whole, at least one decimal below 100."""
    if x == 0:
        return "0.0"
    if not math.isfinite(x):
        return str(x)
    # The magnitude of the value as rounded, so 99.96 prints "100", not "100.0".
    magnitude = math.floor(math.log10(abs(float(f"{x:.{_SIGNIFICANT}g}"))))
    decimals = max(0, _SIGNIFICANT - 1 - magnitude)
    text = f"{x:,.{decimals}f}"
    if decimals > 1:
        text = text.rstrip("0")
        if text.endswith("."):
            text += "0"
    return text


def ms(x: float | None) -> str:
    """A latency in milliseconds, three significant digits: ``0.52341`` -> ``0.523``."""
    return NOT_AVAILABLE if x is None else _significant(x)


def us(x: float | None) -> str:
    """CPU time in microseconds (per request), three significant digits."""
    return NOT_AVAILABLE if x is None else _significant(x)


def kib(x: float | None) -> str:
    """A memory size in KiB (per session), three significant digits."""
    return NOT_AVAILABLE if x is None else _significant(x)


def per_request(x: float | None) -> str:
    """A small per-request fraction (connections, handshakes): ``0.0012`` -> ``0.0012``."""
    return NOT_AVAILABLE if x is None else _significant(x)


def ratio(x: float | None) -> str:
    """A ratio of two figures, such as throughput over the baseline's: ``0.41234`` -> ``0.412``."""
    return NOT_AVAILABLE if x is None else _significant(x)


def percent(x: float | None) -> str:
    """A fraction as percent, three significant digits: ``0.000123`` -> ``0.0123%``."""
    return NOT_AVAILABLE if x is None else _significant(x * 100) + "%"


def verdict(isolation: dict[str, Any]) -> str:
    """An isolation section's verdict as every output shows it: loud unless ``isolated``."""
    outcome = str(isolation.get("verdict", "not checked"))
    return outcome if outcome == "isolated" else outcome.upper()


def interval(data: dict[str, Any] | None, show: Callable[[float | None], str]) -> str:
    """A figure over repetitions as ``value [low, high]``, each printed by ``show``.

    With one repetition there is no interval and only the value prints.
    """
    if not data or data.get("value") is None:
        return NOT_AVAILABLE
    if data.get("ci_low") is None or data.get("ci_high") is None:
        return show(data["value"])
    return f"{show(data['value'])} [{show(data['ci_low'])}, {show(data['ci_high'])}]"


def bounded(text: str, generator_bound: bool) -> str:
    """A latency as printed, marked when the load generator bounded it."""
    return text + GENERATOR_BOUND if generator_bound and text != NOT_AVAILABLE else text
