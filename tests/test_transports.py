"""The HTTP stack as a compared dimension: httpcore and aiohttp under the same APIClient.

Every test runs on both transports (``StrategyContext(transport_kind=...)``), mostly
against the reference backend through the real ``MeasuredSession`` and steps, its ledger
and oracle as referees. The leak tests also run against ``localhost``: aiohttp's default
cookie jar refuses cookies for IP-address hosts, so a jar below httpx would only show
there. Tiny asyncio servers read the Cookie header as it arrived, and fail on purpose.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import secrets
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import httpx
import pytest
from yarl import URL

from aegis_client import APIClient, shared_ssl_context
from bench.backend import TargetProcess
from bench.measure import (
    ACTING_USER,
    CURRENT_CALL,
    AiohttpPooledTransport,
    CallRecord,
    PooledTransportFactory,
)
from bench.options import TRANSPORT_KINDS
from bench.profile import AEGIS
from bench.session import MeasuredSession
from bench.steps import browse_data, browse_identity, end_session, start_session
from bench.strategies import (
    ClientStrategy,
    PerCallStrategy,
    PooledStrategy,
    SharedStrategy,
    StrategyContext,
    pooled_transport_factory,
)
from tests._helpers import free_port
from tests.test_measure import _private_accesses

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

BASE = "http://aegis.test"
ME = AEGIS.identity
COOKIE = AEGIS.cookie_name
LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=10, keepalive_expiry=4.0)
each_transport = pytest.mark.parametrize("kind", TRANSPORT_KINDS)
each_host = pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
each_mode = pytest.mark.parametrize("mode", ["stream", "trace"])


def on_host(target: TargetProcess, host: str) -> str:
    return target.url.replace("127.0.0.1", host)


def new_session(client: APIClient, records: list[CallRecord]) -> MeasuredSession:
    return MeasuredSession(client, f"t{secrets.token_hex(4)}", "pw", records.append)


def verdicts(records: list[CallRecord]) -> list[str]:
    return [name for record in records for name in record.verdicts or ()]


Step = Callable[[MeasuredSession], Awaitable[object]]


async def as_user(session: MeasuredSession, *steps: Step) -> None:
    """Run ``steps`` as the session's user (``X-Bench-User``), as a Locust task does."""
    token = ACTING_USER.set(session.username)
    try:
        for step in steps:
            await step(session)
    finally:
        ACTING_USER.reset(token)


@asynccontextmanager
async def measured(
    context: StrategyContext, strategy: ClientStrategy | None = None
) -> AsyncIterator[tuple[MeasuredSession, list[CallRecord]]]:
    """A measured session on a client ``strategy`` (pooled) builds; released after."""
    strategy = strategy or PooledStrategy()
    client = strategy.new_client(context)
    records: list[CallRecord] = []
    try:
        yield new_session(client, records), records
    finally:
        await strategy.release(client)


@each_transport
@each_mode
async def test_a_pooled_session_browses_on_one_connection_the_server_agrees(
    kind: str, mode: str, fresh_target: TargetProcess
) -> None:
    """Sign-in, browsing and sign-out with its replay: identity checked, one connection."""
    context = StrategyContext(fresh_target.url, count_with=mode, transport_kind=kind)
    async with measured(context) as (session, records):
        steps = (start_session, browse_identity, browse_data, browse_identity, end_session)
        await as_user(session, *steps)
    assert [record.ok for record in records] == [True] * 6
    assert sum(record.identity_checks for record in records) >= 3
    assert "leak" not in verdicts(records)
    assert "replay_refused" in verdicts(records)  # the replay's own Cookie header arrived
    assert [record.new_connections for record in records] == [1, 0, 0, 0, 0, 0]
    assert fresh_target.stats()["connections"]["accepted"] == 1


@each_transport
@each_mode
async def test_per_call_opens_one_connection_per_request_the_server_agrees(
    kind: str, mode: str, fresh_target: TargetProcess
) -> None:
    """per-call: a new connection (and aiohttp session) per request, as the ledger counts."""
    context = StrategyContext(fresh_target.url, count_with=mode, transport_kind=kind)
    async with measured(context, PerCallStrategy()) as (session, records):
        await as_user(session, start_session, browse_identity, browse_identity, browse_identity)
    assert [record.ok for record in records] == [True] * 4
    assert [record.new_connections for record in records] == [1, 1, 1, 1]
    assert fresh_target.stats()["connections"]["accepted"] == 4


@each_host
async def test_the_aiohttp_sessions_own_jar_stays_empty(host: str, target: TargetProcess) -> None:
    """After sign-in the session cookie is in the APIClient's jar, none in aiohttp's."""
    url = on_host(target, host)
    transport = AiohttpPooledTransport(shared_ssl_context(), LIMITS)
    async with APIClient(url, transport=transport) as client:
        assert await start_session(new_session(client, []))
        assert [cookie.name for cookie in client.cookie_jar.jar] == [COOKIE]
        assert transport.session is not None
        jar = transport.session.cookie_jar
        assert isinstance(jar, aiohttp.DummyCookieJar)
        assert len(jar) == 0
        assert not jar.filter_cookies(URL(url))


