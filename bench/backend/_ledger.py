"""The connection ledger: TCP connections, the requests each carried, and whose sessions.

The uvicorn protocol subclass (``_protocol``) opens and closes entries; the app finds a
request's entry by ``scope["client"]`` (the peer address, unique among open
connections). Users are recorded by name, never by token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Connection", "ConnectionLedger"]

MAX_EXAMPLES = 5


@dataclass(slots=True)
class Connection:
    """One accepted TCP connection."""

    serial: int
    requests: int = 0
    users: set[str] = field(default_factory=set)


class ConnectionLedger:
    """Counts since the last reset; open connections are tracked by peer address."""

    def __init__(self) -> None:
        self._open: dict[Any, Connection] = {}
        self._serial = 0
        self.reset()

    def reset(self) -> None:
        """Zero every counter; open connections count again once they carry a request."""
        self.accepted_raw = 0
        self.carried = 0  # connections that carried >= 1 request since reset
        self.requests = 0
        self.max_requests = 0
        self.multi_user = 0
        self.multi_user_examples: list[dict[str, Any]] = []
        self.user_connections: dict[str, int] = {}  # user -> connections that carried them
        self._epoch_members: set[int] = set()
        for connection in self._open.values():
            connection.requests = 0
            connection.users = set()

    def opened(self, peer: Any) -> None:
        self._serial += 1
        self.accepted_raw += 1
        self._open[peer] = Connection(self._serial)

    def closed(self, peer: Any) -> None:
        self._open.pop(peer, None)

    def request(self, peer: Any, user: str | None) -> None:
        """Note one application request on the connection from ``peer``."""
        connection = self._open.get(peer)
        if connection is None:  # pragma: no cover - a request always has a connection
            return
        if connection.requests == 0:
            self.carried += 1
        connection.requests += 1
        self.requests += 1
        if connection.requests > self.max_requests:
            self.max_requests = connection.requests
        if user is not None and user not in connection.users:
            connection.users.add(user)
            self.user_connections[user] = self.user_connections.get(user, 0) + 1
            if len(connection.users) == 2:
                self.multi_user += 1
                if len(self.multi_user_examples) < MAX_EXAMPLES:
                    self.multi_user_examples.append(
                        {"connection": connection.serial, "users": sorted(connection.users)}
                    )

    def stats(self) -> dict[str, Any]:
        return {
            "accepted_raw": self.accepted_raw,
            "accepted": self.carried,
            "open": len(self._open),
            "requests": self.requests,
            "max_requests_per_connection": self.max_requests,
            "multi_user": self.multi_user,
            "multi_user_examples": self.multi_user_examples,
            "users_seen": len(self.user_connections),
            "users_multi_connection": sum(1 for n in self.user_connections.values() if n > 1),
        }
