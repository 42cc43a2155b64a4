"""A forest plot of one compared figure: whether the strategies' intervals overlap, at a glance.

One row per strategy on one shared axis: a dot at the value (the mean over the
repetitions), a whisker from ``ci_low`` to ``ci_high`` (the 95% rerun interval), and a
small ring at each repetition's own value. The figure as every other output prints it
(``value [low, high] unit``, marked when the load generator bounded it, and its N)
stands at the row's right, so the numbers are read, not guessed from the drawing. A
figure over one repetition has a dot and no whisker; a missing one prints ``n/a``.
A figure spanning ten times or more is drawn on a log axis, marked "log".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import numbers as fmt
from bench.report._svg import (
    MUTED,
    Scale,
    grid_line,
    group,
    line,
    linear_ticks,
    log_ticks,
    svg,
    text,
    tooltip,
)

__all__ = ["ForestRow", "forest"]

_WIDTH, _ROW, _TOP = 960, 24, 6
_LABEL_END, _PLOT_START, _PLOT_END, _TEXT_START = 150, 165, 560, 575


@dataclass(frozen=True)
class ForestRow:
    """One strategy's figure: an ``Interval.as_json()`` dict, or None when it has none."""

    strategy: str
    colour: str
    figure: dict[str, Any] | None
    generator_bound: bool = False


def _printed(row: ForestRow, show: Callable[[float | None], str], unit: str) -> str:
    """``value [low, high]`` and the unit (generator-bound) ``· N = n``, or ``n/a``."""
    shown = fmt.interval(row.figure, show)
    if shown == fmt.NOT_AVAILABLE or row.figure is None:
        return shown
    return f"{fmt.bounded(shown + unit, row.generator_bound)} · N = {row.figure['n']}"


def _numbers(figure: dict[str, Any] | None) -> list[float]:
    if not figure or figure.get("value") is None:
        return []
    marks = [figure["value"], figure.get("ci_low"), figure.get("ci_high"), *figure["values"]]
    return [float(x) for x in marks if x is not None]


def _axis(rows: list[ForestRow], reference: float | None) -> tuple[Scale, list[float]] | None:
    """One axis for every row, and its ticks: the values and intervals with a margin.

    Positive figures spanning ten times or more get a log axis: their intervals are
    multiplicative (``bench/report/_repetitions.py``), so on a log axis a small figure's
    whisker is as legible as a large one's. Otherwise the axis is linear, from 0 when
    nothing is negative.
    """
    numbers = [x for row in rows for x in _numbers(row.figure)]
    if not numbers:
        return None
    numbers += [reference] if reference is not None else []
    lo, hi = min(numbers), max(numbers)
    if lo > 0 and hi / lo >= 10:
        low, high = lo / 1.25, hi * 1.25
        return Scale(low, high, _PLOT_START, _PLOT_END, log=True), log_ticks(low, high)
    margin = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0
    low, high = lo - margin, hi + margin
    if lo >= 0:  # a figure that cannot go negative gets no negative axis
        low = max(0.0, low)
    return Scale(low, high, _PLOT_START, _PLOT_END), linear_ticks(low, high)


def _marks(row: ForestRow, scale: Scale, y: float) -> str:
    figure = row.figure
    if not figure or figure.get("value") is None:
        return ""
    parts = []
    low, high = figure.get("ci_low"), figure.get("ci_high")
    if low is not None and high is not None:
        parts += [
            line(scale(low), y, scale(high), y, width=2.5),
            line(scale(low), y - 5, scale(low), y + 5, width=2),
            line(scale(high), y - 5, scale(high), y + 5, width=2),
        ]
    parts += [
        f'<circle cx="{scale(v):.1f}" cy="{y:.1f}" r="3" fill="#ffffff" stroke-width="1.2"/>'
        for v in figure["values"]
        if v is not None
    ]
    parts.append(f'<circle cx="{scale(figure["value"]):.1f}" cy="{y:.1f}" r="5.5"/>')
    return "".join(parts)


def _frame(
    scale: Scale,
    ticks: list[float],
    bottom: float,
    show: Callable[[float | None], str],
    reference: float | None,
) -> str:
    """Grid lines and tick labels, the axis (marked "log" when it is), the reference."""
    parts = [
        grid_line(scale(tick), _TOP, scale(tick), bottom)
        + text(scale(tick), bottom + 14, show(tick), anchor="middle", size=11, colour=MUTED)
        for tick in ticks
    ]
    parts.append(line(_PLOT_START, bottom, _PLOT_END, bottom, colour=MUTED))
    if scale.log:
        parts.append(text(_PLOT_END + 4, bottom + 4, "log", size=10, colour=MUTED))
    if reference is not None:
        x = scale(reference)
        parts.append(
            f"<g>{tooltip(f'{show(reference)}: equal')}"
            f"{line(x, _TOP, x, bottom, colour=MUTED, width=1.5, dash='5 4')}</g>"
        )
    return "".join(parts)


def forest(
    rows: list[ForestRow],
    show: Callable[[float | None], str],
    unit: str,
    *,
    label: str,
    reference: float | None = None,
) -> str:
    """The panel as an SVG. ``unit`` follows each printed figure as it is (`` rps``,
    ``x``); ``reference`` draws a dashed line (a ratio's 1, equal)."""
    bottom = _TOP + _ROW * len(rows) + 2
    found = _axis(rows, reference)
    body = [_frame(*found, bottom, show, reference) if found else ""]
    for i, row in enumerate(rows):
        y = _TOP + _ROW * i + _ROW / 2
        printed = _printed(row, show, unit)
        values = ", ".join(show(v) for v in (row.figure or {}).get("values") or [])
        hint = f"{row.strategy}: {printed}" + (f"; each repetition: {values}" if values else "")
        marks = _marks(row, found[0], y) if found else ""
        body += [
            text(_LABEL_END, y + 4, row.strategy, anchor="end", size=13),
            group(marks, strategy=row.strategy, colour=row.colour, hint=hint),
            text(_TEXT_START, y + 4, printed, size=13),
        ]
    return svg(_WIDTH, bottom + 22, "".join(body), label)
