"""The tool's own command-line options, added to Locust's (so the web UI shows them too)."""

from __future__ import annotations

from typing import Any

from bench.strategies import strategy_names

__all__ = ["add_arguments"]


def add_arguments(parser: Any) -> None:
    """Register the options on Locust's parser (``events.init_command_line_parser``)."""
    # Locust's own add_argument (not an argument group's) understands include_in_web_ui.
    group = parser
    group.add_argument(
        "--client-strategy",
        default="pooled",
        choices=strategy_names(),
        help="How each user gets its client: pooled, per-call, shared, or a plugged-in name",
    )
    group.add_argument(
        "--think-time",
        default="0",
        help="Seconds between a user's tasks: 0 (default, throughput), 0.5, or a range 1-3",
    )
    group.add_argument(
        "--client-keepalive",
        type=float,
        default=4.0,
        help="Seconds a client keeps an idle connection (keep below the server's keep-alive)",
    )
    group.add_argument(
        "--client-timeout",
        type=float,
        default=10.0,
        help="Seconds a client waits for an answer (raise it for slow backends)",
    )
    group.add_argument(
        "--count-connections",
        choices=("stream", "trace"),
        default="stream",
        help="How new connections are spotted: stream identity (cheap) or httpcore's trace",
    )
    group.add_argument(
        "--target-profile",
        default="",
        help="TOML target profile mapping the Aegis routes onto another backend",
    )
    group.add_argument(
        "--aegis-rate",
        type=float,
        default=0.0,
        help="Open model: requests per second over all users, each on a fixed schedule, "
        "latency measured from each request's intended start (0: closed loop)",
    )
    group.add_argument(
        "--aegis-warmup",
        type=float,
        default=2.0,
        help="Seconds after all users spawned before the steady-state window opens",
    )
    group.add_argument(
        "--aegis-churn",
        type=float,
        default=0.0,
        help="Share of tasks that recycle the user's client instead (sign out or drop it, "
        "then a new client signs in again), 0 to 1",
    )
    group.add_argument(
        "--aegis-bursts",
        type=float,
        default=0.0,
        help="Share of tasks that ask for identity and data at once instead (a burst: "
        "after an expiry, one refresh must serve its 401s), 0 to 1",
    )
    group.add_argument(
        "--target-fault-5xx",
        type=float,
        default=0.0,
        help="Reference backend only: answer this share of calls 503, 0 to 1",
    )
    group.add_argument(
        "--target-fault-slow",
        type=float,
        default=0.0,
        help="Reference backend only: answer this share of calls after the client's "
        "timeout (+1 s), 0 to 1",
    )
    group.add_argument(
        "--target-fault-reset",
        type=float,
        default=0.0,
        help="Reference backend only: break this share of answers mid-body, 0 to 1",
    )
    group.add_argument(
        "--target-expire-every",
        type=float,
        default=0.0,
        help="Reference backend only: expire every live session at once every this many "
        "seconds (0: never)",
    )
    group.add_argument(
        "--target-refresh-outage",
        default="",
        help="Reference backend only: the refresh route answers 503 from START s into the "
        "test for LENGTH s, as START+LENGTH (empty: none)",
    )
    group.add_argument(
        "--aegis-out",
        default="",
        help="Run folder (summary.json, report.html, pyperf file), written by the master "
        "or a single process when a test stops; in the web UI, one folder per test in it",
        include_in_web_ui=False,
    )
    group.add_argument(
        "--aegis-parts-only",
        action="store_true",
        default=False,
        help="Write only the measurement parts to <aegis-out>/parts (aegis-bench run merges them)",
        include_in_web_ui=False,
    )
    group.add_argument(
        "--aegis-progress",
        action="store_true",
        default=False,
        help="Print a one-line progress report every 2 s (headless runs)",
        include_in_web_ui=False,
    )
