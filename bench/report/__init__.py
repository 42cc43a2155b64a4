"""Reports: atomic result files and the summary.json schema."""

from bench.report._atomic import write_json_atomic, write_text_atomic
from bench.report._summary import SCHEMA_VERSION, build_summary, load_parts, versions

__all__ = [
    "SCHEMA_VERSION",
    "build_summary",
    "load_parts",
    "versions",
    "write_json_atomic",
    "write_text_atomic",
]
