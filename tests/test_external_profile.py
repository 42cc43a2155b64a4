"""A profile-driven run against a second, real backend whose routes differ from Aegis's."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.timeout(180), pytest.mark.e2e]

PROFILE = Path(__file__).resolve().parents[1] / "scenarios" / "profiles" / "fastapi_users.toml"


@pytest.fixture(scope="module")
def fastapi_users_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """tests/fastapi_users_app.py on uvicorn, on a socket bound to a free loopback port."""
    database = tmp_path_factory.mktemp("fastapi-users") / "users.db"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tests.fastapi_users_app:app", "--fd",
         str(listener.fileno()), "--log-level", "warning", "--no-access-log",
         # Hashing requests still queued at the end are dropped, not awaited for seconds.
         "--timeout-graceful-shutdown", "1"],
        pass_fds=[listener.fileno()],
        env={"AEGIS_FASTAPI_USERS_DB": str(database), "PATH": "", "PYTHONPATH": "."},
        cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    listener.close()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/users/me", trust_env=False).status_code == 401:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the fastapi-users backend did not start")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:  # uvicorn still waiting on hashing requests
            server.kill()
            server.wait(timeout=20)


def test_profile_run_against_fastapi_users(fastapi_users_backend: str, tmp_path: Path) -> None:
    """Routes come from the profile; client-side checks run, the oracle is reported missing."""
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--host", fastapi_users_backend,
         "--profile", str(PROFILE), "--users", "4", "--spawn-rate", "4",
         "--duration", "4s", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=170,
    )  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert result.returncode == 0, result.stderr[-3000:]
    assert summary["profile"] == "fastapi_users"
    assert summary["failures"] == 0
    assert "GET /users/me" in summary["endpoints"]
    assert "GET /items" in summary["endpoints"]
    isolation = summary["isolation"]
    assert isolation["server_oracle"] == "unavailable"
    assert isolation["server_side_leaks"] is None
    assert isolation["checked"] > 0
    assert isolation["client_side_leaks"] == 0
    assert "no server-side oracle" in result.stdout
    assert summary["connections"]["client_opened"] >= 4


def test_slow_sign_ins_are_retried_and_reported(fastapi_users_backend: str, tmp_path: Path) -> None:
    """Sign-ins that time out are retried with backoff; no user browses without a session."""
    out = tmp_path / "run"
    # 40 argon2 registrations at once on a 1 s client timeout: many time out (the lone
    # preflight user, hashing alone, does not).
    result = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--host", fastapi_users_backend,
         "--profile", str(PROFILE), "--users", "40", "--spawn-rate", "40",
         "--timeout", "1", "--duration", "8s", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=170,
    )  # fmt: skip
    assert (out / "summary.json").is_file(), result.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    failures = summary["users_without_session"]["sign_in_failures"]
    assert any("ReadTimeout" in reason for reason in failures), result.stdout[-2000:]
    assert "failed sign-ins" in result.stdout
    # Users without a session ran no task: no protected call went out unauthenticated.
    me = summary["endpoints"].get("GET /users/me", {"failure_reasons": {}})
    assert "HTTP 401" not in me["failure_reasons"]
    assert summary["isolation"]["lost_sessions"] == 0
