"""The recorder, the instrumented transport and the strategies, on MockTransport; the
pooled transport and its counting backend on loopback servers (the reference backend,
over TLS too, and tiny asyncio servers that fail on purpose)."""

from __future__ import annotations

import ast
import asyncio
import inspect
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpcore
import httpx
import pytest

from aegis_client import shared_ssl_context
from bench.backend import TargetProcess
from bench.measure import (
    ACTING_USER,
    CURRENT_CALL,
    CallRecord,
    InstrumentedTransport,
    PooledTransport,
    PooledTransportFactory,
    Recorder,
    counting_backend,
)
from bench.session import MeasuredSession
from bench.strategies import (
    PerCallStrategy,
    PooledStrategy,
    SharedStrategy,
    StrategyContext,
    UnknownStrategyError,
    create_strategy,
)

pytestmark = pytest.mark.anyio


def record(endpoint: str, latency_ms: float, ok: bool = True) -> CallRecord:
    return CallRecord("GET", endpoint, latency_s=latency_ms / 1000, ok=ok, http_requests=1)


def test_drained_snapshot_merges_back_exactly() -> None:
    """Two processes' snapshots merge into the same totals and percentiles as one recorder."""
    whole, first, second = Recorder(), Recorder(), Recorder()
    for i in range(1, 1001):
        call = record("/a" if i % 2 else "/b", latency_ms=i / 10, ok=i % 100 != 0)
        whole.record(call)
        (first if i <= 500 else second).record(call)
    merged = Recorder()
    merged.merge(first.drain())
    merged.merge(second.drain())
    assert merged.total().counters == whole.total().counters
    for percentile in (50, 90, 99, 100):
        assert merged.total().histogram.get_value_at_percentile(
            percentile
        ) == whole.total().histogram.get_value_at_percentile(percentile)
    assert merged.total().counters["failures"] == 10


def test_drain_forgets_what_it_handed_out() -> None:
    """After drain() the recorder starts from zero."""
    recorder = Recorder()
    recorder.record(record("/a", 1.0))
    recorder.drain()
    assert recorder.total().counters["requests"] == 0


def test_unknown_strategy_is_a_clear_error() -> None:
    """An unregistered strategy name lists the known ones."""
    with pytest.raises(UnknownStrategyError, match="pooled"):
        create_strategy("nope")


class CookieBackend:
    """Sets a cookie on /login and echoes back the cookie and acting-user header it got."""

    def __init__(self) -> None:
        self.transports_made = 0

    def factory(self) -> httpx.AsyncBaseTransport:
        self.transports_made += 1
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/login":
            return httpx.Response(200, json={}, headers={"set-cookie": "aegis_session=t1; Path=/"})
        return httpx.Response(
            200,
            json={
                "cookie": request.headers.get("cookie"),
                "user": request.headers.get("x-bench-user"),
            },
        )


async def test_per_call_strategy_carries_cookies_across_fresh_clients() -> None:
    """per-call builds a fresh transport per request yet the session cookie still flows."""
    backend = CookieBackend()
    context = StrategyContext("http://aegis.test", make_inner_transport=backend.factory)
    strategy = PerCallStrategy()
    client = strategy.new_client(context)
    made_before = backend.transports_made
    await client.post("/login")
    echoed = await client.get("/echo")
    await strategy.release(client)
    assert echoed == {"cookie": "aegis_session=t1", "user": None}
    assert backend.transports_made - made_before == 2


async def test_pooled_strategy_gives_each_user_its_own_client() -> None:
    """pooled builds one client per user, never the same object twice."""
    backend = CookieBackend()
    context = StrategyContext("http://aegis.test", make_inner_transport=backend.factory)
    strategy = PooledStrategy()
    first, second = strategy.new_client(context), strategy.new_client(context)
    assert first is not second
    await strategy.release(first)
    await strategy.release(second)
    assert first.is_closed
    assert second.is_closed


async def test_shared_strategy_hands_everyone_one_client() -> None:
    """shared gives every user the same client and closes it only at shutdown."""
    backend = CookieBackend()
    context = StrategyContext("http://aegis.test", make_inner_transport=backend.factory)
    strategy = SharedStrategy()
    first, second = strategy.new_client(context), strategy.new_client(context)
    assert first is second
    await strategy.release(first)
    assert not first.is_closed
    await strategy.shutdown()
    assert first.is_closed


