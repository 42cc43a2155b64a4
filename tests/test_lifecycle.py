"""The session lifecycle as the wire shows it: 401s, refreshes, retries, failure kinds.

The backends are ``httpx.MockTransport`` handlers under the bench's measuring transport;
the real server's expiry storms are in ``tests/test_faults.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bench.measure import CallRecord, Recorder
from bench.profile import AEGIS
from bench.report import build_summary
from bench.session import MeasuredSession
from bench.strategies import StrategyContext

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

BASE = "http://aegis.test"
ME = AEGIS.identity
REFRESH = AEGIS.refresh
COOKIE = AEGIS.cookie_name


def expired_session_backend(*, refresh_works: bool) -> Callable[[httpx.Request], httpx.Response]:
    """A backend whose session has expired: /me is 401 until a refresh rotates it."""
    state = {"token": "old"}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == REFRESH:
            if not refresh_works:
                return httpx.Response(401, json={"detail": "expired beyond refresh"})
            state["token"] = "new"
            return httpx.Response(200, json={}, headers={"set-cookie": f"{COOKIE}=new; Path=/"})
        if request.headers.get("cookie", "").endswith("=new"):
            return httpx.Response(200, json={"username": "alice"})
        return httpx.Response(401, json={"detail": "not authenticated"})

    return handle


async def call_me(handler: Callable[[httpx.Request], httpx.Response]) -> list[CallRecord]:
    """One identity call by alice, whose jar holds the old cookie; its records."""
    records: list[CallRecord] = []
    context = StrategyContext(BASE, make_inner_transport=lambda: httpx.MockTransport(handler))
    client = context.api_client()
    client.cookie_jar.set(COOKIE, "old", domain="aegis.test", path="/")
    session = MeasuredSession(client, "alice", "pw", records.append)
    await session.get(ME)
    await client.aclose()
    return records


def summarize(records: list[CallRecord]) -> dict[str, Any]:
    recorder = Recorder()
    for record in records:
        recorder.record(record)
    summary, _ = build_summary(
        [{"role": "local", "recorder": recorder.snapshot()}], strategy="pooled", users=1,
        duration_requested_s=None, partial=False, target=BASE, server=None,
    )  # fmt: skip
    return summary


async def test_a_401_refreshed_and_retried_is_counted_once_each() -> None:
    """An expired session's call: one 401, one refresh, one retry, and no failure."""
    summary = summarize(await call_me(expired_session_backend(refresh_works=True)))
    lifecycle = summary["lifecycle"]
    assert (lifecycle["unauthorized"], lifecycle["refreshes"], lifecycle["retries"]) == (1, 1, 1)
    assert lifecycle["refresh_failures"] == 0
    assert summary["failures"] == 0


async def test_a_failed_refresh_is_counted_and_the_call_fails_as_unauthorized() -> None:
    """A refresh the backend refuses counts as a failed refresh, the call as unauthorized."""
    summary = summarize(await call_me(expired_session_backend(refresh_works=False)))
    assert summary["lifecycle"]["refresh_failures"] == 1
    assert summary["lifecycle"]["retries"] == 0
    assert summary["failures"] == 1
    assert summary["failures_by_kind"] == {"unauthorized": 1}


def failed(reason: str) -> CallRecord:
    record = CallRecord("GET", ME, latency_s=0.001)
    if reason.startswith("HTTP "):
        record.status = int(reason[5:8])
    else:
        record.error = reason
    return record


def test_failures_by_kind_sum_to_failures() -> None:
    """Each failure reason falls in one kind, and the kinds add up to the failures."""
    reasons = ["HTTP 503", "HTTP 503", "HTTP 401", "HTTP 404", "ReadTimeout", "ConnectError",
               "truncated body: RemoteProtocolError", "ProxyError"]  # fmt: skip
    summary = summarize([failed(reason) for reason in reasons])
    assert summary["failures_by_kind"] == {
        "server_error": 2, "unauthorized": 1, "client_error": 1, "timeout": 1, "connect": 1,
        "truncated": 1, "other": 1,
    }  # fmt: skip
    assert sum(summary["failures_by_kind"].values()) == summary["failures"] == len(reasons)
