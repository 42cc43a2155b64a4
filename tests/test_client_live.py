"""APIClient's contract shown against the real reference backend over loopback."""

from __future__ import annotations

import logging
import secrets
import socket
from collections.abc import AsyncIterator, Callable

import anyio
import pytest

from aegis_client import APIClient, is_authenticated, register, sign_in, sign_out
from bench.backend import TargetProcess

pytestmark = pytest.mark.anyio

ME = "/api/v1/auth/me"
PROJECTS = "/api/v1/insights/projects"


def new_name() -> str:
    return f"c{secrets.token_hex(4)}"


@pytest.fixture
async def make_client(target: TargetProcess) -> AsyncIterator[Callable[..., APIClient]]:
    """Builds APIClients on the backend and closes them after the test."""
    clients: list[APIClient] = []

    def build(**kwargs: object) -> APIClient:
        client = APIClient(target.url, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()


async def test_two_sessions_never_see_each_others_data(
    make_client: Callable[..., APIClient],
) -> None:
    """Two clients signed in as different users each get only their own identity and projects."""
    ann, bob = make_client(), make_client()
    ann_name, bob_name = new_name(), new_name()
    assert await register(ann, ann_name, "pw") is not None
    assert await register(bob, bob_name, "pw") is not None
    for _ in range(3):
        assert await ann.get(ME) == {"username": ann_name}
        assert await bob.get(ME) == {"username": bob_name}
        ann_projects = await ann.get(PROJECTS)
        bob_projects = await bob.get(PROJECTS)
        assert isinstance(ann_projects, list)
        assert isinstance(bob_projects, list)
        assert {p["owner"] for p in ann_projects} == {ann_name}
        assert {p["owner"] for p in bob_projects} == {bob_name}


async def test_sign_in_with_the_form_and_is_authenticated(
    make_client: Callable[..., APIClient],
) -> None:
    """sign_in posts the form, the cookie lands in the jar, is_authenticated turns true."""
    name = new_name()
    await register(make_client(), name, "pw")
    api = make_client()
    assert await is_authenticated(api) is False
    assert await sign_in(api, name, "wrong") is None
    assert await sign_in(api, name, "pw") == {"username": name, "token_type": "cookie"}
    assert await is_authenticated(api) is True


async def test_sign_out_then_replay_is_refused(
    make_client: Callable[..., APIClient], target: TargetProcess
) -> None:
    """After sign_out the jar is empty, and the old cookie replayed by another client fails."""
    api = make_client()
    await register(api, new_name(), "pw")
    old = api.cookie_jar["aegis_session"]
    assert await sign_out(api) is True
    assert len(api.cookie_jar) == 0
    assert await is_authenticated(api) is False
    replay = make_client()
    replay.cookie_jar.set("aegis_session", old)
    assert await replay.get(ME) is None


async def test_expired_session_refreshes_and_retries(
    make_client: Callable[..., APIClient], target: TargetProcess
) -> None:
    """An expired session is refreshed once and the call retried, without the handler."""
    calls: list[str] = []
    api = make_client(on_unauthorized=lambda: calls.append("401"))
    name = new_name()
    await register(api, name, "pw")
    target.reset()
    target.expire(name)
    assert await api.get(ME) == {"username": name}
    assert target.stats()["sessions"]["refreshed"] == 1
    assert calls == []


async def test_refresh_failure_calls_the_handler_once(
    make_client: Callable[..., APIClient], target: TargetProcess
) -> None:
    """Past the refresh window the call returns None and on_unauthorized fires once."""
    calls: list[str] = []
    api = make_client(on_unauthorized=lambda: calls.append("401"))
    name = new_name()
    await register(api, name, "pw")
    target.expire(name, beyond_window=True)
    assert await api.get(ME) is None
    assert calls == ["401"]


async def test_sign_out_inside_the_handler_does_not_loop(
    make_client: Callable[..., APIClient], target: TargetProcess
) -> None:
    """A handler that signs out (whose logout 401s) runs once, and the jar ends empty."""
    runs = 0
    api = make_client()

    async def handler() -> None:
        nonlocal runs
        runs += 1
        await sign_out(api)

    api._on_unauthorized = handler
    name = new_name()
    await register(api, name, "pw")
    target.expire(name, beyond_window=True)
    assert await api.get(PROJECTS) is None
    assert runs == 1
    assert len(api.cookie_jar) == 0


async def test_concurrent_401s_share_one_refresh(
    make_client: Callable[..., APIClient], target: TargetProcess
) -> None:
    """Ten calls that hit an expired session together cause exactly one refresh."""
    api = make_client()
    name = new_name()
    await register(api, name, "pw")
    target.reset()
    target.expire(name)
    results: list[object] = []

    async def call() -> None:
        results.append(await api.get(ME))

    async with anyio.create_task_group() as group:
        for _ in range(10):
            group.start_soon(call)
    assert results == [{"username": name}] * 10
    assert target.stats()["sessions"]["refreshed"] == 1


async def test_a_refused_connection_returns_none(caplog: pytest.LogCaptureFixture) -> None:
    """Connecting to a closed loopback port returns None and logs the exception class."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with APIClient(f"http://127.0.0.1:{port}") as api:
        assert await api.get(ME) is None
    assert any("ConnectError" in r.getMessage() for r in caplog.records)


async def test_a_timeout_returns_none() -> None:
    """A server that accepts and never answers makes the call time out into None."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)  # type: ignore[attr-defined]

    async def hold(stream: anyio.abc.ByteStream) -> None:
        async with stream:
            await anyio.sleep_forever()

    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, hold)
        async with APIClient(f"http://127.0.0.1:{port}", timeout=0.2) as api:
            assert await api.get(ME) is None
        group.cancel_scope.cancel()


async def test_a_reset_connection_returns_none() -> None:
    """A server that closes the connection without answering gives None."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)  # type: ignore[attr-defined]

    async def slam(stream: anyio.abc.ByteStream) -> None:
        await stream.aclose()

    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, slam)
        async with APIClient(f"http://127.0.0.1:{port}") as api:
            assert await api.get(ME) is None
        group.cancel_scope.cancel()


async def test_a_redirect_is_not_json_and_returns_none(
    make_client: Callable[..., APIClient],
) -> None:
    """The OAuth callback's 302 is not a 2xx: None, yet its cookie lands in the jar."""
    name = new_name()
    await register(make_client(), name, "pw")
    api = make_client()
    assert await api.get("/api/v1/auth/oauth/callback", params={"code": name}) is None
    assert await api.get(ME) == {"username": name}


async def test_no_token_in_any_log_record(
    make_client: Callable[..., APIClient], target: TargetProcess, caplog: pytest.LogCaptureFixture
) -> None:
    """With every logger at DEBUG, no session token appears in any record."""
    caplog.set_level(logging.DEBUG)
    api = make_client(on_unauthorized=lambda: None)
    name = new_name()
    await register(api, name, "pw")
    tokens = {api.cookie_jar["aegis_session"]}
    await api.get(ME)
    target.expire(name)
    await api.get(ME)  # refresh path: a new token is issued
    tokens.add(api.cookie_jar["aegis_session"])
    await sign_out(api)
    await api.get(ME)  # 401 after sign-out
    messages = [record.getMessage() for record in caplog.records]
    assert any("set-cookie" in message.lower() for message in messages)  # httpcore did log
    for token in tokens:
        assert not any(token in message for message in messages)
