"""Reports: atomic result files, summary.json, pyperf files, comparisons, the CI gate."""

from bench.report._atomic import write_json_atomic, write_text_atomic
from bench.report._compare import load_run, percentile_ci_ms, write_compare
from bench.report._gate import (
    Check,
    Thresholds,
    evaluate,
    load_thresholds,
    write_gate_markdown,
    write_junit,
)
from bench.report._html import CHART_TITLES, write_report_html
from bench.report._pyperf import VALUES_PER_BENCHMARK, pyperf_path, write_pyperf_file
from bench.report._summary import SCHEMA_VERSION, build_summary, load_parts, versions
from bench.report._terminal import print_table

__all__ = [
    "CHART_TITLES",
    "SCHEMA_VERSION",
    "VALUES_PER_BENCHMARK",
    "Check",
    "Thresholds",
    "build_summary",
    "evaluate",
    "load_parts",
    "load_run",
    "load_thresholds",
    "percentile_ci_ms",
    "print_table",
    "pyperf_path",
    "versions",
    "write_compare",
    "write_gate_markdown",
    "write_json_atomic",
    "write_junit",
    "write_pyperf_file",
    "write_report_html",
    "write_text_atomic",
]
