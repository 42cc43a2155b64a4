"""The reference Aegis backend, started from a test: ``with embedded_backend() as url``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from bench.backend import TargetConfig, TargetProcess

__all__ = ["embedded_backend"]


@contextlib.contextmanager
def embedded_backend() -> Iterator[str]:
    """Start the reference Aegis backend and yield its URL; stop it on leaving.

    It is the target ``aegis-bench`` embeds (``bench.backend.TargetProcess``): a real
    uvicorn server in a child process, on a free port of 127.0.0.1, serving the Aegis
    routes the default profile names. Leaving the block stops that process only (SIGTERM,
    then SIGKILL after a bounded wait), on errors too; it also dies with its parent.
    Raises ``RuntimeError`` with the end of its log when it does not start.
    """
    with TargetProcess(TargetConfig(port=0)) as target:
        yield target.url
