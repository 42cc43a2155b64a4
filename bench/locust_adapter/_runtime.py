"""Per-process state of the adapter: the loop bridge, the recorders, the test's settings.

Built in ``events.init`` (after Locust's ``--processes`` fork) in every process, and
anew at every test start (under the options the test starts with); a master process
that runs no users gets no bridge.
"""

from __future__ import annotations

import itertools
import os
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gevent.lock import Semaphore

from bench.locust_adapter._bridge import LoopBridge
from bench.locust_adapter._gc import Freeze
from bench.locust_adapter._settings import AdapterSettings
from bench.locust_adapter._window import Window
from bench.measure import (
    CallRecord,
    Part,
    PartGenerator,
    PartLifecycle,
    Recorder,
    cpu_seconds,
    rss_bytes,
)
from bench.options import COUNT_CONNECTIONS, KEEPALIVE, RATE, TIMEOUT, TRANSPORT, WARMUP
from bench.pacing import SignInGate
from bench.profile import Profile
from bench.report import write_json_atomic
from bench.strategies import ClientStrategy, StrategyContext, pooled_transport_factory

__all__ = ["ProcessRuntime", "current", "current_or_none", "install", "uninstall"]

MAX_INVARIANT_EXAMPLES = 10


@dataclass
class ProcessRuntime:
    """Everything one Locust process shares between its users during one test."""

    role: str  # "local", "worker" or "master"
    settings: AdapterSettings
    out_dir: Path | None
    bridge: LoopBridge | None
    # Every call of the run (accounting, isolation), and the steady-state window's only.
    recorder: Recorder = field(default_factory=Recorder)
    # The window's charts come from the whole run's timeline: it keeps none of its own.
    steady: Recorder = field(default_factory=lambda: Recorder(keep_timeline=False))
    window: Window = field(default_factory=Window)
    gc_freeze: Freeze | None = None  # set when the window opens
    prefix: str = field(default_factory=lambda: secrets.token_hex(4))
    rng: random.Random = field(default_factory=random.Random)
    cpu_at_start: float = 0.0
    rss_at_start: int = 0
    rss_peak: int = 0
    users_peak: int = 0
    cpu_percent: list[float] = field(default_factory=list)
    _last_cpu: tuple[float, float] | None = None
    clients_built: int = 0
    clients_released: int = 0
    # Users whose sign-in has not (yet) succeeded, and why their attempts failed.
    users_without_session: int = 0
    # Users between their start and a session (the window waits for them).
    users_signing_in: int = 0
    sign_in_failures: Counter[str] = field(default_factory=Counter)
    recycled_clients: int = 0
    # Users that signed in again on their client after losing their session.
    signed_in_again: int = 0
    bursts: int = 0  # burst tasks run
    # Refreshes by how many 401s each served, as their tasks saw them.
    refresh_served: Counter[int] = field(default_factory=Counter)
    # Lifecycle invariants: how often each was checked, how often it broke, examples.
    invariants_checked: Counter[str] = field(default_factory=Counter)
    invariants_broken: Counter[str] = field(default_factory=Counter)
    invariant_examples: list[dict[str, str]] = field(default_factory=list)
    final_written: bool = False
    # The pace of sign-ins and sign-outs in flight in this process (bench/pacing.py).
    session_gate: SignInGate = field(init=False)
    # Set by the first of Locust's (concurrent) shutdowns: a gevent Event, set when done.
    quit_done: Any = None
    # This process's test number: a web UI starts several tests in one process, each
    # measured by a runtime of its own, and each test's parts keep their own name.
    test_seq: int = 0
    # Where parts go instead of ``out_dir``: a worker sends them to its master.
    deliver: Callable[[str, dict[str, Any]], None] | None = None
    started_at: float | None = None
    stopped_at: float | None = None
    _usernames: itertools.count[int] = field(default_factory=itertools.count)
    _contexts: dict[str, StrategyContext] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.session_gate = SignInGate(self.settings.values[TIMEOUT], Semaphore)

    @property
    def strategy(self) -> ClientStrategy:
        return self.settings.strategy

    @property
    def profile(self) -> Profile:
        return self.settings.profile

    def new_username(self) -> str:
        """A name unique to this run and process (several processes may share a backend)."""
        return f"u{self.prefix}-{next(self._usernames)}"

    def context_for(self, base_url: str) -> StrategyContext:
        context = self._contexts.get(base_url)
        if context is None:
            values = self.settings.values
            context = self._contexts[base_url] = StrategyContext(
                base_url,
                make_inner_transport=pooled_transport_factory(values[KEEPALIVE]),
                timeout=values[TIMEOUT],
                profile=self.profile,
                count_with=values[COUNT_CONNECTIONS],
                transport_kind=values[TRANSPORT],
            )
        return context

    def mark_start(self) -> None:
        """Note the start of the first test (a test restarted later keeps that start)."""
        if self.started_at is not None:
            return
        self.started_at = time.time()
        self.cpu_at_start = cpu_seconds()
        self.rss_at_start = self.rss_peak = rss_bytes()

    def sample(self, users: int) -> None:
        """Note the peak of memory and users, and CPU use since the last sample."""
        rss = rss_bytes()
        self.rss_peak = max(self.rss_peak, rss)
        if self.window.is_open:
            self.window.rss_peak = max(self.window.rss_peak, rss)
        self.users_peak = max(self.users_peak, users)
        now, cpu = time.monotonic(), cpu_seconds()
        if self._last_cpu is not None and now > self._last_cpu[0]:
            self.cpu_percent.append(100.0 * (cpu - self._last_cpu[1]) / (now - self._last_cpu[0]))
        self._last_cpu = (now, cpu)

    def sample_marks(self) -> tuple[int, int]:
        """How many CPU and loop-lag samples were taken so far (to bound the window's)."""
        return len(self.cpu_percent), len(self.bridge.lag_ms) if self.bridge else 0

    def open_window(self, users: int) -> None:
        """Open the steady-state window (see :class:`Window`)."""
        self.window.open(users, self.sample_marks())

    def close_window(self) -> None:
        """Close the steady-state window, if open."""
        self.window.close(self.sample_marks())

    def record(self, call: CallRecord) -> None:
        """Record a finished call for the run, and for the window while it is open."""
        self.recorder.record(call)
        if self.window.is_open:
            self.steady.record(call)

    def check_invariant(
        self, name: str, holds: bool, example: Callable[[], dict[str, str]]
    ) -> None:
        """Count one check of a lifecycle invariant; keep a few examples of breaks.

        ``example`` is called only for a break: checks run on every task, breaks do not.
        """
        self.invariants_checked[name] += 1
        if not holds:
            self.invariants_broken[name] += 1
            if len(self.invariant_examples) < MAX_INVARIANT_EXAMPLES:
                self.invariant_examples.append({"invariant": name, **example()})

    @property
    def sessions_alive(self) -> int:
        """Users holding a signed-in session now (built, not yet released, not signing in)."""
        return self.clients_built - self.clients_released - self.users_signing_in

    @property
    def part_name(self) -> str:
        return f"part-{self.role}-{os.getpid()}-{self.test_seq}.json"

    def write_part(self, *, final: bool) -> None:
        """Deliver this test's measurements: to ``deliver`` (a worker's master), else to
        ``<out>/part-<role>-<pid>-<test>.json``, atomically.

        A checkpoint (``final=False``) is written every few seconds while the test runs,
        so a process killed outright still leaves what it had measured; the final part,
        written once after the users stopped, replaces it. Nothing is drained: each write
        holds the whole test so far.
        """
        if (self.out_dir is None and self.deliver is None) or self.final_written:
            return
        self.final_written = final
        part = self.part(final=final).to_json()
        if self.deliver is not None:
            self.deliver(self.part_name, part)
            return
        assert self.out_dir is not None
        self.out_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.out_dir / self.part_name, part)

    def part(self, *, final: bool = False) -> Part:
        """This test's measurements so far, as a part (the summary merges the parts)."""
        lag = self.bridge.lag_ms if self.bridge else []
        return Part(
            role=self.role,
            pid=os.getpid(),
            test_seq=self.test_seq,
            final=final,
            strategy=self.strategy.name,
            transport=self.settings.values[TRANSPORT],
            started_at=self.started_at,
            stopped_at=self.stopped_at or time.time(),
            cpu_s=cpu_seconds() - self.cpu_at_start,
            rss_at_start=self.rss_at_start,
            rss_peak=self.rss_peak,
            users_peak=self.users_peak,
            clients_built=self.clients_built,
            clients_released=self.clients_released,
            sessions_alive=self.sessions_alive,
            users_signing_in=self.users_signing_in,
            gate_window=self.session_gate.window,
            gate_in_flight_peak=self.session_gate.peak_in_flight,
            gate_wait_longest_s=round(self.session_gate.longest_wait_s, 3),
            users_without_session=self.users_without_session,
            sign_in_failures=dict(self.sign_in_failures),
            lifecycle=PartLifecycle(
                recycled_clients=self.recycled_clients,
                signed_in_again=self.signed_in_again,
                bursts=self.bursts,
                refresh_served={str(k): v for k, v in sorted(self.refresh_served.items())},
                invariants={
                    name: {"checked": count, "broken": self.invariants_broken[name]}
                    for name, count in self.invariants_checked.items()
                },
                invariant_examples=list(self.invariant_examples),
            ),
            generator=PartGenerator(
                cpu_percent=[round(value, 1) for value in self.cpu_percent],
                loop_lag_ms=[round(value, 2) for value in lag],
                gc_frozen_objects=self.gc_freeze.frozen_objects if self.gc_freeze else None,
                gc_freeze_s=round(self.gc_freeze.collect_s, 4) if self.gc_freeze else None,
            ),
            recorder=self.recorder.snapshot(),
            window=self.window.as_part(self.steady, self.settings.values[WARMUP]),
            rate_rps=self.settings.values[RATE],
        )


_CURRENT: ProcessRuntime | None = None


def install(runtime: ProcessRuntime) -> None:
    global _CURRENT
    _CURRENT = runtime


def uninstall() -> None:
    global _CURRENT
    if _CURRENT is not None and _CURRENT.bridge is not None:
        _CURRENT.bridge.close()
    _CURRENT = None


def current_or_none() -> ProcessRuntime | None:
    """The runtime of this process, or None before init and after quitting."""
    return _CURRENT


def current() -> ProcessRuntime:
    """The runtime of this process; fails clearly if the adapter was not initialised."""
    if _CURRENT is None:
        raise RuntimeError(
            "aegis-bench's Locust adapter is not initialised: import bench.locust_adapter "
            "from the locustfile so its events.init listener runs"
        )
    return _CURRENT
