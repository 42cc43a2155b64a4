"""Client-side judging and attribution: verdicts, failure labels and the isolation summary.

Every backend here is an ``httpx.MockTransport`` under the bench's own measuring transport
(``StrategyContext(make_inner_transport=...)``), so no test touches the network.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from aegis_client import APIClient
from bench.measure import REPLAY_HEADER, CallRecord, InstrumentedTransport, Recorder
from bench.profile import AEGIS
from bench.session import REPLAY, MeasuredSession
from bench.steps import browse_data, browse_identity, end_session, start_session
from bench.strategies import StrategyContext
from tests._helpers import summary_of

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]

BASE = "http://aegis.test"
ME = AEGIS.identity
PROJECTS = AEGIS.data[0].route
LOGOUT = AEGIS.sign_out
REGISTER = AEGIS.register
COOKIE = AEGIS.cookie_name

Handler = Callable[[httpx.Request], httpx.Response]


def session_on(
    handler: Handler, records: list[CallRecord], username: str = "alice"
) -> MeasuredSession:
    """A measured session whose client talks to ``handler`` through the bench's transport."""
    context = StrategyContext(BASE, make_inner_transport=lambda: httpx.MockTransport(handler))
    return MeasuredSession(context.api_client(), username, "pw", records.append)


def summarize(records: list[CallRecord], **options: Any) -> dict[str, Any]:
    """The ``isolation`` section ``build_summary`` makes of these records."""
    isolation: dict[str, Any] = summary_of(records, BASE, **options)["isolation"]
    return isolation


def verdicts(records: list[CallRecord]) -> list[str]:
    return [name for record in records for name in record.verdicts or ()]


class CookieBackend:
    """A small Aegis: registration signs in with a cookie, logout revokes it.

    ``logout_status`` is what logout answers; ``accept_revoked`` makes the identity
    route accept a signed-out session's cookie (a backend that keeps revoked sessions).
    """

    def __init__(self, *, logout_status: int = 200, accept_revoked: bool = False) -> None:
        self.logout_status = logout_status
        self.accept_revoked = accept_revoked
        self.sessions: dict[str, str] = {}  # cookie value -> user
        self.revoked: set[str] = set()
        self.logout_cookies: list[str | None] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        sent = _cookie_value(request)
        if path == REGISTER:
            user = json.loads(request.content)["username"]
            value = f"cookie-of-{user}"
            self.sessions[value] = user
            return httpx.Response(
                201, json={"username": user}, headers={"set-cookie": f"{COOKIE}={value}; Path=/"}
            )
        if path == LOGOUT:
            self.logout_cookies.append(sent)
            if sent not in self.sessions:
                return httpx.Response(401, json={"detail": "not authenticated"})
            if self.logout_status != 200:
                return httpx.Response(self.logout_status)
            self.revoked.add(sent)
            return httpx.Response(200, json={"signed_out": True})
        live = sent in self.sessions and (sent not in self.revoked or self.accept_revoked)
        if not live or sent is None:  # no session, or a revoked one
            return httpx.Response(401, json={"detail": "not authenticated"})
        user = self.sessions[sent]
        if path == ME:
            return httpx.Response(200, json={"username": user})
        if path == PROJECTS:
            return httpx.Response(200, json=[{"id": 1, "owner": user}])
        return httpx.Response(404)


def _cookie_value(request: httpx.Request) -> str | None:
    """The session cookie's value the request carried (first one in its Cookie header)."""
    for pair in request.headers.get("cookie", "").split(";"):
        name, _, value = pair.strip().partition("=")
        if name == COOKIE:
            return value
    return None


# -- identity answers -------------------------------------------------------------------


async def test_identity_answer_without_the_field_is_unjudged_not_a_leak() -> None:
    """An identity answer lacking the profile's identity field counts identity_field_missing."""
    records: list[CallRecord] = []
    session = session_on(lambda request: httpx.Response(200, json={"name": "bob"}), records)
    answer = await session.get(ME)
    await session.client.aclose()
    assert answer == {"name": "bob"}
    assert records[0].verdicts == ["identity_field_missing"]
    assert records[0].identity_checks == 0
    assert records[0].findings is None


async def test_a_backend_answering_ok_to_everything_is_not_checked() -> None:
    """{"ok": true} everywhere: no leak, 0 identity checks, verdict "not checked" naming why."""
    records: list[CallRecord] = []
    session = session_on(lambda request: httpx.Response(200, json={"ok": True}), records)
    assert await start_session(session)
    await browse_identity(session)
    await browse_data(session)
    await end_session(session)
    await session.client.aclose()
    assert sum(record.identity_checks for record in records) == 0
    assert "leak" not in verdicts(records)
    isolation = summarize(records)
    assert isolation["verdict"] == "not checked"
    assert isolation["client_side_leaks"] == 0
    assert isolation["checks"]["identity_client"] == {"ran": 0, "failed": 0}
    assert ME in isolation["reason"]
    assert "'username'" in isolation["reason"]
    assert isolation["unjudged_answers"]["identity_field_missing"] == 1


