"""What a session keeps: the memory benchmark runs, and the per-session cuts hold.

The benchmark itself (``bench/perf/session_memory.py``) is run once at 20 sessions; the
other tests pin down what it found and what was cut: a call leaves no reference cycle
behind, a connection does not keep the record of the call that opened it, and what all
sessions of a process can share, they share.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvloop

from aegis_client import APIClient
from bench.backend import TargetProcess
from bench.measure import ACTING_USER, CallRecord
from bench.perf.session_memory import COMPONENTS, LABELS
from bench.session import MeasuredSession
from bench.steps import start_session
from bench.strategies import PerCallClient, StrategyContext, create_strategy


@pytest.fixture
def no_automatic_gc() -> Iterator[None]:
    """Only explicit collections, so that a test can count what one of them finds."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"username": "alice"})


@pytest.mark.timeout(240)
@pytest.mark.e2e
def test_the_benchmark_prints_the_breakdown_and_writes_json(tmp_path: Path) -> None:
    """At 20 sessions the script prints every component, the GC table and the load table."""
    out = tmp_path / "memory.json"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "bench.perf.session_memory", "--sessions", "20"),
            *("--requests", "60", "--concurrency", "4", "--thresholds", "5000,10,10"),
            *("--json", str(out)),
        ],
        capture_output=True,
        text=True,
        timeout=220,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for name in (*COMPONENTS, "sum", "adapter"):
        assert LABELS[name] in done.stdout
    for heading in ("Where the traced bytes are", "Objects the cyclic GC tracks", "Cyclic GC"):
        assert heading in done.stdout
    assert "freeze+thr" in done.stdout
    results = json.loads(out.read_text(encoding="utf-8"))
    assert set(results) == {"rss", "traced", "gc"}
    traced = results["traced"]["components"]
    for name in COMPONENTS:
        assert traced[name]["traced_kib"] > 0, name
        assert traced[name]["files"], name
    assert results["rss"]["components"]["client"]["gc_objects"] > 0
    collecting = results["gc"]
    assert collecting["gc"]["after_freeze"]["frozen"] > collecting["gc"]["no_freeze"]["gen2"] / 2
    variants = collecting["load"]["variants"]
    assert set(variants) == {"as_is", "freeze", "thresholds", "freeze_thresholds"}
    assert all(run["failures"] == 0 for run in variants.values())


@pytest.mark.timeout(30)
@pytest.mark.anyio
@pytest.mark.usefixtures("no_automatic_gc")
async def test_a_call_leaves_no_reference_cycle() -> None:
    """httpx's response and its spent body stream point at each other; the client unties them."""
    async with APIClient("http://aegis.test", transport=httpx.MockTransport(_answer)) as api:
        assert await api.get("/api/v1/auth/me") == {"username": "alice"}
        gc.collect()
        for _ in range(5):
            assert await api.get("/api/v1/auth/me") == {"username": "alice"}
            assert await api.post("/api/v1/auth/token", json={"a": 1}) == {"username": "alice"}
        assert gc.collect() == 0


@pytest.mark.timeout(30)
@pytest.mark.anyio
@pytest.mark.usefixtures("no_automatic_gc")
async def test_a_per_call_client_leaves_no_reference_cycle_either() -> None:
    context = StrategyContext(
        "http://aegis.test", make_inner_transport=lambda: httpx.MockTransport(_answer)
    )
    client = PerCallClient(context)
    assert await client.get("/api/v1/auth/me") == {"username": "alice"}
    gc.collect()
    for _ in range(5):
        assert await client.get("/api/v1/auth/me") == {"username": "alice"}
    assert gc.collect() == 0
    await client.aclose()


@pytest.mark.timeout(30)
@pytest.mark.anyio
async def test_a_settled_response_still_answers_as_before() -> None:
    """What the session's replay reads from ``_exchange`` is all still there."""
    async with APIClient("http://aegis.test", transport=httpx.MockTransport(_answer)) as api:
        response = await api._exchange("GET", "/api/v1/auth/me")
        assert response.is_success
        assert response.is_closed
        assert response.json() == {"username": "alice"}
        assert await response.aread() == response.content
        assert b"".join([chunk async for chunk in response.aiter_bytes()]) == response.content


@pytest.mark.timeout(60)
def test_a_connection_keeps_no_call_record_alive(target: TargetProcess) -> None:
    """uvloop's transport keeps the context it was opened in; the record must not be in it."""

    async def held_records() -> list[tuple[str, list[str]]]:
        sink: list[CallRecord] = []
        client = create_strategy("pooled").new_client(StrategyContext(target.url))
        try:
            session = MeasuredSession(client, "memory-keeps-no-record", "pw", sink.append)
            ACTING_USER.set(session.username)
            assert await start_session(session)
            assert session.connections_opened == 1  # and it is still open
            records, held = list(sink), []
            sink.clear()
            gc.collect()
            for record in records:
                holders = [
                    type(referrer).__name__
                    for referrer in gc.get_referrers(record)
                    if referrer is not records and type(referrer).__name__ not in _RUNNING
                ]
                held.append((record.endpoint, holders))
            return held
        finally:
            await client.aclose()

    held = uvloop.run(held_records())
    assert held
    assert all(holders == [] for _, holders in held), held


# What holds the records while the test itself looks at them.
_RUNNING = {"frame", "coroutine"}


def test_what_all_sessions_can_share_they_share() -> None:
    """The parsed base URL, the credential routes, the network backend, the profile checks."""
    context = StrategyContext("http://127.0.0.1:8000")
    strategy = create_strategy("pooled")
    first, second = strategy.new_client(context), strategy.new_client(context)
    assert first._client.base_url == httpx.AsyncClient(base_url=context.base_url).base_url
    assert first._client.base_url._uri_reference is second._client.base_url._uri_reference
    assert first._credential_endpoints is second._credential_endpoints
    pools = [client._client._transport._inner._pool for client in (first, second)]  # type: ignore[attr-defined]
    assert pools[0] is not pools[1]
    assert pools[0]._network_backend is pools[1]._network_backend
    one = MeasuredSession(first, "a", "pw", [].append)
    other = MeasuredSession(second, "b", "pw", [].append)
    assert one._protected is other._protected
    assert one._owner_fields is other._owner_fields
    assert not hasattr(one, "__dict__")


def test_a_base_url_keeps_its_path() -> None:
    """A base URL with a path still gets the trailing slash httpx gives base URLs."""
    transport = httpx.MockTransport(_answer)
    api = APIClient("http://aegis.test/prefix", transport=transport)
    assert api.base_url == "http://aegis.test/prefix"
    assert api._client.base_url == httpx.URL("http://aegis.test/prefix/")
    request = api._client.build_request("GET", "/api/v1/auth/me")
    assert str(request.url) == "http://aegis.test/prefix/api/v1/auth/me"
