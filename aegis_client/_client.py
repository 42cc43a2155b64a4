"""``APIClient``: the one client a session uses to talk to the Aegis backend.

Behaviour, in the order a call meets it:

1. A call after :meth:`APIClient.aclose` returns ``None`` without touching the network.
2. The request goes out on the client's own long-lived ``httpx.AsyncClient``; its cookie
   jar carries ``aegis_session`` from any earlier ``Set-Cookie``.
3. A 401 from anything but a credential endpoint (sign-in, registration) or the refresh
   endpoint triggers one ``POST`` to the refresh endpoint. Calls of one client that get
   401 together share that single refresh (single flight). When it succeeds, each of them
   is retried exactly once; when it fails, none is retried and no second refresh runs.
4. A 401 that a refresh did not recover calls ``on_unauthorized`` (sync or async), unless
   it came from a credential endpoint: wrong credentials are not an expired session. It
   runs once per lost session: calls that fail together (a burst whose one refresh
   failed), and any later 401 before a new session, do not call it again; a successful
   sign-in, registration or refresh arms it anew. While the handler runs it is not
   entered again, so a handler that signs out (and whose logout 401s) runs once.
5. 2xx returns the parsed JSON (``{}`` for an empty body, so ``None`` always means an
   error); everything else returns ``None`` after one log line naming the method, the
   endpoint and the status or exception class. No exception escapes a verb (cancellation
   still propagates), and no cookie or token value is ever logged.
"""

from __future__ import annotations

import functools
import inspect
import json as jsonlib
import logging
import ssl
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, TypeAlias

import anyio
import httpx

from aegis_client._config import DEFAULT_LIMITS, resolve_base_url, shared_ssl_context
from aegis_client._protocol import JSONResult
from aegis_client._redact import install_cookie_redaction

__all__ = [
    "CREDENTIAL_ENDPOINTS",
    "REFRESH_ENDPOINT",
    "APIClient",
    "JSONResult",
    "UnauthorizedHandler",
]

UnauthorizedHandler: TypeAlias = Callable[[], Awaitable[None] | None]

REFRESH_ENDPOINT = "/api/v1/auth/refresh"
CREDENTIAL_ENDPOINTS = frozenset({"/api/v1/auth/token", "/api/v1/auth/register"})

logger = logging.getLogger("aegis_client")


def _path(endpoint: str) -> str:
    """The endpoint as logged: its path only, since a query string may carry a secret."""
    return endpoint.split("?", 1)[0]


@functools.lru_cache(maxsize=64)
def _parsed_base_url(base_url: str) -> httpx.URL:
    """``base_url`` parsed once per process, ending in ``/`` as httpx makes base URLs.

    httpx parses a base URL given as text anew for every client; given this (immutable)
    ``URL``, each client shares its parsed form: about 250 bytes and one GC-tracked
    object less per client.
    """
    url = httpx.URL(base_url)
    if not url.raw_path.endswith(b"/"):
        url = url.copy_with(raw_path=url.raw_path + b"/")
    return url


def _settled(response: httpx.Response) -> httpx.Response:
    """``response``, read and closed, made free of reference cycles.

    httpx leaves a response and its spent body stream referring to each other (the stream
    closes the response), a cycle that only the cyclic GC can free, and with it the
    request, the headers and all they hold (measured: 42-45 objects per call on the
    reference backend). A stream over the body already read replaces the spent one; the
    response reads, closes and answers exactly as before, and is freed as soon as its
    caller drops it.
    """
    if response.is_closed:
        try:
            body = response.content
        except httpx.ResponseNotRead:  # a streamed response: its stream is still needed
            return response
        response.stream = httpx.ByteStream(body)
    return response


