"""SVG building blocks for report.html's charts: scales, tick values and escaped elements.

Every chart is inline SVG with a ``viewBox`` and ``width="100%"``, so it scales to the
page instead of scrolling sideways. Text that comes from data goes through :func:`esc`
(``html.escape`` with quotes), in element content and attributes alike. A drawing that
stands for a strategy is a ``<g data-strategy=... stroke=... fill=...>`` group in that
strategy's colour, so each strategy has one colour in every chart (the tests read it
back from these attributes).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "GRID",
    "INK",
    "MUTED",
    "Scale",
    "esc",
    "grid_line",
    "group",
    "line",
    "linear_ticks",
    "log_ticks",
    "polyline",
    "rect",
    "svg",
    "text",
    "tooltip",
]

# Axes, grid lines and labels: greys that no strategy's colour uses.
MUTED, GRID, INK = "#767676", "#e4e4e4", "#222222"


def esc(value: object) -> str:
    """``value`` as text safe in element content and in quoted attributes."""
    return html.escape(str(value), quote=True)


def _n(x: float) -> str:
    """A coordinate: one decimal is finer than any screen needs."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Scale:
    """Maps the domain ``lo..hi`` onto ``start..end`` (pixels), linearly or on log10."""

    lo: float
    hi: float
    start: float
    end: float
    log: bool = False

    def _t(self, value: float) -> float:
        return math.log10(value) if self.log else value

    def __call__(self, value: float) -> float:
        lo, hi = self._t(self.lo), self._t(self.hi)
        if hi == lo:
            return (self.start + self.end) / 2
        return self.start + (self._t(value) - lo) / (hi - lo) * (self.end - self.start)


def linear_ticks(lo: float, hi: float, count: int = 5, *, whole: bool = False) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten apart) within ``lo..hi``;
    ``whole`` ones only (for counts) when asked."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    steps = [m * power for m in (1, 2, 2.5, 5, 10)]
    if whole:
        steps = [s for s in steps if s >= 1 and s == int(s)] or [1.0]
    step = next((s for s in steps if s >= raw), steps[-1])
    first = math.ceil(lo / step - 1e-9)
    return [round(i * step, 12) for i in range(first, math.floor(hi / step + 1e-9) + 1)]


def log_ticks(lo: float, hi: float) -> list[float]:
    """Ticks on a log axis over positive ``lo..hi``: 1-2-5 per decade, decades when wide."""
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    steps = (1.0,) if math.log10(hi / lo) > 2.5 else (1.0, 2.0, 5.0)
    ticks = [m * 10.0**k for k in range(first, last + 1) for m in steps]
    return [t for t in ticks if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]


def svg(width: int, height: int, body: str, label: str) -> str:
    """An SVG that fills its container's width and keeps its aspect ratio (inline SVG in
    HTML needs no namespace, so the page names no http address at all)."""
    return (
        f'<svg viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{esc(label)}">{body}</svg>'
    )


def tooltip(content: str) -> str:
    """A ``<title>``: the browser shows it when the pointer rests on its parent."""
    return f"<title>{esc(content)}</title>"


def group(body: str, *, strategy: str, colour: str, hint: str = "") -> str:
    """A strategy's marks, stroked and filled in its colour, with an optional tooltip."""
    return (
        f'<g data-strategy="{esc(strategy)}" stroke="{colour}" fill="{colour}">'
        f"{tooltip(hint) if hint else ''}{body}</g>"
    )


def text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    size: int = 12,
    colour: str = INK,
    bold: bool = False,
) -> str:
    """Escaped text; ``anchor`` is start, middle or end."""
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{colour}" stroke="none"{weight}>{esc(content)}</text>'
    )


def line(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    *,
    colour: str | None = None,
    width: float = 1,
    dash: str = "",
) -> str:
    """A straight line; without ``colour`` it takes its group's stroke."""
    stroke = f' stroke="{colour}"' if colour else ""
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}"{stroke} '
        f'stroke-width="{_n(width)}"{dashes}/>'
    )


def polyline(points: Iterable[tuple[float, float]], *, width: float = 2, dash: str = "") -> str:
    """An open line through ``points`` in its group's stroke."""
    coordinates = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline points="{coordinates}" fill="none" stroke-width="{_n(width)}" '
        f'stroke-linejoin="round"{dashes}/>'
    )


def rect(x: float, y: float, width: float, height: float, *, colour: str, hint: str = "") -> str:
    """A filled rectangle without an outline (a shaded band), with an optional tooltip."""
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}" '
        f'fill="{colour}" stroke="none">{tooltip(hint) if hint else ""}</rect>'
    )


def grid_line(x1: float, y1: float, x2: float, y2: float) -> str:
    """A light grid line behind the data."""
    return line(x1, y1, x2, y2, colour=GRID)
