"""Give the loop thread real threading primitives back.

Locust monkey-patches the process with gevent before our code runs, so modules that
create locks or thread-locals at import or construction time get gevent's versions.
Used from the native loop thread those are slower (they consult the gevent hub of a
thread that has none) and are not meant to be used across threads at all. The two that
sit on every request's path are repaired here:

- ``http.cookiejar``: every ``CookieJar`` (one per httpx client) takes a lock around
  each request's cookie header and each response's Set-Cookie;
- ``sniffio``: httpcore asks it which async library runs, through a thread-local;
- ``httpcore._utils``: before reusing a pooled connection httpcore polls its socket with
  ``select.poll()``; gevent's version builds a timeout and switches greenlets on every
  call (measured: monkey-patching alone cost the bare driver 110 µs per request, most of
  it here).

And one that sits on the path of every log record, whatever its level lets through:

- ``logging``: gevent's ``patch_all`` gives logging's module lock and every handler's
  lock a gevent lock, on which a greenlet can wait forever while the loop thread keeps
  taking and releasing it. Each release by the hub-less loop thread tries to switch to the
  waiting greenlet from the wrong thread, fails, and puts it back on the waiters' list
  without waking the hub (gevent's ``Semaphore`` only re-queues such a waiter "in the
  hope that the other thread will eventually run notifications itself"). With httpx or
  httpcore at DEBUG (a locustfile's choice) the loop thread logs several lines per
  request, and Locust's own records from greenlets (the run time's "shutting down", the
  SIGTERM handler's "Got SIGTERM signal", "All users spawned") then waited forever:
  the test overran and was killed with its users still running. These locks are made
  :class:`SharedRLock`: greenlets still wait on each other cooperatively, and the
  threads on a native lock.
"""

from __future__ import annotations

import http.cookiejar
import logging
import threading
import types
from typing import Any

from gevent import monkey

__all__ = ["SharedRLock", "restore_thread_primitives", "share_logging_locks"]

_native_rlock = monkey.get_original("_thread", "RLock")
_native_get_ident = monkey.get_original("_thread", "get_ident")
# The native id of the thread that runs the gevent hub (set by share_logging_locks).
_hub_thread = [0]


class SharedRLock:
    """A reentrant lock that the hub's greenlets and native threads (the loop) can share.

    In the hub's thread a caller takes a gevent lock first, so greenlets wait for each
    other cooperatively (a handler may switch greenlets while it writes), then a native
    lock; any other thread takes the native lock only. The gevent lock is thus only ever
    used from its own hub's thread, and the loop thread and a greenlet wait for each other
    on a native lock, which logging holds for one record at a time.
    """

    __slots__ = ("_green", "_hub_thread", "_native")

    def __init__(self) -> None:
        self._hub_thread = _hub_thread[0] or _native_get_ident()
        self._green: Any = threading.RLock()  # gevent's, when the process is patched
        self._native: Any = _native_rlock()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if _native_get_ident() != self._hub_thread:
            return bool(self._native.acquire(blocking, timeout))
        if not self._green.acquire(blocking, timeout):
            return False
        if self._native.acquire(blocking, timeout):
            return True
        self._green.release()
        return False

    def release(self) -> None:
        self._native.release()
        if _native_get_ident() == self._hub_thread:
            self._green.release()

    __enter__ = acquire

    def __exit__(self, *_: object) -> None:
        self.release()

    def _at_fork_reinit(self) -> None:  # logging calls it in a forked child
        self._hub_thread = _native_get_ident()  # the one thread a child starts with
        self._green._at_fork_reinit()
        self._native._at_fork_reinit()


def _create_shared_lock(handler: logging.Handler) -> None:
    handler.lock = SharedRLock()  # type: ignore[assignment]
    logging._register_at_fork_reinit_lock(handler)  # type: ignore[attr-defined]


def share_logging_locks() -> None:
    """Give logging's module lock, each handler's and each future handler's a SharedRLock.

    Call it in the thread that runs the gevent hub, before the loop thread starts.
    """
    if isinstance(logging._lock, SharedRLock):  # type: ignore[attr-defined]
        return
    _hub_thread[0] = _native_get_ident()
    logging._lock = SharedRLock()  # type: ignore[attr-defined]
    for ref in list(logging._handlerList):  # type: ignore[attr-defined]
        handler = ref()
        if handler is not None and getattr(handler, "lock", None) is not None:
            handler.lock = SharedRLock()
    logging.Handler.createLock = _create_shared_lock  # type: ignore[method-assign, assignment]


def restore_thread_primitives() -> None:
    """Point cookiejar and sniffio at the original (unpatched) lock and thread-local, and
    share logging's locks with the loop thread (:func:`share_logging_locks`)."""
    share_logging_locks()
    # The C RLock: threading.RLock itself would build a Python RLock on gevent's lock.
    original_rlock = monkey.get_original("_thread", "RLock")
    original_local: Any = monkey.get_original("threading", "local")
    # cookiejar only ever calls ``_threading.RLock()``.
    cookiejar: Any = http.cookiejar
    cookiejar._threading = types.SimpleNamespace(RLock=original_rlock)
    import select

    import httpcore._utils as httpcore_utils

    utils: Any = httpcore_utils
    utils.select = types.SimpleNamespace(
        poll=monkey.get_original("select", "poll"),
        select=monkey.get_original("select", "select"),
        POLLIN=select.POLLIN,
    )
    try:
        import sniffio._impl as sniffio_impl
    except ImportError:  # pragma: no cover - sniffio is a declared dependency
        return

    class _ThreadLocal(original_local):  # type: ignore[misc]
        name: str | None = None

    sniffio_impl.thread_local = _ThreadLocal()