async def test_an_identity_answer_naming_another_user_is_a_leak() -> None:
    """/me naming someone else is a leak, and build_summary's verdict says "leak"."""
    records: list[CallRecord] = []
    session = session_on(lambda request: httpx.Response(200, json={"username": "bob"}), records)
    await session.get(ME)
    await session.client.aclose()
    assert records[0].verdicts == ["leak"]
    assert records[0].findings == [{"kind": "leak", "endpoint": ME, "user": "alice", "got": "bob"}]
    isolation = summarize(records)
    assert isolation["verdict"] == "leak"
    assert isolation["client_side_leaks"] == 1
    assert "1 client-side leaks" in isolation["reason"]
    assert isolation["examples"][0]["got"] == "bob"


async def test_a_record_owned_by_another_user_is_a_leak() -> None:
    """A data route returning someone else's record is a leak on that route."""
    records: list[CallRecord] = []
    owners = [{"owner": "alice"}, {"owner": "bob"}]
    session = session_on(lambda request: httpx.Response(200, json=owners), records)
    await session.get(PROJECTS)
    await session.client.aclose()
    assert records[0].identity_checks == 2
    assert records[0].verdicts == ["leak"]
    assert summarize(records)["verdict"] == "leak"


# -- sign-out and replay ----------------------------------------------------------------


async def test_a_refused_sign_out_skips_the_replay() -> None:
    """A sign-out the backend answered 401 counts replay_skipped_sign_out_failed, no replay."""
    backend = CookieBackend(logout_status=401)
    records: list[CallRecord] = []
    session = session_on(backend.handle, records)
    assert await start_session(session)
    await end_session(session)
    await session.client.aclose()
    assert backend.logout_cookies == ["cookie-of-alice"]
    assert REPLAY not in {record.method for record in records}
    assert verdicts(records).count("replay_skipped_sign_out_failed") == 1
    assert verdicts(records).count("sign_out_checked") == 1  # its cookie was compared
    assert "foreign_session" not in verdicts(records)
    assert session.session_cookie() is None  # the jar is emptied all the same
    replay = summarize(records)["checks"]["replay"]
    assert replay == {
        "ran": 0,
        "failed": 0,
        "skipped": {"sign_out_failed": 1, "foreign_session": 0, "no_cookie": 0},
    }


async def test_a_confirmed_own_sign_out_is_replayed_and_refused() -> None:
    """A confirmed sign-out carrying the session's own cookie leads to one refused replay."""
    backend = CookieBackend()
    records: list[CallRecord] = []
    session = session_on(backend.handle, records)
    assert await start_session(session)
    await end_session(session)
    await session.client.aclose()
    replays = [record for record in records if record.method == REPLAY]
    assert len(replays) == 1
    assert replays[0].verdicts is not None
    assert "replay_refused" in replays[0].verdicts
    assert "replay_accepted" not in replays[0].verdicts
    assert replays[0].ok
    assert summary_of(records, BASE)["lifecycle"]["unauthorized"] == 0  # a refusal, not expiry
    assert "foreign_session" not in verdicts(records)
    checks = summarize(records)["checks"]
    assert checks["replay"]["ran"] == 1
    assert checks["replay"]["failed"] == 0
    assert checks["sign_out_cookie"] == {"ran": 1, "failed": 0}


async def test_a_backend_accepting_the_replay_is_a_leak() -> None:
    """A backend that still honours the signed-out cookie gives replay_accepted and "leak"."""
    backend = CookieBackend(accept_revoked=True)
    records: list[CallRecord] = []
    session = session_on(backend.handle, records)
    assert await start_session(session)
    await end_session(session)
    await session.client.aclose()
    replay = next(record for record in records if record.method == REPLAY)
    assert replay.verdicts == ["replay_accepted"]
    assert replay.failure_message() == "replay accepted"
    isolation = summarize(records)
    assert isolation["verdict"] == "leak"
    assert isolation["replay_accepted"] == 1


async def test_a_replay_answered_503_is_a_failure_and_no_verdict() -> None:
    """A replay the backend answers 503 proves nothing: a failed call, neither refused
    nor accepted, and the replay check does not count it as run."""
    backend = CookieBackend()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.headers.get(REPLAY_HEADER):
            return httpx.Response(503, json={"detail": "busy"})
        return backend.handle(request)

    records: list[CallRecord] = []
    session = session_on(handle, records)
    assert await start_session(session)
    await end_session(session)
    await session.client.aclose()
    replay = next(record for record in records if record.method == REPLAY)
    assert replay.verdicts is None
    assert not replay.ok
    assert replay.failure_message() == "HTTP 503"
    assert summarize(records)["checks"]["replay"]["ran"] == 0


