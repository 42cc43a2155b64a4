"""The CI gate: thresholds over a comparison's runs, with JUnit XML and Markdown output."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from bench._toml import load_toml
from bench.report import _format as fmt
from bench.report._atomic import write_text_atomic

__all__ = [
    "Check",
    "Thresholds",
    "evaluate",
    "load_thresholds",
    "write_gate_markdown",
    "write_junit",
]

# The deliberate leak: its leaks prove the checks work and never break the gate.
NEGATIVE_CONTROL = "shared"

# How each threshold's limit and observed value print, by the check name before any "[".
_SHOWN: dict[str, Callable[[float | None], str]] = {
    "max-leaks": fmt.count,
    "isolation-checked": fmt.count,
    "max-error-rate": fmt.percent,
    "max-p99-ms": fmt.ms,
    "max-conns-per-request": fmt.per_request,
    "min-speedup": fmt.ratio,
}


@dataclass(frozen=True)
class Thresholds:
    """Limits a CI run must hold; ``None`` means not checked."""

    max_leaks: int = 0
    max_error_rate: float | None = None
    max_p99_ms: float | None = None
    min_speedup: float | None = None
    max_conns_per_request: float | None = None

    def merged(self, overrides: dict[str, Any]) -> Thresholds:
        """These thresholds with every non-None override applied."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return Thresholds(**values)


@dataclass(frozen=True)
class Check:
    """One threshold judged: what was allowed, what was seen, and whether it held."""

    name: str
    limit: float
    observed: float | None
    passed: bool
    message: str

    def shown(self, value: float | None) -> str:
        """``value`` (this check's limit or observation) printed as its quantity is."""
        show = _SHOWN.get(self.name.split("[", 1)[0])
        if show is None:
            return fmt.NOT_AVAILABLE if value is None else str(value)
        return show(value)


def load_thresholds(path: Path) -> Thresholds:
    """Read thresholds from TOML (keys as the ``Thresholds`` fields); unknown keys are errors."""
    raw = load_toml(path, "thresholds", {f.name for f in fields(Thresholds)})
    for key, value in raw.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{path}: {key} must be a number >= 0, got {value!r}")
    return Thresholds(**raw)


def _leaks(summary: dict[str, Any]) -> int:
    iso = summary["isolation"]
    return sum(
        int(iso.get(key) or 0)
        for key in (
            "client_side_leaks",
            "server_side_leaks",
            "shared_connections",
            "replay_accepted",
            "foreign_sessions",
        )
    )


def evaluate(thresholds: Thresholds, runs: dict[str, dict[str, Any]]) -> list[Check]:
    """Judge every threshold over the runs (by strategy name)."""
    checks = []
    leaks = sum(_leaks(s) for name, s in runs.items() if name != NEGATIVE_CONTROL)
    checks.append(
        Check("max-leaks", thresholds.max_leaks, leaks, leaks <= thresholds.max_leaks,
              f"{fmt.count(leaks)} leaks (client, server, shared connections, accepted "
              "replays, foreign sessions)")
    )  # fmt: skip
    for name, summary in runs.items():
        if name != NEGATIVE_CONTROL:
            # No evidence is never a pass: a run that checked nothing fails the gate.
            iso = summary["isolation"]
            checks.append(
                Check(f"isolation-checked[{name}]", 1, iso["checked"],
                      iso["verdict"] != "not checked", f"{name}: isolation {iso['verdict']}: "
                      f"{iso['reason']}")
            )  # fmt: skip
        if thresholds.max_error_rate is not None:
            rate = float(summary["error_rate"])
            checks.append(
                Check(f"max-error-rate[{name}]", thresholds.max_error_rate, rate,
                      rate <= thresholds.max_error_rate, f"{name}: error rate {fmt.percent(rate)}")
            )  # fmt: skip
        if thresholds.max_p99_ms is not None:
            p99 = summary["latency_ms"]["p99"]
            ok = p99 is not None and p99 <= thresholds.max_p99_ms
            checks.append(
                Check(f"max-p99-ms[{name}]", thresholds.max_p99_ms, p99, ok,
                      f"{name}: p99 {fmt.ms(p99)} ms")
            )  # fmt: skip
    if thresholds.max_conns_per_request is not None and "pooled" in runs:
        per_request = runs["pooled"]["connections"]["per_request"]
        ok = per_request is not None and per_request <= thresholds.max_conns_per_request
        checks.append(
            Check("max-conns-per-request[pooled]", thresholds.max_conns_per_request, per_request,
                  ok, f"pooled: {fmt.per_request(per_request)} connections per request")
        )  # fmt: skip
    if thresholds.min_speedup is not None:
        pooled, per_call = runs.get("pooled"), runs.get("per-call")
        if pooled and per_call and per_call["throughput_rps"]:
            speedup = pooled["throughput_rps"] / per_call["throughput_rps"]
            checks.append(
                Check("min-speedup", thresholds.min_speedup, round(speedup, 3),
                      speedup >= thresholds.min_speedup,
                      f"pooled/per-call throughput {fmt.ratio(speedup)}x")
            )  # fmt: skip
        else:
            checks.append(
                Check("min-speedup", thresholds.min_speedup, None, False,
                      "min-speedup needs both a pooled and a per-call run")
            )  # fmt: skip
    return checks


def write_junit(path: Path, checks: list[Check]) -> None:
    """A JUnit XML file: one test case per threshold, a failure element for each broken one."""
    failures = sum(1 for c in checks if not c.passed)
    suite = ET.Element(
        "testsuite", name="aegis-bench", tests=str(len(checks)), failures=str(failures), errors="0"
    )
    for check in checks:
        case = ET.SubElement(suite, "testcase", classname="aegis-bench.thresholds", name=check.name)
        if not check.passed:
            limit = check.shown(check.limit)
            failure = ET.SubElement(case, "failure", message=f"{check.message} (limit {limit})")
            failure.text = f"observed {check.shown(check.observed)}, limit {limit}"
    write_text_atomic(path, ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n")


def write_gate_markdown(path: Path, checks: list[Check], runs: dict[str, dict[str, Any]]) -> None:
    """A Markdown summary a CI system can show: verdict, thresholds, headline figures."""
    broken = [c for c in checks if not c.passed]
    lines = [
        f"# aegis-bench CI: {'FAILED' if broken else 'passed'}",
        "",
        "| threshold | limit | observed | result |",
        "|---|---|---|---|",
    ]
    for check in checks:
        lines.append(
            f"| {check.name} | {check.shown(check.limit)} | {check.shown(check.observed)} | "
            f"{'ok' if check.passed else '**broken**: ' + check.message} |"
        )
    lines += ["", "| strategy | throughput rps | p50 ms | p99 ms | conns / request | leaks |"]
    lines.append("|---|---|---|---|---|---|")
    for name, summary in runs.items():
        lines.append(
            f"| {name} | {fmt.rate(summary['throughput_rps'])} | "
            f"{fmt.ms(summary['latency_ms']['p50'])} | {fmt.ms(summary['latency_ms']['p99'])} | "
            f"{fmt.per_request(summary['connections']['per_request'])} | "
            f"{fmt.count(_leaks(summary))} |"
        )
    write_text_atomic(path, "\n".join(lines) + "\n")
