"""An httpx transport wrapper that declares the acting user and counts what happens.

It sits under any client (``APIClient``, a per-call ``httpx.AsyncClient``, a user's own)
and fills the :class:`CallRecord` of the call in flight: status, bytes, exchanges, and
the new TCP connections and TLS handshakes each exchange caused, counted one of two ways:

- ``"stream"`` (default): httpcore's ``network_stream`` response extension names the
  connection an exchange used; one this transport has never seen is a new connection
  (and, on ``https``, a TLS handshake). About 1 µs per request.
- ``"trace"``: httpcore's ``trace`` extension, whose ``connection.connect_tcp.started``
  and ``connection.start_tls.started`` events fire only when a connection is opened.
  Exact by construction, but httpcore then calls the hook about ten times per request
  (measured: 15-45 µs of CPU per request, most of the instrumentation's cost).

Both count the same connections (``tests/test_measure.py`` holds them to it).
"""

from __future__ import annotations

import weakref
from typing import Any

import httpx

from bench.measure._context import ACTING_USER, CURRENT_CALL, CallRecord

__all__ = ["ACTING_USER_HEADER", "InstrumentedTransport"]

ACTING_USER_HEADER = "X-Bench-User"
_CONNECT = "connection.connect_tcp.started"
_TLS = "connection.start_tls.started"


def _tracer(record: CallRecord) -> Any:
    async def trace(event: str, info: dict[str, Any]) -> None:
        if event == _CONNECT:
            record.new_connections += 1
        elif event == _TLS:
            record.tls_handshakes += 1

    return trace


# httpx's ``Headers.get`` re-derives the header encoding on every call (about 5 µs, the
# largest share of this transport's cost); the raw byte pairs are read directly instead.
def _cookie_names(raw: list[tuple[bytes, bytes]]) -> tuple[str, ...]:
    """Names (never values) of the cookies in a request's Cookie header(s)."""
    names: list[str] = []
    for key, value in raw:
        if key.lower() == b"cookie":
            names += (p.split(b"=", 1)[0].strip().decode("latin-1") for p in value.split(b";"))
    return tuple(name for name in names if name)


def _content_length(raw: list[tuple[bytes, bytes]]) -> int:
    for key, value in raw:
        if key.lower() == b"content-length":
            return int(value)
    return 0


class InstrumentedTransport(httpx.AsyncBaseTransport):
    """Wraps ``inner``: adds ``X-Bench-User`` from the task's context and records the call.

    The header comes from a contextvar set per user task, never from the cookie jar, so
    it names the right user even when a client is (wrongly) shared between users.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        declare_user: bool = True,
        count_with: str = "stream",
    ) -> None:
        if count_with not in ("stream", "trace"):
            raise ValueError(f"count_with must be 'stream' or 'trace', not {count_with!r}")
        self._inner = inner
        self._declare_user = declare_user
        self._trace = count_with == "trace"
        self._streams: weakref.WeakSet[Any] = weakref.WeakSet()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._declare_user:
            user = ACTING_USER.get()
            if user is not None:
                request.headers[ACTING_USER_HEADER] = user
        record = CURRENT_CALL.get()
        if record is None:
            return await self._inner.handle_async_request(request)
        if self._trace:
            request.extensions = {**request.extensions, "trace": _tracer(record)}
        if record.cookie_names is None:
            record.cookie_names = _cookie_names(request.headers.raw)
        record.http_requests += 1
        try:
            response = await self._inner.handle_async_request(request)
        except Exception as exc:
            record.error = type(exc).__name__
            raise
        record.status = response.status_code
        record.response_bytes += _content_length(response.headers.raw)
        if not self._trace:
            stream = response.extensions.get("network_stream")
            if stream is not None and stream not in self._streams:
                self._streams.add(stream)
                record.new_connections += 1
                if request.url.scheme == "https":
                    record.tls_handshakes += 1
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
