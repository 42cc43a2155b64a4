"""Measurement: call records, the instrumented transport, the recorder, process usage.

Nothing here imports Locust; the Locust adapter, the bare driver and the reports all
build on these pieces.
"""

from bench.measure._context import ACTING_USER, CURRENT_CALL, CallRecord
from bench.measure._lifecycle import (
    BOUNDED_REQUESTS,
    CALL_INVARIANTS,
    INVARIANTS,
    NEEDS,
    NEW_CLIENT_EMPTY_JAR,
    NO_COOKIE_AFTER_SIGN_OUT_SERVER,
    SINGLE_FLIGHT,
    note_unauthorized,
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
from bench.measure._sockets import count_sockets
from bench.measure._transport import ACTING_USER_HEADER, REPLAY_HEADER, InstrumentedTransport
from bench.measure._usage import cpu_seconds, raise_open_file_limit, rss_bytes

__all__ = [
    "ACTING_USER",
    "ACTING_USER_HEADER",
    "BOUNDED_REQUESTS",
    "CALL_INVARIANTS",
    "COUNTERS",
    "CURRENT_CALL",
    "INVARIANTS",
    "LATE_START_S",
    "MAX_FINDINGS",
    "NEEDS",
    "NEW_CLIENT_EMPTY_JAR",
    "NO_COOKIE_AFTER_SIGN_OUT_SERVER",
    "REPLAY_HEADER",
    "SINGLE_FLIGHT",
    "CallRecord",
    "EndpointStats",
    "InstrumentedTransport",
    "Recorder",
    "ServerStats",
    "count_sockets",
    "cpu_seconds",
    "merge_readings",
    "new_histogram",
    "note_unauthorized",
    "oracle_state",
    "raise_open_file_limit",
    "rss_bytes",
    "server_stats",
]
