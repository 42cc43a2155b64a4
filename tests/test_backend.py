"""The reference Aegis backend, spoken to over real loopback HTTP."""

from __future__ import annotations

import hmac
import itertools
import os
import secrets
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.backend import TargetConfig, TargetProcess
from bench.backend._store import SessionStore
from bench.cli._tls import make_tls_files
from tests._backend import raw_client

_names = itertools.count()


def new_name() -> str:
    return f"t{secrets.token_hex(3)}-{next(_names)}"


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def registered(url: str, name: str | None = None) -> tuple[httpx.Client, str]:
    """A client registered (hence signed in) as a new user; closed after the test."""
    client = raw_client(url)
    _OPEN.append(client)
    name = name or new_name()
    response = client.post("/api/v1/auth/register", json={"username": name, "password": "pw"})
    assert response.status_code == 201
    return client, name


def test_register_sets_an_httponly_lax_session_cookie(target: TargetProcess) -> None:
    """Registration answers 201 with the user and an HttpOnly, SameSite=Lax, Path=/ cookie."""
    with raw_client(target.url) as client:
        name = new_name()
        response = client.post("/api/v1/auth/register", json={"username": name, "password": "p"})
    cookie = response.headers["set-cookie"].lower()
    assert response.status_code == 201
    assert response.json() == {"username": name}
    assert cookie.startswith("aegis_session=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie


def test_taken_name_is_409(target: TargetProcess) -> None:
    """Registering a name twice answers 409."""
    client, name = registered(target.url)
    again = client.post("/api/v1/auth/register", json={"username": name, "password": "x"})
    assert again.status_code == 409


def test_registration_without_fields_is_422(target: TargetProcess) -> None:
    """A registration body without username and password answers 422."""
    with raw_client(target.url) as client:
        assert client.post("/api/v1/auth/register", json={"username": ""}).status_code == 422


def test_token_sign_in_checks_the_password(target: TargetProcess) -> None:
    """The form sign-in answers 200 with a cookie for the right password, 401 otherwise."""
    _, name = registered(target.url)
    with raw_client(target.url) as client:
        bad = client.post("/api/v1/auth/token", data={"username": name, "password": "nope"})
        good = client.post("/api/v1/auth/token", data={"username": name, "password": "pw"})
    assert bad.status_code == 401
    assert "set-cookie" not in bad.headers
    assert good.status_code == 200
    assert good.json()["username"] == name
    assert "aegis_session=" in good.headers["set-cookie"]


def test_me_and_projects_need_a_live_session(target: TargetProcess) -> None:
    """Without a cookie both data routes answer 401; with one, the user's own data."""
    client, name = registered(target.url)
    with raw_client(target.url) as anonymous:
        assert anonymous.get("/api/v1/auth/me").status_code == 401
        assert anonymous.get("/api/v1/insights/projects").status_code == 401
    assert client.get("/api/v1/auth/me").json() == {"username": name}
    projects = client.get("/api/v1/insights/projects").json()
    assert len(projects) == 3
    assert {p["owner"] for p in projects} == {name}


def test_oauth_callback_redirects_with_a_cookie(target: TargetProcess) -> None:
    """The OAuth callback answers 302 with a session cookie for a known code."""
    _, name = registered(target.url)
    with raw_client(target.url) as client:
        response = client.get("/api/v1/auth/oauth/callback", params={"code": name})
        assert response.status_code == 302
        assert client.get("/api/v1/auth/me").json() == {"username": name}
        assert client.get("/api/v1/auth/oauth/callback").status_code == 400


def test_logout_revokes_and_a_replay_is_refused(target: TargetProcess) -> None:
    """After logout the old cookie, presented again, is refused everywhere."""
    client, _ = registered(target.url)
    old = client.cookies["aegis_session"]
    assert client.post("/api/v1/auth/logout").status_code == 200
    with raw_client(target.url) as replay:
        replay.cookies.set("aegis_session", old)
        assert replay.get("/api/v1/auth/me").status_code == 401
        assert replay.post("/api/v1/auth/logout").status_code == 401
        assert replay.post("/api/v1/auth/refresh").status_code == 401


def test_refresh_rotates_and_kills_the_old_token(target: TargetProcess) -> None:
    """Refresh issues a new token and the previous one is dead at once."""
    client, name = registered(target.url)
    old = client.cookies["aegis_session"]
    assert client.post("/api/v1/auth/refresh").status_code == 200
    assert client.cookies["aegis_session"] != old
    assert client.get("/api/v1/auth/me").json() == {"username": name}
    with raw_client(target.url) as stale:
        stale.cookies.set("aegis_session", old)
        assert stale.get("/api/v1/auth/me").status_code == 401


def test_expired_session_refreshes_inside_the_window(target: TargetProcess) -> None:
    """An expired session is 401 on data routes but can still be refreshed in the window."""
    client, name = registered(target.url)
    assert target.expire(name) == 1
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.post("/api/v1/auth/refresh").status_code == 200
    assert client.get("/api/v1/auth/me").json() == {"username": name}


def test_refresh_beyond_the_window_is_401(target: TargetProcess) -> None:
    """A session expired past the refresh window cannot be refreshed."""
    client, name = registered(target.url)
    target.expire(name, beyond_window=True)
    assert client.post("/api/v1/auth/refresh").status_code == 401


def test_ledger_counts_connections_and_requests(fresh_target: TargetProcess) -> None:
    """Two keep-alive clients making N requests each show as two connections, 2N requests."""
    first, _ = registered(fresh_target.url)
    second, _ = registered(fresh_target.url)
    for _ in range(5):
        first.get("/api/v1/auth/me")
        second.get("/api/v1/insights/projects")
    connections = fresh_target.stats()["connections"]
    assert connections["accepted"] == 2
    assert connections["requests"] == 12
    assert connections["multi_user"] == 0


def test_ledger_sees_two_users_on_one_connection(fresh_target: TargetProcess) -> None:
    """One connection carrying two users' cookies is counted as shared, by name."""
    first, first_name = registered(fresh_target.url)
    second, second_name = registered(fresh_target.url)
    fresh_target.reset()
    first.get("/api/v1/auth/me")
    first.cookies.set("aegis_session", second.cookies["aegis_session"])
    first.get("/api/v1/auth/me")
    connections = fresh_target.stats()["connections"]
    assert connections["multi_user"] == 1
    assert connections["multi_user_examples"][0]["users"] == sorted([first_name, second_name])


def test_oracle_counts_a_cookie_of_someone_else(fresh_target: TargetProcess) -> None:
    """A request declaring one user but carrying another's cookie is a mismatch, by name."""
    client, owner = registered(fresh_target.url)
    client.get("/api/v1/auth/me", headers={"X-Bench-User": owner})
    client.get("/api/v1/auth/me", headers={"X-Bench-User": "mallory"})
    oracle = fresh_target.stats()["oracle"]
    assert (oracle["declared"], oracle["checked"], oracle["mismatches"]) == (2, 2, 1)
    assert oracle["examples"] == [
        {"declared": "mallory", "session_user": owner, "path": "/api/v1/auth/me"}
    ]


def test_oracle_counts_a_missing_cookie(fresh_target: TargetProcess) -> None:
    """A declared user calling a protected route without any cookie is counted as no_cookie."""
    with raw_client(fresh_target.url) as client:
        client.get("/api/v1/auth/me", headers={"X-Bench-User": "ann"})
    assert fresh_target.stats()["oracle"]["no_cookie"] == 1


def test_reset_zeroes_the_counters(fresh_target: TargetProcess) -> None:
    """After reset every counter is zero."""
    client, _ = registered(fresh_target.url)
    client.get("/api/v1/auth/me", headers={"X-Bench-User": "x"})
    fresh_target.reset()
    stats = fresh_target.stats()
    assert stats["connections"]["requests"] == 0
    assert stats["oracle"]["declared"] == 0
    assert stats["sessions"]["issued"] == 0


def test_stats_never_contain_a_token(fresh_target: TargetProcess) -> None:
    """No issued token string appears anywhere in the stats."""
    client, _ = registered(fresh_target.url)
    client.get("/api/v1/auth/me", headers={"X-Bench-User": "someone-else"})
    token = client.cookies["aegis_session"]
    with raw_client(fresh_target.url) as admin:
        body = admin.get("/_bench/stats").text
    assert token not in body


def test_crosswire_fault_answers_with_another_users_data() -> None:
    """With crosswire rate 1, /auth/me names another user and the fault is counted."""
    with TargetProcess(TargetConfig(port=0, crosswire_rate=1.0, crosswire_seed=1)) as faulty:
        first, first_name = registered(faulty.url)
        registered(faulty.url)
        assert first.get("/api/v1/auth/me").json()["username"] != first_name
        assert {p["owner"] for p in first.get("/api/v1/insights/projects").json()} != {first_name}
        assert faulty.stats()["faults"]["crosswired"] == 2


def test_stop_ends_the_child_process() -> None:
    """stop() ends the backend's process, and a second stop() is harmless."""
    process = TargetProcess(TargetConfig(port=0)).start()
    pid = process.pid
    process.stop()
    process.stop()
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_non_loopback_addresses_are_refused() -> None:
    """The backend only ever binds loopback."""
    with pytest.raises(ValueError, match="loopback"):
        TargetProcess(TargetConfig(host="10.1.2.3", port=0))


def test_the_session_cookie_is_secure_under_tls(tmp_path: Path) -> None:
    """Served over HTTPS (--tls), the session cookie is marked Secure."""
    files = make_tls_files(tmp_path / "tls")
    trust = ssl.create_default_context(cafile=str(files.ca))
    config = TargetConfig(port=0, certfile=str(files.server_pem), keyfile=str(files.server_pem))
    with (
        TargetProcess(config, verify=trust) as target,
        httpx.Client(base_url=target.url, verify=trust) as client,
    ):
        response = client.post("/api/v1/auth/register", json={"username": "ann", "password": "p"})
    assert response.status_code == 201
    assert "; secure" in response.headers["set-cookie"].lower()


def test_the_session_cookie_is_not_secure_over_plain_http(target: TargetProcess) -> None:
    """Over plain HTTP (loopback) the cookie is not marked Secure, or no browser sends it."""
    with raw_client(target.url) as client:
        response = client.post(
            "/api/v1/auth/register", json={"username": new_name(), "password": "p"}
        )
    assert "secure" not in response.headers["set-cookie"].lower()


def test_sessions_are_stored_under_a_digest_never_the_token() -> None:
    """The store keeps no token: it finds sessions by the token's SHA-256 digest."""
    store = SessionStore(60.0, 60.0, 1)
    token = store.issue("ann")
    assert store.find(token) is not None
    assert all(len(key) == 32 and token.encode() not in key for key in store.sessions)
    assert store.find(token[:-1] + ("A" if token[-1] != "A" else "B")) is None


def test_passwords_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A password check goes through hmac.compare_digest: right, wrong, or unknown name."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    store = SessionStore(60.0, 60.0, 1)
    store.register("ann", "right")
    assert store.authenticate("ann", "right") is not None
    assert store.authenticate("ann", "wrong") is None
    assert store.authenticate("nobody", "right") is None  # the same work: no name probing
    assert len(calls) == 3