class APIClient:
    """A session's HTTP client: one cookie jar, one keep-alive pool, JSON or ``None``.

    ``base_url`` defaults to ``$AEGIS_API_URL``, else ``http://127.0.0.1:8000``; endpoints
    are absolute paths such as ``/api/v1/auth/token``. The keyword-only extras are for
    tools and other backends; the spec's call shape works without them:

    - ``transport``: an httpx transport to send through (tests, measuring wrappers).
      When given, ``limits`` and ``ssl_context`` are the transport's business.
    - ``limits``: pool limits; the default keeps idle connections 4 s (see ``_config``).
    - ``ssl_context``: defaults to one context shared by the whole process, which is what
      makes a client cheap to construct (well under a millisecond).
    - ``refresh_endpoint``: ``None`` disables refresh-on-401.
    - ``credential_endpoints``: endpoints whose 401 means wrong credentials, not an
      expired session (no refresh, no ``on_unauthorized``).
    - ``headers``: default headers sent with every request.
    """

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 10.0,
        on_unauthorized: UnauthorizedHandler | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits = DEFAULT_LIMITS,
        ssl_context: ssl.SSLContext | None = None,
        refresh_endpoint: str | None = REFRESH_ENDPOINT,
        credential_endpoints: Collection[str] = CREDENTIAL_ENDPOINTS,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        install_cookie_redaction()
        self.base_url = resolve_base_url(base_url)
        self._on_unauthorized = on_unauthorized
        self._refresh_endpoint = refresh_endpoint
        self._credential_endpoints = frozenset(credential_endpoints)
        base = _parsed_base_url(self.base_url)
        if transport is None:
            self._client = httpx.AsyncClient(
                base_url=base,
                timeout=timeout,
                limits=limits,
                verify=ssl_context or shared_ssl_context(),
                headers=headers,
            )
        else:
            self._client = httpx.AsyncClient(
                base_url=base, timeout=timeout, transport=transport, headers=headers
            )
        self._closed = False
        self._in_unauthorized = False
        # Set once on_unauthorized has been told that this session is lost; cleared when
        # a new session arrives (credential endpoint or refresh answering 2xx).
        self._unauthorized_told = False
        self._in_refresh = False
        self._refresh_done: anyio.Event | None = None
        # Bumped by every successful refresh: a call that got 401 for a request sent
        # under an older generation just retries, since its cookie has been replaced.
        self._generation = 0

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<APIClient {self.base_url} {state}>"

    async def __aenter__(self) -> APIClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def is_closed(self) -> bool:
        """True once :meth:`aclose` has been called."""
        return self._closed

    @property
    def cookie_jar(self) -> httpx.Cookies:
        """The live cookie jar, for tools that must carry or inspect the session.

        Its values are session secrets: never log or store them.
        """
        return self._client.cookies

    async def get(
        self, endpoint: str, params: Mapping[str, Any] | None = None
    ) -> JSONResult | None:
        """``GET endpoint?params``: the parsed JSON on 2xx, else ``None``."""
        return await self._call("GET", endpoint, params=params)

    async def post(self, endpoint: str, json: Any = None) -> JSONResult | None:
        """``POST`` a JSON body (none when ``json`` is ``None``): parsed JSON or ``None``."""
        return await self._call("POST", endpoint, json=json)

    async def post_form(self, endpoint: str, data: Mapping[str, str]) -> JSONResult | None:
        """``POST`` a url-encoded form: the parsed JSON on 2xx, else ``None``."""
        return await self._call("POST", endpoint, data=data)

    def clear_cookies(self) -> None:
        """Empty the cookie jar, so no later call carries the old session."""
        self._client.cookies.clear()

    async def aclose(self) -> None:
        """Release the connection pool. Later calls return ``None``; a second close is a no-op."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._client.aclose()
        except Exception as exc:  # closing a broken connection must not escape either
            logger.warning("closing the client failed: %s", type(exc).__name__)

    async def _call(self, method: str, endpoint: str, **kwargs: Any) -> JSONResult | None:
        if self._closed:
            logger.warning("%s %s: the client is closed", method, _path(endpoint))
            return None
        generation = self._generation
        response = await self._send(method, endpoint, **kwargs)
        if response is None:
            return None
        if (
            response.status_code == 401
            and self._may_refresh(endpoint)
            and await self._refresh(generation)
        ):
            response = await self._send(method, endpoint, **kwargs)
            if response is None:
                return None
        if response.status_code == 401 and endpoint not in self._credential_endpoints:
            await self._notify_unauthorized()
        elif response.is_success and (
            endpoint in self._credential_endpoints or endpoint == self._refresh_endpoint
        ):
            self._unauthorized_told = False  # a new session: losing it is news again
        return self._decode(method, endpoint, response)

    async def _send(self, method: str, endpoint: str, **kwargs: Any) -> httpx.Response | None:
        """Send one request; a transport or protocol failure is logged and becomes ``None``."""
        try:
            return await self._exchange(method, endpoint, **kwargs)
        except Exception as exc:  # the contract: no exception escapes a verb
            logger.warning("%s %s failed: %s", method, _path(endpoint), type(exc).__name__)
            return None

    async def _exchange(self, method: str, endpoint: str, **kwargs: Any) -> httpx.Response:
        """One HTTP exchange on this client's pool; may raise. Subclasses may reroute it."""
        return _settled(await self._client.request(method, endpoint, **kwargs))

    def _may_refresh(self, endpoint: str) -> bool:
        return (
            self._refresh_endpoint is not None
            and endpoint != self._refresh_endpoint
            and endpoint not in self._credential_endpoints
        )

    async def _refresh(self, sent_generation: int) -> bool:
        """Refresh once for every call that got 401 together; True when their retry may go.

        The first caller sends the refresh; callers arriving while it is in flight wait
        for it instead of sending their own. A caller whose request went out before a
        refresh that has since succeeded retries without refreshing again.
        """
        if self._generation != sent_generation:
            return True
        if self._in_refresh:
            assert self._refresh_done is not None
            await self._refresh_done.wait()
            return self._generation != sent_generation
        assert self._refresh_endpoint is not None
        self._in_refresh = True
        self._refresh_done = done = anyio.Event()
        try:
            response = await self._send("POST", self._refresh_endpoint)
            if response is not None and response.is_success:
                self._generation += 1
                self._unauthorized_told = False
            elif response is not None:
                logger.debug("refresh answered %d", response.status_code)
        finally:
            self._in_refresh = False
            done.set()
        return self._generation != sent_generation

    async def _notify_unauthorized(self) -> None:
        """Run ``on_unauthorized`` once per lost session, never re-entered; its errors
        are logged."""
        if self._on_unauthorized is None or self._in_unauthorized or self._unauthorized_told:
            return
        self._unauthorized_told = True
        self._in_unauthorized = True
        try:
            outcome = self._on_unauthorized()
            if inspect.isawaitable(outcome):
                await outcome
        except Exception as exc:  # a faulty handler must not break the verb that fired it
            logger.warning("on_unauthorized handler raised %s", type(exc).__name__)
        finally:
            self._in_unauthorized = False

    def _decode(self, method: str, endpoint: str, response: httpx.Response) -> JSONResult | None:
        if not response.is_success:
            logger.warning("%s %s -> %d", method, _path(endpoint), response.status_code)
            return None
        body = response.content
        if not body.strip():
            return {}
        try:
            data = jsonlib.loads(body)
        except ValueError:
            logger.warning(
                "%s %s -> %d with a body that is not JSON",
                method,
                _path(endpoint),
                response.status_code,
            )
            return None
        if not isinstance(data, dict | list):
            logger.warning(
                "%s %s -> %d with JSON that is neither object nor array",
                method,
                _path(endpoint),
                response.status_code,
            )
            return None
        return data
