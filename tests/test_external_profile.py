"""A profile-driven run against a second, real backend whose routes differ from Aegis's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(180), pytest.mark.e2e]

PROFILE = Path(__file__).resolve().parents[1] / "scenarios" / "profiles" / "fastapi_users.toml"


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
