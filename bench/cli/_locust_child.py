"""Locust as a child process of a headless run: started, watched, stopped, sampled.

The CLI never imports Locust (importing it monkey-patches the process): it starts
``python -m locust`` with the run's settings as its argv (``Settings.locust_argv``),
watches it to its end or to a stop request, and meanwhile samples what only this
machine shows (the connections to a loopback target, the machine's CPU).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench._lifeline import preexec_die_with_parent
from bench.cli._signals import STOP
from bench.measure import count_sockets, loopback_port
from bench.options import (
    DURATION,
    HOST,
    LOCUST_HTML,
    OUT,
    SCENARIO,
    STOP_TIMEOUT,
    USERS,
    Settings,
)

__all__ = [
    "LocustOutcome",
    "Samples",
    "run_locust",
    "stop_grace_s",
]


def stop_grace_s(settings: Settings) -> float:
    """How long stopping may take: the users' stop timeout, then their sign-outs.

    Beyond run time + stop timeout Locust gets this long before it is asked to stop,
    and once asked (or once its master ended) this long again before its process group
    is killed. Signing 15,000 users out on a saturated generator took over a minute.
    """
    return settings[STOP_TIMEOUT] + 20 + settings[USERS] / 100


def _command(settings: Settings) -> list[str]:
    out: Path = settings.required(OUT)
    return [
        sys.executable, "-m", "locust",
        "-f", str(settings[SCENARIO]),
        "--headless",
        "--only-summary",
        "--csv", str(out / "locust"),
        # A comparison's runs leave Locust's 1 MB page out unless asked: their reports do.
        *(["--html", str(out / "locust.html")] if settings.get(LOCUST_HTML, True) else []),
        "--logfile", str(out / "locust.log"),
        *settings.locust_argv(),
    ]  # fmt: skip


@dataclass(frozen=True)
class LocustOutcome:
    """How Locust ended: its exit code, whether it was asked to stop, whether it was killed."""

    exit_code: int
    stopped: bool
    killed: bool


@dataclass
class Samples:
    """What the CLI sampled about once a second while Locust ran."""

    established: list[int] = field(default_factory=list)  # connections to the target
    box_cpu: list[tuple[float, float]] = field(default_factory=list)  # (unix time, %)


def _group_alive(pgid: int) -> bool:
    """True while a live (not zombie) process of the process group ``pgid`` remains."""
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                return True
        except (OSError, psutil.Error):
            continue
    return False


def run_locust(
    settings: Settings,
    env: tuple[tuple[str, str], ...],
    samples: Samples,
    restart: tuple[float, Callable[[float], None]] | None = None,
    *,
    quiet: bool = False,
) -> LocustOutcome:
    """Run Locust to the end, or until a stop request; see :class:`LocustOutcome`.

    Locust runs in a session of its own, so a terminal's Ctrl-C reaches only this tool,
    which then asks Locust to stop once, with SIGTERM: Locust stops its users (they sign
    out and close their clients) and writes its results, and its load processes write
    their final parts. A second signal, or Locust overrunning its grace, kills Locust's
    whole process group; the parts then hold their last checkpoints. Locust also dies
    with this process, whatever ends it.

    ``restart`` is (seconds, function): the function is called once, that long after
    Locust started, with the time. The load goes on meanwhile; this loop's sampling and
    stop handling wait until the target is back (a second or two).
    """
    port = loopback_port(settings.required(HOST))
    next_sample = 0.0
    psutil.cpu_percent(interval=None)  # the first call only starts the count
    with (settings.required(OUT) / "locust-stdout.txt").open("wb") as stdout:
        child = subprocess.Popen(
            _command(settings),
            stdout=stdout,
            # quiet (a calibration): Locust's progress and tables go to its file too.
            stderr=subprocess.STDOUT if quiet else None,
            env={**os.environ, **dict(env)},
            start_new_session=True,
            preexec_fn=preexec_die_with_parent(),
        )
        grace = stop_grace_s(settings)
        began = time.monotonic()
        deadline = began + settings.required(DURATION) + settings[STOP_TIMEOUT] + grace
        asked_to_stop_at: float | None = None
        master_gone_at: float | None = None
        killed = False
        # Locust's master can end before its forked load processes have stopped their
        # users: the run is over only when the whole process group is gone.
        while child.poll() is None or (not killed and _group_alive(child.pid)):
            now = time.monotonic()
            if master_gone_at is None and child.returncode is not None:
                master_gone_at = now
            overran = [t for t in (asked_to_stop_at, master_gone_at) if t is not None]
            if not killed and (STOP.immediate or (overran and now > min(overran) + grace)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                killed = True
            elif (
                asked_to_stop_at is None
                and child.returncode is None
                and (STOP.requested or now > deadline)
            ):
                child.send_signal(signal.SIGTERM)  # Locust's graceful shutdown (its handler)
                asked_to_stop_at = now
            if (
                restart is not None
                and now - began >= restart[0]
                and asked_to_stop_at is None
                and child.returncode is None
            ):
                restart[1](now - began)
                restart = None
            if now >= next_sample:
                next_sample = now + 1.0
                samples.box_cpu.append((time.time(), psutil.cpu_percent(interval=None)))
                sockets = count_sockets(port, "ESTABLISHED") if port is not None else None
                if sockets is not None:
                    # Both ends live on this host: each connection shows twice.
                    samples.established.append(sockets // 2)
            time.sleep(0.1)
        return LocustOutcome(child.returncode, asked_to_stop_at is not None, killed)
