"""The gate's options: what fails a run, each declared once (see ``_catalog.py``).

Every command applies their defaults (a leak fails any run); ``ci`` takes them as flags
or from a thresholds file (``_thresholds.py`` reads it into :class:`Limits`).
"""

from __future__ import annotations

from pathlib import Path

from bench.options import _values as v
from bench.options._option import Option

__all__ = [
    "GATE",
    "GATE_OPTIONS",
    "MAX_CONNS_PER_REQUEST",
    "MAX_ERROR_RATE",
    "MAX_LEAKS",
    "MAX_P99_MS",
    "MIN_SPEEDUP",
    "THRESHOLDS",
    "THRESHOLD_OPTIONS",
]

GATE = frozenset({"ci"})
THRESHOLDS = Option[Path | None](
    "thresholds", v.path,
    "TOML file of thresholds, the names below with underscores; flags override it", GATE,
    group="gate", default_doc="none",
)  # fmt: skip
MAX_LEAKS = Option[int](
    "max_leaks", v.non_negative_int,
    "leaks allowed over every run (client, server, shared connections, accepted replays, "
    "foreign sessions)", GATE, default=0, group="gate",
)  # fmt: skip
MAX_ERROR_RATE = Option[float | None](
    "max_error_rate", v.fraction,
    "highest failed fraction of requests, per strategy", GATE, default=0.0, group="gate",
)  # fmt: skip
MAX_P99_MS = Option[float | None](
    "max_p99_ms", v.positive_float,
    "highest p99 latency at the offered rate, per strategy (mean over the repetitions)",
    GATE, group="gate", default_doc="not checked",
)  # fmt: skip
MIN_SPEEDUP = Option[float | None](
    "min_speedup", v.positive_float,
    "lowest pooled / per-call capacity ratio (mean over the repetitions)", GATE,
    group="gate", default_doc="not checked",
)  # fmt: skip
MAX_CONNS_PER_REQUEST = Option[float | None](
    "max_conns_per_request", v.positive_float, "most new connections per request for pooled",
    GATE, group="gate", default_doc="not checked",
)  # fmt: skip
THRESHOLD_OPTIONS = (MAX_LEAKS, MAX_ERROR_RATE, MAX_P99_MS, MIN_SPEEDUP, MAX_CONNS_PER_REQUEST)
GATE_OPTIONS = (THRESHOLDS, *THRESHOLD_OPTIONS)
