"""The built-in strategies: pooled and per-call, and the negative controls shared and
stale-jar."""

from __future__ import annotations

from typing import Any

import httpx

from aegis_client import APIClient
from bench.strategies._base import ClientStrategy, StrategyContext

__all__ = [
    "NoSingleFlightClient",
    "NoSingleFlightStrategy",
    "PerCallClient",
    "PerCallStrategy",
    "PooledStrategy",
    "SharedStrategy",
    "StaleJarStrategy",
]


class PooledStrategy(ClientStrategy):
    """One ``APIClient`` per user for the user's whole life: the pattern under test."""

    name = "pooled"

    def new_client(self, context: StrategyContext) -> APIClient:
        return context.api_client()


class PerCallClient(APIClient):
    """An ``APIClient`` that sends every request through a fresh ``httpx.AsyncClient``.

    The session's cookies are carried into each fresh client and copied back after it,
    so sign-in, refresh and sign-out work exactly as with the pooled client: only the
    keep-alive pool is lost. Each fresh client still shares the process's SSL context.
    """

    def __init__(self, context: StrategyContext) -> None:
        super().__init__(context.base_url, context.timeout, **context.client_options())
        self._context = context

    async def _exchange(self, method: str, endpoint: str, **kwargs: Any) -> httpx.Response:
        jar = self.cookie_jar
        async with httpx.AsyncClient(
            base_url=self.base_url,
            timeout=self._context.timeout,
            transport=self._context.transport(),
            cookies=jar,
        ) as fresh:
            response = await fresh.request(method, endpoint, **kwargs)
            # Copy back, deletions included (a logout expires the cookie).
            jar.clear()
            jar.update(fresh.cookies)
        # Read and closed: its body stream, which refers back to it, is spent. Replaced,
        # the response is freed without the cyclic GC, as APIClient's own are.
        response.stream = httpx.ByteStream(response.content)
        return response


class SharedStrategy(ClientStrategy):
    """One ``APIClient`` for every user of the process: a deliberate cookie leak.

    This is the negative control: the isolation checks must report leaks with it.
    """

    name = "shared"

    def __init__(self) -> None:
        self._client: APIClient | None = None

    def new_client(self, context: StrategyContext) -> APIClient:
        if self._client is None or self._client.is_closed:
            self._client = context.api_client()
        return self._client

    async def release(self, client: APIClient) -> None:
        """Other users still hold the shared client: closing waits for :meth:`shutdown`."""

    async def shutdown(self) -> None:
        if self._client is not None:
            await self._client.aclose()


class PerCallStrategy(ClientStrategy):
    """A fresh ``httpx.AsyncClient`` for every request, cookies carried by hand."""

    name = "per-call"

    def new_client(self, context: StrategyContext) -> APIClient:
        return PerCallClient(context)


class StaleJarStrategy(ClientStrategy):
    """A new client starts with the cookie jar of the last client released, another
    user's: a deliberate bug, as in an app that recycles its HTTP client object.

    The negative control of the lifecycle: with ``--churn``, the invariant that a new
    client starts with an empty jar must break.
    """

    name = "stale-jar"

    def __init__(self) -> None:
        self._last_jar: httpx.Cookies | None = None

    def new_client(self, context: StrategyContext) -> APIClient:
        client = context.api_client()
        if self._last_jar is not None:
            client.cookie_jar.update(self._last_jar)
        return client

    async def release(self, client: APIClient) -> None:
        self._last_jar = httpx.Cookies(client.cookie_jar)
        await client.aclose()


class NoSingleFlightClient(APIClient):
    """An ``APIClient`` that refreshes once per 401, not once per burst: a deliberate bug.

    Calls that get 401 together each send their own refresh; with rotating tokens all
    but the first present a token the first refresh retired, and fail.
    """

    async def _refresh(self, sent_generation: int) -> bool:
        assert self._refresh_endpoint is not None
        response = await self._send("POST", self._refresh_endpoint)
        if response is None or not response.is_success:
            return False
        self._generation += 1
        self._unauthorized_told = False
        return True


class NoSingleFlightStrategy(ClientStrategy):
    """The negative control of single-flight refresh (``single_flight_refresh``)."""

    name = "no-single-flight"

    def new_client(self, context: StrategyContext) -> APIClient:
        return NoSingleFlightClient(context.base_url, context.timeout, **context.client_options())
