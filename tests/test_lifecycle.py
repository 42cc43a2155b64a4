"""The session lifecycle as the wire shows it: 401s, refreshes, retries, failure kinds.

The backends are ``httpx.MockTransport`` handlers under the bench's measuring transport;
the real server's expiry storms are in ``tests/test_faults.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from aegis_client import APIClient
from bench.backend import TargetProcess
from bench.measure import ACTING_USER, CallRecord
from bench.profile import AEGIS
from bench.session import MeasuredSession
from bench.steps import end_session, sign_in, start_session
from bench.strategies import StrategyContext
from tests._helpers import bench_run, summary_of

pytestmark = pytest.mark.timeout(30)

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
    return summary_of(records, BASE)


@pytest.mark.anyio
async def test_a_401_refreshed_and_retried_is_counted_once_each() -> None:
    """An expired session's call: one 401, one refresh, one retry, and no failure."""
    summary = summarize(await call_me(expired_session_backend(refresh_works=True)))
    lifecycle = summary["lifecycle"]
    assert (lifecycle["unauthorized"], lifecycle["refreshes"], lifecycle["retries"]) == (1, 1, 1)
    assert lifecycle["refresh_failures"] == 0
    assert summary["failures"] == 0


@pytest.mark.anyio
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


@pytest.mark.timeout(180)
@pytest.mark.e2e
def test_churn_recycles_clients_and_checks_each_new_jar(tmp_path: Path) -> None:
    """--churn recycles clients mid-run; each new one is checked to start with no cookie."""
    result, summary = bench_run(
        tmp_path / "out", "--users", "8", "--spawn-rate", "8", "--duration", "4s", "--churn", "0.2"
    )
    lifecycle = summary["lifecycle"]
    invariant = lifecycle["invariants"]["new_client_empty_jar"]
    assert lifecycle["recycled_clients"] > 0
    assert invariant["checked"] >= lifecycle["recycled_clients"]
    assert invariant["broken"] == 0
    assert summary["failures"] == 0
    assert summary["clients_left_open"] == 0  # a stop mid-recycle still releases
    assert "single_flight_refresh" in summary["lifecycle"]["not_checked"]
    # Churn does not set out to test single flight: its report says so, not the terminal.
    assert "single_flight_refresh not checked" not in result.stdout
    assert result.returncode == 0, result.stderr


STEPS_ONLY = """\
from locust import task

from bench.locust_adapter import AegisUser
from bench.steps import browse_identity


class StepsOnly(AegisUser):
    # Its tasks call run_step, not run_task: --churn never recycles a client.
    @task
    def browse(self) -> None:
        self.run_step(browse_identity)
"""


@pytest.mark.timeout(180)
@pytest.mark.e2e
def test_churn_a_scenario_never_runs_is_not_exercised_and_fails(tmp_path: Path) -> None:
    """--churn with a locustfile that never recycles: the run says so and exits 1."""
    scenario = tmp_path / "steps_only.py"
    scenario.write_text(STEPS_ONLY)
    result, summary = bench_run(
        tmp_path / "out", "--users", "4", "--duration", "4s", "--churn", "0.05",
        "--scenario", str(scenario),
    )  # fmt: skip
    assert summary["lifecycle"]["recycled_clients"] == 0
    assert summary["exercised"]["churn"]["count"] == 0
    assert [r["kind"] for r in summary["outcome"]["reasons"]] == ["not_exercised"]
    assert "NOT EXERCISED (pooled): churn 0.05 asked for clients recycled, none" in result.stderr
    assert result.returncode == 1


@pytest.mark.timeout(180)
@pytest.mark.e2e
def test_the_stale_jar_control_breaks_the_empty_jar_invariant(tmp_path: Path) -> None:
    """stale-jar's new clients carry another user's cookie: the invariant breaks, exit 1."""
    result, summary = bench_run(
        tmp_path / "out", "--users", "8", "--spawn-rate", "8", "--duration", "4s", "--churn", "0.3",
        "--strategy", "stale-jar",
    )  # fmt: skip
    invariant = summary["lifecycle"]["invariants"]["new_client_empty_jar"]
    assert invariant["broken"] > 0
    assert summary["lifecycle"]["invariant_examples"][0]["strategy"] == "stale-jar"
    assert "LIFECYCLE INVARIANT BROKEN (stale-jar): new_client_empty_jar" in result.stderr
    assert result.returncode == 1


def sign_in_backend(request: httpx.Request) -> httpx.Response:
    """Signs anyone in with a fresh cookie, and out again."""
    if request.url.path == AEGIS.sign_in:
        return httpx.Response(200, json={}, headers={"set-cookie": f"{COOKIE}=t2; Path=/"})
    return httpx.Response(200, json={"signed_out": True})


