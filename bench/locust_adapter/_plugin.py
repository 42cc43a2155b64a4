"""Locust event listeners: options, per-process setup, progress, and result files."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import time
from typing import Any

import gevent
import gevent.event
import locust.runners as locust_runners
from locust import events as _locust_events
from locust.runners import (
    STATE_CLEANUP,
    STATE_STOPPED,
    STATE_STOPPING,
    MasterRunner,
    WorkerRunner,
)

from bench.locust_adapter import _runtime
from bench.locust_adapter._bridge import LoopBridge
from bench.locust_adapter._collect import (
    COLLECTOR,
    FINISH_MESSAGE,
    PART_MESSAGE,
    finish_workers,
    on_finish_request,
)
from bench.locust_adapter._csv import patch_csv_writer
from bench.locust_adapter._folders import FOLDERS
from bench.locust_adapter._gc import freeze_long_lived
from bench.locust_adapter._live import live_view
from bench.locust_adapter._options import add_arguments
from bench.locust_adapter._settings import AdapterSettings, SettingsError, settings_from
from bench.locust_adapter._target_faults import apply_target_faults
from bench.locust_adapter._unpatch import restore_thread_primitives
from bench.locust_adapter._webui import install as install_web_ui
from bench.measure import raise_open_file_limit
from bench.options import PARTS_ONLY, PROGRESS, TRANSPORT, WARMUP, Door
from bench.outcome import ExitCode

__all__ = ["HEARTBEAT_LIVENESS", "PROGRESS_INTERVAL_S", "register_listeners"]

PROGRESS_INTERVAL_S = 2.0
SAMPLE_INTERVAL_S = 1.0
CHECKPOINT_S = 5.0  # a part file written by this process
WORKER_REPORT_S = 2.0  # a part sent to the master: the web UI's Sessions tab shows it
ORPHAN_CHECK_S = 1.0
# The longest the window waits for users still signing in after spawning completed.
SIGN_IN_WAIT_MAX_S = 120.0
# How long a final write waits for the users of a racing stop to be gone.
USERS_GONE_TIMEOUT_S = 30.0
# How many heartbeat intervals (1 s) Locust's master waits before it counts a load
# process as missing and re-dispatches its users; Locust's own is 3. A load process
# busy spawning and signing in thousands of users missed 4 s (15,000 users on 2 cores),
# and the re-dispatch then ran 19,250-21,500 users for 15,000 asked.
HEARTBEAT_LIVENESS = 30
# Locust's ``quit`` event carries no environment: the one ``init`` gave is kept here.
_ENVIRONMENT: list[Any] = []
events: Any = _locust_events  # locust's EventHook is untyped

# Imported here, in the main thread, because the loop thread would otherwise import them
# lazily on first use, and imports from a native thread under gevent have deadlocked.
import encodings.idna  # noqa: E402, F401

import anyio._backends._asyncio  # noqa: E402, F401
import httpcore._backends.anyio  # noqa: E402, F401


def _quiet_client_loggers() -> None:
    # httpx logs every request at INFO and Locust enables INFO: that cost 19% of
    # throughput here. aegis_client's per-error warnings are redundant with Locust's
    # failure table, so only errors of the client itself get through. A locustfile may
    # lower these levels again: logging's locks are shared safely with the loop thread
    # (_unpatch.share_logging_locks), so that costs throughput, never a hang.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("aegis_client").setLevel(logging.ERROR)


def _remember_environment(environment: Any, **_: Any) -> None:
    _ENVIRONMENT[:] = [environment]


def _on_parser(parser: Any) -> None:
    add_arguments(parser)


def _role(runner: Any) -> str:
    if isinstance(runner, MasterRunner):
        return "master"
    return "worker" if isinstance(runner, WorkerRunner) else "local"


def _send_part(environment: Any, name: str, part: dict[str, Any]) -> None:
    environment.runner.send_message(PART_MESSAGE, {"name": name, "part": part})


def _new_runtime(
    environment: Any, role: str, settings: AdapterSettings, previous: Any = None
) -> _runtime.ProcessRuntime:
    """A runtime for the next test: fresh measurements, the process's loop bridge kept."""
    fresh = None if role == "master" else LoopBridge() if previous is None else None
    bridge = previous.bridge if previous is not None else fresh
    return _runtime.ProcessRuntime(
        role=role,
        settings=settings,
        out_dir=None,
        bridge=bridge,
        deliver=(lambda name, part: _send_part(environment, name, part))
        if role == "worker"
        else None,
        test_seq=previous.test_seq + 1 if previous is not None else 0,
    )


