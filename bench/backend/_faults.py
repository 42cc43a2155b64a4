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
``POST /_bench/faults`` replaces the faults (JSON, see :func:`faults_from_json`); the
next ``/_bench/reset`` arms them.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "REFRESH_PATH",
    "FaultInjector",
    "Faults",
    "InjectedReset",
    "faults_from_json",
    "parse_outage",
]

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


@dataclass(frozen=True)
class Faults:
    """Which faults to inject, and how often (rates are fractions of requests, 0 to 1)."""

    error_rate: float = 0.0
    slow_rate: float = 0.0
    slow_s: float = 11.0
    reset_rate: float = 0.0
    expire_every_s: float | None = None
    refresh_outage: tuple[float, float] | None = None
    # Inject nothing before the first /_bench/reset: the tool's preflight user must see
    # the embedded target as it is, and a run's faults start with the run (its reset).
    after_reset: bool = False

    @property
    def any(self) -> bool:
        return bool(
            self.error_rate
            or self.slow_rate
            or self.reset_rate
            or self.expire_every_s
            or self.refresh_outage
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "error_rate": self.error_rate,
            "slow_rate": self.slow_rate,
            "slow_s": self.slow_s,
            "reset_rate": self.reset_rate,
            "expire_every_s": self.expire_every_s,
            "refresh_outage": list(self.refresh_outage) if self.refresh_outage else None,
            "after_reset": self.after_reset,
        }


def faults_from_json(data: Any, slow_s: float) -> Faults:
    """Faults from ``/_bench/faults``'s JSON body; ValueError saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("send a JSON object of fault settings")
    unknown = set(data) - {"error_rate", "slow_rate", "reset_rate", "expire_every_s",
                           "refresh_outage", "slow_s"}  # fmt: skip
    if unknown:
        raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
    rates = {}
    for name in ("error_rate", "slow_rate", "reset_rate"):
        value = data.get(name, 0.0)
        if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be a number between 0 and 1")
        rates[name] = float(value)
    if sum(rates.values()) > 1.0:
        raise ValueError("error_rate, slow_rate and reset_rate share the calls: at most 1 in all")
    every = data.get("expire_every_s")
    if every is not None and (not isinstance(every, int | float) or not 0 < every < 1e9):
        raise ValueError("expire_every_s must be a number of seconds above 0, or null")
    outage = data.get("refresh_outage")
    if outage is not None:
        if not (isinstance(outage, list) and len(outage) == 2):
            raise ValueError("refresh_outage must be [start, length] in seconds, or null")
        outage = parse_outage(f"{outage[0]}+{outage[1]}")
    slow = data.get("slow_s", slow_s)
    if not isinstance(slow, int | float) or not 0 < slow < 3600:
        raise ValueError("slow_s must be a number of seconds above 0")
    return Faults(
        **rates, slow_s=float(slow), expire_every_s=every, refresh_outage=outage, after_reset=True
    )


def parse_outage(text: str) -> tuple[float, float]:
    """``START+LENGTH`` in seconds (``30+10``); ValueError saying the form otherwise."""
    start, plus, length = text.partition("+")
    try:
        values = (float(start), float(length)) if plus else None
    except ValueError:
        values = None
    if values is None or not all(v >= 0 and v == v and v != float("inf") for v in values):
        raise ValueError(
            f"refresh outage {text!r} is not START+LENGTH in seconds, e.g. 30+10 "
            "(30 s into the run, for 10 s)"
        )
    return values


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

    def reset(self) -> None:
        """Zero the counts and arm the faults; the refresh outage's clock starts now."""
        self.counts.clear()
        self.started = self.clock()
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