async def test_acting_user_header_comes_from_the_task_context() -> None:
    """The X-Bench-User header names the user of the current task, not the client's owner."""
    backend = CookieBackend()
    context = StrategyContext("http://aegis.test", make_inner_transport=backend.factory)
    strategy = SharedStrategy()
    records: list[CallRecord] = []
    shared = strategy.new_client(context)
    token = ACTING_USER.set("bob")
    try:
        session = MeasuredSession(shared, "bob", "pw", records.append)
        echoed = await session.get("/echo")
    finally:
        ACTING_USER.reset(token)
    await strategy.shutdown()
    assert isinstance(echoed, dict)
    assert echoed["user"] == "bob"
    assert records[0].ok
    assert records[0].http_requests == 1
    assert records[0].status == 200


@pytest.mark.parametrize("count_with", ["stream", "trace"])
async def test_both_counting_methods_see_each_new_connection(
    count_with: str, target: TargetProcess
) -> None:
    """Stream identity and httpcore's trace count the same connections on the real backend."""
    context = StrategyContext(target.url, count_with=count_with)
    records: list[CallRecord] = []
    pooled, per_call = PooledStrategy().new_client(context), PerCallStrategy().new_client(context)
    for client in (pooled, per_call):
        session = MeasuredSession(client, f"n{count_with}{id(client)}", "pw", records.append)
        await session.post("/api/v1/auth/register", json={"username": session.username,
                                                          "password": "pw"})  # fmt: skip
        for _ in range(4):
            await session.get("/api/v1/auth/me")
        await client.aclose()
    opened = [record.new_connections for record in records]
    # pooled: one connection for five calls; per-call: one per call.
    assert opened == [1, 0, 0, 0, 0, 1, 1, 1, 1, 1]


LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=10, keepalive_expiry=4.0)
ME = "/api/v1/auth/me"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def pooled(backend: httpcore.AsyncNetworkBackend | None = None) -> PooledTransport:
    return PooledTransport(shared_ssl_context(), LIMITS, network_backend=backend)


async def counted_get(client: httpx.AsyncClient, path: str) -> CallRecord:
    """One GET as the call in flight (``CURRENT_CALL``); an error is left on the record."""
    call = CallRecord("GET", path)
    token = CURRENT_CALL.set(call)
    try:
        await client.get(path)
    except httpx.TransportError as exc:
        call.error = type(exc).__name__
    finally:
        CURRENT_CALL.reset(token)
    return call


@asynccontextmanager
async def loopback_server(handle: Handler) -> AsyncIterator[str]:
    """A tiny asyncio server on an ephemeral port that serves with ``handle``; its URL."""
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reads the request and closes the connection without a word."""
    await reader.readuntil(b"\r\n\r\n")
    writer.close()


async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reads the request and waits for the client to give up."""
    await reader.read()
    writer.close()


async def truncate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Announces 100 body bytes, sends 2, hangs up."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}")
    await writer.drain()
    writer.close()


async def test_a_counting_pool_counts_each_tcp_connection_once(
    fresh_target: TargetProcess,
) -> None:
    """Through ``network_backend=``, each TCP connection is counted once, as the server agrees."""
    opened = []
    for _ in range(2):  # two pools, so two connections
        transport = pooled(counting_backend("stream"))
        async with httpx.AsyncClient(base_url=fresh_target.url, transport=transport) as client:
            opened += [(await counted_get(client, ME)).new_connections for _ in range(3)]
    assert opened == [1, 0, 0, 1, 0, 0]
    assert fresh_target.stats()["connections"]["accepted"] == 2


async def test_the_trace_modes_backend_counts_nothing(target: TargetProcess) -> None:
    """The backend of the "trace" mode opens connections without counting them."""
    transport = pooled(counting_backend("trace"))
    async with httpx.AsyncClient(base_url=target.url, transport=transport) as client:
        assert (await counted_get(client, ME)).new_connections == 0


async def test_the_response_keeps_httpcores_extensions(target: TargetProcess) -> None:
    """The response carries httpcore's network stream and HTTP version."""
    async with httpx.AsyncClient(base_url=target.url, transport=pooled()) as client:
        response = await client.get(ME)
    assert response.status_code == 401
    assert response.http_version == "HTTP/1.1"
    assert isinstance(response.extensions["network_stream"], httpcore.AsyncNetworkStream)


async def test_a_refused_connection_raises_httpx_connect_error() -> None:
    """httpcore's ConnectError for a closed port arrives as httpx.ConnectError."""
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with httpx.AsyncClient(transport=pooled(counting_backend("stream"))) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get(f"http://127.0.0.1:{port}/")
    assert isinstance(caught.value.__cause__, httpcore.ConnectError)


