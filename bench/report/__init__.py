"""Reports: summary.json from parts, pyperf files, comparisons, the gate's files.

``build_summary`` is the one builder of a run's summary.json (every door calls it);
verdicts come from ``bench.outcome``, not from here.
"""

from bench.report._atomic import write_json_atomic, write_text_atomic
from bench.report._compare import comparison_headline, run_label, write_compare
from bench.report._comparison import AT_RATE, CAPACITY, PhaseRun, build_comparison
from bench.report._gate import write_gate_markdown, write_junit
from bench.report._html import CHART_TITLES, write_comparison_report, write_run_report
from bench.report._pyperf import (
    VALUES_PER_BENCHMARK,
    pyperf_path,
    write_pyperf_file,
    write_repetitions_pyperf,
)
from bench.report._repetitions import RERUN_WIDENING, Interval, ratio_interval, rerun_interval
from bench.report._run_folder import load_run, load_summary
from bench.report._summary import SCHEMA_VERSION, RunContext, build_summary, load_parts, versions
from bench.report._terminal import print_comparison, print_table
from bench.report._write_run import write_run_folder

__all__ = [
    "AT_RATE",
    "CAPACITY",
    "CHART_TITLES",
    "RERUN_WIDENING",
    "SCHEMA_VERSION",
    "VALUES_PER_BENCHMARK",
    "Interval",
    "PhaseRun",
    "RunContext",
    "build_comparison",
    "build_summary",
    "comparison_headline",
    "load_parts",
    "load_run",
    "load_summary",
    "print_comparison",
    "print_table",
    "pyperf_path",
    "ratio_interval",
    "rerun_interval",
    "run_label",
    "versions",
    "write_compare",
    "write_comparison_report",
    "write_gate_markdown",
    "write_json_atomic",
    "write_junit",
    "write_pyperf_file",
    "write_repetitions_pyperf",
    "write_run_folder",
    "write_run_report",
    "write_text_atomic",
]
