"""The CI gate's files: ``junit.xml`` and ``ci.md``, both written from the outcome.

What passes and what fails is decided by ``bench.outcome`` (thresholds, and every run's
own reasons); these files show it: one test case per threshold and per run.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from bench import numbers as fmt
from bench.outcome import Outcome, ReasonKind
from bench.report._atomic import write_text_atomic

__all__ = ["write_gate_markdown", "write_junit"]


def _run_cases(outcome: Outcome, runs: list[str]) -> list[tuple[str, list[str]]]:
    """(test case name, failure lines) per run, then whether the comparison completed."""
    cases = [
        (f"run[{label}]", [r.line() for r in outcome.reasons if r.subject == label])
        for label in runs
    ]
    stopped = [r.line() for r in outcome.reasons if r.kind is ReasonKind.INTERRUPTED]
    return [*cases, ("complete", stopped)]


def write_junit(path: Path, outcome: Outcome, runs: list[str]) -> None:
    """A JUnit XML file: one test case per threshold and per run (``runs``: their labels),
    a failure element for each that did not pass."""
    cases = _run_cases(outcome, runs)
    failures = sum(1 for c in outcome.checks if not c.passed) + sum(1 for _, f in cases if f)
    suite = ET.Element(
        "testsuite",
        name="aegis-bench",
        tests=str(len(outcome.checks) + len(cases)),
        failures=str(failures),
        errors="0",
    )
    for check in outcome.checks:
        case = ET.SubElement(suite, "testcase", classname="aegis-bench.thresholds", name=check.name)
        if not check.passed:
            limit = check.shown(check.limit)
            failure = ET.SubElement(case, "failure", message=f"{check.message} (limit {limit})")
            failure.text = f"observed {check.shown(check.observed)}, limit {limit}"
    for name, lines in cases:
        case = ET.SubElement(suite, "testcase", classname="aegis-bench.runs", name=name)
        if lines:
            failure = ET.SubElement(case, "failure", message=lines[0])
            failure.text = "\n".join(lines)
    write_text_atomic(path, ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n")


def write_gate_markdown(path: Path, outcome: Outcome, comparison: dict[str, Any]) -> None:
    """A Markdown summary a CI system can show: verdict, thresholds, reasons, figures."""
    n = comparison["repetitions"]
    lines = [
        f"# aegis-bench CI: {'passed' if outcome.passed else 'FAILED'} "
        f"(exit code {outcome.exit_code})",
        "",
        "| threshold | limit | observed | result |",
        "|---|---|---|---|",
    ]
    for check in outcome.checks:
        lines.append(
            f"| {check.name} | {check.shown(check.limit)} | {check.shown(check.observed)} | "
            f"{'ok' if check.passed else '**broken**: ' + check.message} |"
        )
    others = [r for r in outcome.reasons if r.kind is not ReasonKind.THRESHOLD]
    if others:
        lines += ["", "Why the runs did not pass:", ""]
        lines += [f"- {reason.line()}" for reason in others]
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