async def sign_out_then_in(records: list[CallRecord]) -> None:
    context = StrategyContext(
        BASE, make_inner_transport=lambda: httpx.MockTransport(sign_in_backend)
    )
    client = context.api_client()
    client.cookie_jar.set(COOKIE, "t1", domain="aegis.test", path="/")
    session = MeasuredSession(client, "alice", "pw", records.append)
    session.signed_in = True
    await session.sign_out()
    await sign_in(session)
    await client.aclose()


@pytest.mark.anyio
async def test_the_call_after_a_sign_out_carries_no_session_cookie() -> None:
    """After a sign-out the next call is checked, and carries no session cookie."""
    records: list[CallRecord] = []
    await sign_out_then_in(records)
    invariant = summarize(records)["lifecycle"]["invariants"]["no_cookie_after_sign_out"]
    assert invariant == {"checked": 1, "broken": 0}


@pytest.mark.anyio
async def test_a_jar_not_cleared_on_sign_out_breaks_the_invariant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client that keeps its cookie after signing out sends it on: the invariant breaks."""
    monkeypatch.setattr(MeasuredSession, "clear_cookies", lambda self: None)
    records: list[CallRecord] = []
    await sign_out_then_in(records)
    summary = summarize(records)
    assert summary["lifecycle"]["invariants"]["no_cookie_after_sign_out"]["broken"] == 1
    assert summary["lifecycle"]["invariants_broken"] == 1


@pytest.mark.timeout(180)
@pytest.mark.e2e
def test_a_burst_of_401s_is_served_by_one_refresh(tmp_path: Path) -> None:
    """Under expiry storms every second, each burst of 401s gets one refresh: exit 0."""
    result, summary = bench_run(
        tmp_path / "out", "--users", "12", "--spawn-rate", "12", "--duration", "5s",
        "--expire-every", "1", "--bursts", "0.1",
    )  # fmt: skip
    invariant = summary["lifecycle"]["invariants"]["single_flight_refresh"]
    assert invariant["checked"] > 0
    assert invariant["broken"] == 0
    assert summary["lifecycle"]["unauthorized"] > 0
    assert summary["lifecycle"]["retries"] > 0
    assert result.returncode == 0, result.stderr


@pytest.mark.timeout(180)
@pytest.mark.e2e
def test_the_no_single_flight_control_breaks_the_invariant(tmp_path: Path) -> None:
    """A client refreshing once per 401 breaks single_flight_refresh and fails the run."""
    result, summary = bench_run(
        tmp_path / "out", "--users", "12", "--spawn-rate", "12", "--duration", "5s",
        "--expire-every", "1", "--bursts", "0.1", "--strategy", "no-single-flight",
    )  # fmt: skip
    assert summary["lifecycle"]["invariants"]["single_flight_refresh"]["broken"] > 0
    assert "LIFECYCLE INVARIANT BROKEN (no-single-flight): single_flight_refresh" in result.stderr
    assert result.returncode == 1


async def burst_after_failed_refresh(
    client_class: type[APIClient],
) -> tuple[MeasuredSession, list[CallRecord]]:
    """Four concurrent identity calls of one expired session whose refresh fails."""
    records: list[CallRecord] = []
    context = StrategyContext(
        BASE,
        make_inner_transport=lambda: httpx.MockTransport(
            expired_session_backend(refresh_works=False)
        ),
    )
    client = client_class(BASE, **context.client_options())
    client.cookie_jar.set(COOKIE, "old", domain="aegis.test", path="/")
    session = MeasuredSession(client, "alice", "pw", records.append)
    session.signed_in = True
    await asyncio.gather(*(session.get(ME) for _ in range(4)))
    await client.aclose()
    return session, records


class TellsEveryCall(APIClient):
    """A client with a bug: it calls on_unauthorized for every call that lost the session."""

    async def _notify_unauthorized(self) -> None:
        self._unauthorized_told = False
        await super()._notify_unauthorized()


@pytest.mark.anyio
async def test_a_lost_session_calls_on_unauthorized_once_and_signs_out_locally() -> None:
    """A burst whose refresh failed: on_unauthorized once, jar emptied, user signed out."""
    session, records = await burst_after_failed_refresh(APIClient)
    lifecycle = summarize(records)["lifecycle"]
    assert lifecycle["on_unauthorized"] == 1
    assert lifecycle["invariants"]["on_unauthorized_once"] == {"checked": 1, "broken": 0}
    assert not session.signed_in
    assert session.session_cookie() is None


@pytest.mark.anyio
async def test_a_client_telling_every_call_breaks_on_unauthorized_once() -> None:
    """A client that calls on_unauthorized per call, not per lost session, is caught."""
    _, records = await burst_after_failed_refresh(TellsEveryCall)
    invariant = summarize(records)["lifecycle"]["invariants"]["on_unauthorized_once"]
    assert invariant == {"checked": 4, "broken": 3}


def test_invariants_that_never_ran_are_listed_as_not_checked() -> None:
    """A run without sign-outs, refreshes or lost sessions has no evidence on them."""
    lifecycle = summarize([CallRecord("GET", ME, latency_s=0.001, ok=True)])["lifecycle"]
    assert lifecycle["invariants"]["single_flight_refresh"] == {"checked": 0, "broken": 0}
    assert set(lifecycle["not_checked"]) >= {
        "single_flight_refresh", "on_unauthorized_once", "no_cookie_after_sign_out",
    }  # fmt: skip


@pytest.mark.timeout(180)
@pytest.mark.e2e
def test_users_whose_refresh_fails_sign_in_again(tmp_path: Path) -> None:
    """During a refresh outage expired sessions are lost; their users sign in again."""
    result, summary = bench_run(
        tmp_path / "out", "--users", "8", "--spawn-rate", "8", "--duration", "6s",
        "--expire-every", "2", "--refresh-outage", "1+4",
    )  # fmt: skip
    lifecycle = summary["lifecycle"]
    assert lifecycle["refresh_failures"] > 0
    assert lifecycle["on_unauthorized"] > 0
    assert lifecycle["signed_in_again"] > 0
    assert lifecycle["invariants"]["on_unauthorized_once"]["broken"] == 0
    assert lifecycle["invariants_broken"] == 0, lifecycle["invariant_examples"]
    assert sum(summary["failures_by_kind"].values()) == summary["failures"]
    assert "Traceback" not in result.stderr


async def sign_out_then_ask(target: TargetProcess, *, keep_cookie: bool) -> dict[str, Any]:
    """A real user signs up, signs out (with its replay), then asks who it is; the oracle.

    ``keep_cookie``: the client puts its old cookie back after the sign-out (a bug).
    """
    context = StrategyContext(target.url)
    client = context.api_client()
    session = MeasuredSession(client, "oracle-user-" + str(id(client)), "pw", lambda _: None)
    token = ACTING_USER.set(session.username)
    try:
        assert await start_session(session)
        old = session.session_cookie()
        await end_session(session)
        if keep_cookie:
            assert old is not None
            client.cookie_jar.set(COOKIE, old)
        await session.get(ME)
    finally:
        ACTING_USER.reset(token)
        await client.aclose()
    oracle: dict[str, Any] = target.stats()["oracle"]
    return oracle


@pytest.mark.anyio
async def test_the_target_sees_no_signed_out_cookie_from_a_client_that_clears_its_jar(
    fresh_target: TargetProcess,
) -> None:
    """Server side: after a sign-out (and its marked replay) no request carries the cookie."""
    oracle = await sign_out_then_ask(fresh_target, keep_cookie=False)
    assert oracle["signed_out_checked"] > 0
    assert oracle["signed_out_cookie"] == 0


@pytest.mark.anyio
async def test_the_target_counts_a_signed_out_cookie_sent_again(
    fresh_target: TargetProcess,
) -> None:
    """Server side: a client that keeps its old cookie after signing out is seen sending it."""
    oracle = await sign_out_then_ask(fresh_target, keep_cookie=True)
    assert oracle["signed_out_cookie"] == 2  # the call, then the refresh its 401 set off
    assert oracle["signed_out_examples"][0]["path"] == ME


class BreaksOff(httpx.AsyncByteStream):
    """A body that sends a few bytes, then breaks off as a dropped connection does."""

    async def __aiter__(self) -> Any:
        yield b'{"refre'
        raise httpx.RemoteProtocolError("peer closed connection")


@pytest.mark.anyio
async def test_a_refresh_whose_answer_broke_off_counts_as_failed() -> None:
    """A refresh answered 200 whose body broke off failed: the client did not recover."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == REFRESH:
            return httpx.Response(200, stream=BreaksOff())
        return httpx.Response(401, json={"detail": "expired"})

    lifecycle = summarize(await call_me(handle))["lifecycle"]
    assert (lifecycle["refreshes"], lifecycle["refresh_failures"]) == (1, 1)
    assert lifecycle["retries"] == 0


@pytest.mark.anyio
async def test_a_retrys_401_is_not_a_401_its_refresh_served() -> None:
    """Refreshed, retried and refused again: two 401s, but the refresh served one."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == REFRESH:
            return httpx.Response(200, json={}, headers={"set-cookie": f"{COOKIE}=new; Path=/"})
        return httpx.Response(401, json={"detail": "still not"})

    lifecycle = summarize(await call_me(handle))["lifecycle"]
    assert (lifecycle["unauthorized"], lifecycle["refreshes"], lifecycle["retries"]) == (2, 1, 1)
    assert lifecycle["unauthorized_per_refresh"] == 1.0
