"""Measurement: call records, the instrumented transport, the recorder, process usage.

Nothing here imports Locust; the Locust adapter, the bare driver and the reports all
build on these pieces.
"""

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
