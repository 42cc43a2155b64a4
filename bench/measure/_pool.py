"""An httpx transport over an httpcore pool built through httpcore's public API.

:class:`PooledTransport` is what ``httpx.AsyncHTTPTransport`` is for this project
(HTTP/1.1, ``http`` and ``https``, one SSL context, pool limits, timeouts and ``trace``
from the request's extensions, ``aclose`` closing the pool), except that its
``httpcore.AsyncConnectionPool`` is given a network backend through the public
``network_backend=`` argument. httpcore's exceptions reach the caller as httpx's own
(``httpcore.ConnectError`` as ``httpx.ConnectError`` and so on, the most specific
class that matches, as httpx maps them), whether raised by the exchange or while the
body is read. The response keeps httpcore's extensions (``network_stream``,
``http_version``...).

:class:`CountingBackend` is the backend that lets ``InstrumentedTransport`` count
connections: each TCP connection it opens is charged to the call in flight
(``CURRENT_CALL``) when built for ``"stream"`` counting; built for ``"trace"`` it counts
nothing. :func:`counting_backend` hands out one shared instance per mode.
:class:`PooledTransportFactory` builds such transports, with a backend or without.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any, cast

import httpcore
import httpx

from bench.measure._context import CURRENT_CALL
from bench.options import COUNT_MODES

__all__ = [
    "COUNT_MODES",
    "CountingBackend",
    "PooledTransport",
    "PooledTransportFactory",
    "counting_backend",
    "ssl_context_of",
]

# httpx's own correspondence (its default transport's), public classes on both sides.
_HTTPX_ERRORS: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore.TimeoutException: httpx.TimeoutException,
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.NetworkError: httpx.NetworkError,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.ProxyError: httpx.ProxyError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore.ProtocolError: httpx.ProtocolError,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
}


def _as_httpx(exc: Exception) -> httpx.TransportError | None:
    """httpx's exception for an httpcore one (None for anything else).

    The first match along the class's MRO is the most specific one, which is what httpx
    picks (``ReadTimeout``, not ``TimeoutException``).
    """
    for cls in type(exc).__mro__:
        mapped = _HTTPX_ERRORS.get(cls)
        if mapped is not None:
            return mapped(str(exc))
    return None


class CountingBackend(httpcore.AsyncNetworkBackend):
    """A network backend that counts each TCP connection it opens for the call in flight.

    httpcore opens a pooled connection inside the request that needs it, so the call's
    record (a contextvar) is the one to charge. The connection is opened with no record
    in the context, though: uvloop's transport keeps a copy of the context it was made
    in for its whole life, and with it the record of the call that opened it. That is
    why the ``"trace"`` mode, which counts nothing here, still opens through this backend.

    It holds no state of its own (httpcore's ``AnyIOBackend`` by default, which runs on
    whatever library anyio finds), so one instance serves every pool of a process.
    """

    def __init__(self, count_with: str, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        if count_with not in COUNT_MODES:
            raise ValueError(f"count_with must be 'stream' or 'trace', not {count_with!r}")
        self.count_with = count_with
        self._count = count_with == "stream"
        self._inner = httpcore.AnyIOBackend() if inner is None else inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        record = CURRENT_CALL.get()
        token = CURRENT_CALL.set(None) if record is not None else None
        try:
            stream = await self._inner.connect_tcp(
                host,
                port,
                timeout=timeout,
                local_address=local_address,
                socket_options=socket_options,
            )
        finally:
            if token is not None:
                CURRENT_CALL.reset(token)
        if record is not None and self._count:
            record.new_connections += 1
        return stream

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


_SHARED_BACKENDS = {mode: CountingBackend(mode) for mode in COUNT_MODES}


def counting_backend(count_with: str) -> CountingBackend:
    """The process's shared backend for a counting mode, ``"stream"`` or ``"trace"``."""
    try:
        return _SHARED_BACKENDS[count_with]
    except KeyError:
        raise ValueError(f"count_with must be 'stream' or 'trace', not {count_with!r}") from None


class _PoolBody(httpx.AsyncByteStream):
    """httpcore's response body, its errors raised as httpx's, closed with the response."""

    __slots__ = ("_stream",)

    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except Exception as exc:
            mapped = _as_httpx(exc)
            if mapped is None:
                raise
            raise mapped from exc

    async def aclose(self) -> None:
        # Returns the connection to the pool (or closes it if the body was not read).
        aclose = getattr(self._stream, "aclose", None)
        if aclose is not None:
            await aclose()


class PooledTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncHTTPTransport`` (HTTP/1.1) on a pool with the given network backend.

    ``network_backend=None`` leaves httpcore's default. ``ssl_context`` verifies every
    ``https`` connection of the pool (httpcore would otherwise build one per connection).
    """

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        limits: httpx.Limits,
        *,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._backend = network_backend
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=network_backend,
        )

    @property
    def network_backend(self) -> httpcore.AsyncNetworkBackend | None:
        """The backend the pool was built with (``None``: httpcore's default)."""
        return self._backend

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = request.stream
        if not isinstance(content, httpx.AsyncByteStream):
            raise TypeError("an async transport needs a request with an async body stream")
        url = request.url
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=content,
            extensions=request.extensions,  # "timeout", "trace", "sni_hostname"...
        )
        # A plain try (not a context manager, as httpx has) costs nothing when no error.
        try:
            response = await self._pool.handle_async_request(core_request)
        except Exception as exc:
            mapped = _as_httpx(exc)
            if mapped is None:
                raise
            raise mapped from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            # An async pool's body is async: the cast only tells mypy so.
            stream=_PoolBody(cast(AsyncIterable[bytes], response.stream)),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        try:
            await self._pool.aclose()
        except Exception as exc:
            mapped = _as_httpx(exc)
            if mapped is None:
                raise
            raise mapped from exc


def ssl_context_of(source: ssl.SSLContext | Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """A transport factory's SSL context: the one given, or the one its function returns
    (so a cached one such as ``aegis_client.shared_ssl_context`` is built when first needed)."""
    return source if isinstance(source, ssl.SSLContext) else source()


class PooledTransportFactory:
    """Builds a :class:`PooledTransport` per call, with the network backend it is given.

    ``ssl_context`` is a context, or a function returning one, called per transport (so
    a cached one such as ``aegis_client.shared_ssl_context`` is only built when first
    needed). ``StrategyContext`` recognises this factory and passes the backend its
    counting mode needs; called with no backend, it builds an uncounted pool.
    """

    __slots__ = ("limits", "ssl_context")

    def __init__(
        self,
        limits: httpx.Limits,
        ssl_context: ssl.SSLContext | Callable[[], ssl.SSLContext],
    ) -> None:
        self.limits = limits
        self.ssl_context = ssl_context

    def __call__(
        self, network_backend: httpcore.AsyncNetworkBackend | None = None
    ) -> PooledTransport:
        return PooledTransport(
            ssl_context_of(self.ssl_context), self.limits, network_backend=network_backend
        )