class SwapCookieOnSignOut(httpx.AsyncBaseTransport):
    """Sits above the measuring transport and makes the sign-out carry another session.

    This is what a client that mixes up sessions does: the request goes out with a
    cookie that is not the one this session's jar held.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, foreign: str | None) -> None:
        self._inner = inner
        self._foreign = foreign  # None: the sign-out goes out with no cookie at all

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == LOGOUT:
            if self._foreign is None:
                del request.headers["cookie"]
            else:
                request.headers["cookie"] = f"{COOKIE}={self._foreign}"
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_a_sign_out_carrying_another_session_is_a_foreign_session() -> None:
    """A sign-out sent with bob's cookie is a foreign_session finding and is not replayed."""
    backend = CookieBackend()
    backend.sessions["cookie-of-bob"] = "bob"
    measured = InstrumentedTransport(httpx.MockTransport(backend.handle))
    client = APIClient(BASE, transport=SwapCookieOnSignOut(measured, "cookie-of-bob"))
    records: list[CallRecord] = []
    session = MeasuredSession(client, "alice", "pw", records.append)
    assert await start_session(session)
    assert session.session_cookie() == "cookie-of-alice"
    await end_session(session)
    await client.aclose()
    assert backend.logout_cookies == ["cookie-of-bob"]  # the backend confirmed bob's sign-out
    sign_out = next(record for record in records if record.endpoint == LOGOUT)
    assert sign_out.ok
    assert set(sign_out.verdicts or ()) >= {"foreign_session", "replay_skipped_foreign_session"}
    assert sign_out.findings == [
        {
            "kind": "foreign_session",
            "endpoint": LOGOUT,
            "user": "alice",
            "got": "another session's cookie",
        }
    ]
    assert REPLAY not in {record.method for record in records}
    isolation = summarize(records)
    assert isolation["verdict"] == "leak"
    assert isolation["foreign_sessions"] == 1
    assert isolation["checks"]["replay"]["skipped"] == {
        "sign_out_failed": 0,
        "foreign_session": 1,
        "no_cookie": 0,
    }
    assert "cookie-of" not in json.dumps(isolation)  # no session secret in the summary


async def test_a_refused_sign_out_carrying_another_session_is_a_foreign_session() -> None:
    """The sign-out's cookie is compared before its answer is looked at: a sign-out the
    target refused that carried bob's cookie is still a foreign_session (and a leak)."""
    backend = CookieBackend(logout_status=401)
    backend.sessions["cookie-of-bob"] = "bob"
    measured = InstrumentedTransport(httpx.MockTransport(backend.handle))
    client = APIClient(BASE, transport=SwapCookieOnSignOut(measured, "cookie-of-bob"))
    records: list[CallRecord] = []
    session = MeasuredSession(client, "alice", "pw", records.append)
    assert await start_session(session)
    await end_session(session)
    await client.aclose()
    sign_out = next(record for record in records if record.endpoint == LOGOUT)
    assert not sign_out.ok
    assert set(sign_out.verdicts or ()) >= {"foreign_session", "replay_skipped_foreign_session"}
    isolation = summarize(records)
    assert isolation["foreign_sessions"] == 1
    assert isolation["checks"]["sign_out_cookie"] == {"ran": 1, "failed": 1}


async def test_a_sign_out_without_a_cookie_is_a_lost_session_not_a_foreign_one() -> None:
    """A confirmed sign-out that carried no cookie is a lost session; no leak, no replay."""
    backend = CookieBackend()

    def lenient(request: httpx.Request) -> httpx.Response:  # many logouts 2xx regardless
        if request.url.path == LOGOUT and "cookie" not in request.headers:
            return httpx.Response(200, json={"signed_out": True})
        return backend.handle(request)

    measured = InstrumentedTransport(httpx.MockTransport(lenient))
    client = APIClient(BASE, transport=SwapCookieOnSignOut(measured, None))
    records: list[CallRecord] = []
    session = MeasuredSession(client, "alice", "pw", records.append)
    assert await start_session(session)
    await end_session(session)
    await client.aclose()
    sign_out = next(record for record in records if record.endpoint == LOGOUT)
    assert set(sign_out.verdicts or ()) >= {"lost_session", "replay_skipped_no_cookie"}
    assert "foreign_session" not in (sign_out.verdicts or ())
    assert REPLAY not in {record.method for record in records}
    isolation = summarize(records)
    assert isolation["foreign_sessions"] == 0
    assert isolation["checks"]["replay"]["skipped"]["no_cookie"] == 1


# -- failure labels ---------------------------------------------------------------------


