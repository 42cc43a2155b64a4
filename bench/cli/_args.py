"""Argument types and checks shared by the commands: each failure is a clear usage error."""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

from bench.measure import raise_open_file_limit

__all__ = [
    "AUTO",
    "UsageError",
    "auto_processes",
    "check_open_files",
    "check_out_folder",
    "check_port_free",
    "duration",
    "loopback_address",
    "non_negative_float",
    "non_negative_int",
    "port_number",
    "positive_float",
    "positive_int",
    "process_count",
    "target_url",
]

_TIMESPAN = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
# Descriptors a load process or the target needs besides one per connection.
FD_HEADROOM = 256


class UsageError(Exception):
    """The user asked for something that cannot work; the message says what to do."""


def duration(text: str) -> float:
    """Seconds from Locust's forms: ``90``, ``30s``, ``2m``, ``1h30m``."""
    text = text.strip()
    if text.isdigit():
        seconds = int(text)
    else:
        match = _TIMESPAN.match(text)
        if not match or not any(match.groups()):
            raise argparse.ArgumentTypeError(
                f"invalid duration {text!r}: use seconds or Locust's forms such as 30s, 2m, 1h30m"
            )
        hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"duration {text!r} must be longer than zero")
    return float(seconds)


def _whole_number(text: str, minimum: int, must: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{text!r} must be {must}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return _whole_number(text, 1, "at least 1")


AUTO = "auto"


def process_count(text: str) -> int | str:
    """``--processes``: a positive whole number, or ``auto`` (see :func:`auto_processes`)."""
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a whole number >= 1 nor 'auto'"
        ) from None


def auto_processes(*, target_on_this_machine: bool, cores: int | None = None) -> int:
    """One load process per core, less one core left to a target on this machine.

    The load generator is the bottleneck, and a load process uses one core at most (its
    GIL): more processes than cores only share them. A target on this machine (the
    embedded one, or any loopback host) needs its share too.
    """
    cores = cores or os.cpu_count() or 1
    return max(1, cores - 1 if target_on_this_machine else cores)


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    return _whole_number(text, 0, "0 or more")


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


def port_number(text: str) -> int:
    """A TCP port, 0 (any free port) to 65535."""
    value = non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port: use 0 to 65535")
    return value


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive_float(text: str) -> float:
    """A number > 0."""
    value = _finite(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than zero")
    return value


def non_negative_float(text: str) -> float:
    """A number >= 0."""
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or more")
    return value


def loopback_address(text: str) -> str:
    """An IP address in 127.0.0.0/8 or ::1 (the embedded target only serves loopback)."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IP address") from None
    if not address.is_loopback:
        raise argparse.ArgumentTypeError(
            f"{text} is not a loopback address: the reference backend binds only to "
            "127.0.0.0/8 or ::1"
        )
    return text


def target_url(text: str) -> str:
    """An ``http://`` or ``https://`` base URL with a host."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a base URL: use http://HOST[:PORT] or https://HOST[:PORT]"
        )
    return text.rstrip("/")


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
