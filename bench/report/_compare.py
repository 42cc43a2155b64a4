"""``compare.md``, the combined ``summary.json`` and the pyperf files of a comparison.

A comparison repeats each strategy ``N`` times in two phases (see
``bench/cli/_compare.py``); every figure here is a value over those repetitions with its
95% rerun interval (``bench/report/_repetitions.py``), never one run's sampling interval.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import numbers as fmt
from bench.capacity import PLANNING_THINK_S
from bench.options import Limits
from bench.outcome import Outcome, evaluate, judge_comparison
from bench.report._atomic import write_json_atomic, write_text_atomic
from bench.report._comparison import AT_RATE, CAPACITY, PhaseRun, build_comparison
from bench.report._lifecycle import COUNT_COLUMNS, count_cells, invariant_cell, invariant_names
from bench.report._pyperf import CAPACITY_BENCHMARK, write_repetitions_pyperf
from bench.report._run_folder import load_summary

__all__ = ["comparison_headline", "run_label", "write_compare"]


def _pyperf_table(paths: list[Path], benchmark: str) -> str:
    if len(paths) < 2:
        return (
            "Fewer than two strategies have pyperf files (one without a completed call has none).\n"
        )
    result = subprocess.run(
        [sys.executable, "-m", "pyperf", "compare_to", *map(str, paths), "-b", benchmark],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        return f"pyperf compare_to failed:\n\n```\n{result.stderr.strip()}\n```\n"
    return f"```\n{result.stdout.strip()}\n```\n"


def _value(data: dict[str, Any] | None) -> float | None:
    return None if not data else data.get("value")


def comparison_headline(comparison: dict[str, Any]) -> list[str]:
    """One sentence per strategy compared with the first, every figure as everywhere else."""
    first = comparison["first"]
    base = comparison["strategies"][first]
    n = comparison["repetitions"]
    rate = comparison["offered_rate_rps"]
    sentences = []
    for name, ratio in comparison["throughput_ratios"].items():
        other = comparison["strategies"][name]
        bound = base["latency_bound_by_generator"] or other["latency_bound_by_generator"]

        def pair(key: str, show: Any, sub: str | None = None, other: dict[str, Any] = other) -> str:
            a, b = base[key], other[key]
            if sub is not None:
                a, b = a[sub], b[sub]
            return f"{show(_value(a))} vs {show(_value(b))}"

        interval = (
            f"95% rerun interval {fmt.ratio(ratio['ci_low'])}-{fmt.ratio(ratio['ci_high'])}, "
            if ratio["ci_low"] is not None
            else "no interval from one repetition, "
        )
        latency = (
            f"at {fmt.rate(rate)} req/s offered, p50 {pair('latency_at_rate_ms', fmt.ms, 'p50')} "
            f"ms, p99 {pair('latency_at_rate_ms', fmt.ms, 'p99')} ms"
            + (fmt.GENERATOR_BOUND if bound else "")
            + f", client CPU {pair('client_cpu_us_per_request_at_rate', fmt.us)} µs/request, "
            f"so this box would carry {pair('sessions_carried', fmt.count)} sessions at a "
            f"{PLANNING_THINK_S:g} s think time"
            if rate
            else "no latency runs"
        )
        sentences.append(
            f"`{first}` sustains {fmt.ratio(ratio['value'])}x `{name}`'s throughput "
            f"({interval}N = {n}); {latency}; "
            f"{pair('connections_per_request', fmt.per_request)} connections and "
            f"{pair('tls_handshakes_per_request', fmt.per_request)} TLS handshakes per "
            f"request; client CPU {pair('client_cpu_us_per_request', fmt.us)} µs/request, "
            f"server {pair('server_cpu_us_per_request', fmt.us)} µs/request."
        )
    return sentences


_DEFINITIONS = f"""\
## What each figure means

- **[low, high]**: the 95% rerun interval across the N repetitions: where the same
  command's value should land 95% of the time when run again (Student's t over the
  repetitions, `sqrt(2/N)` for the rerun's own sampling, calibrated on real reruns; see
  docs/statistics.md). A figure over one repetition has none.
- **capacity rps**: requests completed per second in the steady-state window of a
  closed-loop run (every user sends its next request as soon as its think time allows).
