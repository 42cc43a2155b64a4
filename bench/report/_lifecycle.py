"""The session lifecycle as people read it: one row of counts, one cell per invariant.

``compare.md`` and ``report.html`` print the same columns through these functions; the
numbers come from summary.json's ``lifecycle`` section (see ``docs/summary-json.md``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench import numbers as fmt
from bench.registry import INVARIANTS

__all__ = [
    "COUNT_COLUMNS",
    "combined_lifecycle",
    "count_cells",
    "invariant_cell",
    "invariant_names",
]

# (column heading, lifecycle key) for the counts, in reading order.
COUNT_COLUMNS = (
    ("401s", "unauthorized"),
    ("refreshes", "refreshes"),
    ("401s / refresh", "unauthorized_per_refresh"),
    ("refresh failures", "refresh_failures"),
    ("retries", "retries"),
    ("on_unauthorized", "on_unauthorized"),
    ("signed in again", "signed_in_again"),
    ("recycled clients", "recycled_clients"),
)
_SUMMED = tuple(key for _, key in COUNT_COLUMNS if key != "unauthorized_per_refresh")


def combined_lifecycle(lifecycles: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs' lifecycle sections as one: counts and invariant checks add up."""
    totals: Counter[str] = Counter()
    checked: Counter[str] = Counter()
    broken: Counter[str] = Counter()
    served = 0.0  # 401s the refreshes served (each run's ratio times its refreshes)
    for lifecycle in lifecycles:
        for key in _SUMMED:
            totals[key] += int(lifecycle.get(key) or 0)
        served += (lifecycle.get("unauthorized_per_refresh") or 0.0) * int(
            lifecycle.get("refreshes") or 0
        )
        for name, counts in (lifecycle.get("invariants") or {}).items():
            checked[name] += int(counts["checked"])
            broken[name] += int(counts["broken"])
    refreshes = totals["refreshes"]
    names = [*map(str, INVARIANTS), *(name for name in checked if name not in INVARIANTS)]
    return {
        **{key: totals[key] for key in _SUMMED},
        "unauthorized_per_refresh": round(served / refreshes, 2) if refreshes else None,
        "invariants": {name: {"checked": checked[name], "broken": broken[name]} for name in names},
        "invariants_broken": sum(broken.values()),
    }


def count_cells(lifecycle: dict[str, Any]) -> list[str]:
    """The counts of :data:`COUNT_COLUMNS`, formatted (``n/a`` for what a run lacks)."""
    cells = []
    for _, key in COUNT_COLUMNS:
        value = lifecycle.get(key)
        cells.append(fmt.ratio(value) if key == "unauthorized_per_refresh" else fmt.count(value))
    return cells


def invariant_names(lifecycles: list[dict[str, Any]]) -> list[str]:
    """Every invariant any of these sections lists, the known ones first."""
    names = [str(name) for name in INVARIANTS]
    for lifecycle in lifecycles:
        names += [name for name in lifecycle.get("invariants") or {} if name not in names]
    return names


def invariant_cell(counts: dict[str, int] | None) -> str:
    """``held (n checks)``, ``BROKEN b of n``, or ``not checked`` (no evidence)."""
    if not counts or not counts.get("checked"):
        return "not checked"
    if counts["broken"]:
        return f"BROKEN {fmt.count(counts['broken'])} of {fmt.count(counts['checked'])}"
    return f"held ({fmt.count(counts['checked'])} checks)"
