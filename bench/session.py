"""A simulated user's measured session, in plain asyncio (its steps are in ``bench.steps``).

:class:`MeasuredSession` gives scenario code the client's own verbs, times each call and
hands a :class:`CallRecord` to a sink. It also judges isolation on the client side:

- **leak**: a response that names an identity (the profile's identity route, the owner
  field of each record a data route returns) names someone other than the user who asked;
- **lost session**: a signed-in user's call to a protected route went out without the
  session cookie (the classic per-call mistake);
- **foreign session**: the user's sign-out went out carrying another session's cookie
  (a client carried someone else's session);
- **replay**: after a sign-out the backend confirmed, and that carried this session's
  own cookie, the old cookie is presented once more outside the cookie jar; a backend
  that accepts it kept a revoked session. After any other sign-out a replay would prove
  nothing about the backend, so it is skipped, and the skip is counted with its reason.

An answer that cannot be judged is not a leak: an identity answer without the profile's
identity field, or records without the owner field, are counted as such, and a run
without a single identity comparison is "not checked".

Verdict names (counted per endpoint by the recorder): ``identity_checked``,
``cookie_checked``, ``leak``, ``lost_session``, ``foreign_session``, ``replay_refused``,
``replay_accepted``, ``replay_skipped_sign_out_failed``,
``replay_skipped_foreign_session``, ``replay_skipped_no_cookie``,
``identity_field_missing``, ``identity_not_object``, ``owner_field_missing``,
``reconnected_session`` (the session opened its second connection: one per session that
ever reconnected), and, for the lifecycle, ``on_unauthorized`` (the client's handler ran
for this call) and ``on_unauthorized_again`` (it ran again for a session it had already
reported lost).

A session whose client called ``on_unauthorized`` does what the Aegis app does: it
signs out locally (the jar is emptied) and counts as signed out, so its user signs in
again before its next task.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Coroutine, Mapping
from types import MappingProxyType
from typing import Any

from aegis_client import APIClient, JSONResult
from bench.measure import CURRENT_CALL, REPLAY_HEADER, CallRecord
from bench.profile import AEGIS, Profile
from bench.registry import Verdict as V

__all__ = ["REPLAY", "MeasuredSession", "PlainSession"]

REPLAY = "REPLAY"
# The answers by which a backend refuses a signed-out session's cookie.
REFUSALS = frozenset({401, 403})


@functools.cache
def _checks(profile: Profile) -> tuple[frozenset[str], Mapping[str, str]]:
    """What the checks need from a profile: its protected routes, each data route's owner.

    Derived once per profile and shared by its sessions (thousands per process).
    """
    protected = frozenset({profile.identity, profile.sign_out, *(d.route for d in profile.data)})
    return protected, MappingProxyType({d.route: d.owner_field for d in profile.data})


class MeasuredSession:
    """One user's session: its client, its credentials, its profile and its record sink.

    The verbs behave exactly like the client's; each call is timed around the verb, so a
    refresh-and-retry is part of the call's latency, as a user would feel it.
    """

    # A process holds one per simulated user: no per-instance dict.
    __slots__ = (
        "_after_sign_out",
        "_in_flight",
        "_owner_fields",
        "_protected",
        "_signed_in",
        "_sink",
        "_told_unauthorized",
        "client",
        "connections_opened",
        "last_failure",
        "password",
        "peak_in_flight",
        "profile",
        "username",
    )

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
        self._signed_in = False
        # on_unauthorized ran for the session now held (cleared by a new session).
        self._told_unauthorized = False
        self._after_sign_out = False
        # Calls of this session in progress now, and the most at once since the driver
        # last set ``peak_in_flight`` to 0 (a burst: concurrent calls of one session).
        self._in_flight = 0
        self.peak_in_flight = 0
        self.connections_opened = 0
        # Why the most recent failed call failed (a status or exception class, no secret).
        self.last_failure: str | None = None
        self._sink = sink
        self._protected, self._owner_fields = _checks(profile)

    @property
    def signed_in(self) -> bool:
        """True while the session holds a session the backend issued (as far as it knows)."""
        return self._signed_in

    @signed_in.setter
    def signed_in(self, value: bool) -> None:
        self._signed_in = value
        if value:  # a new session: losing it is news for on_unauthorized again
            self._told_unauthorized = False

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
            headers={"Cookie": f"{self.profile.cookie_name}={old_cookie}", REPLAY_HEADER: "1"},
        )
        token = CURRENT_CALL.set(record)
        started = time.perf_counter()
        try:
            response = await request
            # Refused means refused for want of a session (401, 403); any other answer
            # (a 503 from a struggling backend, say) is no verdict either way.
            accepted: bool | None = None
            if response.is_success:
                accepted = True
            elif response.status_code in REFUSALS:
                accepted = False
        except Exception as exc:  # a transport failure is no verdict either way
            if record.error is None:  # else the transport named it (truncated body: ...)
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
            record.verdict(V.REPLAY_ACCEPTED)
            record.finding(
                kind="replay_accepted",
                endpoint=self.profile.identity,
                user=self.login_name,
                got="the backend accepted the revoked session",
            )
        else:
            record.ok = True
            record.verdict(V.REPLAY_REFUSED)
        record.response = None
        self._sink(record)

    async def sign_out(self) -> str | None:
        """Sign out through the profile's route; the jar is emptied whatever happens.

        Returns the old session cookie when a replay of it would test the backend: the
        backend confirmed the sign-out, and the request carried this session's own
        cookie. Otherwise the replay is counted as skipped, with the reason, and a
        sign-out that carried another session's cookie is a client-side finding.
        """
        old_cookie = self.session_cookie()
        endpoint = self.profile.sign_out
        replayable = False

        def judge(record: CallRecord, result: JSONResult | None) -> None:
            nonlocal replayable
            if old_cookie is None:
                return
            sent = self._sent_session_cookie(record)
            # The cookie the sign-out carried is judged first, whatever the answer: a
            # sign-out the target refused can still have carried someone else's session.
            if sent is not None:
                record.verdict(V.SIGN_OUT_CHECKED)
            if sent is not None and sent != old_cookie:
                record.verdict(V.FOREIGN_SESSION)
                record.verdict(V.REPLAY_SKIPPED_FOREIGN_SESSION)
                record.finding(
                    kind="foreign_session",
                    endpoint=endpoint,
                    user=self.login_name,
                    got="another session's cookie",
                )
            elif result is None:
                record.verdict(V.REPLAY_SKIPPED_SIGN_OUT_FAILED)
            elif sent is None:  # a lost session (judged as such), not someone else's
                record.verdict(V.REPLAY_SKIPPED_NO_COOKIE)
            else:
                replayable = True

        try:
            await self._call(
                "POST", endpoint, self.client.post(endpoint), capture_cookies=True, judge=judge
            )
        finally:
            self.clear_cookies()
            self.signed_in = False
            # The next call (not the replay, which carries the old cookie on purpose)
            # is checked for the session's cookie: the invariant no_cookie_after_sign_out.
            self._after_sign_out = True
        return old_cookie if replayable else None

    def _sent_session_cookie(self, record: CallRecord) -> str | None:
        """The session cookie's value the call's first exchange carried, if any."""
        wanted = self.profile.cookie_name.encode("latin-1")
        for pair in (record.sent_cookies or b"").split(b";"):
            name, _, value = pair.strip().partition(b"=")
            if name == wanted:
                return value.decode("latin-1")
        return None

    async def _call(
        self,
        method: str,
        endpoint: str,
        call: Coroutine[Any, Any, JSONResult | None],
        *,
        capture_cookies: bool = False,
        judge: Callable[[CallRecord, JSONResult | None], None] | None = None,
    ) -> JSONResult | None:
        record = CallRecord(method, endpoint, capture_cookies=capture_cookies)
        token = CURRENT_CALL.set(record)
        self._in_flight += 1
        if self._in_flight > self.peak_in_flight:
            self.peak_in_flight = self._in_flight
        started = time.perf_counter()
        try:
            result = await call
        finally:
            record.latency_s = time.perf_counter() - started
            CURRENT_CALL.reset(token)
            self._in_flight -= 1
        record.ok = result is not None
        if result is None:
            # Labelled now, while the response is still at hand (it is dropped below).
            record.error = record.failure_message()
            self.last_failure = f"{method} {endpoint}: {record.error}"
        self._count_connections(record)
        if record.verdicts is not None:
            self._follow_lifecycle(record, record.verdicts)
        if self._after_sign_out and record.cookie_names is not None:
            self._judge_after_sign_out(record, endpoint)
        if self.signed_in and endpoint in self._protected:
            self._judge_cookie(record)
        if result is not None:
            self._judge_identity(record, endpoint, result)
        if judge is not None:
            judge(record, result)
        record.response = None  # the body is no longer needed once judged
        self._sink(record)
        return result

    def _follow_lifecycle(self, record: CallRecord, verdicts: list[str]) -> None:
        """Act on what the call did to the session: a refresh that worked gave it a new
        session; an ``on_unauthorized`` lost it, and the app signs out locally."""
        if V.ON_UNAUTHORIZED in verdicts:
            if self._told_unauthorized:
                record.verdict(V.ON_UNAUTHORIZED_AGAIN)
            self._signed_in = False
            self._told_unauthorized = True
            self.clear_cookies()
        elif V.REFRESH in verdicts and V.REFRESH_FAILED not in verdicts:
            self._told_unauthorized = False

    def _count_connections(self, record: CallRecord) -> None:
        if record.new_connections:
            if self.connections_opened == 1:  # this session's first reconnect
                record.verdict(V.RECONNECTED_SESSION)
            self.connections_opened += record.new_connections

    def _judge_after_sign_out(self, record: CallRecord, endpoint: str) -> None:
        """The first call after a sign-out must carry no session cookie (the jar was
        cleared): one that does sends a signed-out session, the client's bug."""
        self._after_sign_out = False
        record.verdict(V.AFTER_SIGN_OUT_CHECKED)
        if record.cookie_names is not None and self.profile.cookie_name in record.cookie_names:
            record.verdict(V.COOKIE_AFTER_SIGN_OUT)
            record.finding(kind="cookie_after_sign_out", endpoint=endpoint, user=self.login_name)

    def _judge_cookie(self, record: CallRecord) -> None:
        if record.cookie_names is None:
            return
        record.cookie_checked = True
        if self.profile.cookie_name not in record.cookie_names:
            record.verdict(V.LOST_SESSION)

    def _judge_identity(self, record: CallRecord, endpoint: str, result: JSONResult) -> None:
        expected = self.login_name
        if endpoint == self.profile.identity:
            if not isinstance(result, dict):
                record.verdict(V.IDENTITY_NOT_OBJECT)
            elif result.get(self.profile.identity_field) is None:
                record.verdict(V.IDENTITY_FIELD_MISSING)  # a profile error, not a leak
            else:
                self._compare(record, endpoint, expected, result[self.profile.identity_field])
            return
        owner_field = self._owner_fields.get(endpoint)
        if owner_field is None:
            return
        items = result if isinstance(result, list) else result.get("items", [])
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or item.get(owner_field) is None:
                record.verdict(V.OWNER_FIELD_MISSING)
                return
            self._compare(record, endpoint, expected, item[owner_field])
            if record.verdicts is not None and V.LEAK in record.verdicts:
                return  # one leaked record is enough to condemn the response

    def _compare(self, record: CallRecord, endpoint: str, expected: str, seen: Any) -> None:
        record.identity_checks += 1
        if seen != expected:
            record.verdict(V.LEAK)
            record.finding(kind="leak", endpoint=endpoint, user=expected, got=str(seen))


class PlainSession(MeasuredSession):
    """The same session without instrumentation: no records, no verdicts, no replay.

    Only counts its calls. It exists to measure what the instrumentation costs (run the
    bare driver with ``--plain``, its client built with ``StrategyContext(instrument=False)``).
    """

    calls = 0

    async def _call(
        self,
        method: str,
        endpoint: str,
        call: Coroutine[Any, Any, JSONResult | None],
        *,
        capture_cookies: bool = False,
        judge: Callable[[CallRecord, JSONResult | None], None] | None = None,
    ) -> JSONResult | None:
        PlainSession.calls += 1
        return await call

    async def replay(self, old_cookie: str) -> None:
        return None
