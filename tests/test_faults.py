"""Faults on demand in the reference backend, each shown against the real server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.backend import Faults, TargetConfig, TargetProcess, parse_outage
from tests._helpers import bench_run

ME = "/api/v1/auth/me"
REFRESH = "/api/v1/auth/refresh"
REGISTER = "/api/v1/auth/register"


def target_with(faults: Faults) -> TargetProcess:
    """The reference backend with these faults, in its own process (a context manager)."""
    return TargetProcess(TargetConfig(port=0, faults=faults))


def signed_in(target: TargetProcess, name: str) -> httpx.Client:
    """A client holding a fresh user's session cookie (registration signs in)."""
    client = httpx.Client(base_url=target.url, timeout=10)
    response = client.post(REGISTER, json={"username": name, "password": "pw"})
    assert response.status_code == 201, response.text
    return client


def faults_seen(target: TargetProcess) -> dict[str, int]:
    counts: dict[str, int] = target.stats()["faults"]
    return counts


@pytest.fixture(scope="module")
def failing() -> Iterator[TargetProcess]:
    with target_with(Faults(error_rate=1.0)) as target:
        yield target


def test_every_call_answers_503_at_rate_one(failing: TargetProcess) -> None:
    """At --fault-5xx 1 every application route answers 503, and each is counted."""
    with httpx.Client(base_url=failing.url, timeout=10) as client:
        assert client.get(ME).status_code == 503
        assert client.post(REGISTER, json={"username": "a", "password": "b"}).status_code == 503
    assert faults_seen(failing)["errors_5xx"] == 2


def test_a_connection_whose_requests_were_all_faulted_is_still_counted(
    failing: TargetProcess,
) -> None:
    """The ledger counts the connection and requests of answers the faults gave."""
    failing.reset()
    with httpx.Client(base_url=failing.url, timeout=10) as client:
        assert client.get(ME).status_code == 503
        assert client.get(ME).status_code == 503
    connections = failing.stats()["connections"]
    assert (connections["accepted"], connections["requests"]) == (1, 2)


def test_admin_routes_are_never_faulted(failing: TargetProcess) -> None:
    """The /_bench/ routes answer whatever the fault rates."""
    failing.reset()
    assert faults_seen(failing)["errors_5xx"] == 0


def test_a_slow_answer_outlasts_the_clients_timeout() -> None:
    """--fault-slow answers only after its delay: a shorter client timeout gives up."""
    with target_with(Faults(slow_rate=1.0, slow_s=1.5)) as target:
        with (
            httpx.Client(base_url=target.url, timeout=0.5) as client,
            pytest.raises(httpx.ReadTimeout),
        ):
            client.get(ME)
        with httpx.Client(base_url=target.url, timeout=5) as client:
            started = time.monotonic()
            assert client.get(ME).status_code == 401  # slow, then answered
            assert time.monotonic() - started >= 1.5
        assert faults_seen(target)["slow"] == 2


def test_a_slow_answers_request_is_served_on_arrival() -> None:
    """A slow answer's request is served at once: a sign-out whose answer the client
    gave up waiting for has still revoked the session."""
    with target_with(Faults()) as target:
        client = signed_in(target, "slow-sign-out")
        try:
            with httpx.Client(base_url=target.url, timeout=10) as admin:
                admin.post("/_bench/faults", json={"slow_rate": 1.0, "slow_s": 1.5})
            with pytest.raises(httpx.ReadTimeout):
                client.post("/api/v1/auth/logout", timeout=0.5)
        finally:
            client.close()
        assert target.stats()["sessions"]["revoked"] == 1  # before the answer could go


def test_a_reset_breaks_the_answer_mid_body() -> None:
    """--fault-reset sends part of an answer and drops the connection."""
    with target_with(Faults(reset_rate=1.0)) as target:
        with (
            httpx.Client(base_url=target.url, timeout=5) as client,
            pytest.raises(httpx.RemoteProtocolError),
        ):
            client.get(ME)
        assert faults_seen(target)["resets"] == 1


def test_an_expiry_storm_expires_every_live_session_and_refresh_recovers() -> None:
    """--expire-every expires all live sessions at once; a refresh brings one back."""
    with target_with(Faults(expire_every_s=0.5)) as target:
        alice, bob = signed_in(target, "alice"), signed_in(target, "bob")
        assert alice.get(ME).status_code == 200
        time.sleep(1.2)
        assert alice.get(ME).status_code == 401
        assert bob.get(ME).status_code == 401
        assert alice.post(REFRESH).status_code == 200
        assert alice.get(ME).status_code == 200
        seen = faults_seen(target)
        assert seen["expiry_storms"] >= 1
        assert seen["sessions_expired"] >= 2
        alice.close()
        bob.close()


