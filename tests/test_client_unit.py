"""APIClient's contract, shown narrowly through httpx.MockTransport."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterable

import anyio
import anyio.lowlevel
import httpx
import pytest

import aegis_client
from aegis_client import APIClient, sign_out

pytestmark = pytest.mark.anyio

Reply = httpx.Response | Exception


class ScriptedBackend:
    """A MockTransport handler answering each path from a queue of scripted replies.

    The last reply of a path repeats once its queue runs dry; every request is counted.
    """

    def __init__(self, script: dict[str, Iterable[Reply]]) -> None:
        self.queues = {path: deque(replies) for path, replies in script.items()}
        self.hits: Counter[str] = Counter()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.hits[path] += 1
        queue = self.queues[path]
        reply = queue.popleft() if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        return reply


def client_for(backend: ScriptedBackend, **kwargs: object) -> APIClient:
    return APIClient("http://aegis.test", transport=httpx.MockTransport(backend), **kwargs)  # type: ignore[arg-type]


def ok(payload: object = None, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=payload if payload is not None else {"ok": True})


UNAUTHORIZED = httpx.Response(401, json={"detail": "expired"})
ME = "/api/v1/auth/me"
REFRESH = "/api/v1/auth/refresh"


class HandlerCalls:
    """A sync on_unauthorized handler that counts its calls and may run an action."""

    def __init__(self, action: Callable[[], object] | None = None) -> None:
        self.calls = 0
        self.action = action

    def __call__(self) -> None:
        self.calls += 1
        if self.action is not None:
            self.action()


def test_public_api_names_exist_once() -> None:
    """Every name in __all__ exists and is listed once (ruff's RUF022 keeps it sorted)."""
    assert len(set(aegis_client.__all__)) == len(aegis_client.__all__)
    for name in aegis_client.__all__:
        assert hasattr(aegis_client, name)


def test_importing_the_client_pulls_in_no_locust_gevent_or_bench() -> None:
    """aegis_client depends on httpx and anyio only."""
    code = (
        "import sys, aegis_client; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'locust','gevent','bench'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_json_object_and_array_are_returned_parsed() -> None:
    """A 2xx JSON body comes back as the parsed dict or list."""
    backend = ScriptedBackend({"/a": [ok({"x": 1})], "/b": [ok([1, 2])]})
    async with client_for(backend) as api:
        assert await api.get("/a") == {"x": 1}
        assert await api.post("/b", json={"q": 1}) == [1, 2]


async def test_empty_2xx_body_returns_empty_dict() -> None:
    """A 204 (or any empty 2xx) returns {} so that None always means an error."""
    backend = ScriptedBackend({"/a": [httpx.Response(204)]})
    async with client_for(backend) as api:
        assert await api.post("/a") == {}


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(500, json={"detail": "boom"}),
        httpx.Response(404),
        httpx.Response(200, content=b"<html>not json</html>"),
        httpx.Response(200, content=b"42"),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("reset"),
        RuntimeError("anything else"),
    ],
    ids=["500", "404", "not-json", "scalar-json", "refused", "timeout", "reset", "other"],
)
async def test_every_error_returns_none_and_logs_once(
    reply: Reply, caplog: pytest.LogCaptureFixture
) -> None:
    """Non-2xx, bad bodies and transport failures return None with exactly one log line."""
    backend = ScriptedBackend({"/a": [reply]})
    caplog.set_level(logging.DEBUG, logger="aegis_client")
    async with client_for(backend) as api:
        assert await api.get("/a", params={"code": "secret-code"}) is None
    records = [r for r in caplog.records if r.name == "aegis_client"]
    assert len(records) == 1
    assert "GET /a" in records[0].getMessage()
    assert "secret-code" not in records[0].getMessage()


async def test_call_after_close_returns_none_and_close_is_idempotent() -> None:
    """After aclose() every verb returns None, and a second aclose() is harmless."""
    backend = ScriptedBackend({"/a": [ok()]})
    api = client_for(backend)
    await api.aclose()
    await api.aclose()
    assert await api.get("/a") is None
    assert await api.post_form("/a", {"k": "v"}) is None
    assert backend.hits["/a"] == 0


