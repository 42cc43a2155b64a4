"""The runs behind ``compare`` and ``ci``: capacity, then latency at one offered rate.

Two phases, each repeated ``--repeat`` times with the variants (each strategy on each
transport, ``Settings.variants``) run alternately (A B A B ...), so that drift of the
machine (thermal, caches, other load) hits every variant alike:

1. **capacity**: closed loop, as many requests as the users make; gives each variant's
   throughput, CPU and connections per request.
2. **at-rate**: the open model at one offered rate that no variant saturates
   (``--rate``, else :data:`OFFERED_SHARE_OF_CAPACITY` of the lowest capacity measured);
   its latencies, counted from each request's intended start, compare the strategies
   rather than the load generator's queue.

The embedded target's counters are reset before every run (``execute_run``). A stop
request ends the run in progress (its folder complete, marked partial) and skips the
rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.cli._run import execute_run
from bench.cli._signals import STOP
from bench.options import OUT, RATE, REPEAT, Limits, Settings, Variant
from bench.report import AT_RATE, CAPACITY, PhaseRun

__all__ = [
    "OFFERED_SHARE_OF_CAPACITY",
    "ComparisonRuns",
    "folder_of",
    "run_comparison",
    "settings_of_run",
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

    def of(self, variant: str, phase: str) -> list[PhaseRun]:
        """The runs of one variant (by name) in one phase, by repetition."""
        return [r for r in self.runs if r.strategy == variant and r.phase == phase]


def folder_of(out: Path, variant: str, phase: str, repetition: int) -> Path:
    """Where one run of a comparison writes its run folder."""
    return out / variant / f"{phase}-{repetition}"


def settings_of_run(
    settings: Settings, variant: Variant, folder: Path, rate_rps: float | None
) -> Settings:
    """One run's settings: the comparison's, with its variant, folder and offered rate."""
    return settings.with_variant(variant).replace({OUT: folder, RATE: rate_rps})


def _capacity(folder: Path) -> float:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return float(summary.get("throughput_rps") or 0.0)


def _offered_rate(settings: Settings, done: ComparisonRuns) -> tuple[float | None, str]:
    """The latency runs' offered rate and where it came from (None: no latency runs)."""
    asked = settings[RATE]
    if asked is not None:
        return asked, "--rate"
    means = {}
    for variant in settings.variants():
        values = [_capacity(run.folder) for run in done.of(variant.name, CAPACITY)]
        means[variant.name] = sum(values) / len(values) if values else 0.0
    lowest = min(means, key=lambda name: means[name])
    if means[lowest] <= 0:
        return None, f"no latency runs: {lowest} completed no call in its capacity runs"
    rate = round(OFFERED_SHARE_OF_CAPACITY * means[lowest], 1)
    return rate, (
        f"{OFFERED_SHARE_OF_CAPACITY:g} x the lowest mean capacity ({lowest}, "
        f"{means[lowest]:,.0f} rps)"
    )


def run_comparison(
    settings: Settings,
    env: tuple[tuple[str, str], ...],
    restart_target: Callable[[], None] | None = None,
    limits: Limits | None = None,
) -> ComparisonRuns:
    """Run both phases against the target at ``settings.required(HOST)``; return what ran.

    ``restart_target`` restarts the embedded target (``--restart-target-at``, in every run).
    """
    done = ComparisonRuns(runs=[])
    repeat = settings[REPEAT]

    def phase(name: str, rate_rps: float | None) -> None:
        for repetition in range(1, repeat + 1):
            for variant in settings.variants():
                if STOP.requested:
                    return
                folder = folder_of(settings.required(OUT), variant.name, name, repetition)
                rate = f" at {rate_rps:,.0f} rps" if rate_rps else ""
                print(f"== {variant.name}: {name} {repetition}/{repeat}{rate}", flush=True)
                run = settings_of_run(settings, variant, folder, rate_rps)
                execute_run(run, env, restart_target, limits)
                done.runs.append(PhaseRun(variant.name, name, repetition, folder))

    phase(CAPACITY, None)
    if STOP.requested:
        done.offered_rate_from = f"no latency runs: stopped by {STOP.name}"
        return done
    done.offered_rate_rps, done.offered_rate_from = _offered_rate(settings, done)
    if done.offered_rate_rps is not None:
        phase(AT_RATE, done.offered_rate_rps)
    return done