@each_transport
@each_host
async def test_a_cleared_jar_sends_no_cookie(kind: str, host: str, target: TargetProcess) -> None:
    """Once the APIClient's jar is emptied, a live session is no longer sent (no jar below)."""
    context = StrategyContext(on_host(target, host), transport_kind=kind)
    async with measured(context) as (session, records):
        assert await start_session(session)
        assert await session.get(ME) == {"username": session.login_name}
        session.clear_cookies()
        assert await session.get(ME) is None
    assert records[-1].status == 401
    assert records[-1].cookie_names == ()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def tiny_server(handle: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A loopback server that serves each connection with ``handle``; its URL, accepts."""
    accepted: list[int] = []

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            await handle(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(counted, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", accepted
    finally:
        server.close()
        await server.wait_closed()


def cookie_echo(seen: list[bytes]) -> Handler:
    """Serves keep-alive: /login sets two cookies, any other path's Cookie header is kept."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while head := await reader.readuntil(b"\r\n\r\n"):
            lines = head.split(b"\r\n")
            extra = b""
            if lines[0].startswith(b"GET /login "):
                extra = f"Set-Cookie: pref=a%20b\r\nSet-Cookie: {COOKIE}=t-1.2_3~\r\n".encode()
            cookies = [line for line in lines if line.lower().startswith(b"cookie:")]
            seen.extend(line[7:].strip() for line in cookies)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + extra + b"\r\n{}")
            await writer.drain()

    return handle


@each_transport
@each_host
async def test_the_cookie_header_reaches_the_server_unchanged(kind: str, host: str) -> None:
    """The Cookie header httpx built from the APIClient's jar is what the server reads."""
    seen: list[bytes] = []
    async with tiny_server(cookie_echo(seen)) as (url, _):
        context = StrategyContext(url.replace("127.0.0.1", host), transport_kind=kind)
        async with context.api_client() as client:
            assert await client.get("/login") == {}
            record = CallRecord("GET", "/echo", capture_cookies=True)
            token = CURRENT_CALL.set(record)
            try:
                assert await client.get("/echo") == {}
            finally:
                CURRENT_CALL.reset(token)
    assert record.sent_cookies is not None
    sent = sorted(record.sent_cookies.split(b"; "))
    assert sent == [f"{COOKIE}=t-1.2_3~".encode(), b"pref=a%20b"]
    assert seen == [record.sent_cookies]


@each_transport
@each_host
async def test_the_shared_control_is_caught_leaking(
    kind: str, host: str, fresh_target: TargetProcess
) -> None:
    """One client for two users: caught by the client's identity check and the oracle."""
    strategy = SharedStrategy()
    context = StrategyContext(on_host(fresh_target, host), transport_kind=kind)
    records: list[CallRecord] = []
    ann = new_session(strategy.new_client(context), records)
    bob = new_session(strategy.new_client(context), records)
    try:
        await as_user(ann, start_session)
        await as_user(bob, start_session)  # the one jar now holds bob's session
        await as_user(ann, browse_identity)
    finally:
        await strategy.shutdown()
    assert verdicts(records).count("leak") == 1
    assert records[-1].findings == [
        {"kind": "leak", "endpoint": ME, "user": ann.login_name, "got": bob.login_name}
    ]
    # The server saw both: bob's registration carried ann's session, ann's call bob's.
    oracle = fresh_target.stats()["oracle"]
    assert [(e["declared"], e["session_user"], e["path"]) for e in oracle["examples"]] == [
        (bob.username, ann.login_name, AEGIS.register),
        (ann.username, bob.login_name, ME),
    ]


@each_transport
@each_host
async def test_a_client_that_keeps_a_signed_out_cookie_is_caught(
    kind: str, host: str, fresh_target: TargetProcess
) -> None:
    """A jar that got its signed-out cookie back (the stale-jar idea) is caught on both sides."""
    context = StrategyContext(on_host(fresh_target, host), transport_kind=kind)
    async with measured(context) as (session, records):
        await as_user(session, start_session)
        kept = httpx.Cookies(session.client.cookie_jar)  # as stale-jar copies a released jar
        await as_user(session, end_session)
        session.client.cookie_jar.update(kept)
        await as_user(session, browse_identity)
    assert verdicts(records).count("cookie_after_sign_out") == 1
    assert records[-1].status == 401
    # The server saw the signed-out cookie twice: the call, and the refresh its 401 set off.
    assert fresh_target.stats()["oracle"]["signed_out_cookie"] == 2


