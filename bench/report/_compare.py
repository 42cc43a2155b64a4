"""``compare.md`` and the combined ``summary.json`` of a multi-strategy comparison.

Percentile confidence intervals are order-statistic (binomial) intervals: for quantile
``q`` of ``n`` recorded requests, the 95% interval runs between the values at ranks
``n*q -/+ 1.96*sqrt(n*q*(1-q))``, read from the run's HdrHistogram. It assumes requests
are independent draws, which consecutive requests of one session are not quite: treat
the interval as a lower bound on the uncertainty.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.measure import Recorder
from bench.report import _format as fmt
from bench.report._atomic import write_json_atomic, write_text_atomic
from bench.report._pyperf import pyperf_path, write_pyperf_file

__all__ = ["load_run", "percentile_ci_ms", "write_compare"]


def load_run(run_dir: Path) -> tuple[dict[str, Any], Recorder]:
    """A run folder's summary and merged latency recorder."""
    summary: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    recorder = Recorder()
    latency = run_dir / "latency.json"
    if latency.is_file():
        recorder.merge(json.loads(latency.read_text()))
    return summary, recorder


def percentile_ci_ms(recorder: Recorder, quantile: float) -> tuple[float, float, float] | None:
    """(low, value, high) in ms of a latency quantile with its 95% order-statistic interval."""
    histogram = recorder.total().histogram
    count = histogram.get_total_count()
    if count == 0:
        return None
    spread = 1.96 * math.sqrt(count * quantile * (1 - quantile))
    low_rank = max(0.0, count * quantile - spread) / count
    high_rank = min(float(count), count * quantile + spread) / count

    def at(fraction: float) -> float:
        return float(histogram.get_value_at_percentile(min(100.0, fraction * 100))) / 1000.0

    return at(low_rank), at(quantile), at(high_rank)


def _pyperf_table(paths: list[Path]) -> str:
    if len(paths) < 2:
        return "Fewer than two runs have latencies (a run without a completed call has none).\n"
    result = subprocess.run(
        [sys.executable, "-m", "pyperf", "compare_to", *map(str, paths), "--table"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        return f"pyperf compare_to failed:\n\n```\n{result.stderr.strip()}\n```\n"
    return f"```\n{result.stdout.strip()}\n```\n"


def _ci_text(ci: tuple[float, float, float] | None) -> str:
    """``value [low, high]`` in ms, each printed as every latency is."""
    if ci is None:
        return fmt.NOT_AVAILABLE
    low, value, high = ci
    return f"{fmt.ms(value)} [{fmt.ms(low)}, {fmt.ms(high)}]"


def _per_request(value: float | None, requests: int, scale: float = 1.0) -> float | None:
    """``value * scale`` per request, or None when either is unknown."""
    if value is None or not requests:
        return None
    return value * scale / requests


def write_compare(out_dir: Path, run_dirs: list[Path]) -> tuple[Path, dict[str, Any]]:
    """Write ``compare.md`` and the combined ``summary.json``; return (md path, combined)."""
    runs = [load_run(run_dir) for run_dir in run_dirs]
    paths = []
    for run_dir, (summary, _) in zip(run_dirs, runs, strict=True):
        path: Path | None = pyperf_path(run_dir, summary["strategy"])
        if path is None or not path.is_file():
            path = write_pyperf_file(run_dir)
        if path is not None:  # a run without a completed call has no pyperf file
            paths.append(path)
    baseline = runs[0][0]
    base_rps = baseline["throughput_rps"] or 0.0
    ratios = {
        s["strategy"]: (round(s["throughput_rps"] / base_rps, 3) if base_rps else None)
        for s, _ in runs
    }
    lines = [
        "# aegis-bench comparison",
        "",
        f"Strategies {', '.join(s['strategy'] for s, _ in runs)} with identical settings: "
        f"{fmt.count(baseline['users'])} users, {fmt.seconds(baseline['duration_requested_s'])} "
        f"s, target {baseline['target']}. Baseline: `{baseline['strategy']}`.",
        "",
        "## Isolation",
        "",
        "| strategy | verdict | client-side leaks | server-side leaks | shared connections "
        "| replays accepted | foreign sessions | lost sessions | identity checks |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for summary, _ in runs:
        iso = summary["isolation"]
        verdict = fmt.verdict(iso)
        verdict = verdict if verdict == "isolated" else f"**{verdict}**: {iso['reason']}"
        lines.append(
            f"| {summary['strategy']} | {verdict} | {fmt.count(iso['client_side_leaks'])} | "
            f"{fmt.count(iso['server_side_leaks'])} | {fmt.count(iso['shared_connections'])} | "
            f"{fmt.count(iso['replay_accepted'])} | {fmt.count(iso.get('foreign_sessions'))} | "
            f"{fmt.count(iso['lost_sessions'])} | "
            f"{fmt.count(iso['checked'])} |"
        )
    lines += [
        "",
        "## Verdict",
        "",
        "| strategy | throughput rps | ratio | conns / request | TLS handshakes / request "
        "| client CPU µs / req | server CPU µs / req | p50 ms [95% CI] | p99 ms [95% CI] "
        "| generator saturated |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for summary, recorder in runs:
        connections = summary["connections"]
        server_cpu = (summary.get("server") or {}).get("cpu_s")
        tls = connections.get("tls_handshakes")
        lines.append(
            f"| {summary['strategy']} | {fmt.rate(summary['throughput_rps'])} | "
            f"{fmt.ratio(ratios[summary['strategy']])} | "
            f"{fmt.per_request(connections['per_request'])} | "
            f"{fmt.per_request(_per_request(tls, summary['requests']))} | "
            f"{fmt.us(summary['client_cpu_us_per_request'])} | "
            f"{fmt.us(_per_request(server_cpu, summary['requests'], 1e6))} | "
            f"{_ci_text(percentile_ci_ms(recorder, 0.5))} | "
            f"{_ci_text(percentile_ci_ms(recorder, 0.99))} | "
            f"{'yes' if summary['generator']['saturated'] else 'no'} |"
        )
    lines += [
        "",
        "Percentile intervals are order-statistic 95% intervals from the HdrHistograms; "
        "server CPU is the reference backend's own process time.",
        "",
        "## pyperf",
        "",
        "Each benchmark holds the same number of values (quantiles of the run's "
        "histogram), so `compare_to`'s t-test is valid. Reproduce with "
        f"`python -m pyperf compare_to {' '.join(str(p) for p in paths)} --table`.",
        "",
        _pyperf_table(paths),
    ]
    compare_md = out_dir / "compare.md"
    write_text_atomic(compare_md, "\n".join(lines))
    combined = {
        "schema": 1,
        "kind": "compare",
        "baseline": baseline["strategy"],
        "strategies": [s["strategy"] for s, _ in runs],
        "throughput_ratio": ratios,
        "runs": {s["strategy"]: s for s, _ in runs},
    }
    write_json_atomic(out_dir / "summary.json", combined)
    return compare_md, combined
