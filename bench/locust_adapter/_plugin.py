"""Locust event listeners: options, per-process setup, progress, and result files."""

from __future__ import annotations

import logging
import resource
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from locust import events as _locust_events
from locust.runners import MasterRunner, WorkerRunner

from bench.locust_adapter import _runtime
from bench.locust_adapter._bridge import LoopBridge
from bench.locust_adapter._options import ThinkTime, add_arguments
from bench.locust_adapter._unpatch import restore_thread_primitives
from bench.profile import AEGIS, load_profile
from bench.strategies import UnknownStrategyError, create_strategy

__all__ = ["PROGRESS_INTERVAL_S", "register_listeners"]

PROGRESS_INTERVAL_S = 2.0
SAMPLE_INTERVAL_S = 1.0
events: Any = _locust_events  # locust's EventHook is untyped

# Imported here, in the main thread, because the loop thread would otherwise import them
# lazily on first use, and imports from a native thread under gevent have deadlocked.
import encodings.idna  # noqa: E402, F401

import anyio._backends._asyncio  # noqa: E402, F401
import httpcore._backends.anyio  # noqa: E402, F401


def _quiet_client_loggers() -> None:
    # httpx logs every request at INFO and Locust enables INFO: that cost 19% of
    # throughput here. aegis_client's per-error warnings are redundant with Locust's
    # failure table and would be written from the loop thread under gevent's patched
    # locks, so only errors of the client itself get through.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("aegis_client").setLevel(logging.ERROR)


def _raise_open_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _on_parser(parser: Any) -> None:
    add_arguments(parser)


def _on_init(environment: Any, **_: Any) -> None:
    options = environment.parsed_options
    try:
        strategy = create_strategy(getattr(options, "client_strategy", "pooled"))
        think_time = ThinkTime.parse(getattr(options, "think_time", "0"))
        profile_path = getattr(options, "target_profile", "")
        profile = load_profile(Path(profile_path)) if profile_path else AEGIS
    except (UnknownStrategyError, ValueError) as exc:
        sys.stderr.write(f"aegis-bench: error: {exc}\n")
        sys.exit(2)
    runner = environment.runner
    role = (
        "master"
        if isinstance(runner, MasterRunner)
        else "worker"
        if isinstance(runner, WorkerRunner)
        else "local"
    )
    _quiet_client_loggers()
    _raise_open_file_limit()
    restore_thread_primitives()
    out = getattr(options, "aegis_out", "")
    _runtime.install(
        _runtime.ProcessRuntime(
            role=role,
            strategy=strategy,
            think_time=think_time,
            out_dir=Path(out) if out else None,
            bridge=None if role == "master" else LoopBridge(),
            profile=profile,
            keepalive_s=float(getattr(options, "client_keepalive", 4.0)),
            count_with=getattr(options, "count_connections", "stream"),
        )
    )
    if role != "worker" and getattr(options, "aegis_progress", False):
        gevent.spawn(_print_progress, environment)
    if role != "master":
        gevent.spawn(_sample_usage, environment)


def _on_test_start(environment: Any, **_: Any) -> None:
    runtime = _runtime.current()
    runtime.mark_start()
    if runtime.bridge is not None:
        runtime.bridge.start_lag_probe()


def _on_test_stopping(environment: Any, **_: Any) -> None:
    runtime = _runtime.current()
    runtime.sample(environment.runner.user_count)


def _on_test_stop(environment: Any, **_: Any) -> None:
    _runtime.current().stopped_at = time.time()


def _on_quitting(environment: Any, **_: Any) -> None:
    runtime = _runtime.current()
    options = environment.parsed_options
    extra: dict[str, Any] = {}
    if runtime.role != "worker":
        extra = {
            "host": environment.host,
            "users_requested": getattr(options, "num_users", None),
            "run_time_s": getattr(options, "run_time", None),
            "profile": runtime.profile.name,
        }
    runtime.write_part(extra)
    if runtime.bridge is not None:
        # Whatever the strategy still holds (the shared client) is closed on the loop.
        runtime.bridge.run(runtime.strategy.shutdown)
    _runtime.uninstall()


def _sample_usage(environment: Any) -> None:
    """Note peak RSS, users and CPU every second (reading /proc per user start cost 12%)."""
    while True:
        gevent.sleep(SAMPLE_INTERVAL_S)
        runtime = _runtime.current_or_none()
        if runtime is None:
            return
        if runtime.started_at is not None and environment.runner is not None:
            runtime.sample(environment.runner.user_count)


def _print_progress(environment: Any) -> None:
    started = time.monotonic()
    while True:
        gevent.sleep(PROGRESS_INTERVAL_S)
        runner = environment.runner
        if runner is None:
            continue
        total = runner.stats.total
        p50 = total.get_current_response_time_percentile(0.5) or 0
        sys.stderr.write(
            f"[{time.monotonic() - started:6.0f}s] users {runner.user_count:>6}  "
            f"requests {total.num_requests:>10,}  failures {total.num_failures:>7,}  "
            f"rps {total.current_rps:>8,.0f}  p50 {p50:>6.0f} ms\n"
        )
        sys.stderr.flush()


def register_listeners() -> None:
    """Hook the adapter into Locust's events (done once, on import of the adapter)."""
    events.init_command_line_parser.add_listener(_on_parser)
    events.init.add_listener(_on_init)
    events.test_start.add_listener(_on_test_start)
    events.test_stopping.add_listener(_on_test_stopping)
    events.test_stop.add_listener(_on_test_stop)
    events.quitting.add_listener(_on_quitting)