REFUSED_ANSWERS = pytest.mark.parametrize(
    ("response", "label"),
    [
        (httpx.Response(200, text="<html>hello</html>"), "HTTP 200, body not JSON"),
        (httpx.Response(200, text="42"), "HTTP 200, JSON neither object nor array"),
        (httpx.Response(503, text="busy"), "HTTP 503"),
    ],
    ids=["html", "json-number", "status"],
)


@REFUSED_ANSWERS
async def test_a_refused_answer_is_labelled_with_why(response: httpx.Response, label: str) -> None:
    """A failed call's label says what was wrong with the answer, not just its status."""
    records: list[CallRecord] = []
    session = session_on(lambda request: response, records)
    assert await session.get(PROJECTS) is None
    await session.client.aclose()
    assert not records[0].ok
    assert records[0].status == response.status_code
    assert session.last_failure == f"GET {PROJECTS}: {label}"


@REFUSED_ANSWERS
async def test_the_recorder_counts_a_refused_answer_under_its_label(
    response: httpx.Response, label: str
) -> None:
    """The recorder (summary.json's failure_reasons) counts the same label the session saw."""
    recorder = Recorder()
    context = StrategyContext(BASE, make_inner_transport=lambda: httpx.MockTransport(
        lambda request: response))  # fmt: skip
    session = MeasuredSession(context.api_client(), "alice", "pw", recorder.record)
    assert await session.get(PROJECTS) is None
    await session.client.aclose()
    assert recorder.endpoints[f"GET {PROJECTS}"].failure_reasons == {label: 1}


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ReadTimeout, ConnectionResetError])
async def test_a_transport_exception_is_labelled_with_its_class(error: type[Exception]) -> None:
    """A call whose exchange raised is labelled with the exception's class name only."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise error("secret-detail")

    records: list[CallRecord] = []
    session = session_on(handler, records)
    assert await session.get(PROJECTS) is None
    await session.client.aclose()
    assert records[0].failure_message() == error.__name__
    assert records[0].status is None


# -- build_summary's isolation verdict ------------------------------------------------------


def checked_records(checks: int = 3) -> list[CallRecord]:
    """Calls that each made one identity comparison, all matching."""
    return [
        CallRecord("GET", ME, ok=True, status=200, http_requests=1, identity_checks=1)
        for _ in range(checks)
    ]


def oracle_stats(checked: int = 3) -> dict[str, Any]:
    """``/_bench/stats`` as the reference backend answers it, every check passing."""
    return {
        "boot_id": "b00t",
        "oracle": {
            "declared": checked,
            "checked": checked,
            "mismatches": 0,
            "no_cookie": 0,
            "examples": [],
        },
        "connections": {
            "accepted": 1,
            "multi_user": 0,
            "multi_user_examples": [],
            "users_multi_connection": 0,
        },
        "faults": {"crosswired": 0},
    }


def test_an_oracle_that_restarted_means_not_checked() -> None:
    """Oracle expected, but the target restarted: "not checked", naming the restart."""
    state = "restarted during the run: boot id changed"
    isolation = summarize(
        checked_records(), server=oracle_stats(), server_state=state, oracle_expected=True
    )
    assert isolation["verdict"] == "not checked"
    assert state in isolation["reason"]
    assert isolation["server_oracle"] == state
    assert isolation["server_side_leaks"] is None


def test_an_available_oracle_and_passing_checks_is_isolated() -> None:
    """Oracle available, client checks > 0 and no failure: "isolated"."""
    isolation = summarize(
        checked_records(3),
        server=oracle_stats(5),
        server_state="available",
        oracle_expected=True,
    )
    assert isolation["verdict"] == "isolated"
    assert isolation["failed"] is False
    assert isolation["reason"] == "3 identity checks, 5 server-side checks, none failed"


def test_every_isolation_check_reports_how_many_times_it_ran() -> None:
    """Each entry of isolation["checks"] carries a "ran" count (and a "failed" one)."""
    isolation = summarize(
        checked_records(3), server=oracle_stats(5), server_state="available", oracle_expected=True
    )
    checks = isolation["checks"]
    assert set(checks) == {
        "identity_client",
        "session_cookie",
        "sign_out_cookie",
        "replay",
        "identity_server",
        "connections_server",
    }
    for name, check in checks.items():
        assert isinstance(check["ran"], int), name
        assert isinstance(check["failed"], int), name
    assert checks["identity_client"]["ran"] == 3
    assert checks["identity_server"]["ran"] == 5
    assert checks["connections_server"]["ran"] == 1


def test_without_an_oracle_the_server_checks_report_none() -> None:
    """A target without an oracle: the server-side checks say None (not 0), verdict isolated."""
    isolation = summarize(checked_records(2))
    assert isolation["verdict"] == "isolated"
    assert isolation["checks"]["identity_server"] == {"ran": None, "failed": None}
    assert isolation["server_oracle"] == "unavailable"
    assert "client side only" in isolation["reason"]
