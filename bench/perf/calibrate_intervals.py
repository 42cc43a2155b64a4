"""Do compare's intervals cover a rerun? Rerun one configuration and count.

    python -m bench.perf.calibrate_intervals --reruns 5 -- --repeat 3 --users 40 \
        --duration 8s --rate 250

runs ``aegis-bench compare`` (with the options after ``--``) ``--reruns`` times, then,
for every ordered pair of reruns (i, j) and every headline figure, checks whether rerun
j's value lies inside rerun i's 95% rerun interval. A calibrated interval covers 95% of
such pairs. The script prints the coverage per figure and overall, and the widening
factor that would bring the overall coverage to 95%: how much wider (in log space,
around the value) the intervals must be, relative to the ``RERUN_WIDENING`` they were
computed with. Give a fixed ``--rate``, so every rerun measures latency at the same
offered load. Figures and the command go in docs/measurements/calibration.md.

A benchmark, not a test: it takes (reruns x repetitions x strategies x 2) runs.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.report import RERUN_WIDENING

NOMINAL = 0.95


def _figures(comparison: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The headline figures of a comparison, each ``{value, ci_low, ci_high}``, by name."""
    found: dict[str, dict[str, Any]] = {}
    if comparison.get("throughput_ratio"):
        found["throughput ratio"] = comparison["throughput_ratio"]
    for name, figures in comparison["strategies"].items():
        found[f"{name} capacity rps"] = figures["capacity_rps"]
        found[f"{name} client CPU us/request"] = figures["client_cpu_us_per_request"]
        for quantile in ("p50", "p99"):
            found[f"{name} {quantile} at rate"] = figures["latency_at_rate_ms"][quantile]
    return {k: v for k, v in found.items() if v and v.get("ci_low") is not None}


def needed_widening(first: dict[str, Any], value: float) -> float | None:
    """How many times wider (in log space) ``first``'s interval must be to hold ``value``.

    1.0 or less: it holds it already. None when either side is not positive.
    """
    centre, low, high = first["value"], first["ci_low"], first["ci_high"]
    if min(centre, value) <= 0 or low <= 0:
        return None
    distance = math.log(value / centre)
    half = math.log(high / centre) if distance > 0 else math.log(centre / low)
    if half <= 0:
        return math.inf if distance else 0.0
    return abs(distance) / half


def coverage(reruns: list[dict[str, dict[str, Any]]]) -> dict[str, list[float]]:
    """For every figure, the widening each ordered pair of reruns needs."""
    needed: dict[str, list[float]] = {}
    for i, first in enumerate(reruns):
        for j, second in enumerate(reruns):
            if i == j:
                continue
            for name, interval in first.items():
                if name not in second:
                    continue
                widening = needed_widening(interval, second[name]["value"])
                if widening is not None:
                    needed.setdefault(name, []).append(widening)
    return needed


def _quantile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reruns", type=int, default=5, help="compare runs to make (5)")
    parser.add_argument("--out", type=Path, default=Path("results") / "calibration")
    parser.add_argument(
        "--from-folders", type=Path, nargs="*", default=None,
        help="read finished compare folders instead of running new ones",
    )  # fmt: skip
    parser.add_argument("compare_options", nargs="*", help="options after --, for compare")
    args = parser.parse_args(argv)
    folders = list(args.from_folders or [])
    if not folders:
        args.out.mkdir(parents=True, exist_ok=True)
        for k in range(1, args.reruns + 1):
            folder = args.out / f"rerun-{k}-{time.strftime('%H%M%S')}"
            command = [sys.executable, "-m", "bench", "compare", "--out", str(folder),
                       *args.compare_options]  # fmt: skip
            print(f"rerun {k}/{args.reruns}: {' '.join(command[2:])}", flush=True)
            subprocess.run(
                command,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
                timeout=3600,
            )
            folders.append(folder)
    reruns = []
    for folder in folders:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        reruns.append(_figures(summary["comparison"]))
    needed = coverage(reruns)
    every = [w for values in needed.values() for w in values]
    print(f"\n{len(reruns)} reruns, intervals computed with RERUN_WIDENING = {RERUN_WIDENING:g}")
    print(f"{'figure':<34} {'pairs':>5} {'covered':>8}")
    for name, values in sorted(needed.items()):
        covered = sum(1 for w in values if w <= 1.0) / len(values)
        print(f"{name:<34} {len(values):>5} {covered:>8.0%}")
    if not every:
        print("no figure had an interval in two reruns")
        return 1
    overall = sum(1 for w in every if w <= 1.0) / len(every)
    factor = _quantile(every, NOMINAL)
    print(f"{'all figures':<34} {len(every):>5} {overall:>8.0%}")
    print(
        f"widening for {NOMINAL:.0%} coverage: x{factor:.2f} of the current intervals "
        f"(RERUN_WIDENING {RERUN_WIDENING:g} -> {RERUN_WIDENING * max(1.0, factor):.2f})"
    )
    result = {
        "reruns": [str(f) for f in folders],
        "rerun_widening": RERUN_WIDENING,
        "coverage": overall,
        "pairs": len(every),
        "widening_for_nominal": factor,
        "per_figure": {
            name: {"pairs": len(v), "covered": sum(1 for w in v if w <= 1.0) / len(v)}
            for name, v in needed.items()
        },
    }
    (folders[0].parent / "calibration.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
