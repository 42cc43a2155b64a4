"""The report's line charts, from the runs' recorders: latency by percentile, events per second.

Latency by percentile is drawn as HdrHistogram's plotter draws it: x is the percentile
on a log scale of ``1 / (1 - p)`` (0%, 90%, 99%, 99.9%, 99.99% equally spaced), so the
tail gets as much room as the median; y is the latency in ms, here on a log axis too,
so a pooled client's 2 ms and a per-call client's 40 ms both read. A strategy's solid
line is the latency from each request's intended start (open model; it counts the wait
of a request held up by a slow one), its dashed line the service time; a closed-loop
run has only the service time, drawn solid. A curve stops where its requests run out
(a run of 2,000 requests says nothing past 99.95%).

The per-second charts count what the recorders' timelines count (requests, new
connections) per wall-clock second, from each run's first second; a run longer than
300 s is drawn as the mean per second of equal spans, so a page stays small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

from bench import numbers as fmt
from bench.measure import EndpointStats
from bench.report._lines import Axis, Band, Series, line_chart
from bench.report._svg import linear_ticks, log_ticks

__all__ = [
    "CONNECTIONS",
    "CONNECTIONS_TITLE",
    "LATENCY_TITLE",
    "REQUESTS",
    "REQUESTS_TITLE",
    "Latencies",
    "Timeline",
    "per_second_chart",
    "percentile_chart",
]

LATENCY_TITLE = "Latency by percentile"
CONNECTIONS_TITLE = "Connections opened per second"
REQUESTS_TITLE = "Requests per second"
# Columns of a recorder's per-second timeline: requests, failures, new connections.
REQUESTS, CONNECTIONS = 0, 2

_REACH = 4.0  # 99.99%
_STEPS = [i / 20 for i in range(int(_REACH * 20) + 1)]
_MARKED = (50.0, 90.0, 99.0, 99.9, 99.99)
_PERCENT_TICKS = {0.0: "0%", 1.0: "90%", 2.0: "99%", 3.0: "99.9%", 4.0: "99.99%"}
# Points per line of a per-second chart at most: keeps a long run's page small.
_MOST_POINTS = 300


@dataclass(frozen=True)
class Latencies:
    """One strategy's histograms (its runs' recorders' totals merged)."""

    strategy: str
    colour: str
    stats: EndpointStats


@dataclass(frozen=True)
class Timeline:
    """One run's per-second counts; ``window`` (epoch seconds) is shaded when given."""

    strategy: str
    colour: str
    hint: str
    seconds: dict[int, list[int]]
    window: tuple[float, float] | None = None


def _x(percentile: float) -> float:
    """Where a percentile sits: log10 of 1 / (1 - p)."""
    return -math.log10(1 - percentile / 100)


def _curve(
    histogram: HdrHistogram, strategy: str, what: str
) -> tuple[list[tuple[float, float]], list[tuple[float, float, str]]]:
    """The (x, ms) points up to where the requests reach, and the marked percentiles."""
    count = histogram.get_total_count()
    if not count:
        return [], []
    reach = min(_REACH, math.log10(count))
    xs = [x for x in _STEPS if x <= reach + 1e-9]
    wanted = [100 * (1 - 10**-x) for x in xs] + [p for p in _MARKED if _x(p) <= reach + 1e-9]
    values = histogram.get_percentile_to_value_dict(wanted)
    points = [(x, values[100 * (1 - 10**-x)] / 1000) for x in xs]
    marks = [
        (_x(p), values[p] / 1000, f"{strategy} p{p:g} {what}: {fmt.ms(values[p] / 1000)} ms")
        for p in _MARKED
        if p in values
    ]
    return points, marks


def _one_two_five(value: float, up: bool) -> float:
    """The nearest 1, 2 or 5 times a power of ten at or above (``up``) or below ``value``."""
    power = 10 ** math.floor(math.log10(value))
    steps = [float(m * power) for m in (1, 2, 5, 10)]
    return min(s for s in steps if s >= value) if up else max(s for s in steps if s <= value)


def percentile_chart(latencies: list[Latencies]) -> str:
    """Each strategy's latency by percentile, log on both axes."""
    series = []
    for one in latencies:
        measures = [("service time", one.stats.histogram)]
        if one.stats.intended is not None:
            measures.insert(0, ("from intended start", one.stats.intended))
        for i, (what, histogram) in enumerate(measures):
            points, marks = _curve(histogram, one.strategy, what)
            if points:
                series.append(
                    Series(one.strategy, one.colour, f"{one.strategy}, {what}", points,
                           dashed=i > 0, marks=marks)
                )  # fmt: skip
    values = [y for s in series for _, y in s.points] or [1.0]
    lo, hi = _one_two_five(max(min(values), 0.001), up=False), _one_two_five(max(values), up=True)
    y_axis = Axis("latency (ms, log scale)", lo, hi, log_ticks(lo, hi), fmt.ms, log=True)
    x_axis = Axis("percentile (log scale of 1 / (1 - p))", 0.0, _REACH, list(_PERCENT_TICKS),
                  lambda x: _PERCENT_TICKS[x])  # fmt: skip
    return line_chart(series, x_axis, y_axis, label=LATENCY_TITLE, height=380)


def _per_second(seconds: dict[int, list[int]], column: int) -> list[tuple[float, float]]:
    """``column`` per second from the first second, a second without calls counting 0;
    past :data:`_MOST_POINTS` seconds, the mean per second of equal spans (so an hour's
    run draws as few points as five minutes')."""
    start, end = min(seconds), max(seconds)
    counts = [seconds.get(s, (0, 0, 0))[column] for s in range(start, end + 1)]
    span = math.ceil(len(counts) / _MOST_POINTS)
    points = []
    for first in range(0, len(counts), span):
        chunk = counts[first : first + span]
        # A span's mean is drawn at its middle (a second's count at its second's middle).
        points.append((first + len(chunk) / 2, sum(chunk) / len(chunk)))
    return points


def per_second_chart(timelines: list[Timeline], column: int, what: str) -> str:
    """One line per run: ``column`` of its timeline per second since its first second."""
    series, bands = [], []
    for one in timelines:
        if not one.seconds:
            continue
        start = min(one.seconds)
        series.append(Series(one.strategy, one.colour, one.hint, _per_second(one.seconds, column)))
        if one.window is not None:
            opened, closed = one.window
            bands.append(Band(opened - start, closed - start, "steady-state window"))
    longest = max((p[-1][0] + 0.5 for p in (s.points for s in series)), default=1.0)
    top = max((y for s in series for _, y in s.points), default=0.0) or 1.0
    x_axis = Axis("seconds since the run's first request", 0.0, longest,
                  linear_ticks(0.0, longest, 8, whole=True), fmt.count)  # fmt: skip
    y_ticks = linear_ticks(0.0, top * 1.05, whole=True)
    y_axis = Axis(what, 0.0, max(top * 1.05, y_ticks[-1]), y_ticks, fmt.count)
    return line_chart(series, x_axis, y_axis, label=what, height=260, bands=bands)
