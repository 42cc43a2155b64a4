"""Atomic file writes: a reader sees the old file or the whole new one, never half.

Result files get the mode any ordinary ``open(path, "w")`` would give them, as Locust's
own files have: ``0o666`` less the process umask (``0644`` under the usual ``022``),
not the ``0600`` of :func:`tempfile.mkstemp`.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

__all__ = ["write_json_atomic", "write_text_atomic"]

_MODE = 0o666  # the kernel takes the umask off, as for open(); no need to read it
_ATTEMPTS = 100


def _create_beside(path: Path) -> tuple[int, Path]:
    """Create a new, uniquely named, empty file beside ``path``; return its fd and path."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(_ATTEMPTS):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            # O_EXCL: never reuse (or follow a symlink at) a name someone else made.
            return os.open(tmp, flags, _MODE), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, fsync it, then rename over.

    The file ends with mode ``0o666 & ~umask``, whatever the mode of the file it replaces.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_beside(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")