def _on_init(environment: Any, **_: Any) -> None:
    options = environment.parsed_options
    try:
        settings = settings_from(options)
    except SettingsError as exc:
        sys.stderr.write(f"aegis-bench: error: {exc}\n")
        sys.exit(ExitCode.USAGE)
    runner = environment.runner
    role = _role(runner)
    if role == "master":
        # Read by the master each time a heartbeat arrives and a worker joins.
        locust_runners.HEARTBEAT_LIVENESS = HEARTBEAT_LIVENESS
        runner.register_message(PART_MESSAGE, COLLECTOR.on_message)
    if role == "worker":
        runner.register_message(FINISH_MESSAGE, on_finish_request)
        if getattr(options, "processes", None):
            gevent.spawn(_stop_if_orphaned, environment, os.getppid())
    _quiet_client_loggers()
    # gevent records every greenlet's spawn tree (10 more GC-tracked objects and 0.6 KiB
    # per user, measured by bench/perf/session_memory.py), a debugging aid nothing here
    # reads. Read when a greenlet is made, so set before the users spawn.
    gevent.config.track_greenlet_tree = False
    raise_open_file_limit()
    restore_thread_primitives()
    _runtime.install(_new_runtime(environment, role, settings))
    if getattr(environment, "web_ui", None) is not None:
        install_web_ui(environment, lambda: live_view(environment, FOLDERS))
    if role != "worker" and getattr(options, PROGRESS.dest or "", False):
        gevent.spawn(_print_progress, environment)
    if role != "master":
        gevent.spawn(_sample_usage, environment)
    gevent.spawn(_write_checkpoints, environment)


def _on_test_start(environment: Any, **_: Any) -> None:
    """A test starts: measure it with a fresh runtime, under the options it starts with.

    The web UI's start form has written its fields into Locust's options by now (a
    worker gets them with its master's spawn message); a master or a single process
    with ``--aegis-out`` also picks the test's run folder and zeroes the target's
    counters. It sets the faults the options ask of the reference backend first.
    """
    previous = _runtime.current()
    try:
        settings = settings_from(environment.parsed_options, Door.WEB_FORM)
    except SettingsError as exc:  # checked by the form: only a worker's own files
        logging.getLogger(__name__).error("aegis-bench: %s; the last test's settings apply", exc)
        settings = previous.settings
    if previous.started_at is not None and previous.bridge is not None:
        with contextlib.suppress(Exception):
            previous.bridge.run(previous.strategy.shutdown)
    runtime = _new_runtime(environment, previous.role, settings, previous)
    _runtime.install(runtime)
    if runtime.role != "worker" and not getattr(
        environment.parsed_options, PARTS_ONLY.dest or "", False
    ):
        apply_target_faults(environment.host or "", settings.target_faults)
    if runtime.role != "worker":
        runtime.out_dir = FOLDERS.start_test(environment, runtime.strategy.name)
        if runtime.role == "master":
            COLLECTOR.reset(runtime.out_dir)
    if runtime.role != "master" and settings.values[TRANSPORT] == "aiohttp":
        # Loaded here, in the main thread (see the imports above) and before the start's
        # memory reading: aiohttp's 11 MiB are the process's, not its sessions'.
        importlib.import_module("bench.measure._aiohttp")
    runtime.mark_start()
    if runtime.bridge is not None:
        runtime.bridge.start_lag_probe()


def _on_spawning_complete(user_count: int, **_: Any) -> None:
    """All users are spawned: open the steady-state window once they have signed in and
    the warm-up has passed."""
    runtime = _runtime.current_or_none()
    if runtime is None or runtime.role == "master" or runtime.window.opened_at is not None:
        return
    gevent.spawn(_open_window, runtime)


def _open_window(runtime: _runtime.ProcessRuntime) -> None:
    environment = _ENVIRONMENT[0] if _ENVIRONMENT else None
    runner = environment.runner if environment is not None else None
    # Spawned is not signed in: 15,000 users spawned at 500 a second were still
    # registering, seconds each, when the last one spawned.
    deadline = time.monotonic() + SIGN_IN_WAIT_MAX_S
    while runtime.users_signing_in > 0 and time.monotonic() < deadline:
        gevent.sleep(0.1)
    gevent.sleep(runtime.settings.values[WARMUP])
    if runner is None or runner.state in (STATE_STOPPING, STATE_STOPPED, STATE_CLEANUP):
        return  # the test stopped within the warm-up: there is no steady state
    runtime.gc_freeze = freeze_long_lived()  # before the window: its pause stays out
    runtime.open_window(runner.user_count)


def _on_test_stopping(environment: Any, **_: Any) -> None:
    runtime = _runtime.current()
    runtime.close_window()
    runtime.sample(environment.runner.user_count)
    if runtime.role == "master":
        FOLDERS.missing_workers = finish_workers(environment)


def _on_test_stop(environment: Any, **_: Any) -> None:
    """A test stopped (its users signed out): write its final part, and its run folder
    when this process is the one that writes it (a master, or a single process).

    A process whose test starts again (the web UI; a master that re-dispatched users)
    measures the next test with a new runtime, under a part name of its own.
    """
    runtime = _runtime.current_or_none()
    if runtime is None or runtime.final_written:
        return
    runtime.stopped_at = time.time()
    runtime.close_window()
    if runtime.role == "worker":
        # The users are gone. Locust's worker would still wait its whole stop timeout
        # before telling its master it is ready again: 10 s in which the web UI could
        # start no test. The master's next spawn message sets it back.
        environment.stop_timeout = 0
    runtime.write_part(final=True)
    FOLDERS.finish_test(environment, runtime)


