"""Per-task context the instruments read: which user acts, and which call is in flight.

Both are contextvars, so each asyncio task (each Locust hand-over, each session of the
bare driver) sees its own values, whatever client object it happens to share.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

__all__ = ["ACTING_USER", "CURRENT_CALL", "CallRecord"]


@dataclass(slots=True)
class CallRecord:
    """What one API call (one verb of a client) did, filled in while it runs.

    ``http_requests`` counts every exchange the verb made (a refresh and a retry make
    three); ``new_connections`` counts TCP connections it had to open.
    """

    method: str
    endpoint: str
    latency_s: float = 0.0
    ok: bool = False
    status: int | None = None
    error: str | None = None
    response_bytes: int = 0
    http_requests: int = 0
    new_connections: int = 0
    tls_handshakes: int = 0
    # Names (never values) of the cookies the first exchange carried; None: not sent yet.
    cookie_names: tuple[str, ...] | None = None
    # True once the call was checked for carrying its session cookie (lost-session check).
    cookie_checked: bool = False
    # Identity comparisons made on this call's answer (the common case, kept as a count).
    identity_checks: int = 0
    # Rarer verdicts (leak, lost_session, replay_*, reconnected_session); None when none.
    verdicts: list[str] | None = None
    # Isolation findings worth showing (user names and endpoints, never tokens).
    findings: list[dict[str, str]] | None = None
    # Set by the caller when the Cookie header the first exchange carried must be kept
    # (the sign-out, whose cookie decides what a replay proves). In memory only: a
    # session secret, never recorded, logged or written.
    capture_cookies: bool = False
    sent_cookies: bytes | None = None
    # The last response, kept so a failed 2xx can be labelled (body not JSON, ...).
    response: Any = None
    # This call got a 401: its next exchange (after a refresh) is a retry.
    after_401: bool = False
    # Open model only: how long after its intended start this call began (seconds);
    # None for a closed-loop call, which has no schedule to be late for.
    start_delay_s: float | None = None

    def verdict(self, name: str) -> None:
        """Note a verdict on this call."""
        if self.verdicts is None:
            self.verdicts = [name]
        else:
            self.verdicts.append(name)

    def finding(self, **details: str) -> None:
        """Note an example worth reporting (names and endpoints only)."""
        if self.findings is None:
            self.findings = [details]
        else:
            self.findings.append(details)

    def failure_message(self) -> str:
        """A short reason for a failed call: what went wrong, never a secret.

        An exception class (``ConnectError``), a body that broke off (``truncated body:
        RemoteProtocolError``), a status (``HTTP 503``), or for a 2xx the client refused,
        why (``HTTP 200, body not JSON``).
        """
        if self.error is not None:
            return self.error
        if self.status is None:
            return "no result"
        if 200 <= self.status < 300:
            return f"HTTP {self.status}, {_unusable_body(self.response)}"
        return f"HTTP {self.status}"


def _unusable_body(response: Any) -> str:
    """Why a 2xx answer gave the caller no JSON (only asked for calls that failed)."""
    try:
        data = json.loads(response.content)
    except ValueError:
        return "body not JSON"
    except Exception:  # no response kept, or its body was never read
        return "no usable body"
    if not isinstance(data, dict | list):
        return "JSON neither object nor array"
    return "answer refused by the client"


ACTING_USER: ContextVar[str | None] = ContextVar("aegis_bench_acting_user", default=None)
CURRENT_CALL: ContextVar[CallRecord | None] = ContextVar("aegis_bench_current_call", default=None)
