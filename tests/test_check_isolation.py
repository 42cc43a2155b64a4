"""``bench.testing.check_isolation``: a leaky client fails, a good one passes, a backend
that cannot show a leak is "not checked", and every client is closed however it ends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from aegis_client import APIClient
from bench.backend import TargetProcess
from bench.profile import AEGIS
from bench.registry import IsolationVerdict
from bench.testing import IsolationError, check_isolation

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

PROFILES = Path(__file__).resolve().parents[1] / "scenarios" / "profiles"
Factory = Callable[[str], APIClient]


class Clients:
    """A factory that keeps every client it built and every cookie value they received."""

    def __init__(self, share_in_pairs: bool = False) -> None:
        self.built: list[APIClient] = []
        self.cookie_values: set[str] = set()
        self._share_in_pairs = share_in_pairs

    def __call__(self, url: str) -> APIClient:
        client = APIClient(url)
        # Every second client gets the previous one's cookie jar: the pair's sessions mix.
        if self._share_in_pairs and len(self.built) % 2 == 1:
            client.cookie_jar.jar = self.built[-1].cookie_jar.jar
        client._client.event_hooks["response"].append(self._keep_cookies)
        self.built.append(client)
        return client

    async def _keep_cookies(self, response: httpx.Response) -> None:
        self.cookie_values.update(cookie.value or "" for cookie in response.cookies.jar)

    def all_closed(self) -> bool:
        return bool(self.built) and all(client.is_closed for client in self.built)


def profile_without_identity(tmp_path: Path) -> Path:
    """Aegis's routes, but an identity route the backend does not have."""
    path = tmp_path / "no_identity.toml"
    path.write_text(
        f'cookie_name = "{AEGIS.cookie_name}"\nsign_in = "{AEGIS.sign_in}"\n'
        f'register = "{AEGIS.register}"\nsign_out = "{AEGIS.sign_out}"\n'
        f'refresh = "{AEGIS.refresh}"\nidentity = "/api/v1/nobody-here"\n'
        'identity_field = "username"\n'
    )
    return path


async def test_clients_sharing_a_jar_in_pairs_leak(target: TargetProcess) -> None:
    """Users whose clients share a cookie jar in pairs are caught: leak, examples, no token."""
    clients = Clients(share_in_pairs=True)
    report = await check_isolation(clients, target.url, users=10, duration=2)
    assert report.verdict == IsolationVerdict.LEAK
    assert report.leaks > 0
    assert report.examples
    # A pair's user got its partner's answer: the names differ only in their index.
    assert all(e.got != e.user and e.got.split("-")[0] == e.user.split("-")[0]
               for e in report.examples if e.kind == "leak")  # fmt: skip
    with pytest.raises(IsolationError) as raised:
        report.raise_for_leaks()
    message = str(raised.value)
    assert str(report.examples[0]) in message
    assert clients.cookie_values - {""}
    for value in clients.cookie_values - {""}:
        assert value not in message
        assert value not in repr(report)


async def test_one_client_per_user_is_isolated(target: TargetProcess) -> None:
    """A new APIClient per user passes on the reference backend, with checks and replays."""
    clients = Clients()
    report = await check_isolation(clients, target.url, users=10, duration=2)
    assert report.verdict == IsolationVerdict.ISOLATED, str(report)
    assert report.checked > 0
    assert report.replay_checked > 0
    assert report.leaks == 0
    assert report.unwatched_clients == 0
    assert "caught" in report.control
    report.raise_for_leaks()
    assert len(clients.built) == 10
    assert clients.all_closed()


@pytest.mark.e2e
async def test_one_client_per_user_is_isolated_on_fastapi_users(
    fastapi_users_backend: str,
) -> None:
    """A new APIClient per user passes on fastapi-users, driven by its profile."""
    profile = PROFILES / "fastapi_users.toml"
    report = await check_isolation(
        APIClient, fastapi_users_backend, users=8, duration=2, profile=profile
    )
    assert report.verdict == IsolationVerdict.ISOLATED, str(report)
    assert report.checked > 0


async def test_a_backend_that_cannot_show_a_leak_is_not_checked(
    target: TargetProcess, tmp_path: Path
) -> None:
    """Without an identity route the leaky control goes uncaught: not checked, client unused."""
    clients = Clients()
    report = await check_isolation(
        clients, target.url, users=4, duration=1, profile=profile_without_identity(tmp_path)
    )
    assert report.verdict == IsolationVerdict.NOT_CHECKED
    assert "cannot show a leak" in report.reason
    assert "0 identity checks" in report.reason
    assert clients.built == []
    with pytest.raises(IsolationError, match="not checked"):
        report.raise_for_leaks()


async def test_a_check_over_its_budget_is_not_checked(
    target: TargetProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check cut short by its time budget says so and closes every client."""
    monkeypatch.setattr("bench.testing._check.time_budget_s", lambda users, duration: 3.0)
    clients = Clients()
    report = await check_isolation(clients, target.url, users=4, duration=30)
    assert report.verdict == IsolationVerdict.NOT_CHECKED
    assert "did not finish within its 3 s budget" in report.reason
    assert clients.all_closed()


async def test_clients_are_closed_when_the_check_is_cancelled(target: TargetProcess) -> None:
    """Cancelling a check mid-run closes every client the factory built."""
    clients = Clients()
    all_built = asyncio.Event()

    def factory(url: str) -> APIClient:
        client = clients(url)
        if len(clients.built) == 6:
            all_built.set()
        return client

    check = asyncio.create_task(check_isolation(factory, target.url, users=6, duration=30))
    await asyncio.wait_for(all_built.wait(), timeout=30)
    check.cancel()
    with pytest.raises(asyncio.CancelledError):
        await check
    assert clients.all_closed()


async def test_a_factory_error_is_raised_after_closing_the_clients(target: TargetProcess) -> None:
    """The factory's own exception comes out, once the clients it did build are closed."""
    clients = Clients()

    def factory(url: str) -> APIClient:
        if len(clients.built) == 3:
            raise RuntimeError("the factory broke")
        return clients(url)

    with pytest.raises(RuntimeError, match="the factory broke"):
        await check_isolation(factory, target.url, users=6, duration=1)
    assert clients.all_closed()


async def test_a_factory_returning_no_client_is_refused(target: TargetProcess) -> None:
    """A factory whose objects lack the client's verbs gets a TypeError naming them."""
    with pytest.raises(TypeError, match="lacks get, post, post_form"):
        await check_isolation(lambda url: object(), target.url, users=2, duration=1)  # type: ignore[arg-type, return-value]


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"users": 1}, "users must be a whole number of at least 2"),
        ({"users": 2.5}, "users must be"),
        ({"duration": 0}, "duration must be a positive number"),
        ({"base_url": "127.0.0.1:8000"}, "base_url must be the backend's http:// or https://"),
        ({"base_url": "ftp://127.0.0.1"}, "base_url must be"),
        ({"profile": "no/such/profile.toml"}, "'no/such/profile.toml' is not a file"),
    ],
)
async def test_bad_arguments_are_refused_with_what_to_do(
    arguments: dict[str, object], named: str
) -> None:
    """Unusable arguments raise a ValueError naming the argument, before any request."""
    call: dict[str, object] = {"base_url": "http://127.0.0.1:1", "users": 4, "duration": 1.0}
    with pytest.raises(ValueError, match=named):
        await check_isolation(APIClient, **{**call, **arguments})  # type: ignore[arg-type]
