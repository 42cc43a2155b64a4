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


def _p99(figures: dict[str, Any]) -> tuple[float | None, str]:
    """The p99 the gate judges: at the offered rate when measured, else at capacity."""
    at_rate = figures["latency_at_rate_ms"]["p99"]
    if at_rate.get("value") is not None:
        return at_rate["value"], f"p99 at the offered rate {fmt.interval(at_rate, fmt.ms)} ms"
    return None, "no latency runs at an offered rate"


def evaluate(thresholds: Thresholds, comparison: dict[str, Any]) -> list[Check]:
    """Judge every threshold over a comparison (``comparison`` of the combined summary).

    Figures are values over the repetitions; their intervals are shown in the messages.
    """
    strategies: dict[str, dict[str, Any]] = comparison["strategies"]
    n = comparison["repetitions"]
    checks = []
    leaks = sum(f["isolation"]["leaks"] for name, f in strategies.items()
                if name != NEGATIVE_CONTROL)  # fmt: skip
    checks.append(
        Check("max-leaks", thresholds.max_leaks, leaks, leaks <= thresholds.max_leaks,
              f"{fmt.count(leaks)} leaks (client, server, shared connections, accepted "
              "replays, foreign sessions) over every run")
    )  # fmt: skip
    for name, figures in strategies.items():
        if name != NEGATIVE_CONTROL:
            # No evidence is never a pass: a run that checked nothing fails the gate.
            iso = figures["isolation"]
            checks.append(
                Check(f"isolation-checked[{name}]", 1, iso["checked"],
                      iso["verdict"] != "not checked", f"{name}: isolation {iso['verdict']}: "
                      f"{iso['reason']}")
            )  # fmt: skip
        if thresholds.max_error_rate is not None:
            rate = float(figures["error_rate"])
            checks.append(
                Check(f"max-error-rate[{name}]", thresholds.max_error_rate, rate,
                      rate <= thresholds.max_error_rate,
                      f"{name}: error rate {fmt.percent(rate)} over every run")
            )  # fmt: skip
        if thresholds.max_p99_ms is not None:
            p99, shown = _p99(figures)
            ok = p99 is not None and p99 <= thresholds.max_p99_ms
            checks.append(
                Check(f"max-p99-ms[{name}]", thresholds.max_p99_ms, p99, ok,
                      f"{name}: {shown} (N = {n})")
            )  # fmt: skip
    if thresholds.max_conns_per_request is not None and "pooled" in strategies:
        per_request = strategies["pooled"]["connections_per_request"]
        value = per_request.get("value")
        ok = value is not None and value <= thresholds.max_conns_per_request
        checks.append(
            Check("max-conns-per-request[pooled]", thresholds.max_conns_per_request, value, ok,
                  f"pooled: {fmt.interval(per_request, fmt.per_request)} connections per "
                  f"request (N = {n})")
        )  # fmt: skip
    if thresholds.min_speedup is not None:
        checks.append(_speedup(thresholds.min_speedup, strategies, n))
    return checks


def _speedup(limit: float, strategies: dict[str, dict[str, Any]], n: int) -> Check:
    """pooled's mean capacity over per-call's, judged on its value."""
    pooled, per_call = strategies.get("pooled"), strategies.get("per-call")
    if not pooled or not per_call:
        return Check("min-speedup", limit, None, False,
                     "min-speedup needs both a pooled and a per-call run")  # fmt: skip
    a, b = pooled["capacity_rps"].get("value"), per_call["capacity_rps"].get("value")
    if not a or not b:
        return Check("min-speedup", limit, None, False,
                     "min-speedup: a strategy completed no call")  # fmt: skip
    speedup = a / b
    return Check("min-speedup", limit, round(speedup, 3), speedup >= limit,
                 f"pooled/per-call capacity {fmt.ratio(speedup)}x (N = {n})")  # fmt: skip


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


def write_gate_markdown(path: Path, checks: list[Check], comparison: dict[str, Any]) -> None:
    """A Markdown summary a CI system can show: verdict, thresholds, headline figures."""
    broken = [c for c in checks if not c.passed]
    n = comparison["repetitions"]
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
    lines += [
        "",
        f"Figures over N = {n} repetitions, with their 95% rerun intervals.",
        "",
        "| strategy | capacity rps | p50 ms at offered rate | p99 ms at offered rate "
        "| conns / request | leaks |",
        "|---|---|---|---|---|---|",
    ]
    for name, f in comparison["strategies"].items():
        bound = f["latency_bound_by_generator"]
        lines.append(
            f"| {name} | {fmt.interval(f['capacity_rps'], fmt.rate)} | "
            f"{fmt.bounded(fmt.interval(f['latency_at_rate_ms']['p50'], fmt.ms), bound)} | "
            f"{fmt.bounded(fmt.interval(f['latency_at_rate_ms']['p99'], fmt.ms), bound)} | "
            f"{fmt.interval(f['connections_per_request'], fmt.per_request)} | "
            f"{fmt.count(f['isolation']['leaks'])} |"
        )
    write_text_atomic(path, "\n".join(lines) + "\n")