async def test_the_timeout_extension_reaches_the_pool() -> None:
    """A server that never answers raises httpx.ReadTimeout after the request's read timeout."""
    async with (
        loopback_server(never_answer) as url,
        httpx.AsyncClient(transport=pooled()) as client,
    ):
        with pytest.raises(httpx.ReadTimeout):
            await client.get(url, timeout=httpx.Timeout(5.0, read=0.2))


async def test_a_body_that_breaks_off_raises_an_httpx_error() -> None:
    """An error while the body is read arrives as httpx.RemoteProtocolError."""
    async with (
        loopback_server(truncate) as url,
        httpx.AsyncClient(transport=pooled()) as client,
        client.stream("GET", url) as response,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            await response.aread()


@pytest.mark.parametrize("count_with", ["stream", "trace"])
async def test_a_context_counts_the_connection_of_a_failed_exchange(count_with: str) -> None:
    """StrategyContext's transport counts a connection whose exchange got no answer at all."""
    async with loopback_server(hang_up) as url:
        transport = StrategyContext(url, count_with=count_with).transport()
        async with httpx.AsyncClient(base_url=url, transport=transport) as client:
            calls = [await counted_get(client, "/x") for _ in range(2)]
    assert [call.error for call in calls] == ["RemoteProtocolError"] * 2
    assert [call.new_connections for call in calls] == [1, 1]


async def test_a_transport_without_a_counting_pool_counts_new_network_streams(
    target: TargetProcess,
) -> None:
    """httpx's own transport under a context falls back to spotting new network streams."""

    def httpx_transport() -> httpx.AsyncBaseTransport:
        return httpx.AsyncHTTPTransport(verify=shared_ssl_context(), limits=LIMITS)

    context = StrategyContext(target.url, make_inner_transport=httpx_transport)
    opened = []
    for _ in range(2):
        async with httpx.AsyncClient(base_url=target.url, transport=context.transport()) as client:
            opened += [(await counted_get(client, ME)).new_connections for _ in range(2)]
    assert opened == [1, 0, 1, 0]


def test_a_pool_counting_for_the_other_mode_is_refused() -> None:
    """Wrapping a pool that counts for "stream" in a "trace" transport is a ValueError."""
    with pytest.raises(ValueError, match="counting_backend"):
        InstrumentedTransport(pooled(counting_backend("stream")), count_with="trace")


@pytest.mark.parametrize("count_with", ["stream", "trace"])
async def test_https_connections_and_handshakes_are_counted_once(
    count_with: str, tls_target: tuple[TargetProcess, ssl.SSLContext]
) -> None:
    """Over https, the pool verifies with its SSL context; one connection, one handshake."""
    target, trust = tls_target
    factory = PooledTransportFactory(LIMITS, trust)
    context = StrategyContext(target.url, make_inner_transport=factory, count_with=count_with)
    async with httpx.AsyncClient(base_url=target.url, transport=context.transport()) as client:
        calls = [await counted_get(client, ME) for _ in range(3)]
    assert [call.error for call in calls] == [None] * 3
    assert [call.new_connections for call in calls] == [1, 0, 0]
    assert [call.tls_handshakes for call in calls] == [1, 0, 0]


def _private_accesses(source: str) -> list[str]:
    """Attributes named ``_x`` read off anything but ``self``/``cls``, and private imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            own = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if not own and not node.attr.startswith("__"):
                found.append(ast.unparse(node))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
            "getattr",
            "setattr",
            "hasattr",
        ):
            name = node.args[1] if len(node.args) > 1 else None
            if isinstance(name, ast.Constant) and str(name.value).startswith("_"):
                found.append(ast.unparse(node))
        elif isinstance(node, ast.ImportFrom | ast.Import):
            modules = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
            )
            found += [m for m in modules if m.startswith(("httpx._", "httpcore._"))]
    return found


def test_no_private_attribute_of_httpx_or_httpcore_is_touched() -> None:
    """The transport, the pool and the strategies' wiring use public APIs only."""
    for owner in (InstrumentedTransport, PooledTransport, StrategyContext):
        path = Path(inspect.getfile(owner))
        source = path.read_text()
        assert _private_accesses(source) == [], path.name
        for private in ("_network_backend", "httpcore._", "httpx._", "AutoBackend"):
            assert private not in source, (path.name, private)
