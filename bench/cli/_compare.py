"""The runs behind ``compare`` and ``ci``: capacity, then latency at one offered rate.

Two phases, each repeated ``--repeat`` times with the strategies run alternately
(A B A B ...), so that drift of the machine (thermal, caches, other load) hits every
strategy alike:

1. **capacity**: closed loop, as many requests as the users make; gives each strategy's
   throughput, CPU and connections per request.
2. **at-rate**: the open model at one offered rate that neither strategy saturates
   (``--rate``, else :data:`OFFERED_SHARE_OF_CAPACITY` of the lowest capacity measured);
   its latencies, counted from each request's intended start, compare the strategies
   rather than the load generator's queue.

The embedded target's counters are reset before every run (``execute_run``). A stop
request ends the run in progress (its folder complete, marked partial) and skips the
rest.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.cli._run import RunSettings, execute_run
from bench.cli._signals import STOP
from bench.report import AT_RATE, CAPACITY, PhaseRun

__all__ = [
    "OFFERED_SHARE_OF_CAPACITY",
    "ComparisonRuns",
    "run_comparison",
    "validate_comparison",
]

# The offered rate of the latency runs, as a share of the lowest capacity: low enough
# that no strategy queues in the generator, high enough to load the target.
OFFERED_SHARE_OF_CAPACITY = 0.5


@dataclass
class ComparisonRuns:
    """Every run a comparison made, in order, and the rate its latency runs offered."""

    runs: list[PhaseRun]
    offered_rate_rps: float | None = None
    # How the rate was chosen, or why there were no latency runs.
    offered_rate_from: str = ""

    def of(self, strategy: str, phase: str) -> list[PhaseRun]:
        """The runs of one strategy in one phase, by repetition."""
        return [r for r in self.runs if r.strategy == strategy and r.phase == phase]


def _settings(
    args: argparse.Namespace,
    strategy: str,
    folder: Path,
    env: tuple[tuple[str, str], ...],
    rate_rps: float | None,
) -> RunSettings:
    return RunSettings.from_args(args, strategy=strategy, out=folder, env=env, rate_rps=rate_rps)


def _folder(out: Path, strategy: str, phase: str, repetition: int) -> Path:
    return out / strategy / f"{phase}-{repetition}"


def validate_comparison(args: argparse.Namespace, out: Path) -> None:
    """Fail with a usage error before anything starts (every strategy's settings)."""
    for strategy in args.strategies:
        _settings(args, strategy, _folder(out, strategy, CAPACITY, 1), (), None).validate()


def _capacity(folder: Path) -> float:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return float(summary.get("throughput_rps") or 0.0)


def _offered_rate(args: argparse.Namespace, done: ComparisonRuns) -> tuple[float | None, str]:
    """The latency runs' offered rate and where it came from (None: no latency runs)."""
    if args.rate is not None:
        return float(args.rate), "--rate"
    means = {}
    for strategy in args.strategies:
        values = [_capacity(run.folder) for run in done.of(strategy, CAPACITY)]
        means[strategy] = sum(values) / len(values) if values else 0.0
    lowest = min(means, key=lambda name: means[name])
    if means[lowest] <= 0:
        return None, f"no latency runs: {lowest} completed no call in its capacity runs"
    rate = round(OFFERED_SHARE_OF_CAPACITY * means[lowest], 1)
    return rate, (
        f"{OFFERED_SHARE_OF_CAPACITY:g} x the lowest mean capacity ({lowest}, "
        f"{means[lowest]:,.0f} rps)"
    )


def run_comparison(
    args: argparse.Namespace,
    out: Path,
    url: str,
    env: tuple[tuple[str, str], ...],
    restart_target: Callable[[], None] | None = None,
) -> ComparisonRuns:
    """Run both phases against the target at ``url``; return what ran.

    ``restart_target`` restarts the embedded target (``--restart-target-at``, in every run).
    """
    done = ComparisonRuns(runs=[])

    def phase(name: str, rate_rps: float | None) -> None:
        for repetition in range(1, args.repeat + 1):
            for strategy in args.strategies:
                if STOP.requested:
                    return
                folder = _folder(out, strategy, name, repetition)
                label = f"{name} {repetition}/{args.repeat}"
                rate = f" at {rate_rps:,.0f} rps" if rate_rps else ""
                print(f"== {strategy}: {label}{rate}", flush=True)
                settings = _settings(args, strategy, folder, env, rate_rps)
                execute_run(settings, url, restart_target)
                done.runs.append(PhaseRun(strategy, name, repetition, folder))

    phase(CAPACITY, None)
    if STOP.requested:
        done.offered_rate_from = f"no latency runs: stopped by {STOP.name}"
        return done
    done.offered_rate_rps, done.offered_rate_from = _offered_rate(args, done)
    if done.offered_rate_rps is not None:
        phase(AT_RATE, done.offered_rate_rps)
    return done
