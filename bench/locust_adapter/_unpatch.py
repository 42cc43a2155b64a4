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
"""

from __future__ import annotations

import http.cookiejar
import types
from typing import Any

from gevent import monkey

__all__ = ["restore_thread_primitives"]


def restore_thread_primitives() -> None:
    """Point cookiejar and sniffio at the original (unpatched) lock and thread-local."""
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
