"""Connection counting and failure labels against real servers on loopback.

A tiny asyncio server that breaks every answer off mid-body shows that both counting
modes ("stream" at the network backend, httpcore's "trace") count connections whose
exchange failed, and count the same; the reference backend's ledger is the referee for
a pooled client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bench.backend import TargetProcess
from bench.measure import CallRecord
from bench.session import MeasuredSession
from bench.strategies import PerCallStrategy, PooledStrategy, StrategyContext

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

MODES = ("stream", "trace")
TRUNCATED = b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial"'


class TruncatingServer:
    """Answers each request with 10 of the 100 body bytes it announced, then hangs up."""

    def __init__(self) -> None:
        self.accepted = 0
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(TRUNCATED)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            await writer.wait_closed()


@asynccontextmanager
async def truncating_server() -> AsyncIterator[TruncatingServer]:
    state = TruncatingServer()
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()


async def calls_against(url: str, mode: str, strategy: str, calls: int) -> list[CallRecord]:
    """``calls`` GETs of one measured session, its client built by ``strategy``."""
    context = StrategyContext(url, timeout=5.0, count_with=mode)
    factory = PooledStrategy() if strategy == "pooled" else PerCallStrategy()
    client = factory.new_client(context)
    records: list[CallRecord] = []
    session = MeasuredSession(client, "alice", "pw", records.append)
    try:
        for _ in range(calls):
            await session.get("/api/v1/insights/projects")
    finally:
        await client.aclose()
    return records


@pytest.mark.parametrize("strategy", ["pooled", "per-call"])
async def test_both_modes_count_connections_whose_body_broke_off(strategy: str) -> None:
    """Each broken exchange's connection is counted, the same number in both modes."""
    opened: dict[str, list[int]] = {}
    for mode in MODES:
        async with truncating_server() as server:
            records = await calls_against(server.url, mode, strategy, calls=3)
        opened[mode] = [record.new_connections for record in records]
        assert sum(opened[mode]) == server.accepted, mode
    # A connection that broke off is never reused: every call opens its own.
    assert opened["stream"] == opened["trace"] == [1, 1, 1]


@pytest.mark.parametrize("mode", MODES)
async def test_a_body_that_broke_off_is_labelled_truncated(mode: str) -> None:
    """A 200 whose body ends early is "truncated body: RemoteProtocolError", not an HTTP 200."""
    async with truncating_server() as server:
        records = await calls_against(server.url, mode, "pooled", calls=1)
    (record,) = records
    assert not record.ok
    assert record.status == 200
    assert record.failure_message() == "truncated body: RemoteProtocolError"
    assert not record.failure_message().startswith("HTTP 200")
    assert record.http_requests == 1


@pytest.mark.parametrize("mode", MODES)
async def test_a_pooled_client_opens_one_connection_the_server_agrees(
    mode: str, fresh_target: TargetProcess
) -> None:
    """Several calls of one pooled client: one connection, as counted by the server's ledger."""
    context = StrategyContext(fresh_target.url, count_with=mode)
    client = PooledStrategy().new_client(context)
    records: list[CallRecord] = []
    session = MeasuredSession(client, f"count-{mode}", "pw", records.append)
    try:
        body = {"username": session.login_name, "password": "pw"}
        assert await session.post("/api/v1/auth/register", json=body) is not None
        for _ in range(4):
            assert await session.get("/api/v1/auth/me") is not None
        assert await session.get("/api/v1/insights/projects") is not None
    finally:
        await client.aclose()
    assert all(record.ok for record in records)
    assert [record.new_connections for record in records] == [1, 0, 0, 0, 0, 0]
    connections = fresh_target.stats()["connections"]
    assert connections["accepted"] == 1
    assert connections["requests"] == len(records)
