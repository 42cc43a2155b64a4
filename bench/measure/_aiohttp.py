"""An httpx transport that sends through aiohttp: httpx-aiohttp's ``AiohttpTransport``.

:class:`AiohttpPooledTransport` is what ``--transport aiohttp`` puts under every client
(``StrategyContext(transport_kind="aiohttp")``), in place of :class:`PooledTransport`'s
httpcore pool. It wraps ``httpx_aiohttp.AiohttpTransport``, configured through its public
constructor only (``client=`` builds the aiohttp session), so a run measures that
package's own request path. Around it, this module adds what the tool needs:

- **No cookie below httpx.** The aiohttp session gets a ``DummyCookieJar``: it stores
  nothing and adds nothing, so the Cookie header the client's httpx jar built reaches
  the server unchanged, and a Set-Cookie reaches that jar only (httpx reads it off the
  response). aiohttp's default jar would keep its own copy of the session, refused for
  IP-address hosts but kept for ``localhost``, and send it after the client's jar was
  emptied: a leak only a test aimed at a host name shows.
- **One pool per transport.** One ``TCPConnector`` per session, so per transport: idle
  keep-alive expiry and connection cap from the ``httpx.Limits`` (aiohttp has no cap on
  idle connections, httpx's ``max_keepalive_connections``), the process's one SSL
  context, and the session is made on first use, inside the event loop that runs it.
  ``aclose`` closes the session, which closes its connector.
- **Connections counted.** aiohttp's public tracing (``on_connection_create_end``)
  charges each new TCP connection to the call in flight (``CURRENT_CALL``), and a TLS
  handshake too for ``https``, whether the exchange then succeeds or fails. Both counting
  modes count this way: httpcore's ``trace`` extension, which ``InstrumentedTransport``
  adds in ``"trace"`` mode, means nothing to aiohttp (``AiohttpTransport`` reads only the
  ``timeout`` and ``sni_hostname`` extensions), and its ``"stream"`` fallback looks for a
  ``network_stream`` extension these responses never carry: neither counts twice.
- **httpx's errors, as httpcore would raise them.** ``AiohttpTransport`` maps a refused
  port to ``ConnectTimeout``, a server that hung up to ``ConnectTimeout`` and a body that
  broke off to ``ReadError`` (httpx-aiohttp 0.2). The aiohttp exception it chained is
  mapped again to the class httpx's own transport raises (``ConnectError``,
  ``RemoteProtocolError``, ``ReadTimeout``...), so ``APIClient`` and the failure labels
  read the same on both transports.

Timeouts come from the request's ``timeout`` extension, as ``AiohttpTransport`` maps
them: ``connect`` to the socket's connect, ``read`` to each socket read, ``pool`` to
aiohttp's connect (the wait for a pooled connection included); aiohttp has no write
timeout. Unlike httpcore, aiohttp retries an idempotent request once on a new connection
when a kept-alive one turns out closed: the new connection is counted, the second
exchange is not (one ``http_requests`` for both). Nothing here touches aiohttp's, httpx's
or httpcore's private attributes.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from types import SimpleNamespace
from typing import NoReturn, cast

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from bench.measure._context import CURRENT_CALL, CallRecord
from bench.measure._pool import ssl_context_of

__all__ = ["AiohttpPooledTransport", "AiohttpTransportFactory"]

# The class httpx's own transport raises for what aiohttp raised; the first match along
# the exception's MRO is the most specific one. Public classes on both sides.
_HTTPX_ERRORS: dict[type[BaseException], type[httpx.TransportError]] = {
    aiohttp.ClientConnectorError: httpx.ConnectError,  # refused, DNS, TLS verification
    aiohttp.ClientProxyConnectionError: httpx.ProxyError,
    aiohttp.ClientHttpProxyError: httpx.ProxyError,
    aiohttp.ConnectionTimeoutError: httpx.ConnectTimeout,
    aiohttp.SocketTimeoutError: httpx.ReadTimeout,
    aiohttp.ServerTimeoutError: httpx.ReadTimeout,
    # Closed before an answer, or in the middle of the body: httpcore's
    # "Server disconnected without sending a response" and "peer closed connection
    # without sending complete message body" are both RemoteProtocolError.
    aiohttp.ServerDisconnectedError: httpx.RemoteProtocolError,
    aiohttp.ClientPayloadError: httpx.RemoteProtocolError,
    aiohttp.ClientResponseError: httpx.RemoteProtocolError,  # an answer it could not parse
    aiohttp.ClientConnectionResetError: httpx.WriteError,  # writing to a closing connection
    aiohttp.ClientOSError: httpx.ReadError,
    aiohttp.ClientConnectionError: httpx.NetworkError,
    aiohttp.InvalidURL: httpx.UnsupportedProtocol,
    aiohttp.ClientError: httpx.TransportError,
    TimeoutError: httpx.TimeoutException,
}


def _raise_as_httpx(exc: Exception) -> NoReturn:
    """Raise httpx's exception for ``exc`` (``AiohttpTransport``'s, or aiohttp's own),
    chained to the aiohttp exception; anything unknown is raised as it came."""
    origin: BaseException = exc
    if isinstance(exc, httpx.TransportError) and exc.__cause__ is not None:
        origin = exc.__cause__  # what aiohttp raised, before httpx-aiohttp's mapping
    for cls in type(origin).__mro__:
        mapped = _HTTPX_ERRORS.get(cls)
        if mapped is not None:
            raise mapped(str(origin)) from origin
    raise exc


class _Charge:
    """The call a request's new connections are charged to, while the request runs.

    aiohttp opens a connection inside the request's task, and the loop's transport
    (uvloop's, asyncio's) keeps a copy of that task's context for the connection's whole
    life. So the record is not left in ``CURRENT_CALL`` while aiohttp connects (as
    ``CountingBackend`` clears it for httpcore): the tracing finds it in this box,
    emptied when the request returns, and a kept-alive connection holds no record alive.
    """

    __slots__ = ("record",)

    def __init__(self, record: CallRecord | None) -> None:
        self.record = record


_CHARGE: ContextVar[_Charge | None] = ContextVar("aiohttp_charge", default=None)


async def _connection_created(
    session: aiohttp.ClientSession,
    context: SimpleNamespace,
    params: aiohttp.TraceConnectionCreateEndParams,
) -> None:
    charge = _CHARGE.get()
    if charge is not None and charge.record is not None:
        charge.record.new_connections += 1


def _counting_trace() -> aiohttp.TraceConfig:
    config = aiohttp.TraceConfig()
    config.on_connection_create_end.append(_connection_created)
    return config


# One for the process: each session freezes it (again), and a frozen one serves them all.
_COUNTING_TRACE = _counting_trace()


class _Body(httpx.AsyncByteStream):
    """``AiohttpTransport``'s response body, its errors raised as httpcore's would be."""

    __slots__ = ("_stream",)

    def __init__(self, stream: httpx.AsyncByteStream) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except Exception as exc:
            _raise_as_httpx(exc)

    async def aclose(self) -> None:
        # Gives the connection back to the pool (aiohttp closes it if the body was not read).
        try:
            await self._stream.aclose()
        except Exception as exc:
            _raise_as_httpx(exc)


class AiohttpPooledTransport(httpx.AsyncBaseTransport):
    """httpx-aiohttp's ``AiohttpTransport`` on a session of its own that keeps no cookie
    and counts each connection it opens (see the module docstring).

    ``ssl_context`` verifies every ``https`` connection; ``limits`` give the connection cap
    (``max_connections``) and the idle keep-alive expiry (``keepalive_expiry``).
    ``counting=False`` leaves the tracing out (an unmeasured client pays nothing for it).
    """

    def __init__(
        self, ssl_context: ssl.SSLContext, limits: httpx.Limits, *, counting: bool = True
    ) -> None:
        self._ssl_context = ssl_context
        self._limits = limits
        self._counting = counting
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        # ``client=`` a function: called on the first request, so the session and its
        # connector bind the loop that sends (the tool's uvloop thread), not the builder's.
        self._inner = AiohttpTransport(verify=ssl_context, limits=limits, client=self._new_session)

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The aiohttp session, once the first request made it (``None`` before)."""
        return self._session

    def _new_session(self) -> aiohttp.ClientSession:
        if self._closed:  # a session made now would never be closed
            raise RuntimeError("the transport is closed")
        connector = aiohttp.TCPConnector(
            limit=self._limits.max_connections or 0,  # aiohttp's 0: no cap, httpx's None
            keepalive_timeout=self._limits.keepalive_expiry,
            ssl=self._ssl_context,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            trace_configs=[_COUNTING_TRACE] if self._counting else None,
        )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        record = CURRENT_CALL.get() if self._counting else None
        if record is None:  # nothing to charge
            try:
                response = await self._inner.handle_async_request(request)
            except Exception as exc:
                _raise_as_httpx(exc)
        else:
            response = await self._charged(request, record)
        # AiohttpTransport's body is async (an ``AiohttpResponseStream``): the cast tells mypy.
        response.stream = _Body(cast(httpx.AsyncByteStream, response.stream))
        return response

    async def _charged(self, request: httpx.Request, record: CallRecord) -> httpx.Response:
        """The exchange, with the connections it opens charged to ``record``."""
        charge = _Charge(record)
        charge_token = _CHARGE.set(charge)
        call_token = CURRENT_CALL.set(None)
        opened = record.new_connections
        try:
            return await self._inner.handle_async_request(request)
        except Exception as exc:
            _raise_as_httpx(exc)
        finally:
            charge.record = None
            CURRENT_CALL.reset(call_token)
            _CHARGE.reset(charge_token)
            if record.new_connections != opened and request.url.scheme == "https":
                record.tls_handshakes += record.new_connections - opened

    async def aclose(self) -> None:
        self._closed = True
        try:
            await self._inner.aclose()  # the session, and the connector it owns
        except Exception as exc:
            _raise_as_httpx(exc)


class AiohttpTransportFactory:
    """Builds an :class:`AiohttpPooledTransport` per call, with these limits and SSL context.

    ``ssl_context`` is a context, or a function returning one, called per transport (as
    :class:`PooledTransportFactory` takes it, so ``aegis_client.shared_ssl_context``).
    """

    __slots__ = ("limits", "ssl_context")

    def __init__(
        self,
        limits: httpx.Limits,
        ssl_context: ssl.SSLContext | Callable[[], ssl.SSLContext],
    ) -> None:
        self.limits = limits
        self.ssl_context = ssl_context

    def __call__(self, *, counting: bool = True) -> AiohttpPooledTransport:
        return AiohttpPooledTransport(
            ssl_context_of(self.ssl_context), self.limits, counting=counting
        )
