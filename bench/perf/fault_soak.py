"""Soak one strategy under each of the reference backend's faults in turn, and account.

    python -m bench.perf.fault_soak --duration 10m --out results/soak -- --users 50 \
        --think-time 0.5-1 --churn 0.05 --bursts 0.02

runs ``aegis-bench run`` once per fault mode (the options after ``--`` go to every run)
and prints one row per mode: whether the run ended on time (no hang) and without a
traceback (no crash), whether every call is accounted for (the summary's calls equal
Locust's own count, its failures by kind sum to its failures, the client's connections
equal the server's), and the lifecycle invariants (checked, broken, never run). Exit
code 1 when any of those fails. Failed calls are expected under faults: they count as
findings only when unaccounted for.

A benchmark, not a test: it takes the number of modes times ``--duration``.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# Each fault mode as the options that turn it on. The outage needs expiries to bite.
MODES: dict[str, list[str]] = {
    "5xx": ["--fault-5xx", "0.02"],
    "slow": ["--fault-slow", "0.005"],
    "reset": ["--fault-reset", "0.02"],
    "expire": ["--expire-every", "20s"],
    "refresh-outage": ["--expire-every", "20s", "--refresh-outage", "{outage}"],
    "restart": ["--restart-target-at", "{half}"],
}
LIFECYCLE_FIGURES = ("unauthorized", "refreshes", "refresh_failures", "on_unauthorized",
                     "signed_in_again", "recycled_clients")  # fmt: skip
# Beyond the run time, how long a run may take to stop and write its folder.
STOP_ALLOWANCE_S = 120.0


def _seconds(text: str) -> float:
    """Seconds as ``600``, ``600s`` or ``10m`` (argparse reports anything else)."""
    scale = {"s": 1.0, "m": 60.0}.get(text[-1:])
    try:
        value = float(text[:-1]) * scale if scale else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (600, 600s, 10m)") from None
    if not 0 < value < 86400:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 24 h")
    return value


def _locust_counts(folder: Path) -> tuple[int, int]:
    """Locust's own aggregated calls and failures, leak rows (not calls) left out."""
    requests = failures = 0
    with (folder / "locust_stats.csv").open(encoding="utf-8") as stats:
        for row in csv.DictReader(stats):
            if row["Name"] != "Aggregated" and row["Type"] != "LEAK":
                requests += int(row["Request Count"])
                failures += int(row["Failure Count"])
    return requests, failures


def _row(
    mode: str, folder: Path, code: int, wall_s: float, limit_s: float, stderr: str
) -> dict[str, Any]:
    if not (folder / "summary.json").is_file():
        return {"mode": mode, "exit": code, "wall_s": round(wall_s),
                "problems": [f"no summary.json (exit {code}): see {mode}.stderr.txt"]}  # fmt: skip
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    lifecycle = summary["lifecycle"]
    locust_requests, locust_failures = _locust_counts(folder)
    connections = summary["connections"]
    problems: list[str] = []
    if wall_s > limit_s:
        problems.append(f"took {wall_s:.0f} s (limit {limit_s:.0f} s)")
    if "Traceback" in stderr:
        problems.append("a traceback on stderr")
    if code not in (0, 1):
        problems.append(f"exit code {code}")
    if summary["partial"]:
        problems.append("partial: " + "; ".join(summary["partial_reasons"]))
    if (summary["requests"], summary["failures"]) != (locust_requests, locust_failures):
        problems.append(
            f"calls {summary['requests']:,}/{summary['failures']:,} failed, Locust "
            f"{locust_requests:,}/{locust_failures:,}"
        )
    if sum(summary["failures_by_kind"].values()) != summary["failures"]:
        problems.append("failures_by_kind does not sum to failures")
    notes: list[str] = []
    if connections["client_opened"] != connections["server_accepted"]:
        mismatch = (
            f"connections: client {connections['client_opened']}, server "
            f"{connections['server_accepted']}"
        )
        # Connections the old target accepted after its last reading and never served
        # are lost with it: a restart's count may fall short by those.
        (notes if summary.get("target_restarts") else problems).append(mismatch)
    if lifecycle["invariants_broken"]:
        problems.append(f"{lifecycle['invariants_broken']} invariant breaks")
    if summary["isolation"]["verdict"] != "isolated":
        problems.append(f"isolation {summary['isolation']['verdict']}")
    return {
        "mode": mode,
        "exit": code,
        "wall_s": round(wall_s),
        "requests": summary["requests"],
        "failures_by_kind": summary["failures_by_kind"],
        "lifecycle": {key: lifecycle[key] for key in LIFECYCLE_FIGURES},
        "invariants": {n: c["checked"] for n, c in lifecycle["invariants"].items()},
        "not_checked": lifecycle["not_checked"],
        "clients_left_open": summary["clients_left_open"],
        "faults": (summary.get("server") or {}).get("faults"),
        "problems": problems,
        "notes": notes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perf.fault_soak")
    parser.add_argument(
        "--duration", type=_seconds, default=600.0, help="each mode's run time: 600, 600s or 10m"
    )
    parser.add_argument("--out", type=Path, required=True, help="a new folder for the runs")
    parser.add_argument("--strategy", default="pooled")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated modes")
    parser.add_argument("rest", nargs="*", help="options for every run, after --")
    args = parser.parse_args()
    modes = args.modes.split(",")
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown:
        parser.error(f"unknown mode(s) {', '.join(unknown)}: choose from {', '.join(MODES)}")
    seconds = args.duration
    rows = []
    for mode in modes:
        folder = args.out / mode
        fault = [
            option.format(half=f"{seconds / 2:g}", outage=f"{seconds / 3:g}+{seconds / 3:g}")
            for option in MODES[mode]
        ]
        command = [
            sys.executable, "-m", "bench", "run", "--strategy", args.strategy,
            "--duration", f"{seconds:g}s", "--out", str(folder), *fault, *args.rest,
        ]  # fmt: skip
        print("==", " ".join(command[2:]), flush=True)
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        (args.out / f"{mode}.stderr.txt").write_text(done.stderr, encoding="utf-8")
        row = _row(mode, folder, done.returncode, wall, seconds + STOP_ALLOWANCE_S, done.stderr)
        print(json.dumps(row), flush=True)
        rows.append(row)
    (args.out / "soak.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 1 if any(row["problems"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
