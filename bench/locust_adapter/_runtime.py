"""Per-process state of the adapter: the loop bridge, the recorder, the strategy.

Built in ``events.init`` (after Locust's ``--processes`` fork) in every process;
a master process that runs no users gets no bridge.
"""

from __future__ import annotations

import itertools
import os
import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.locust_adapter._bridge import LoopBridge
from bench.measure import Recorder, cpu_seconds, rss_bytes
from bench.profile import AEGIS, Profile
from bench.report import write_json_atomic
from bench.strategies import ClientStrategy, StrategyContext, pooled_transport_factory
from bench.think_time import ThinkTime

__all__ = ["ProcessRuntime", "current", "current_or_none", "install", "uninstall"]


@dataclass
class ProcessRuntime:
    """Everything one Locust process shares between its users."""

    role: str  # "local", "worker" or "master"
    strategy: ClientStrategy
    think_time: ThinkTime
    out_dir: Path | None
    bridge: LoopBridge | None
    profile: Profile = AEGIS
    keepalive_s: float = 4.0
    count_with: str = "stream"
    timeout_s: float = 10.0
    recorder: Recorder = field(default_factory=Recorder)
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
    sign_in_failures: Counter[str] = field(default_factory=Counter)
    final_written: bool = False
    started_at: float | None = None
    stopped_at: float | None = None
    _usernames: itertools.count[int] = field(default_factory=itertools.count)
    _contexts: dict[str, StrategyContext] = field(default_factory=dict)

    def new_username(self) -> str:
        """A name unique to this run and process (several processes may share a backend)."""
        return f"u{self.prefix}-{next(self._usernames)}"

    def context_for(self, base_url: str) -> StrategyContext:
        context = self._contexts.get(base_url)
        if context is None:
            context = self._contexts[base_url] = StrategyContext(
                base_url,
                make_inner_transport=pooled_transport_factory(self.keepalive_s),
                timeout=self.timeout_s,
                profile=self.profile,
                count_with=self.count_with,
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
        self.rss_peak = max(self.rss_peak, rss_bytes())
        self.users_peak = max(self.users_peak, users)
        now, cpu = time.monotonic(), cpu_seconds()
        if self._last_cpu is not None and now > self._last_cpu[0]:
            self.cpu_percent.append(100.0 * (cpu - self._last_cpu[1]) / (now - self._last_cpu[0]))
        self._last_cpu = (now, cpu)

    def write_part(self, extra: dict[str, Any], *, final: bool) -> None:
        """Write this process's measurements to ``<out>/part-<role>-<pid>.json``, atomically.

        A checkpoint (``final=False``) is written every few seconds while the test runs,
        so a process killed outright still leaves what it had measured; the final part,
        written once after the users stopped, replaces it. Nothing is drained: each write
        holds the whole run so far.
        """
        if self.out_dir is None or self.final_written:
            return
        self.final_written = final
        part = {
            "role": self.role,
            "pid": os.getpid(),
            "final": final,
            "strategy": self.strategy.name,
            "started_at": self.started_at,
            "stopped_at": self.stopped_at or time.time(),
            "cpu_s": cpu_seconds() - self.cpu_at_start,
            "rss_at_start": self.rss_at_start,
            "rss_peak": self.rss_peak,
            "users_peak": self.users_peak,
            "clients_built": self.clients_built,
            "clients_released": self.clients_released,
            "users_without_session": self.users_without_session,
            "sign_in_failures": dict(self.sign_in_failures),
            "generator": {
                "cpu_percent": [round(value, 1) for value in self.cpu_percent],
                "loop_lag_ms": [
                    round(value, 2) for value in (self.bridge.lag_ms if self.bridge else [])
                ],
            },
            "recorder": self.recorder.snapshot(),
            **extra,
        }
        self.out_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.out_dir / f"part-{self.role}-{os.getpid()}.json", part)


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