async def test_401_refreshes_once_and_retries_once() -> None:
    """A 401 is followed by one refresh and one retry whose result is returned."""
    backend = ScriptedBackend({ME: [UNAUTHORIZED, ok({"username": "ann"})], REFRESH: [ok()]})
    handler = HandlerCalls()
    async with client_for(backend, on_unauthorized=handler) as api:
        assert await api.get(ME) == {"username": "ann"}
    assert (backend.hits[ME], backend.hits[REFRESH], handler.calls) == (2, 1, 0)


async def test_failed_refresh_calls_handler_once_without_retry() -> None:
    """When the refresh 401s the call is not retried and on_unauthorized fires once."""
    backend = ScriptedBackend({ME: [UNAUTHORIZED], REFRESH: [UNAUTHORIZED]})
    handler = HandlerCalls()
    async with client_for(backend, on_unauthorized=handler) as api:
        assert await api.get(ME) is None
    assert (backend.hits[ME], backend.hits[REFRESH], handler.calls) == (1, 1, 1)


async def test_retry_that_401s_again_does_not_refresh_twice() -> None:
    """A retry answered 401 again fires the handler and triggers no second refresh."""
    backend = ScriptedBackend({ME: [UNAUTHORIZED], REFRESH: [ok()]})
    handler = HandlerCalls()
    async with client_for(backend, on_unauthorized=handler) as api:
        assert await api.get(ME) is None
    assert (backend.hits[ME], backend.hits[REFRESH], handler.calls) == (2, 1, 1)


@pytest.mark.parametrize("endpoint", ["/api/v1/auth/token", "/api/v1/auth/register"])
async def test_credential_401_neither_refreshes_nor_calls_handler(endpoint: str) -> None:
    """Wrong credentials at sign-in or registration are not an expired session."""
    backend = ScriptedBackend({endpoint: [UNAUTHORIZED], REFRESH: [ok()]})
    handler = HandlerCalls()
    async with client_for(backend, on_unauthorized=handler) as api:
        assert await api.post_form(endpoint, {"username": "a", "password": "b"}) is None
    assert (backend.hits[REFRESH], handler.calls) == (0, 0)


async def test_refresh_endpoint_401_does_not_refresh_itself() -> None:
    """A direct call to the refresh endpoint that 401s is sent once and not refreshed."""
    backend = ScriptedBackend({REFRESH: [UNAUTHORIZED]})
    handler = HandlerCalls()
    async with client_for(backend, on_unauthorized=handler) as api:
        assert await api.post(REFRESH) is None
    assert (backend.hits[REFRESH], handler.calls) == (1, 1)


async def test_refresh_can_be_disabled() -> None:
    """With refresh_endpoint=None a 401 goes straight to the handler."""
    backend = ScriptedBackend({ME: [UNAUTHORIZED], REFRESH: [ok()]})
    handler = HandlerCalls()
    async with client_for(backend, on_unauthorized=handler, refresh_endpoint=None) as api:
        assert await api.get(ME) is None
    assert (backend.hits[REFRESH], handler.calls) == (0, 1)


async def test_async_handler_is_awaited() -> None:
    """An async on_unauthorized handler runs to completion before the verb returns."""
    backend = ScriptedBackend({ME: [UNAUTHORIZED], REFRESH: [UNAUTHORIZED]})
    finished: list[bool] = []

    async def handler() -> None:
        await anyio.lowlevel.checkpoint()
        finished.append(True)

    async with client_for(backend, on_unauthorized=handler) as api:
        assert await api.get(ME) is None
        assert finished == [True]


async def test_handler_that_signs_out_runs_once() -> None:
    """A handler calling sign_out, whose logout 401s, is not re-entered and does not loop."""
    backend = ScriptedBackend(
        {ME: [UNAUTHORIZED], REFRESH: [UNAUTHORIZED], "/api/v1/auth/logout": [UNAUTHORIZED]}
    )
    calls = 0
    api = client_for(backend)

    async def handler() -> None:
        nonlocal calls
        calls += 1
        await sign_out(api)

    api._on_unauthorized = handler
    async with api:
        assert await api.get(ME) is None
    assert calls == 1
    assert backend.hits["/api/v1/auth/logout"] == 1


async def test_handler_exception_does_not_escape(caplog: pytest.LogCaptureFixture) -> None:
    """A handler that raises is logged; the verb still returns None."""
    backend = ScriptedBackend({ME: [UNAUTHORIZED], REFRESH: [UNAUTHORIZED]})

    def handler() -> None:
        raise ValueError("handler bug")

    async with client_for(backend, on_unauthorized=handler) as api:
        assert await api.get(ME) is None
    assert any("ValueError" in r.getMessage() for r in caplog.records)


