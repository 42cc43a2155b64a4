"""Figures across repetitions: a value, and the interval a rerun's value should land in.

One run's percentiles have tight sampling intervals, but two identical runs on one
machine differ by far more (1,062 vs 1,421 rps once): only the spread between
repetitions measures what a user meets when they run the command again. So every
interval here is computed across the ``N`` repetitions of a comparison, and it is a
*rerun interval*: where the same command's value (the mean of its own ``N``
repetitions) should land 95% of the time. For a mean ``m`` and sample standard
deviation ``s`` of ``N`` values it is ``m ± t(0.975, N-1) · s · sqrt(2/N) · W``: the
``sqrt(2/N)`` because both the first run and the rerun carry sampling error (a
confidence interval of the mean alone, ``s/sqrt(N)``, covers a rerun only about 83%
of the time), ``t`` for the few repetitions, and ``W`` the widening factor that
``bench/perf/calibrate_intervals.py`` measured to bring the coverage of real reruns to
95% (docs/measurements/calibration.md records the runs).

Throughputs, latencies and CPU times spread multiplicatively (a busier machine slows
everything by a factor), and a symmetric interval on a skewed handful of values can
reach below zero. So positive figures get their spread from the logarithms of the
values, ``value · exp(± half-width of log values)``; figures with a zero among them
(connections per request of a pooled run, handshakes without TLS) are treated on the
linear scale, clamped at zero. Ratios are computed on the logarithms of the
repetitions' paired ratios (A and B of one repetition ran back to back).

With a single repetition there is no interval: ``ci_low`` and ``ci_high`` are None.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["RERUN_WIDENING", "Interval", "ratio_interval", "rerun_interval", "t_975"]

# Measured by bench/perf/calibrate_intervals.py (docs/measurements/calibration.md):
# unwidened, 170 of 180 rerun pairs fell inside (94%); 1.0005 brought it to 95%.
RERUN_WIDENING = 1.01

# Two-sided 95% quantiles of Student's t, by degrees of freedom.
_T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_975(degrees_of_freedom: int) -> float:
    """Student's t 97.5% quantile (1.96 beyond 30 degrees of freedom)."""
    if degrees_of_freedom < 1:
        raise ValueError("t needs at least one degree of freedom")
    if degrees_of_freedom <= len(_T_975):
        return _T_975[degrees_of_freedom - 1]
    return 1.96


@dataclass(frozen=True)
class Interval:
    """A figure over ``n`` repetitions: its value and 95% rerun interval, and the values."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    values: tuple[float, ...]

    def as_json(self, digits: int = 4) -> dict[str, Any]:
        """``{value, ci_low, ci_high, n, values}`` rounded for summary.json."""

        def rounded(x: float | None) -> float | None:
            return None if x is None else round(x, digits)

        return {
            "value": rounded(self.value),
            "ci_low": rounded(self.ci_low),
            "ci_high": rounded(self.ci_high),
            "n": self.n,
            "values": [rounded(v) for v in self.values],
        }

    def contains(self, x: float) -> bool:
        """True when ``x`` lies inside the interval (False when there is none)."""
        if self.ci_low is None or self.ci_high is None:
            return False
        return self.ci_low <= x <= self.ci_high


def _half_width(spread: float, n: int, widening: float) -> float:
    return t_975(n - 1) * spread * math.sqrt(2.0 / n) * widening


def rerun_interval(values: Sequence[float | None], widening: float = RERUN_WIDENING) -> Interval:
    """The mean of the repetitions' values and its rerun interval (missing values skipped)."""
    present = tuple(float(v) for v in values if v is not None)
    n = len(present)
    if n == 0:
        return Interval(None, None, None, 0, ())
    mean = statistics.fmean(present)
    if n == 1:
        return Interval(mean, None, None, 1, present)
    if all(v > 0 for v in present):
        half = _half_width(statistics.stdev(math.log(v) for v in present), n, widening)
        return Interval(mean, mean * math.exp(-half), mean * math.exp(half), n, present)
    half = _half_width(statistics.stdev(present), n, widening)
    return Interval(mean, max(0.0, mean - half), mean + half, n, present)


def ratio_interval(
    numerators: Sequence[float | None],
    denominators: Sequence[float | None],
    widening: float = RERUN_WIDENING,
) -> Interval:
    """Mean of the numerators over mean of the denominators, with a rerun interval.

    The interval comes from the spread of the log of each repetition's own ratio, so
    drift shared by a repetition's two runs cancels. Pairs with a missing or zero side
    are skipped.
    """
    pairs = [
        (float(a), float(b))
        for a, b in zip(numerators, denominators, strict=False)
        if a is not None and b is not None and a > 0 and b > 0
    ]
    n = len(pairs)
    if n == 0:
        return Interval(None, None, None, 0, ())
    ratios = tuple(a / b for a, b in pairs)
    value = statistics.fmean(a for a, _ in pairs) / statistics.fmean(b for _, b in pairs)
    if n == 1:
        return Interval(value, None, None, 1, ratios)
    half = _half_width(statistics.stdev(math.log(r) for r in ratios), n, widening)
    return Interval(value, value * math.exp(-half), value * math.exp(half), n, ratios)
