"""The preflight (one throwaway user before a run) and reading the target's instruments.

Each bad target or profile must stop the preflight with a message naming what to fix;
``server_stats`` must tell every way of not getting the counters apart, never raise.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.backend import TargetProcess
from bench.measure import CallRecord, server_stats
from bench.preflight import PreflightError, preflight
from bench.profile import AEGIS, REQUIRED_KEYS, Profile, load_profile

pytestmark = pytest.mark.timeout(60)

DEAD = "http://127.0.0.1:1"  # nothing listens on port 1 of loopback
STATS = "/_bench/stats"

# AEGIS's routes, as a profile file must spell them (every required key set).
AEGIS_KEYS = {
    "cookie_name": AEGIS.cookie_name,
    "sign_in": AEGIS.sign_in,
    "register": AEGIS.register,
    "sign_out": AEGIS.sign_out,
    "refresh": AEGIS.refresh,
    "identity": AEGIS.identity,
    "identity_field": AEGIS.identity_field,
}


def profile_file(tmp_path: Path, data_route: str = AEGIS.data[0].route, **changes: str) -> Profile:
    """A complete profile file for the reference backend with ``changes``, loaded."""
    keys = {**AEGIS_KEYS, **changes}
    assert set(keys) == set(REQUIRED_KEYS)
    lines = [f'{key} = "{value}"' for key, value in keys.items()]
    lines += ["", "[[data]]", f'route = "{data_route}"', 'owner_field = "owner"']
    path = tmp_path / "target.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_profile(path)


def test_preflight_passes_on_the_reference_backend(target: TargetProcess) -> None:
    """The default profile passes against the reference backend and returns the records."""
    records = preflight(target.url, AEGIS, timeout_s=5.0)
    assert records
    assert all(isinstance(record, CallRecord) for record in records)
    assert sum(record.identity_checks for record in records) >= 1
    assert not any("leak" in (record.verdicts or ()) for record in records)


def test_a_profile_file_matching_the_backend_passes(target: TargetProcess, tmp_path: Path) -> None:
    """A profile file spelling out Aegis's routes passes too (the control for the cases below)."""
    assert preflight(target.url, profile_file(tmp_path), timeout_s=5.0)


def test_a_dead_target_does_not_answer() -> None:
    """Nothing listening: the preflight says the target does not answer, naming the error."""
    with pytest.raises(PreflightError, match="does not answer") as caught:
        preflight(DEAD, AEGIS, timeout_s=5.0)
    assert "ConnectError" in str(caught.value)
    assert DEAD in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "expected", "hint"),
    [
        ({"identity_field": "login"}, "answered no field 'login'", "set identity_field"),
        ({"cookie_name": "sid"}, "no 'sid' cookie", "set cookie_name"),
        (
            {"identity": AEGIS.data[0].route, "data_route": AEGIS.identity},
            "answered a JSON list, not an object",
            "set identity in the profile",
        ),
        (
            {"sign_out": "/api/v1/auth/leave"},
            "did not confirm signing out through /api/v1/auth/leave",
            "set sign_out",
        ),
    ],
    ids=[
        "wrong-identity-field",
        "wrong-cookie-name",
        "identity-and-data-swapped",
        "wrong-sign-out",
    ],
)
def test_a_profile_that_does_not_fit_names_the_problem(
    target: TargetProcess, tmp_path: Path, changes: dict[str, str], expected: str, hint: str
) -> None:
    """A profile whose field, cookie or identity route is wrong fails with what to set."""
    profile = profile_file(tmp_path, **changes)
    with pytest.raises(PreflightError) as caught:
        preflight(target.url, profile, timeout_s=5.0)
    assert expected in str(caught.value)
    assert hint in str(caught.value)


# -- server_stats -----------------------------------------------------------------------


class JunkStats(BaseHTTPRequestHandler):
    """Answers every GET with JSON that lacks the counters the summary reads."""

    def do_GET(self) -> None:
        body = b'{"oracle": "junk", "connections": 3}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return  # keep the test output quiet


@pytest.fixture
def junk_server() -> Iterator[str]:
    """A loopback HTTP server whose /_bench/stats is junk."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), JunkStats)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_server_stats_reports_a_malformed_answer(junk_server: str) -> None:
    """Junk JSON from /_bench/stats is "malformed answer ...", with no data."""
    stats = server_stats(junk_server, STATS)
    assert stats.state.startswith("malformed answer")
    assert "'oracle'" in stats.state
    assert stats.data is None


def test_server_stats_of_the_reference_backend_is_available(target: TargetProcess) -> None:
    """The reference backend's counters are "available", with the sections the summary reads."""
    stats = server_stats(target.url, STATS)
    assert stats.state == "available"
    assert stats.data is not None
    assert {"oracle", "connections"} <= set(stats.data)


def test_server_stats_of_a_dead_port_is_no_answer() -> None:
    """Nothing listening: "no answer: ConnectError", never an exception."""
    stats = server_stats(DEAD, STATS)
    assert stats.state == "no answer: ConnectError"
    assert stats.data is None
