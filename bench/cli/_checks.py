"""Checks of what a command asks, against this machine, before anything starts.

Each failure is a :class:`~bench.cli._parser.UsageError` that says what to do. The checks
of the options themselves (syntax, ranges, rules between options) live with their
declarations in ``bench.options``; these need the machine: its cores, its open-file
limit, its file system, its ports, and a Python that can import the scenario.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from bench.cli._parser import UsageError
from bench.measure import raise_open_file_limit

__all__ = [
    "check_open_files",
    "check_out_folder",
    "check_port_free",
    "check_scenario_imports",
]

# Descriptors a load process or the target needs besides one per connection.
FD_HEADROOM = 256
# How long importing a scenario may take (Locust's import alone takes a second or two).
SCENARIO_IMPORT_TIMEOUT_S = 60.0


def check_port_free(host: str, port: int) -> None:
    """Fail with a usage error when ``host:port`` cannot be listened on (taken)."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise UsageError(
                f"port {port} on {host} is not free ({exc.strerror or exc}): "
                "choose another --web-port"
            ) from None


def check_scenario_imports(scenario: Path) -> None:
    """Import the scenario in a child Python (importing Locust patches the process) and
    fail in one line, before any target starts, when it raises or defines no user."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bench.locust_adapter.check_scenario", str(scenario)],
            capture_output=True,
            text=True,
            timeout=SCENARIO_IMPORT_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UsageError(
            f"scenario {scenario} did not finish importing within "
            f"{SCENARIO_IMPORT_TIMEOUT_S:g} s: does it do work at import time?"
        ) from None
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise UsageError(
            f"scenario {scenario} cannot be used: {lines[-1] if lines else 'it failed to import'}"
        )


def check_open_files(users: int, processes: int, *, embedded_target: bool) -> None:
    """Raise the soft open-file limit to the hard one; fail clearly when users cannot fit.

    Every session holds a socket: each load process needs one descriptor per user it
    runs, and the embedded target one per connection. httpx would otherwise report the
    exhaustion as a generic ConnectError halfway through the run.
    """
    hard = raise_open_file_limit()
    per_process = -(-users // processes) + FD_HEADROOM
    fits_per_process = max(0, (hard - FD_HEADROOM)) * processes
    if per_process > hard:
        raise UsageError(
            f"{users} users need about {per_process} open files per load process, but the "
            f"limit is {hard}: at most {fits_per_process} users fit with --processes "
            f"{processes}. Use more --processes, or raise the hard limit (ulimit -Hn, "
            "or /etc/security/limits.conf) and try again."
        )
    if embedded_target and users + FD_HEADROOM > hard:
        raise UsageError(
            f"the embedded target would hold {users} connections but the open-file limit "
            f"is {hard}: at most {hard - FD_HEADROOM} users fit. Raise the hard limit "
            "(ulimit -Hn) or point --host at a backend on its own machine."
        )


# Kernel file systems: writing a run folder there fails half-way or means nothing.
_KERNEL_FS = ("/proc", "/sys", "/dev")


def check_out_folder(path: Path) -> None:
    """Make sure results can be written to ``path`` before anything starts; create nothing.

    A file in the way, a folder under /proc, /sys or /dev, or a folder (or the nearest
    existing parent of one to be made) this user may not write to is a usage error
    naming the folder.
    """
    try:
        if path.exists() and not path.is_dir():
            raise UsageError(f"--out {path} is a file: give a folder (it is created if missing)")
        real = Path(os.path.realpath(path))
        for kernel in _KERNEL_FS:
            if real == Path(kernel) or Path(kernel) in real.parents:
                raise UsageError(
                    f"--out {path} is under {kernel}, a kernel file system: choose a folder on disk"
                )
        existing = next(folder for folder in (real, *real.parents) if folder.exists())
        if not existing.is_dir():
            raise UsageError(f"--out {path}: {existing} is a file, so the folder cannot be made")
    except OSError as exc:  # e.g. a parent this user may not enter
        raise UsageError(
            f"cannot write results to {path}: {exc.strerror or exc}: choose another --out"
        ) from None
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write results to {path}: {existing} is not writable")
