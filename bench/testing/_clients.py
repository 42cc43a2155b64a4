"""The caller's clients as a client strategy: one per user, from the caller's factory.

Each client is checked for the contract the measured session needs (``APIClient``'s
verbs, ``aclose`` and a ``cookie_jar``) and, when it is an httpx-based client such as an
``APIClient`` or a subclass, watched on the wire: its httpx transports are wrapped in the
same :class:`~bench.measure.InstrumentedTransport` every strategy of a run sends through,
so the session-cookie checks, the sign-out's cookie (foreign sessions) and the replay of a
signed-out cookie run exactly as in a run. A client whose wire cannot be watched still
gets every identity check; its cookie checks and replays are counted as skipped.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import httpx

from aegis_client import APIClient
from bench.measure import InstrumentedTransport
from bench.profile import Profile
from bench.strategies import ClientStrategy, StrategyContext

__all__ = ["CONTRACT", "ClientFactory", "FactoryClients", "watch_wire"]

# A factory gets the backend's base URL and returns a new client for one user.
ClientFactory = Callable[[str], APIClient]
# What a measured session calls on its client (the contract of bench.strategies).
CONTRACT = ("get", "post", "post_form", "clear_cookies", "aclose", "cookie_jar")


def _check_contract(client: object) -> None:
    if inspect.isawaitable(client):
        if inspect.iscoroutine(client):
            client.close()  # never awaited: closed, so Python does not warn about it
        raise TypeError(
            "client_factory returned an awaitable: pass a plain function that returns the "
            "client, such as lambda url: APIClient(url)"
        )
    missing = [name for name in CONTRACT if not hasattr(client, name)]
    if missing:
        raise TypeError(
            f"client_factory returned a {type(client).__name__}, which lacks "
            f"{', '.join(missing)}: return an APIClient, a subclass, or an object with "
            f"its {', '.join(CONTRACT)}"
        )


def watch_wire(client: object, profile: Profile) -> bool:
    """Send ``client``'s requests through an ``InstrumentedTransport``; True when it could.

    Only an httpx-based client can be watched: one whose ``_client`` is the
    ``httpx.AsyncClient`` it sends through (``APIClient`` and its subclasses) and that
    has ``APIClient``'s ``_exchange``, which the replay sends through. httpx lets a
    transport be chosen only when the client is built, and the caller's factory built
    it, so the built client's transports (its own and any proxy mounts) are wrapped in
    place: httpx's private attributes, touched here and nowhere else.
    """
    inner = getattr(client, "_client", None)
    if not isinstance(inner, httpx.AsyncClient) or not hasattr(client, "_exchange"):
        return False
    if isinstance(inner._transport, InstrumentedTransport):
        return True  # built measured already (through a StrategyContext): count once

    def watched(transport: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        return InstrumentedTransport(transport, refresh_path=profile.refresh)

    inner._transport = watched(inner._transport)
    inner._mounts = {
        pattern: None if transport is None else watched(transport)
        for pattern, transport in inner._mounts.items()
    }
    return True


class FactoryClients(ClientStrategy):
    """Each user gets a new client from ``factory(base_url)``, closed when the user stops.

    ``watched`` and ``unwatched`` count the clients whose wire could and could not be
    watched (see :func:`watch_wire`).
    """

    name = "client_factory"

    def __init__(self, factory: ClientFactory) -> None:
        self._factory = factory
        self.watched = 0
        self.unwatched = 0

    def new_client(self, context: StrategyContext) -> APIClient:
        client: Any = self._factory(context.base_url)
        _check_contract(client)
        if watch_wire(client, context.profile):
            self.watched += 1
        else:
            self.unwatched += 1
        result: APIClient = client  # an APIClient, a subclass, or one with its contract
        return result
