"""Users on plain asyncio (``bench.asyncio_driver``), as the bare driver and
``bench.testing`` run them: sessions measured, clients given back however the crowd ends."""

from __future__ import annotations

import pytest

from aegis_client import APIClient
from bench.asyncio_driver import Crowd, run_crowd
from bench.backend import TargetProcess
from bench.perf.bare_driver import drive
from bench.strategies import PooledStrategy, StrategyContext

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


class KeptClients(PooledStrategy):
    """The pooled strategy, keeping every client it built."""

    def __init__(self) -> None:
        self.built: list[APIClient] = []

    def new_client(self, context: StrategyContext) -> APIClient:
        self.built.append(super().new_client(context))
        return self.built[-1]


async def test_the_bare_driver_measures_sessions_and_gives_every_client_back(
    target: TargetProcess,
) -> None:
    """drive() signs users in, records their calls with identity checks, and closes each client."""
    part = await drive(
        target.url, users=4, spawn_rate=100.0, duration_s=1.0, strategy_name="pooled"
    )
    assert part.final
    assert part.clients_built == part.clients_released == 4
    assert part.users_without_session == 0
    assert part.users_peak == 4
    endpoints = part.recorder["endpoints"]
    assert endpoints["GET /api/v1/auth/me"]["verdicts"]["identity_checked"] > 0


async def test_together_users_browse_for_the_duration_after_the_last_sign_in(
    target: TargetProcess,
) -> None:
    """With together, every user is signed in at once: the peak is the whole crowd."""
    strategy = KeptClients()
    run = await run_crowd(strategy, StrategyContext(target.url), Crowd(6, 0.5, together=True))
    assert run.finished
    assert run.part.users_peak == 6
    assert all(client.is_closed for client in strategy.built)


async def test_a_time_limit_cancels_the_users_and_closes_their_clients(
    target: TargetProcess,
) -> None:
    """Users still browsing at the time limit are cancelled, their clients closed, the part
    marked not final."""
    strategy = KeptClients()
    crowd = Crowd(4, 30.0, together=True, time_limit_s=1.0)
    run = await run_crowd(strategy, StrategyContext(target.url), crowd)
    assert not run.finished
    assert not run.part.final
    assert run.errors == []
    assert len(strategy.built) == 4
    assert all(client.is_closed for client in strategy.built)
    assert run.part.clients_released == 4


async def test_a_user_whose_sign_in_fails_browses_nothing(target: TargetProcess) -> None:
    """A user that cannot sign in is counted without a session, with the reason."""
    strategy = KeptClients()
    context = StrategyContext(target.url.rsplit(":", 1)[0] + ":1")  # nothing listens there
    run = await run_crowd(strategy, context, Crowd(2, 0.2, together=True))
    assert run.part.users_without_session == 2
    assert any("ConnectError" in reason for reason in run.part.sign_in_failures)
    assert all(client.is_closed for client in strategy.built)
