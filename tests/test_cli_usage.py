"""aegis-bench's usage errors: exit code 2, one clear line, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli._args import duration


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--users", "0"], "must be at least 1"),
        (["run", "--users", "many"], "is not a whole number"),
        (["run", "--duration", "soon"], "invalid duration"),
        (["run", "--duration", "0s"], "longer than zero"),
        (["run", "--spawn-rate", "-1"], "greater than zero"),
        (["run", "--host", "ftp://example"], "is not a base URL"),
        (["run", "--strategy", "telepathy"], "unknown strategy 'telepathy'"),
        (["run", "--think-time", "3-1"], "think time"),
        (["run", "--scenario", "no/such/file.py"], "not found"),
        (["run", "--users", "100000"], "open files"),
        (["run", "--keepalive", "45"], "below the embedded target"),
        (["run", "--crosswire-rate", "2"], "between 0 and 1"),
        (["serve", "--bind", "10.0.0.1"], "not a loopback address"),
        (["fly"], "invalid choice"),
    ],
    ids=[
        "zero-users",
        "word-users",
        "bad-duration",
        "zero-duration",
        "negative-rate",
        "bad-host",
        "unknown-strategy",
        "bad-think-time",
        "missing-scenario",
        "too-many-users",
        "keepalive-above-server",
        "crosswire-out-of-range",
        "non-loopback-bind",
        "unknown-command",
    ],
)
def test_usage_error_exits_2_with_a_clear_message(
    args: list[str], expected: str, tmp_path: Path
) -> None:
    """Each bad option exits 2 and names the problem without a traceback."""
    result = run_cli(*args, "--out", str(tmp_path / "out")) if args[0] == "run" else run_cli(*args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90.0), ("30s", 30.0), ("2m", 120.0), ("1h30m", 5400.0)]
)
def test_durations_accept_locust_forms(text: str, seconds: float) -> None:
    """Durations read like Locust's --run-time."""
    assert duration(text) == seconds


def test_a_bad_profile_is_a_usage_error(tmp_path: Path) -> None:
    """A profile with an unknown key exits 2 naming the key."""
    profile = tmp_path / "bad.toml"
    profile.write_text('identity = "/me"\nidentiy_field = "name"\n')
    result = run_cli("run", "--profile", str(profile), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "identiy_field" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_thresholds_file_is_a_usage_error(tmp_path: Path) -> None:
    """ci refuses a thresholds file it cannot read, before running anything."""
    result = run_cli("ci", "--thresholds", str(tmp_path / "missing.toml"))
    assert result.returncode == 2
    assert "cannot read thresholds" in result.stderr
