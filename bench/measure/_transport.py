"""An httpx transport wrapper that declares the acting user and counts what happens.

It sits under any client (``APIClient``, a per-call ``httpx.AsyncClient``, a user's own)
and fills the :class:`CallRecord` of the call in flight: status, bytes, exchanges, why
a body broke off, and the new TCP connections and TLS handshakes each exchange caused,
counted one of two ways:

- ``"stream"`` (default): the inner transport is a :class:`PooledTransport` whose
  httpcore pool was given a :class:`CountingBackend` as its ``network_backend=``
  (``StrategyContext.transport`` builds it so), so every network stream it opens
  (``connect_tcp``) is counted for the call that opened it, whether that exchange then
  succeeded or failed. Costs nothing on a reused connection.
- ``"trace"``: httpcore's ``trace`` extension, whose ``connection.connect_tcp.complete``
  and ``connection.start_tls.complete`` events fire only when a connection is opened.
  Exact too, but httpcore then calls the hook about ten times per request (measured:
  15-45 µs of CPU per request).

Both count the same connections, failed exchanges included (``tests/test_measure.py``
and ``tests/test_counting.py`` hold them to it). In ``"stream"`` mode an inner
transport whose pool does not count (httpx's ``AsyncHTTPTransport``, a user's own) falls
back to spotting new ``network_stream`` objects on successful responses. aiohttp's
transport (``_aiohttp.AiohttpPooledTransport``) counts its own connections in both modes
and its responses carry no ``network_stream``, so neither the fallback nor the ``trace``
extension (which aiohttp ignores) counts them again. Nothing here touches httpx's or
httpcore's private attributes.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator
from typing import Any

import httpx

from bench.measure._context import ACTING_USER, CURRENT_CALL, CallRecord
from bench.measure._pool import COUNT_MODES, CountingBackend, PooledTransport
from bench.registry import Verdict as V

__all__ = ["ACTING_USER_HEADER", "REPLAY_HEADER", "InstrumentedTransport"]

ACTING_USER_HEADER = "X-Bench-User"
# Marks a deliberate replay of a signed-out session's cookie, which the target's oracle
# then does not count against the client (``MeasuredSession.replay``).
REPLAY_HEADER = "X-Bench-Replay"
_CONNECT = "connection.connect_tcp.complete"
_TLS = "connection.start_tls.complete"


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


async def _watch_body(stream: Any, record: CallRecord, refresh: bool) -> AsyncIterator[bytes]:
    """The response body as it arrives; a read that breaks off is labelled on the record
    (and a ``refresh`` whose answer broke off failed, whatever its status said)."""
    try:
        async for chunk in stream:
            yield chunk
    except Exception as exc:
        record.error = f"truncated body: {type(exc).__name__}"
        if refresh:
            record.verdict(V.REFRESH_FAILED)
        raise


class _WatchedBody(httpx.AsyncByteStream):
    __slots__ = ("_inner", "_record", "_refresh")

    def __init__(self, inner: Any, record: CallRecord, refresh: bool) -> None:
        self._inner = inner
        self._record = record
        self._refresh = refresh

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _watch_body(self._inner, self._record, self._refresh)

    async def aclose(self) -> None:
        await self._inner.aclose()


# Refresh exchanges in flight, per acting user (whatever client or transport sent them):
# single flight means a session never starts a refresh while another is in flight.
_REFRESHING: dict[str, int] = {}


def _start_refresh(record: CallRecord) -> str | None:
    """Note a refresh leaving for the acting user; one already in flight is a break."""
    user = ACTING_USER.get()
    if user is None:
        return None
    in_flight = _REFRESHING.get(user, 0)
    if in_flight:
        record.verdict(V.REFRESH_CONCURRENT)
    _REFRESHING[user] = in_flight + 1
    return user


def _end_refresh(user: str) -> None:
    left = _REFRESHING[user] - 1
    if left:
        _REFRESHING[user] = left
    else:
        del _REFRESHING[user]


class InstrumentedTransport(httpx.AsyncBaseTransport):
    """Wraps ``inner``: adds ``X-Bench-User`` from the task's context and records the call.

    The header comes from a contextvar set per user task, never from the cookie jar, so
    it names the right user even when a client is (wrongly) shared between users.

    ``inner`` may be any httpx transport. A :class:`PooledTransport` whose pool opens
    through a :class:`CountingBackend` must have been built for the same ``count_with``
    (``counting_backend(count_with)``, which ``StrategyContext`` passes): its connections
    are then counted as they open. Any other transport counts by the fallback.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        declare_user: bool = True,
        count_with: str = "stream",
        refresh_path: str | None = None,
    ) -> None:
        if count_with not in COUNT_MODES:
            raise ValueError(f"count_with must be 'stream' or 'trace', not {count_with!r}")
        self._inner = inner
        self._declare_user = declare_user
        # The session lifecycle as the wire shows it: 401s, the refresh exchanges
        # (``refresh_path``), and the retries a successful refresh allowed.
        self._refresh_path = refresh_path
        self._trace = count_with == "trace"
        backend = inner.network_backend if isinstance(inner, PooledTransport) else None
        if isinstance(backend, CountingBackend) and backend.count_with != count_with:
            # Counted twice (trace and backend) or not at all: a wiring mistake.
            raise ValueError(
                f"the inner transport's pool counts for {backend.count_with!r}, not "
                f"{count_with!r}: build it with counting_backend({count_with!r})"
            )
        self._at_backend = isinstance(backend, CountingBackend) and not self._trace
        # Only a transport whose pool does not count needs to remember the streams it saw.
        self._streams: weakref.WeakSet[Any] | None = (
            None if self._trace or self._at_backend else weakref.WeakSet()
        )

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
            raw = request.headers.raw
            record.cookie_names = _cookie_names(raw)
            if record.capture_cookies:
                record.sent_cookies = b"; ".join(v for k, v in raw if k.lower() == b"cookie")
        record.http_requests += 1
        opened_before = record.new_connections
        # Only an exchange after a 401 (or a call to the refresh route itself) can be a
        # refresh: the common exchange skips decoding its URL's path.
        refreshing = (
            self._refresh_path is not None
            and (record.after_401 or record.endpoint == self._refresh_path)
            and request.url.path == self._refresh_path
        )
        user = _start_refresh(record) if refreshing else None
        try:
            response = await self._inner.handle_async_request(request)
        except Exception as exc:
            record.error = type(exc).__name__
            if refreshing:  # a refresh that broke off failed as surely as a 401
                record.verdict(V.REFRESH)
                record.verdict(V.REFRESH_FAILED)
            raise
        finally:
            if self._at_backend and request.url.scheme == "https":
                record.tls_handshakes += record.new_connections - opened_before
            if user is not None:
                _end_refresh(user)
        status = record.status = response.status_code
        record.response = response
        if status == 401 or record.http_requests > 1:  # a refresh follows a 401
            self._note_lifecycle(record, request, status)
        record.response_bytes += _content_length(response.headers.raw)
        if self._streams is not None:
            stream = response.extensions.get("network_stream")
            if stream is not None and stream not in self._streams:
                self._streams.add(stream)
                record.new_connections += 1
                if request.url.scheme == "https":
                    record.tls_handshakes += 1
        response.stream = _WatchedBody(response.stream, record, refreshing)
        return response

    def _note_lifecycle(self, record: CallRecord, request: httpx.Request, status: int) -> None:
        """Count 401s, refreshes (failed or not), and the exchange that retries a 401.

        A retry is counted on the call that got the 401, whichever call of its client
        sent the refresh (single flight: one refresh serves a burst of 401s).
        """
        if request.url.path == self._refresh_path:
            record.verdict(V.REFRESH)
            if not 200 <= status < 300:
                record.verdict(V.REFRESH_FAILED)
            return
        retry = record.after_401
        if retry:
            record.verdict(V.RETRY)
            record.after_401 = False
        if status == 401:
            record.verdict(V.UNAUTHORIZED)
            if retry:  # no refresh follows a retry's 401: it served none
                record.verdict(V.RETRY_UNAUTHORIZED)
            else:
                record.after_401 = True

    async def aclose(self) -> None:
        await self._inner.aclose()
