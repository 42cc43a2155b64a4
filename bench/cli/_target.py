"""The target a command runs against: the embedded reference backend, or ``--host``.

Either way a throwaway preflight user proves it and the profile work before any load;
the embedded target starts with the run's faults (injected from its first reset, the
run's start) or, for the web UI, with none (each test sets its own from the form).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cli._parser import UsageError
from bench.options import (
    CROSSWIRE_RATE,
    HOST,
    KEEPALIVE,
    PROFILE,
    TIMEOUT,
    TLS,
    Settings,
    embedded_keep_alive_s,
    faults_of,
)

__all__ = ["Environment", "Target", "target_of"]

Environment = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Target:
    """The target a command runs against, and what the load processes need to reach it."""

    url: str
    env: Environment = ()  # extra environment for Locust (SSL_CERT_FILE)
    ca_file: str | None = None  # the throwaway CA of a --tls target
    restart: Callable[[], None] | None = None  # the embedded target's (same URL after)


def _ready(settings: Settings, target: Target) -> Target:
    """The target, once a throwaway user has proved it and the profile work (preflight)."""
    from bench.preflight import PreflightError, preflight
    from bench.profile import AEGIS, load_profile

    path = settings[PROFILE]
    profile = load_profile(path) if path is not None else AEGIS
    try:
        preflight(target.url, profile, timeout_s=settings[TIMEOUT], ca_file=target.ca_file)
    except PreflightError as exc:
        raise UsageError(f"preflight: {exc}") from None
    return target


@contextlib.contextmanager
def target_of(settings: Settings, out: Path, *, faults_per_test: bool = False) -> Iterator[Target]:
    """The target (embedded unless ``--host``), checked by a preflight user.

    The embedded target logs to ``target.log`` in ``out``. With ``faults_per_test`` (the
    web UI) it starts with none: each test sets its own from the start form.
    """
    host = settings[HOST]
    if host is not None:
        yield _ready(settings, Target(host))
        return
    from bench.backend import TargetConfig, TargetProcess
    from bench.faults import Faults

    # A slow answer is held back beyond the client's timeout.
    slow_s = settings[TIMEOUT] + 1.0
    faults = Faults() if faults_per_test else faults_of(settings, slow_s=slow_s)
    keep_alive_s = embedded_keep_alive_s(settings[KEEPALIVE])
    config = TargetConfig(
        port=0, crosswire_rate=settings[CROSSWIRE_RATE], faults=faults, keep_alive_s=keep_alive_s
    )
    env: Environment = ()
    verify: Any = True
    ca_file = None
    if settings[TLS]:
        from bench.cli._tls import make_tls_files

        files = make_tls_files(out / "tls")
        config = TargetConfig(
            port=0,
            crosswire_rate=settings[CROSSWIRE_RATE],
            certfile=str(files.server_pem),
            keyfile=str(files.server_pem),
            faults=faults,
            keep_alive_s=keep_alive_s,
        )
        ca_file = str(files.ca)
        env = (("SSL_CERT_FILE", ca_file),)
        verify = ca_file
    try:
        process = TargetProcess(config, verify=verify, log_path=out / "target.log").start()
    except RuntimeError as exc:
        raise UsageError(f"{exc} (its log: {out / 'target.log'})") from None
    try:
        yield _ready(settings, Target(process.url, env, ca_file, process.restart))
    finally:
        process.stop()
