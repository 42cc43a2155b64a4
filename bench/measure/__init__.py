"""Measurement: call records, the instrumented transport, the recorder, process usage.

Nothing here imports Locust; the Locust adapter, the bare driver and the reports all
build on these pieces. The aiohttp transport (``AiohttpPooledTransport``,
``AiohttpTransportFactory``) is imported on first access: aiohttp costs about 150 ms and
11 MiB to import, which only a process that sends through it should pay.
"""

from typing import TYPE_CHECKING, Any

from bench.measure._context import ACTING_USER, CURRENT_CALL, CallRecord
from bench.measure._lifecycle import note_unauthorized
from bench.measure._part import (
    PART_SCHEMA,
    Part,
    PartError,
    PartGenerator,
    PartLifecycle,
    PartWindow,
)
from bench.measure._pool import (
    COUNT_MODES,
    CountingBackend,
    PooledTransport,
    PooledTransportFactory,
    counting_backend,
)
from bench.measure._recorder import (
    COUNTERS,
    LATE_START_S,
    MAX_FINDINGS,
    EndpointStats,
    Recorder,
    new_histogram,
)
from bench.measure._server_stats import ServerStats, merge_readings, oracle_state, server_stats
from bench.measure._sockets import count_sockets, loopback_port
from bench.measure._transport import ACTING_USER_HEADER, REPLAY_HEADER, InstrumentedTransport
from bench.measure._usage import cpu_seconds, raise_open_file_limit, rss_bytes

__all__ = [
    "ACTING_USER",
    "ACTING_USER_HEADER",
    "COUNTERS",
    "COUNT_MODES",
    "CURRENT_CALL",
    "LATE_START_S",
    "MAX_FINDINGS",
    "PART_SCHEMA",
    "REPLAY_HEADER",
    "AiohttpPooledTransport",
    "AiohttpTransportFactory",
    "CallRecord",
    "CountingBackend",
    "EndpointStats",
    "InstrumentedTransport",
    "Part",
    "PartError",
    "PartGenerator",
    "PartLifecycle",
    "PartWindow",
    "PooledTransport",
    "PooledTransportFactory",
    "Recorder",
    "ServerStats",
    "count_sockets",
    "counting_backend",
    "cpu_seconds",
    "loopback_port",
    "merge_readings",
    "new_histogram",
    "note_unauthorized",
    "oracle_state",
    "raise_open_file_limit",
    "rss_bytes",
    "server_stats",
]

if TYPE_CHECKING:
    from bench.measure._aiohttp import AiohttpPooledTransport, AiohttpTransportFactory

_LAZY = frozenset({"AiohttpPooledTransport", "AiohttpTransportFactory"})


def __getattr__(name: str) -> Any:
    """The aiohttp transport's names, imported when first asked for (PEP 562)."""
    if name in _LAZY:
        from bench.measure import _aiohttp

        value = getattr(_aiohttp, name)
        globals()[name] = value  # asked once: later lookups find it directly
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