def test_the_refresh_route_fails_during_its_outage_only() -> None:
    """--refresh-outage 0+1: refresh answers 503 for the first second, then works."""
    with target_with(Faults(refresh_outage=(0.0, 1.0))) as target:
        target.reset()  # the outage's clock starts at the run's reset
        alice = signed_in(target, "alice")
        assert alice.post(REFRESH).status_code == 503
        time.sleep(1.1)
        assert alice.post(REFRESH).status_code == 200
        assert faults_seen(target)["refresh_outage"] == 1
        alice.close()


@pytest.mark.parametrize("text", ["soon", "30", "30+", "+5", "-1+5", "inf+1", "nan+1"])
def test_a_bad_outage_names_the_form(text: str) -> None:
    """A refresh outage not written START+LENGTH says which form it takes."""
    with pytest.raises(ValueError, match=r"START\+LENGTH"):
        parse_outage(text)


def test_an_outage_parses_to_start_and_length() -> None:
    """30+10 is 30 s into the run, for 10 s."""
    assert parse_outage("30+10") == (30.0, 10.0)


def test_faults_after_reset_wait_for_the_runs_reset() -> None:
    """With after_reset, calls before the first /_bench/reset see no fault (preflight)."""
    with (
        target_with(Faults(error_rate=1.0, after_reset=True)) as target,
        httpx.Client(base_url=target.url, timeout=10) as client,
    ):
        assert client.get(ME).status_code == 401  # the target as it is
        target.reset()
        assert client.get(ME).status_code == 503


@pytest.mark.timeout(180)
@pytest.mark.e2e
def test_sessions_recover_from_expiry_storms_by_refresh(tmp_path: Path) -> None:
    """A run through expiry storms every 2 s fails no call: every session refreshes."""
    result, summary = bench_run(
        tmp_path / "out",
        "--users",
        "8",
        "--spawn-rate",
        "8",
        "--duration",
        "5s",
        "--expire-every",
        "2",
    )
    server = summary["server"]
    assert server["faults"]["expiry_storms"] >= 2
    assert server["faults"]["sessions_expired"] > 0
    assert server["sessions"]["refreshed"] > 0
    lifecycle = summary["lifecycle"]  # the same seen from the clients' side
    assert lifecycle["unauthorized"] > 0
    assert lifecycle["refreshes"] > 0
    assert lifecycle["retries"] > 0
    assert summary["failures"] == 0
    assert result.returncode == 0, result.stderr


@pytest.mark.timeout(180)
@pytest.mark.e2e
def test_injected_503s_are_failures_named_by_their_status(tmp_path: Path) -> None:
    """--fault-5xx answers are counted as failed calls labelled HTTP 503, and fail the run."""
    result, summary = bench_run(
        tmp_path / "out",
        "--users",
        "8",
        "--spawn-rate",
        "8",
        "--duration",
        "4s",
        "--fault-5xx",
        "0.02",
    )
    injected = summary["server"]["faults"]["errors_5xx"]
    reasons: dict[str, int] = {}
    for endpoint in summary["endpoints"].values():
        for reason, count in endpoint["failure_reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + count
    assert injected > 0
    assert reasons.get("HTTP 503", 0) > 0
    assert summary["failures_by_kind"]["server_error"] > 0
    assert sum(summary["failures_by_kind"].values()) == summary["failures"]
    assert result.returncode == 1


def test_faults_can_be_replaced_while_the_target_runs() -> None:
    """POST /_bench/faults sets new faults at once; a bad body is a 422 naming the problem."""
    with target_with(Faults()) as target, httpx.Client(base_url=target.url, timeout=10) as client:
        bad = client.post("/_bench/faults", json={"error_rate": 3})
        assert bad.status_code == 422
        assert "error_rate must be a number between 0 and 1" in bad.json()["detail"]
        assert client.post("/_bench/faults", json={"error_rate": 1}).status_code == 200
        assert client.get(ME).status_code == 503
        assert client.post("/_bench/faults", json={}).status_code == 200
        assert client.get(ME).status_code == 401  # no fault: just no session


def test_a_reset_mid_run_keeps_the_runs_fault_schedule_and_counts() -> None:
    """reset {elapsed_s, zero: false} (a restarted target): the outage stays where it was
    in the run, and nothing counted so far is zeroed."""
    with target_with(Faults(refresh_outage=(30.0, 10.0), after_reset=True)) as target:
        with httpx.Client(base_url=target.url, timeout=10) as client:
            client.post(REGISTER, json={"username": "late", "password": "pw"})
            answer = client.post("/_bench/reset", json={"elapsed_s": 35.0, "zero": False})
            assert answer.json()["reset"] is False
            assert client.post(REFRESH).status_code == 503  # 35 s into the run: in the outage
        assert target.stats()["sessions"]["issued"] == 1
