"""Children that die with their parent: no process of a run outlives ``aegis-bench``.

On Linux, ``prctl(PR_SET_PDEATHSIG)`` asks the kernel to send a signal to a process when
its parent ends, however the parent ends (SIGKILL included). ``aegis-bench`` starts the
embedded target and Locust with it (SIGTERM: both then stop gracefully, Locust still
signing its users out). Locust's own forked load processes watch their master instead
(``bench/locust_adapter/_plugin.py``): a SIGTERM there would race the shutdown their
master already asked for.
Elsewhere it is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable

__all__ = ["die_with_parent", "preexec_die_with_parent"]

_PR_SET_PDEATHSIG = 1


def die_with_parent(expected_parent: int | None = None, sig: int = signal.SIGTERM) -> bool:
    """Have the kernel send ``sig`` to this process when its parent ends; True when armed.

    When ``expected_parent`` is given and the parent is already gone (this process was
    re-parented before it could arm the signal), the signal is sent at once.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            return False
    except OSError:
        return False
    if expected_parent is not None and os.getppid() != expected_parent:
        os.kill(os.getpid(), sig)
    return True


def preexec_die_with_parent() -> Callable[[], None]:
    """A ``subprocess.Popen(preexec_fn=...)`` that arms :func:`die_with_parent` in the child."""
    parent = os.getpid()

    def arm() -> None:
        die_with_parent(parent)

    return arm
