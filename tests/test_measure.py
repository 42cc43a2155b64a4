"""The recorder, the instrumented transport and the strategies, on MockTransport."""

from __future__ import annotations

import httpx
import pytest

from bench.backend import TargetProcess
from bench.measure import ACTING_USER, CallRecord, Recorder
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