- **throughput ratio**: the first strategy's mean capacity over this one's; its interval
  comes from each repetition's own ratio (the two ran back to back).
- **p50 / p99 at the offered rate**: latency percentiles of the open-model runs, in ms,
  measured from each request's intended start on its user's fixed schedule, so a
  request that started late because the one before was slow still counts its wait
  (wrk2's correction for coordinated omission).
- **service p50 / p99**: the same requests timed from when they actually began.
- **client CPU µs / request** at the offered rate: the load processes' CPU time over
  the window's requests, paced as sessions are. **sessions at {PLANNING_THINK_S:g} s
  think**: the sessions this box would carry at that client and the server's CPU cost,
  each pausing that long between tasks (the capacity forecast's model,
  docs/capacity.md).
- **late starts**: open-model requests that began more than 10 ms after their intended
  start.
- **conns / request, TLS / request**: TCP connections opened and TLS handshakes made by
  the clients per request (capacity runs).
- **client CPU µs / request**: the load processes' CPU time in the window over the
  window's requests (capacity runs). **server CPU µs / request**: the reference
  backend's CPU time over its requests, whole run.
- **Session lifecycle**: 401s the sessions got (sign-ins and replays aside), the
  refreshes they sent and how many 401s each served (over 1: single flight served a
  burst), retries, `on_unauthorized` calls, users that signed in again after losing
  their session, clients recycled (`--churn`). Each invariant reads "held (n checks)",
  "BROKEN b of n", or "not checked" when nothing in the runs exercised it.
- **saturated**: runs in which the load generator, not the target, bounded the
  figures (a load process's core or the machine full, or event-loop lag a tenth of the
  median latency). Latencies of such runs are marked "(generator-bound)".
"""


def _isolation_rows(comparison: dict[str, Any]) -> list[str]:
    lines = [
        "| strategy | verdict | runs | client-side leaks | server-side leaks | shared connections "
        "| replays accepted | foreign sessions | identity checks |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, figures in comparison["strategies"].items():
        iso = figures["isolation"]
        verdict = fmt.verdict(iso)
        verdict = verdict if verdict == "isolated" else f"**{verdict}**: {iso['reason']}"
        lines.append(
            f"| {name} | {verdict} | {fmt.count(iso['runs'])} | "
            f"{fmt.count(iso['client_side_leaks'])} | {fmt.count(iso['server_side_leaks'])} | "
            f"{fmt.count(iso['shared_connections'])} | {fmt.count(iso['replay_accepted'])} | "
            f"{fmt.count(iso['foreign_sessions'])} | {fmt.count(iso['checked'])} |"
        )
    return lines


def _lifecycle_rows(comparison: dict[str, Any]) -> list[str]:
    """The lifecycle's counts per strategy, then each invariant per strategy."""
    strategies = comparison["strategies"]
    lifecycles = [figures["lifecycle"] for figures in strategies.values()]
    names = invariant_names(lifecycles)
    headings = [heading for heading, _ in COUNT_COLUMNS]
    lines = [
        "| strategy | " + " | ".join(headings) + " |",
        "|---" * (len(headings) + 1) + "|",
    ]
    for name, lifecycle in zip(strategies, lifecycles, strict=True):
        lines.append(f"| {name} | " + " | ".join(count_cells(lifecycle)) + " |")
    lines += [
        "",
        "| invariant | " + " | ".join(strategies) + " |",
        "|---" * (len(strategies) + 1) + "|",
    ]
    for invariant in names:
        cells = [invariant_cell(lc["invariants"].get(invariant)) for lc in lifecycles]
        cells = [f"**{cell}**" if cell.startswith("BROKEN") else cell for cell in cells]
        lines.append(f"| `{invariant}` | " + " | ".join(cells) + " |")
    return lines


def _capacity_rows(comparison: dict[str, Any]) -> list[str]:
    first = comparison["first"]
    lines = [
        f"| strategy | capacity rps | throughput ratio ({first} / this) | conns / request "
        "| TLS / request | client CPU µs / request | server CPU µs / request | saturated |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, f in comparison["strategies"].items():
        ratio = comparison["throughput_ratios"].get(name)
        lines.append(
            f"| {name} | {fmt.interval(f['capacity_rps'], fmt.rate)} | "
            f"{fmt.interval(ratio, fmt.ratio) if ratio else '1 (the first)'} | "
            f"{fmt.interval(f['connections_per_request'], fmt.per_request)} | "
            f"{fmt.interval(f['tls_handshakes_per_request'], fmt.per_request)} | "
            f"{fmt.interval(f['client_cpu_us_per_request'], fmt.us)} | "
            f"{fmt.interval(f['server_cpu_us_per_request'], fmt.us)} | "
            f"{f['saturated_runs'][CAPACITY]} of {f['runs'][CAPACITY]} |"
        )
    return lines


def _latency_rows(comparison: dict[str, Any]) -> list[str]:
    lines = [
        "| strategy | p50 ms | p99 ms | service p50 ms | service p99 ms | achieved rps "
        f"| client CPU µs / request | sessions at {PLANNING_THINK_S:g} s think | late starts "
        "| saturated |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, f in comparison["strategies"].items():
        bound = f["latency_bound_by_generator"]

        def latency(section: str, q: str, f: dict[str, Any] = f, bound: bool = bound) -> str:
            return fmt.bounded(fmt.interval(f[section][q], fmt.ms), bound)

        lines.append(
            f"| {name} | {latency('latency_at_rate_ms', 'p50')} | "
            f"{latency('latency_at_rate_ms', 'p99')} | "
            f"{latency('service_time_at_rate_ms', 'p50')} | "
            f"{latency('service_time_at_rate_ms', 'p99')} | "
            f"{fmt.interval(f['achieved_rate_rps'], fmt.rate)} | "
            f"{fmt.interval(f['client_cpu_us_per_request_at_rate'], fmt.us)} | "
            f"{fmt.interval(f['sessions_carried'], fmt.count)} | "
            f"{fmt.count(f['late_starts_at_rate'])} of {fmt.count(f['scheduled_at_rate'])} | "
            f"{f['saturated_runs'][AT_RATE]} of {f['runs'][AT_RATE]} |"
        )
    return lines


def _repetition_rows(runs: list[PhaseRun], out_dir: Path) -> list[str]:
    lines = [
        "| strategy | phase | repetition | throughput rps | p50 ms | p99 ms | saturated | folder |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        s = load_summary(run.folder)
        open_model = s.get("open_model") or {}
        latency = open_model.get("latency_from_intended_start_ms") or s["latency_ms"]
        bound = s["generator"]["saturated"]
        lines.append(
            f"| {run.strategy} | {run.phase} | {run.repetition} | {fmt.rate(s['throughput_rps'])} "
            f"| {fmt.bounded(fmt.ms(latency['p50']), bound)} "
            f"| {fmt.bounded(fmt.ms(latency['p99']), bound)} | {'yes' if bound else 'no'} "
            f"| `{run.folder.relative_to(out_dir)}` |"
        )
    return lines


def _complete_repetitions(runs: list[PhaseRun], strategies: list[str], phase: str) -> set[int]:
    """Repetitions of a phase that every strategy completed."""
    done = {(r.strategy, r.repetition) for r in runs if r.phase == phase}
    repetitions = {r.repetition for r in runs if r.phase == phase}
    return {i for i in repetitions if all((s, i) in done for s in strategies)}


def _write_pyperf_files(
    out_dir: Path, runs: list[PhaseRun], strategies: list[str], comparison: dict[str, Any]
) -> list[Path]:
    latency_reps = _complete_repetitions(runs, strategies, AT_RATE)
    capacity_reps = _complete_repetitions(runs, strategies, CAPACITY)
    first = load_summary(runs[0].folder)
    metadata = {
        "aegis_users": int(first["users"]),
        "aegis_target": str(first["target"]),
        "aegis_repetitions": len(capacity_reps),
        "aegis_offered_rate_rps": comparison["offered_rate_rps"] or 0.0,
    }
    paths = []
    for strategy in strategies:
        mine = sorted((r for r in runs if r.strategy == strategy), key=lambda r: r.repetition)
        path = write_repetitions_pyperf(
            out_dir,
            strategy,
            [r.folder for r in mine if r.phase == AT_RATE and r.repetition in latency_reps],
            [r.folder for r in mine if r.phase == CAPACITY and r.repetition in capacity_reps],
            metadata,
        )
        if path is not None:
            paths.append(path)
    return paths


def write_compare(
    out_dir: Path,
    runs: list[PhaseRun],
    strategies: list[str],
    *,
    repetitions: int,
    offered_rate_rps: float | None,
    offered_rate_from: str,
    limits: Limits | None = None,
    stopped_by: str | None = None,
) -> tuple[dict[str, Any], Outcome]:
    """Write ``compare.md``, the combined ``summary.json`` and the top-level pyperf files.

    Returns the combined summary and the comparison's outcome under ``limits`` (its
    ``outcome`` section): every run's own reasons and the thresholds' checks.
    """
    comparison = build_comparison(
        runs,
        strategies,
        repetitions=repetitions,
        offered_rate_rps=offered_rate_rps,
        offered_rate_from=offered_rate_from,
    )
    paths = _write_pyperf_files(out_dir, runs, strategies, comparison)
    first = load_summary(runs[0].folder)
    n = comparison["repetitions"]
    rate = comparison["offered_rate_rps"]
    lines = [
        "# aegis-bench comparison",
        "",
        *comparison_headline(comparison),
        "",
        f"Settings: strategies {', '.join(f'`{s}`' for s in strategies)}, "
        f"{fmt.count(first['users'])} users, {fmt.seconds(first['duration_requested_s'])} s "
        f"per run, target {first['target']}. Each strategy ran N = {n} times in each phase, "
        "alternately (A B A B ...). Latency runs offered "
        + (
            f"{fmt.rate(rate)} req/s ({comparison['offered_rate_from']})."
            if rate
            else f"nothing: {comparison['offered_rate_from']}."
        ),
        "",
        _DEFINITIONS,
        "## Isolation (every run)",
        "",
        *_isolation_rows(comparison),
        "",
        "## Session lifecycle (every run)",
        "",
        *_lifecycle_rows(comparison),
        "",
        f"## Capacity (closed loop, N = {n})",
        "",
        *_capacity_rows(comparison),
        "",
        f"## Latency at {fmt.rate(rate)} req/s offered (open model, N = {n})"
        if rate
        else "## Latency at an offered rate: not measured",
        "",
        *(_latency_rows(comparison) if rate else []),
        "",
        "## Every run",
        "",
        *_repetition_rows(runs, out_dir),
        "",
        "## pyperf",
        "",
        f"`pyperf-<strategy>.json` holds one pyperf run per repetition (pyperf's model of "
        f"repeated processes), one value each: the repetition's median latency at the offered "
        f"rate (`all-requests` and each endpoint) and its seconds per request at capacity "
        f"(`{CAPACITY_BENCHMARK}`). So `compare_to` tests the spread between repetitions. "
        f"Reproduce: `python -m pyperf compare_to {' '.join(p.name for p in paths)}`.",
        "",
        _pyperf_table(paths, "all-requests"),
        _pyperf_table(paths, CAPACITY_BENCHMARK),
    ]
    write_text_atomic(out_dir / "compare.md", "\n".join(lines))
    combined: dict[str, Any] = {
        "schema": 2,
        "kind": "compare",
        "baseline": strategies[0],
        "strategies": strategies,
        "comparison": comparison,
        "runs": [
            {
                "strategy": run.strategy,
                "phase": run.phase,
                "repetition": run.repetition,
                "folder": str(run.folder.relative_to(out_dir)),
                "summary": load_summary(run.folder),
            }
            for run in runs
        ],
    }
    limits = limits or Limits()
    outcome = judge_comparison(
        [(run_label(entry), entry["summary"]) for entry in combined["runs"]],
        evaluate(limits, comparison),
        stopped_by=stopped_by,
    )
    combined["limits"] = limits.as_json()
    combined["outcome"] = outcome.as_json()
    write_json_atomic(out_dir / "summary.json", combined)
    return combined, outcome


def run_label(entry: dict[str, Any]) -> str:
    """How reports name one run of a comparison: ``pooled capacity 1``."""
    return f"{entry['strategy']} {entry['phase']} {entry['repetition']}"
