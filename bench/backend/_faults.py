"""Faults on demand: what a real backend does to its clients on a bad day.

An ASGI layer in front of the application routes (``/api/...``; the ``/_bench/`` admin
routes are never touched) that, per request and at the configured rates:

- answers ``503`` (``error_rate``);
- serves the request at once but answers only after ``slow_s`` seconds, longer than a
  client's timeout (``slow_rate``);
- starts its answer, then breaks the connection mid-body (``reset_rate``): the client
  sees a truncated response, as from a proxy or a worker that died;

and on a schedule:

- every ``expire_every_s`` seconds, every live session expires at once (an expiry
  storm): clients then get 401s and must refresh, all together;
- from ``refresh_outage[0]`` seconds after the last ``/_bench/reset`` (or the start),
  for ``refresh_outage[1]`` seconds, the refresh route answers ``503``: sessions that
  expire then cannot be recovered, and the client's ``on_unauthorized`` must run.

Every fault it injects is counted, by kind, in ``/_bench/stats`` under ``faults``.
``POST /_bench/faults`` replaces the faults (JSON, see ``bench.faults.faults_from_json``)
and arms them at once. The settings themselves are ``bench.faults.Faults``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bench.faults import Faults

__all__ = ["REFRESH_PATH", "FaultInjector", "InjectedReset"]

REFRESH_PATH = "/api/v1/auth/refresh"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# A reset answer promises this many bytes and sends a tenth of them.
RESET_PROMISED_BYTES = 100


class InjectedReset(Exception):
    """Raised mid-response on purpose: uvicorn then drops the connection (--fault-reset)."""


class FaultInjector:
    """The ASGI layer (see the module docstring). ``expire_all`` expires every live
    session (the storm); ``clock`` is ``time.monotonic`` but for tests."""

    def __init__(
        self,
        app: ASGIApp,
        faults: Faults,
        expire_all: Callable[[], int],
        *,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        note_request: Callable[[Scope], None] = lambda scope: None,
    ) -> None:
        self.app, self.faults, self.expire_all = app, faults, expire_all
        # Told of each request answered here without reaching the app (the ledger must
        # count the connection that carried it).
        self.note_request = note_request
        self.rng = random.Random(seed)
        self.clock = clock
        self.counts: Counter[str] = Counter()
        self.started = clock()
        self.armed = not faults.after_reset
        self._storms: asyncio.Task[None] | None = None

    def reconfigure(self, faults: Faults) -> None:
        """Inject ``faults`` from now on (the web UI's start form sets them per test):
        armed at once, counts zeroed, the outage's clock started now (a reset after it
        starts it again)."""
        self.faults = faults
        if self._storms is not None:
            self._storms.cancel()
            self._storms = None
        self.reset()

    def reset(self, elapsed_s: float = 0.0, *, zero: bool = True) -> None:
        """Arm the faults; the refresh outage's clock starts ``elapsed_s`` ago (a target
        restarted mid-run keeps the run's schedule); ``zero`` clears the counts."""
        if zero:
            self.counts.clear()
        self.started = self.clock() - elapsed_s
        self.armed = True

    def stats(self) -> dict[str, int]:
        return {
            kind: self.counts[kind]
            for kind in ("errors_5xx", "slow", "resets", "refresh_outage", "expiry_storms")
        } | {"sessions_expired": self.counts["sessions_expired"]}

    def _in_outage(self) -> bool:
        outage = self.faults.refresh_outage
        if outage is None:
            return False
        elapsed = self.clock() - self.started
        return outage[0] <= elapsed < outage[0] + outage[1]

    async def _expiry_storms(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            if not self.armed:
                continue
            self.counts["expiry_storms"] += 1
            self.counts["sessions_expired"] += self.expire_all()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/api/") or not self.armed:
            await self.app(scope, receive, send)
            return
        every = self.faults.expire_every_s
        if every and self._storms is None:  # started on the first request: uvicorn's
            self._storms = asyncio.ensure_future(self._expiry_storms(every))  # loop
        if path == REFRESH_PATH and self._in_outage():
            self.counts["refresh_outage"] += 1
            self.note_request(scope)
            await _answer(send, 503, b'{"detail": "refresh unavailable (fault)"}')
            return
        faults, draw = self.faults, self.rng.random()
        if draw < faults.error_rate:
            self.counts["errors_5xx"] += 1
            self.note_request(scope)
            await _answer(send, 503, b'{"detail": "service unavailable (fault)"}')
            return
        draw -= faults.error_rate
        if draw < faults.slow_rate:
            self.counts["slow"] += 1
            await self.app(scope, receive, _delayed(send, faults.slow_s))
            return
        draw -= faults.slow_rate
        if draw < faults.reset_rate:
            self.counts["resets"] += 1
            self.note_request(scope)
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(RESET_PROMISED_BYTES).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b'{"det', "more_body": True})
            raise InjectedReset("fault: the connection is reset mid-response (--fault-reset)")
        await self.app(scope, receive, send)


def _delayed(send: Send, seconds: float) -> Send:
    """``send``, holding the answer back ``seconds`` before it starts.

    The request itself is served at once, as a server whose reply is stuck would have
    served it: its session rotated or revoked, its arrival seen by the ledger and the
    oracle while the client still waits (a client that gave up has closed the
    connection by the time the answer would go).
    """

    async def send_late(message: Message) -> None:
        if message["type"] == "http.response.start":
            await asyncio.sleep(seconds)
        await send(message)

    return send_late


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
