"""A simulated user's measured session, in plain asyncio (its steps are in ``bench.steps``).

:class:`MeasuredSession` gives scenario code the client's own verbs, times each call and
hands a :class:`CallRecord` to a sink. It also judges isolation on the client side:

- **leak**: a response that names an identity (the profile's identity route, the owner
  field of each record a data route returns) names someone other than the user who asked;
- **lost session**: a signed-in user's call to a protected route went out without the
  session cookie (the classic per-call mistake);
- **replay**: after signing out, the old session cookie is presented once more outside
  the cookie jar; a backend that accepts it is reported.

Verdict names (counted per endpoint by the recorder): ``identity_checked``, ``leak``,
``lost_session``, ``replay_refused``, ``replay_accepted``, and ``reconnected_session``
(the session opened its second connection: one per session that ever reconnected).

"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from aegis_client import APIClient, JSONResult
from bench.measure import CURRENT_CALL, CallRecord
from bench.profile import AEGIS, Profile

__all__ = ["REPLAY", "MeasuredSession", "PlainSession"]

REPLAY = "REPLAY"


class MeasuredSession:
    """One user's session: its client, its credentials, its profile and its record sink.

    The verbs behave exactly like the client's; each call is timed around the verb, so a
    refresh-and-retry is part of the call's latency, as a user would feel it.
    """

    def __init__(
        self,
        client: APIClient,
        username: str,
        password: str,
        sink: Callable[[CallRecord], None],
        profile: Profile = AEGIS,
    ) -> None:
        self.client = client
        self.username = username
        self.password = password
        self.profile = profile
        self.signed_in = False
        self.connections_opened = 0
        self._sink = sink
        self._protected = frozenset(
            {profile.identity, profile.sign_out, *(d.route for d in profile.data)}
        )
        self._owner_fields = {d.route: d.owner_field for d in profile.data}

    @property
    def login_name(self) -> str:
        """The name the backend knows this user by (the profile's username template)."""
        return self.profile.login_name(self.username)

    async def get(
        self, endpoint: str, params: Mapping[str, Any] | None = None
    ) -> JSONResult | None:
        """``client.get``, recorded and judged."""
        return await self._call("GET", endpoint, self.client.get(endpoint, params))

    async def post(self, endpoint: str, json: Any = None) -> JSONResult | None:
        """``client.post``, recorded and judged."""
        return await self._call("POST", endpoint, self.client.post(endpoint, json))

    async def post_form(self, endpoint: str, data: Mapping[str, str]) -> JSONResult | None:
        """``client.post_form``, recorded and judged."""
        return await self._call("POST", endpoint, self.client.post_form(endpoint, data))

    def clear_cookies(self) -> None:
        """``client.clear_cookies``."""
        self.client.clear_cookies()

    def session_cookie(self) -> str | None:
        """The session cookie's value now in the jar (a secret: never log or store it)."""
        for cookie in self.client.cookie_jar.jar:
            if cookie.name == self.profile.cookie_name:
                return cookie.value
        return None

    async def replay(self, old_cookie: str) -> None:
        """Present a signed-out session's cookie once more, outside the jar, and judge it."""
        record = CallRecord(REPLAY, self.profile.identity)
        request = self.client._exchange(  # the client's own pool, but not its jar
            "GET",
            self.profile.identity,
            headers={"Cookie": f"{self.profile.cookie_name}={old_cookie}"},
        )
        token = CURRENT_CALL.set(record)
        started = time.perf_counter()
        try:
            response = await request
            accepted = response.is_success
        except Exception as exc:  # a transport failure is no verdict either way
            record.error = type(exc).__name__
            accepted = None
        finally:
            record.latency_s = time.perf_counter() - started
            CURRENT_CALL.reset(token)
        self._count_connections(record)
        if accepted is None:
            record.ok = False
        elif accepted:
            record.ok = False
            record.error = "replay accepted"
            record.verdict("replay_accepted")
            record.finding(
                kind="replay_accepted", endpoint=self.profile.identity, user=self.username
            )
        else:
            record.ok = True
            record.verdict("replay_refused")
        self._sink(record)

    async def _call(
        self, method: str, endpoint: str, call: Coroutine[Any, Any, JSONResult | None]
    ) -> JSONResult | None:
        record = CallRecord(method, endpoint)
        token = CURRENT_CALL.set(record)
        started = time.perf_counter()
        try:
            result = await call
        finally:
            record.latency_s = time.perf_counter() - started
            CURRENT_CALL.reset(token)
        record.ok = result is not None
        self._count_connections(record)
        if self.signed_in and endpoint in self._protected:
            self._judge_cookie(record)
        if result is not None:
            self._judge_identity(record, endpoint, result)
        self._sink(record)
        return result

    def _count_connections(self, record: CallRecord) -> None:
        if record.new_connections:
            if self.connections_opened == 1:  # this session's first reconnect
                record.verdict("reconnected_session")
            self.connections_opened += record.new_connections

    def _judge_cookie(self, record: CallRecord) -> None:
        if record.cookie_names is not None and self.profile.cookie_name not in record.cookie_names:
            record.verdict("lost_session")

    def _judge_identity(self, record: CallRecord, endpoint: str, result: JSONResult) -> None:
        expected = self.login_name
        if endpoint == self.profile.identity and isinstance(result, dict):
            self._compare(record, endpoint, expected, result.get(self.profile.identity_field))
            return
        owner_field = self._owner_fields.get(endpoint)
        if owner_field is None:
            return
        items = result if isinstance(result, list) else result.get("items", [])
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                self._compare(record, endpoint, expected, item.get(owner_field))
                if record.verdicts is not None and "leak" in record.verdicts:
                    return  # one leaked record is enough to condemn the response

    def _compare(self, record: CallRecord, endpoint: str, expected: str, seen: Any) -> None:
        record.identity_checks += 1
        if seen != expected:
            record.verdict("leak")
            record.finding(kind="leak", endpoint=endpoint, user=expected, got=str(seen))


class PlainSession(MeasuredSession):
    """The same session without instrumentation: no records, no verdicts, no replay.

    Only counts its calls. It exists to measure what the instrumentation costs (run the
    bare driver with ``--plain``, its client built with ``StrategyContext(instrument=False)``).
    """

    calls = 0

    async def _call(
        self, method: str, endpoint: str, call: Coroutine[Any, Any, JSONResult | None]
    ) -> JSONResult | None:
        PlainSession.calls += 1
        return await call

    async def replay(self, old_cookie: str) -> None:
        return None
