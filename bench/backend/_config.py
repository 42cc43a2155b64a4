"""Settings of the reference backend."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from bench.faults import Faults

__all__ = ["TargetConfig"]


@dataclass(frozen=True)
class TargetConfig:
    """How the reference backend listens and behaves.

    ``keep_alive_s`` (30 s) stays well above the client's 4 s idle expiry
    (``aegis_client.KEEPALIVE_EXPIRY_S``): the client always retires idle connections
    first, so the server never closes one under a request (a silent reconnect).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    session_ttl_s: float = 3600.0
    refresh_window_s: float = 3600.0
    keep_alive_s: float = 30.0
    projects_per_user: int = 3
    crosswire_rate: float = 0.0
    crosswire_seed: int | None = None
    backlog: int = 4096
    certfile: str | None = None
    keyfile: str | None = None
    # Faults on demand (5xx, slow answers, resets, expiry storms, a refresh outage).
    faults: Faults = field(default_factory=Faults)
    # Accounts to start with (JSON from ``/_bench/accounts``): a restarted target keeps
    # its users, as a database would, but not their sessions.
    accounts_file: str | None = None

    def to_json(self) -> str:
        """The configuration as one JSON value (how a target process gets it)."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TargetConfig:
        """A configuration from :meth:`to_json`'s text; ``ValueError`` if it is not one."""
        data: dict[str, Any] = json.loads(text)
        faults = data.pop("faults", None) or {}
        outage = faults.get("refresh_outage")
        faults["refresh_outage"] = tuple(outage) if outage else None
        return cls(**data, faults=Faults(**faults))

    @property
    def scheme(self) -> str:
        return "https" if self.certfile else "http"
