"""Counting TCP sockets by state from ``/proc/net/tcp`` (Linux), e.g. TIME_WAIT left by a run."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["count_sockets", "loopback_port"]

_STATES = {"ESTABLISHED": "01", "TIME_WAIT": "06"}
_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))


def count_sockets(port: int, state: str = "TIME_WAIT") -> int | None:
    """Sockets in ``state`` with ``port`` at either end; None where /proc is unavailable."""
    code = _STATES[state]
    wanted = f"{port:04X}"
    found, readable = 0, False
    for table in _TABLES:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for line in lines:
            fields = line.split()
            if len(fields) < 4 or fields[3] != code:
                continue
            local_port = fields[1].rsplit(":", 1)[1]
            remote_port = fields[2].rsplit(":", 1)[1]
            if wanted in (local_port, remote_port):
                found += 1
    return found if readable else None


def loopback_port(url: str) -> int | None:
    """The port of a target on loopback (so its sockets are on this machine), else None."""
    parts = urlsplit(url)
    name = parts.hostname or ""
    if name != "localhost":
        try:
            if not ipaddress.ip_address(name).is_loopback:
                return None
        except ValueError:
            return None
    return parts.port or (443 if parts.scheme == "https" else 80)