def _on_quitting(environment: Any, **_: Any) -> None:
    """Locust is shutting down. Before its test stopped, that is a signal's doing: the
    test's run folder says so, and Locust's exit code is that signal's.

    Locust computes its exit code right after this event and stops the users (which
    writes the run folder) only after, so the code is set here. Its SIGINT path runs
    inside ``except KeyboardInterrupt``; its SIGTERM path in a signal handler.
    """
    runtime = _runtime.current_or_none()
    if runtime is None or runtime.role == "worker" or runtime.final_written:
        return
    if runtime.started_at is None or FOLDERS.current is None:
        return
    interrupted = isinstance(sys.exc_info()[1], KeyboardInterrupt)
    FOLDERS.stopped_by = "SIGINT" if interrupted else "SIGTERM"
    if not getattr(environment.parsed_options, PARTS_ONLY.dest or "", False):
        environment.process_exit_code = ExitCode.SIGINT if interrupted else ExitCode.SIGTERM


def _on_quit(exit_code: int = 0, **_: Any) -> None:
    """Locust is exiting, its runner has stopped the users: write the final part once.

    Locust fires ``quit`` after ``runner.quit()`` in its ``shutdown()``, whether the run
    time ended or a signal arrived (``quitting`` comes earlier, before the users stop).
    Locust runs a SIGTERM's shutdown twice, concurrently (its handler's greenlet, then the
    main one): the first does the work, waiting (bounded) until the users are really
    gone; the second waits for the first to finish, so the process cannot exit halfway,
    and never hands work to a loop the first has closed (it used to wait out the bridge's
    settle timeout, 5 s, on every SIGTERM). Then the loop is closed.
    """
    runtime = _runtime.current_or_none()
    if runtime is None:
        return
    if runtime.quit_done is not None:  # the other shutdown does it: wait for it to finish
        runtime.quit_done.wait(timeout=USERS_GONE_TIMEOUT_S + 10.0)
        return
    runtime.quit_done = gevent.event.Event()
    try:
        _quit(runtime)
    finally:
        runtime.quit_done.set()


def _quit(runtime: _runtime.ProcessRuntime) -> None:
    environment = _ENVIRONMENT[0] if _ENVIRONMENT else None
    runner = environment.runner if environment is not None else None
    deadline = time.monotonic() + USERS_GONE_TIMEOUT_S
    # A master runs no users: its user_count is its workers'.
    while (
        runtime.role != "master"
        and runner is not None
        and runner.user_count > 0
        and time.monotonic() < deadline
    ):
        gevent.sleep(0.1)
    runtime.close_window()
    if not runtime.final_written and environment is not None:
        runtime.write_part(final=True)
    if runtime.bridge is not None:
        # Whatever the strategy still holds (the shared client) is closed on the loop.
        with contextlib.suppress(Exception):
            runtime.bridge.run(runtime.strategy.shutdown)
    _runtime.uninstall()


def _stop_if_orphaned(environment: Any, master_pid: int) -> None:
    """A load process forked by --processes stops (gracefully) if its master dies.

    Not a kernel parent-death signal: Locust's master often exits before its load
    processes have stopped their users, and a SIGTERM then would start a second
    shutdown racing the first (users stopped twice, clients never released). A master
    that ended normally has told its load processes to quit already; only one that did
    not (it was killed) leaves them running, and then they quit here.
    """
    while True:
        gevent.sleep(ORPHAN_CHECK_S)
        runner = environment.runner
        if os.getppid() == master_pid or runner is None:
            continue
        if runner.state not in (STATE_STOPPING, STATE_STOPPED, STATE_CLEANUP):
            runner.quit()
        return


def _write_checkpoints(environment: Any) -> None:
    """Write (or send) a checkpoint part every few seconds while a test runs."""
    while True:
        runtime = _runtime.current_or_none()
        # A worker's parts feed the master's live Sessions tab: every 2 s, unless the
        # run is aegis-bench run's (parts only, no live view): a snapshot costs CPU.
        live = not getattr(environment.parsed_options, PARTS_ONLY.dest or "", False)
        worker = runtime is not None and runtime.role == "worker"
        gevent.sleep(WORKER_REPORT_S if worker and live else CHECKPOINT_S)
        runtime = _runtime.current_or_none()
        if runtime is None:
            return
        if runtime.started_at is not None and not runtime.final_written:
            runtime.write_part(final=False)


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
    patch_csv_writer()
    events.init_command_line_parser.add_listener(_on_parser)
    events.init.add_listener(_remember_environment)
    events.init.add_listener(_on_init)
    events.test_start.add_listener(_on_test_start)
    events.spawning_complete.add_listener(_on_spawning_complete)
    events.test_stopping.add_listener(_on_test_stopping)
    events.test_stop.add_listener(_on_test_stop)
    events.quitting.add_listener(_on_quitting)
    events.quit.add_listener(_on_quit)
