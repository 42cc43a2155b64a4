"""Every option of the tool, each declared once.

The ``aegis-bench`` commands' arguments, Locust's custom arguments (so the web UI's start
form), the argv handed to Locust, the validation and the docs' options reference
(``docs/options.md``) are all made from these declarations. Adding an option is one
declaration here plus the code that uses its value.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

from aegis_client import KEEPALIVE_EXPIRY_S
from bench.options import _catalog_gate as gate
from bench.options import _values as v
from bench.options._option import Evidence, Option
from bench.think_time import ThinkTime

__all__ = [
    "ALL",
    "BIND",
    "BURSTS",
    "CALIBRATE",
    "CHURN",
    "COUNT_CONNECTIONS",
    "COUNT_MODES",
    "CROSSWIRE_RATE",
    "DURATION",
    "EXPIRE_EVERY",
    "FAULT_5XX",
    "FAULT_RESET",
    "FAULT_SHARES",
    "FAULT_SLOW",
    "HOST",
    "KEEPALIVE",
    "LOCUST_HTML",
    "MAX_DEFAULT_SPAWN_RATE",
    "OUT",
    "OVER_CAPACITY",
    "PARTS_ONLY",
    "PORT",
    "PROCESSES",
    "PROFILE",
    "PROGRESS",
    "RATE",
    "REFRESH_OUTAGE",
    "REFRESH_WINDOW",
    "REPEAT",
    "RESTART_TARGET_AT",
    "SCENARIO",
    "SESSION_TTL",
    "SPAWN_RATE",
    "STOP_TIMEOUT",
    "STORM_BURSTS",
    "STRATEGIES",
    "STRATEGY",
    "THINK_TIME",
    "TIMEOUT",
    "TLS",
    "TRANSPORT",
    "TRANSPORTS",
    "TRANSPORT_KINDS",
    "USERS",
    "WARMUP",
    "WEB_PORT",
    "auto_processes",
]

# How the client side spots a new connection (``bench.measure._pool`` says how each works).
COUNT_MODES = ("stream", "trace")
# The HTTP stacks a client's httpx can send through: httpx's own (an httpcore pool, what
# the Aegis frontend ships) or aiohttp's (httpx-aiohttp, ``bench.measure._aiohttp``).
TRANSPORT_KINDS = ("httpcore", "aiohttp")
LOAD = frozenset({"run", "compare", "ci", "ui"})
HEADLESS = frozenset({"run", "compare", "ci"})
COMPARING = frozenset({"compare", "ci"})
# Users a second. Every new user signs in at once: at 500 a second, 15,000 users on
# 2 cores timed out 1,257 sign-ins (the target's accept queue overflowed); at 150, one
# run of two timed out none, the other 1,446: a gentler ramp, not a cure.
MAX_DEFAULT_SPAWN_RATE = 150.0
# The share of tasks that are bursts in a run with expiry storms, unless --bursts says:
# single flight exists for the burst of 401s a storm brings, and only a burst can show
# whether it holds (a burst opens extra keep-alive connections, so never by default
# otherwise).
STORM_BURSTS = 0.05


def auto_processes(cores: int | None = None) -> int:
    """One load process per core, less one core left to the target on this machine.

    The load generator is the bottleneck, and a load process uses one core at most (its
    GIL): more processes than cores only share them. Every target this tool reaches is
    on loopback, so on this machine, and it needs its share too.
    """
    cores = cores or os.cpu_count() or 1
    return max(1, cores - 1)


def _count(*path: str) -> Any:
    """Evidence read at ``path`` in a summary (None where the summary has no such count)."""

    def read(summary: Mapping[str, Any]) -> int | None:
        value: Any = summary
        for key in path:
            if not isinstance(value, Mapping) or value.get(key) is None:
                return None
            value = value[key]
        return int(value)

    return read


def _restarts(summary: Mapping[str, Any]) -> int | None:
    return sum(1 for r in summary.get("target_restarts") or [] if "error" not in r)


def _server_fault(counter: str, what: str) -> Evidence:
    return Evidence(what, f"server.faults.{counter}", _count("server", "faults", counter))


# Load: what each session does, and how many.
STRATEGY = Option[str](
    "strategy", v.text,
    "how each user gets its client: pooled, per-call, the negative controls shared, "
    "stale-jar and no-single-flight, or a name the scenario registers",
    frozenset({"run", "ui"}), default="pooled", locust="--client-strategy",
)  # fmt: skip
USERS = Option[int](
    "users", v.positive_int, "concurrent sessions", LOAD,
    defaults={"run": 50, "compare": 50, "ci": 20, "ui": 10},
    locust="--users", locust_own=True, locust_dest="num_users",
    default_doc="50 (ci: 20, ui: 10)",
)  # fmt: skip
SPAWN_RATE = Option[float](
    "spawn_rate", v.positive_float, "users started per second", LOAD,
    locust="--spawn-rate", locust_own=True,
    derive=lambda s: min(MAX_DEFAULT_SPAWN_RATE, max(1.0, (s.get(USERS) or 2) / 2.0)),
    default_doc=f"users/2, at least 1, at most {MAX_DEFAULT_SPAWN_RATE:g}",
)  # fmt: skip
DURATION = Option[float | None](
    "duration", v.duration, "run time of each run, as 90, 30s, 2m or 1h30m", LOAD,
    defaults={"run": 30.0, "compare": 15.0, "ci": 10.0, "ui": 600.0},
    locust="--run-time", locust_own=True, show=lambda s: f"{int(s)}s",
    default_doc="30s (compare: 15s, ci: 10s, ui: 10m, the form's default)",
    help_by_command={"ui": "run time of each test (the form's default), as 90, 30s, 2m"},
)  # fmt: skip
STOP_TIMEOUT = Option[int](
    "stop_timeout", v.timespan,
    "seconds a user may take, once the run time is up, to finish its task and sign out "
    "before Locust stops it, as 10, 10s or 1m", LOAD,
    default=10, locust="--stop-timeout", locust_own=True,
)  # fmt: skip
WARMUP = Option[float](
    "warmup", v.non_negative_float,
    "seconds after all users spawned (and signed in) before the steady-state window, "
    "from which latency, throughput and CPU figures come, opens", LOAD,
    default=2.0, locust="--aegis-warmup",
)  # fmt: skip
PROCESSES = Option[int](
    # 'auto' (or Locust's -1) is resolved by derive: the settings hold a number.
    "processes", cast("Callable[[str], int]", v.process_count),
    "Locust load processes, or 'auto': one per core, less one for a target on this "
    "machine; the load generator is the bottleneck", LOAD,
    default=1, locust="--processes", locust_own=True, derive=lambda s: auto_processes(),
    locust_argv=lambda n: ["--processes", str(n)] if n > 1 else [],
)  # fmt: skip
HOST = Option[str | None](
    "host", v.base_url,
    "target base URL (no credentials, query or fragment); unset: the embedded reference "
    "backend on a free loopback port", LOAD,
    locust="--host", locust_own=True, default_doc="embedded",
)  # fmt: skip
OUT = Option[Path | None](
    "out", v.path, "results folder (its run folders, when several)", LOAD,
    locust="--aegis-out", web_form=False, group="output",
    default_doc="`results/<timestamp>-<strategy or command>/`",
    help_by_command={"ui": "folder of the tests' run folders, one per test"},
)  # fmt: skip
THINK_TIME = Option[ThinkTime](
    "think_time", v.think_time, "seconds between a user's tasks: 0, 0.5, or a range 1-3",
    LOAD, default=ThinkTime(0.0, 0.0), locust="--think-time",
)  # fmt: skip
KEEPALIVE = Option[float](
    "keepalive", v.positive_float,
    "seconds a client keeps an idle connection: raise it above the longest think time, "
    "or every pause costs a reconnect; keep it below your own server's keep-alive (the "
    "embedded target keeps idle connections 10 s longer, 30 s at the least)", LOAD,
    default=KEEPALIVE_EXPIRY_S, locust="--client-keepalive", group="client",
)  # fmt: skip
TIMEOUT = Option[float](
    "timeout", v.positive_float,
    "seconds a client waits for an answer; raise it for slow backends", LOAD,
    default=10.0, locust="--client-timeout", group="client",
)  # fmt: skip
COUNT_CONNECTIONS = Option[str](
    "count_connections", v.choice(*COUNT_MODES),
    "how the client side spots a new connection: stream (the pool's network backend, "
    "free) or trace (httpcore's trace extension, 15-45 us per request)", LOAD,
    default="stream", choices=COUNT_MODES, locust="--count-connections", group="client",
)  # fmt: skip
TRANSPORT = Option[str](
    "transport", v.choice(*TRANSPORT_KINDS),
    "the HTTP stack under each client's httpx: httpcore (httpx's own, what the Aegis "
    "frontend ships) or aiohttp (httpx-aiohttp); the client is the same either way", LOAD,
    default="httpcore", choices=TRANSPORT_KINDS, locust="--client-transport", group="client",
)  # fmt: skip
PROFILE = Option[Path | None](
    "profile", v.profile_file,
    "TOML target profile for a backend whose routes differ from Aegis's", LOAD,
    locust="--target-profile", default_doc="the Aegis routes", group="target",
)  # fmt: skip
SCENARIO = Option[Path | None](
    "scenario", v.locustfile, "the locustfile", LOAD, default_doc="scenarios/aegis_session.py",
)  # fmt: skip
RATE = Option[float | None](
    "rate", v.positive_float,
    "open model: requests per second over all users, each user on a fixed schedule; "
    "latency is then also measured from each request's intended start", HEADLESS,
    locust="--aegis-rate", default_doc="closed loop (compare, ci: half the lowest capacity)",
    help_by_command={
        "compare": "requests per second offered in the latency runs (default: half the "
        "lowest capacity measured)",
        "ci": "requests per second offered in the latency runs (default: half the lowest "
        "capacity measured)",
    },
)  # fmt: skip
CHURN = Option[float](
    "churn", v.fraction,
    "share of tasks that recycle the user's client instead: sign out (or just drop it, "
    "half the time), then a new client signs in again", LOAD,
    default=0.0, locust="--aegis-churn", group="lifecycle",
    evidence=Evidence("clients recycled", "lifecycle.recycled_clients",
                      _count("lifecycle", "recycled_clients")),
)  # fmt: skip
CROSSWIRE_RATE = Option[float](
    "crosswire_rate", v.fraction,
    "embedded target only: answer this fraction of identity and data requests with "
    "another user's data (a fault the isolation checks must catch), e.g. 0.001", LOAD,
    default=0.0, embedded_only=True, group="target",
    evidence=Evidence("answers cross-wired", "isolation.crosswired_by_target",
                      _count("isolation", "crosswired_by_target")),
)  # fmt: skip
TLS = Option[bool](
    "tls", lambda text: text.lower() in ("true", "1"),
    "embedded target only: serve HTTPS with a throwaway CA the clients trust", LOAD,
    default=False, switch=True, embedded_only=True, group="target", default_doc="off",
    evidence=Evidence("TLS handshakes", "connections.tls_handshakes",
                      _count("connections", "tls_handshakes")),
)  # fmt: skip
RESTART_TARGET_AT = Option[float | None](
    "restart_target_at", v.seconds,
    "embedded target only: stop and restart it this long after the load starts (as 20, "
    "20s or 1m); accounts survive, sessions do not, so users sign in again", HEADLESS,
    metavar="SECONDS", embedded_only=True, group="faults",
    evidence=Evidence("target restarts", "target_restarts", _restarts),
)  # fmt: skip

# Faults the reference backend injects on demand (the embedded target, or serve).
FAULTING = LOAD | {"serve"}
FAULT_5XX = Option[float](
    "fault_5xx", v.fraction, "answer this fraction of calls 503", FAULTING,
    default=0.0, locust="--target-fault-5xx", embedded_only=True, group="faults",
    evidence=_server_fault("errors_5xx", "503s injected"),
)  # fmt: skip
FAULT_SLOW = Option[float](
    "fault_slow", v.fraction,
    "answer this fraction of calls only after the client's timeout (+1 s)", FAULTING,
    default=0.0, locust="--target-fault-slow", embedded_only=True, group="faults",
    evidence=_server_fault("slow", "slow answers injected"),
)  # fmt: skip
FAULT_RESET = Option[float](
    "fault_reset", v.fraction,
    "break this fraction of answers mid-body (the connection is dropped)", FAULTING,
    default=0.0, locust="--target-fault-reset", embedded_only=True, group="faults",
    evidence=_server_fault("resets", "answers broken off"),
)  # fmt: skip
EXPIRE_EVERY = Option[float | None](
    "expire_every", v.seconds,
    "every this many seconds, expire every live session at once (refreshable), as 8, "
    "8s or 2m", FAULTING,
    locust="--target-expire-every", embedded_only=True, group="faults", default_doc="never",
    evidence=_server_fault("expiry_storms", "expiry storms"),
)  # fmt: skip
REFRESH_OUTAGE = Option[tuple[float, float] | None](
    "refresh_outage", v.outage,
    "the refresh route answers 503 from START s after the run starts, for LENGTH s",
    FAULTING, show=v.show_outage, metavar="START+LENGTH",
    locust="--target-refresh-outage", embedded_only=True, group="faults", default_doc="none",
    evidence=_server_fault("refresh_outage", "refreshes refused by the outage"),
)  # fmt: skip
FAULT_SHARES = (FAULT_5XX, FAULT_SLOW, FAULT_RESET)
# Declared after EXPIRE_EVERY, which its default is derived from.
BURSTS = Option[float](
    "bursts", v.fraction,
    "share of tasks that ask for identity and data at once instead, so that one refresh "
    "must serve a burst of 401s (bursts open extra connections)", LOAD,
    locust="--aegis-bursts", group="lifecycle",
    derive=lambda s: STORM_BURSTS if s.get(EXPIRE_EVERY) else 0.0,
    default_doc=f"{STORM_BURSTS:g} with expire_every, else 0",
    evidence=Evidence("burst tasks", "lifecycle.bursts", _count("lifecycle", "bursts")),
)  # fmt: skip

# Comparisons: compare and ci.
TRANSPORTS = Option[tuple[str, ...] | None](
    "transports", v.name_list(*TRANSPORT_KINDS),
    "comma-separated HTTP stacks to compare (httpcore, aiohttp), the first is the baseline, "
    "each running every strategy (--strategies then defaults to pooled alone)",
    COMPARING, group="comparison", default_doc="--transport's alone",
)  # fmt: skip
STRATEGIES = Option[tuple[str, ...]](
    "strategies", v.name_list(),
    "comma-separated strategies, the first is the baseline", COMPARING, group="comparison",
    derive=lambda s: ("pooled",) if s.get(TRANSPORTS) else ("pooled", "per-call"),
    default_doc="pooled,per-call (with --transports: pooled)",
)  # fmt: skip
REPEAT = Option[int](
    "repeat", v.positive_int,
    "repetitions of each strategy in each phase, run alternately (A B A B ...); the "
    "intervals are computed across them", COMPARING, default=3, group="comparison",
)  # fmt: skip

# The capacity forecast (aegis-bench run).
CALIBRATE = Option[bool](
    "calibrate", lambda text: text.lower() in ("true", "1"),
    "measure this machine's capacity again (a 15 s paced run) instead of using the "
    "calibration kept for it", frozenset({"run"}),
    default=False, switch=True, group="capacity", default_doc="off",
)  # fmt: skip
OVER_CAPACITY = Option[bool](
    "over_capacity", lambda text: text.lower() in ("true", "1"),
    "start the run even when it offers more requests a second than the forecast says this "
    "box carries (the run is then flagged generator-bound)", frozenset({"run"}),
    default=False, switch=True, group="capacity", default_doc="off",
)  # fmt: skip
LOCUST_HTML = Option[bool](
    "locust_html", lambda text: text.lower() in ("true", "1"),
    "also write Locust's own HTML report (about 1 MB) into every run folder; each run's "
    "report.html and Locust's CSV files are written either way (aegis-bench run always "
    "writes it)", COMPARING,
    default=False, switch=True, group="output", default_doc="off",
)  # fmt: skip

# The web UI, and the reference backend on its own.
WEB_PORT = Option[int](
    "web_port", v.port_number, "the web UI's port on 127.0.0.1", frozenset({"ui"}),
    default=8089, group="output",
)  # fmt: skip
SERVE = frozenset({"serve"})
BIND = Option[str](
    "bind", v.loopback_address, "loopback address to listen on (127.0.0.0/8 or ::1)", SERVE,
    default="127.0.0.1", group="target",
)  # fmt: skip
PORT = Option[int](
    "port", v.port_number, "TCP port, 0 for any free one", SERVE, default=8000, group="target",
)  # fmt: skip
SESSION_TTL = Option[float](
    "session_ttl", v.positive_float, "seconds a session lives", SERVE,
    default=3600.0, group="target",
)  # fmt: skip
REFRESH_WINDOW = Option[float](
    "refresh_window", v.positive_float, "seconds after expiry in which a refresh still works",
    SERVE, default=3600.0, group="target",
)  # fmt: skip

# Locust's command line only: how aegis-bench run drives Locust.
PARTS_ONLY = Option[bool](
    "parts_only", lambda text: text.lower() in ("true", "1"),
    "write only the measurement parts to the run folder's parts/ (aegis-bench run merges them)",
    locust="--aegis-parts-only", web_form=False, switch=True, default=False, group="output",
)  # fmt: skip
PROGRESS = Option[bool](
    "progress", lambda text: text.lower() in ("true", "1"),
    "print a one-line progress report every 2 s (headless runs)",
    locust="--aegis-progress", web_form=False, switch=True, default=False, group="output",
)  # fmt: skip

# Every option, in the order declared (within a group, the order --help and the docs list
# them): those above, then the gate's.
ALL: tuple[Option[Any], ...] = (
    *(v for v in list(globals().values()) if isinstance(v, Option)),
    *gate.GATE_OPTIONS,
)
