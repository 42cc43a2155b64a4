"""A line chart as inline SVG: axes with round ticks, one line per series, shaded bands.

The report's latency-by-percentile and per-second charts are both drawn here; what
each axis means (its scale, ticks and their labels) is the caller's. Each series is a
group in its strategy's colour with a tooltip naming it; a dashed series is the same
strategy's second measure; marks are dots with a tooltip of their own (a percentile's
value), and bands shade a span of x (a run's steady-state window).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bench.report._svg import (
    MUTED,
    Scale,
    grid_line,
    group,
    line,
    polyline,
    rect,
    svg,
    text,
    tooltip,
)

__all__ = ["Axis", "Band", "Series", "line_chart"]

_WIDTH, _LEFT, _RIGHT, _TOP = 960, 72, 940, 28


@dataclass(frozen=True)
class Axis:
    """One axis: its title, domain, tick values and how a tick prints; log10 or linear."""

    title: str
    lo: float
    hi: float
    ticks: list[float]
    label: Callable[[float], str]
    log: bool = False


@dataclass(frozen=True)
class Series:
    """One line of one strategy: its points, tooltip, and dots with their own tooltips."""

    strategy: str
    colour: str
    hint: str
    points: list[tuple[float, float]]
    dashed: bool = False
    marks: list[tuple[float, float, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Band:
    """A shaded span of x with a tooltip."""

    lo: float
    hi: float
    hint: str


def _series(one: Series, x: Scale, y: Scale) -> str:
    body = polyline(
        ((x(px), y(py)) for px, py in one.points),
        width=1.5 if one.dashed else 2.2,
        dash="6 4" if one.dashed else "",
    )
    # A dot with a tooltip per mark; a series of one point has no line, so it gets a dot.
    marks = one.marks or [(px, py, one.hint) for px, py in one.points if len(one.points) == 1]
    body += "".join(
        f'<circle cx="{x(px):.1f}" cy="{y(py):.1f}" r="3.5">{tooltip(hint)}</circle>'
        for px, py, hint in marks
    )
    return group(body, strategy=one.strategy, colour=one.colour, hint=one.hint)


def line_chart(
    series: list[Series],
    x_axis: Axis,
    y_axis: Axis,
    *,
    label: str,
    height: int = 300,
    bands: list[Band] | None = None,
) -> str:
    """The chart as an SVG ``label`` describes (its accessible name)."""
    bottom = height - 40
    x = Scale(x_axis.lo, x_axis.hi, _LEFT, _RIGHT, log=x_axis.log)
    y = Scale(y_axis.lo, y_axis.hi, bottom, _TOP, log=y_axis.log)
    body = [
        rect(x(band.lo), _TOP, max(1.0, x(band.hi) - x(band.lo)), bottom - _TOP,
             colour="#f0f0f0", hint=band.hint)
        for band in bands or []
    ]  # fmt: skip
    for tick in x_axis.ticks:
        body += [
            grid_line(x(tick), _TOP, x(tick), bottom),
            text(x(tick), bottom + 16, x_axis.label(tick), anchor="middle", size=11, colour=MUTED),
        ]
    for tick in y_axis.ticks:
        body += [
            grid_line(_LEFT, y(tick), _RIGHT, y(tick)),
            text(_LEFT - 6, y(tick) + 4, y_axis.label(tick), anchor="end", size=11, colour=MUTED),
        ]
    body += [
        line(_LEFT, bottom, _RIGHT, bottom, colour=MUTED),
        line(_LEFT, _TOP, _LEFT, bottom, colour=MUTED),
        text(_LEFT, 16, y_axis.title, size=12, colour=MUTED),
        text((_LEFT + _RIGHT) / 2, height - 6, x_axis.title, anchor="middle", size=12,
             colour=MUTED),
    ]  # fmt: skip
    # Dashed series first, so each strategy's main line is drawn over them.
    for one in sorted(series, key=lambda s: not s.dashed):
        body.append(_series(one, x, y))
    return svg(_WIDTH, height, "".join(body), label)