async def one_get(url: str, kind: str, *, wait_s: float = 5.0) -> CallRecord:
    """One measured GET of a pooled client on ``kind`` (``wait_s``: its timeout); its record."""
    async with measured(StrategyContext(url, wait_s, transport_kind=kind)) as (session, records):
        assert await session.get(ME) is None
    (record,) = records
    return record


@each_transport
async def test_a_refused_port_is_a_connect_error(kind: str) -> None:
    """A closed port fails the call as httpx.ConnectError, no connection counted."""
    record = await one_get(f"http://127.0.0.1:{free_port()}", kind)  # nobody listens
    assert record.failure_message() == "ConnectError"
    assert record.new_connections == 0


async def truncate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}")
    await writer.drain()


async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    await asyncio.sleep(2)


@each_transport
@pytest.mark.parametrize(
    ("handle", "label"), [(truncate, "truncated body: RemoteProtocolError"), (stall, "ReadTimeout")]
)
async def test_a_broken_answer_is_labelled_as_on_httpcore(
    kind: str, handle: Handler, label: str
) -> None:
    """A body that breaks off, an answer that never comes (the read timeout): httpx's labels."""
    async with tiny_server(handle) as (url, accepted):
        record = await one_get(url, kind, wait_s=0.3)
    assert record.failure_message() == label
    assert record.new_connections == len(accepted) == 1


@each_transport
async def test_an_idle_connection_expires_after_the_keepalive(
    kind: str, fresh_target: TargetProcess
) -> None:
    """Idle past the pool's keep-alive expiry, the connection is replaced, and counted."""
    context = StrategyContext(
        fresh_target.url,
        make_inner_transport=pooled_transport_factory(keepalive_expiry=0.2),
        transport_kind=kind,
    )
    async with measured(context) as (session, records):
        await as_user(session, start_session, browse_identity)
        await asyncio.sleep(0.6)
        await as_user(session, browse_identity)
    assert [record.new_connections for record in records] == [1, 0, 1]
    assert fresh_target.stats()["connections"]["accepted"] == 2


@each_transport
async def test_a_connection_keeps_no_call_record_alive(kind: str, target: TargetProcess) -> None:
    """The call that opened a kept-alive connection is freed once it ends."""
    async with StrategyContext(target.url, transport_kind=kind).api_client() as client:
        record = CallRecord("GET", ME)
        token = CURRENT_CALL.set(record)
        try:
            await client.get(ME)
        finally:
            CURRENT_CALL.reset(token)
        gc.collect()
        assert record.new_connections == 1
        assert gc.get_referrers(record) == []  # while its connection is kept alive


async def test_aclose_closes_the_aiohttp_session(target: TargetProcess) -> None:
    """Closing the transport closes its aiohttp session (and the connector it owns)."""
    transport = AiohttpPooledTransport(shared_ssl_context(), LIMITS)
    async with APIClient(target.url, transport=transport) as client:
        assert await client.get(ME) is None  # 401: signed out, but a session was made
    assert transport.session is not None
    assert transport.session.closed
    assert transport.session.connector is None  # closed with it, as its owner


@each_transport
@each_mode
async def test_https_connections_and_handshakes_are_counted_once(
    kind: str, mode: str, tls_target: tuple[TargetProcess, ssl.SSLContext]
) -> None:
    """Over https, the pool verifies with the factory's SSL context; one handshake."""
    target, trust = tls_target
    factory = PooledTransportFactory(LIMITS, trust)
    context = StrategyContext(
        target.url, make_inner_transport=factory, count_with=mode, transport_kind=kind
    )
    async with measured(context) as (session, records):
        await as_user(session, start_session, browse_identity, browse_identity)
    assert [record.ok for record in records] == [True] * 3
    assert [record.new_connections for record in records] == [1, 0, 0]
    assert [record.tls_handshakes for record in records] == [1, 0, 0]


def test_an_unknown_transport_kind_is_refused() -> None:
    """transport_kind names one of TRANSPORT_KINDS."""
    with pytest.raises(ValueError, match="one of httpcore, aiohttp"):
        StrategyContext(BASE, transport_kind="requests")


def test_aiohttp_needs_the_pooled_factory_for_its_limits() -> None:
    """A factory of one's own builds its own transport: aiohttp cannot apply to it."""
    with pytest.raises(ValueError, match="PooledTransportFactory"):
        StrategyContext(
            "http://aegis.test",
            make_inner_transport=httpx.AsyncHTTPTransport,
            transport_kind="aiohttp",
        )


def test_the_aiohttp_transport_touches_no_private_attribute() -> None:
    """Like the httpcore pool, the aiohttp transport uses public APIs only."""
    path = Path(inspect.getfile(AiohttpPooledTransport))
    source = path.read_text()
    assert _private_accesses(source) == [], path.name
    for private in ("aiohttp._", "httpx._", "httpcore._"):  # private modules of either
        assert private not in source, (path.name, private)