async def test_concurrent_401s_share_one_refresh() -> None:
    """Calls that get 401 together share one refresh and are each retried once."""
    gate = anyio.Event()
    refreshed = False
    hits: Counter[str] = Counter()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal refreshed
        hits[request.url.path] += 1
        if request.url.path == REFRESH:
            await gate.wait()
            refreshed = True
            return ok()
        if hits[ME] == 5:  # all five first attempts are in: let the one refresh finish
            gate.set()
        return ok({"fresh": True}) if refreshed else UNAUTHORIZED

    results: list[object] = []
    api = APIClient("http://aegis.test", transport=httpx.MockTransport(handler))

    async def one_call() -> None:
        results.append(await api.get(ME))

    async with api, anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(one_call)
    assert results == [{"fresh": True}] * 5
    assert (hits[REFRESH], hits[ME]) == (1, 10)


async def test_base_url_comes_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """base_url=None uses $AEGIS_API_URL, else http://127.0.0.1:8000."""
    monkeypatch.setenv("AEGIS_API_URL", "http://127.0.0.2:9999")
    async with APIClient() as api:
        assert api.base_url == "http://127.0.0.2:9999"
    monkeypatch.delenv("AEGIS_API_URL")
    async with APIClient() as api:
        assert api.base_url == "http://127.0.0.1:8000"


async def test_clients_share_one_ssl_context() -> None:
    """Two default clients verify with the same process-wide SSL context object."""
    async with APIClient() as first, APIClient() as second:
        contexts = [
            c._client._transport._pool._ssl_context  # type: ignore[attr-defined]
            for c in (first, second)
        ]
    assert contexts[0] is contexts[1] is aegis_client.shared_ssl_context()


async def test_a_burst_whose_refresh_failed_calls_the_handler_once() -> None:
    """Calls that got 401 together, after their one refresh failed, call on_unauthorized once."""
    backend = ScriptedBackend({ME: [UNAUTHORIZED], REFRESH: [UNAUTHORIZED]})
    handler = HandlerCalls()
    async with (
        client_for(backend, on_unauthorized=handler) as api,
        anyio.create_task_group() as group,
    ):
        for _ in range(4):
            group.start_soon(api.get, ME)
    assert (backend.hits[ME], handler.calls) == (4, 1)


async def test_later_401s_of_a_lost_session_do_not_call_the_handler_again() -> None:
    """Once told, on_unauthorized stays quiet for the same lost session."""
    backend = ScriptedBackend({ME: [UNAUTHORIZED], REFRESH: [UNAUTHORIZED]})
    handler = HandlerCalls()
    async with client_for(backend, on_unauthorized=handler) as api:
        assert await api.get(ME) is None
        assert await api.get(ME) is None
    assert handler.calls == 1


async def test_a_new_sign_in_arms_the_handler_again() -> None:
    """After a successful sign-in, losing the new session calls on_unauthorized again."""
    token = "/api/v1/auth/token"
    backend = ScriptedBackend({ME: [UNAUTHORIZED], REFRESH: [UNAUTHORIZED], token: [ok()]})
    handler = HandlerCalls()
    async with client_for(backend, on_unauthorized=handler) as api:
        assert await api.get(ME) is None
        assert await api.post_form(token, {"username": "a", "password": "b"}) == {"ok": True}
        assert await api.get(ME) is None
    assert handler.calls == 2


async def test_a_successful_refresh_arms_the_handler_again() -> None:
    """A session recovered by refresh and lost later calls on_unauthorized again."""
    backend = ScriptedBackend(
        {
            ME: [UNAUTHORIZED, UNAUTHORIZED, ok(), UNAUTHORIZED],
            REFRESH: [UNAUTHORIZED, ok(), UNAUTHORIZED],
        }
    )
    handler = HandlerCalls()
    async with client_for(backend, on_unauthorized=handler) as api:
        assert await api.get(ME) is None  # refresh fails: told
        assert await api.get(ME) == {"ok": True}  # refresh works: a new session
        assert await api.get(ME) is None  # lost again: told again
    assert handler.calls == 2
