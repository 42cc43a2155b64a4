"""The client strategy interface: how a simulated user gets (and gives back) its client.

A run compares strategies; each one decides which client object a user's session talks
through. All of them send through :meth:`StrategyContext.transport`, so every strategy
is measured the same way (the acting-user header, connection and TLS counting).

To plug in your own from a locustfile::

    from bench.strategies import ClientStrategy, register_strategy

    @register_strategy
    class MyClient(ClientStrategy):
        name = "mine"
        def new_client(self, context):
            return MySessionClient(context.base_url, transport=context.transport())

then run with ``--client-strategy mine`` (or set ``strategy = MyClient()`` on a user).
The client must offer ``APIClient``'s verbs: ``get``, ``post``, ``post_form``,
``clear_cookies``, ``aclose`` and a ``cookie_jar``.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from aegis_client import DEFAULT_LIMITS, APIClient, shared_ssl_context
from bench.measure import (
    InstrumentedTransport,
    PooledTransportFactory,
    counting_backend,
    note_unauthorized,
)
from bench.options import TRANSPORT_KINDS
from bench.profile import AEGIS, Profile

if TYPE_CHECKING:
    from bench.measure import AiohttpTransportFactory

__all__ = ["ClientStrategy", "StrategyContext", "pooled_transport_factory"]


def pooled_transport_factory(
    keepalive_expiry: float = DEFAULT_LIMITS.keepalive_expiry or 4.0,
) -> PooledTransportFactory:
    """Transports like ``APIClient``'s own: shared SSL context, its limits, this idle expiry.

    Keep ``keepalive_expiry`` below the server's keep-alive timeout, or the server closes
    idle connections first and httpcore reconnects silently. The factory takes the pool's
    network backend (:meth:`StrategyContext.transport` passes the counting one); with
    ``transport_kind="aiohttp"`` the context builds aiohttp's pools from its limits and
    SSL context instead.
    """
    limits = httpx.Limits(
        max_connections=DEFAULT_LIMITS.max_connections,
        max_keepalive_connections=DEFAULT_LIMITS.max_keepalive_connections,
        keepalive_expiry=keepalive_expiry,
    )
    return PooledTransportFactory(limits, shared_ssl_context)


@dataclass(frozen=True)
class StrategyContext:
    """What a strategy needs to build clients: where to, how long to wait, how to send."""

    base_url: str
    timeout: float = 10.0
    make_inner_transport: Callable[[], httpx.AsyncBaseTransport] = field(
        default_factory=pooled_transport_factory
    )
    profile: Profile = AEGIS
    instrument: bool = True
    count_with: str = "stream"  # how new connections are spotted: "stream" or "trace"
    # The HTTP stack under httpx (one of TRANSPORT_KINDS). "aiohttp" needs the default
    # kind of factory, a PooledTransportFactory: its limits and SSL context make its pools.
    transport_kind: str = "httpcore"
    _make_aiohttp: AiohttpTransportFactory | None = field(
        init=False, default=None, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.transport_kind not in TRANSPORT_KINDS:
            raise ValueError(
                f"transport_kind must be one of {', '.join(TRANSPORT_KINDS)}, "
                f"not {self.transport_kind!r}"
            )
        if self.transport_kind == "aiohttp":
            make = self.make_inner_transport
            if not isinstance(make, PooledTransportFactory):
                raise ValueError(
                    'transport_kind="aiohttp" builds its pools from a PooledTransportFactory\'s '
                    "limits and SSL context (pooled_transport_factory()); a factory of your "
                    "own decides the transport itself"
                )
            # Imported here, not at the top: only a process that sends through aiohttp
            # loads it (about 150 ms, 11 MiB), and it does so when it builds its context.
            from bench.measure import AiohttpTransportFactory

            aiohttp_pools = AiohttpTransportFactory(make.limits, make.ssl_context)
            object.__setattr__(self, "_make_aiohttp", aiohttp_pools)  # a frozen dataclass

    def transport(self) -> httpx.AsyncBaseTransport:
        """A new measured transport with its own pool (unmeasured with ``instrument=False``).

        With ``transport_kind="aiohttp"``, the pool is aiohttp's, counted by its own tracing
        in either ``count_with`` mode (``bench.measure._aiohttp`` says how). Otherwise a
        :class:`PooledTransportFactory` (the default) is handed the network backend that
        counts connections the ``count_with`` way; any other factory is called as is, and
        what it returns is counted by ``InstrumentedTransport``'s fallback.
        """
        make = self.make_inner_transport
        if self._make_aiohttp is not None:  # aiohttp's pool, which counts for itself
            inner: httpx.AsyncBaseTransport = self._make_aiohttp(counting=self.instrument)
            if not self.instrument:
                return inner
        elif not self.instrument:
            return make()
        elif isinstance(make, PooledTransportFactory):
            inner = make(counting_backend(self.count_with))
        else:
            inner = make()
        return InstrumentedTransport(
            inner, count_with=self.count_with, refresh_path=self.profile.refresh
        )

    def api_client(self) -> APIClient:
        """A new ``APIClient`` on a measured transport, set up for the target's profile."""
        return APIClient(self.base_url, self.timeout, **self.client_options())

    def client_options(self) -> dict[str, Any]:
        """Keyword options that point an ``APIClient`` at this target's routes, measured.

        They include ``on_unauthorized``: the tool's handler, which marks the call that
        lost its session (``bench.measure.note_unauthorized``). A strategy with a handler
        of its own calls both: ``options["on_unauthorized"] = lambda: (note(), mine())``
        where ``note = options["on_unauthorized"]``.
        """
        return {
            "transport": self.transport(),
            "refresh_endpoint": self.profile.refresh,
            # Marks the call that lost its session; the measured session acts on it.
            "on_unauthorized": note_unauthorized if self.instrument else None,
            # One set for all the clients (the profile builds a new one on every access).
            "credential_endpoints": _credential_routes(self.profile),
        }


@functools.cache
def _credential_routes(profile: Profile) -> frozenset[str]:
    return profile.credential_routes


class ClientStrategy(ABC):
    """Builds each user's client (on the event loop) and takes it back when the user stops."""

    name: ClassVar[str]

    @abstractmethod
    def new_client(self, context: StrategyContext) -> APIClient:
        """Return the client a newly started user will use for its whole life."""

    async def release(self, client: APIClient) -> None:
        """The user is done with ``client``: close it (shared strategies override this)."""
        await client.aclose()

    async def shutdown(self) -> None:
        """The process is done with this strategy: close anything it still holds."""
        return  # per-user strategies hold nothing beyond their users' clients
