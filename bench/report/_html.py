"""``report.html``: a run's or a comparison's results as one small page, the answer first.

:func:`write_run_report` writes a run folder's page (``_run_page.py``), and
:func:`write_comparison_report` a comparison's (``_compare_page.py``), from its combined
summary and the run folders it lists. Each page is one file of a few tens of KB: CSS
inline, charts as inline SVG drawn here in Python, no script, so it opens offline and
loads nothing from anywhere. Each strategy keeps one colour in every chart of a page,
and the built-in strategies the same colour on every page (``_colours.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report._atomic import write_text_atomic
from bench.report._charts import CONNECTIONS_TITLE, LATENCY_TITLE
from bench.report._compare_page import comparison_body
from bench.report._page import page
from bench.report._run_folder import load_run
from bench.report._run_page import run_body

__all__ = ["CHART_TITLES", "write_comparison_report", "write_run_report"]

# The charts every report.html has, a run's and a comparison's alike.
CHART_TITLES = (LATENCY_TITLE, CONNECTIONS_TITLE)


def write_run_report(folder: Path) -> Path:
    """Write ``folder/report.html`` from the run's summary.json and latency.json."""
    summary, recorder = load_run(folder)
    path = folder / "report.html"
    write_text_atomic(path, page(f"aegis-bench run: {summary['strategy']}",
                                 run_body(summary, recorder)))  # fmt: skip
    return path


def write_comparison_report(out_dir: Path, combined: dict[str, Any]) -> Path:
    """Write ``out_dir/report.html`` for a comparison from its combined summary.json
    (as ``write_compare`` returns it); the runs' folders are relative to ``out_dir``."""
    names = " vs ".join(combined["comparison"]["strategies"])
    path = out_dir / "report.html"
    write_text_atomic(path, page(f"aegis-bench comparison: {names}",
                                 comparison_body(out_dir, combined)))  # fmt: skip
    return path
