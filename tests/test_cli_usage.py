"""aegis-bench's usage errors: exit code 2, one clear line, no traceback.

The CLI runs in this process (``bench.cli.main``): a usage error is found before any
target or Locust starts, so nothing here imports Locust or loads the machine.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from bench.cli import main
from bench.cli._parser import build_parser, settings_of
from bench.options import BURSTS
from bench.options._values import duration


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``aegis-bench ARGS`` in this process: its exit code and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    before = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(before)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


# Files each usage-error case finds in its folder ({tmp}): a file in --out's way, bad
# profiles and a bad thresholds file. Whatever else appears there, the tool created.
FILES = {
    "file": "not a folder\n",
    "no-identity-field.toml": (
        'cookie_name = "sid"\nsign_in = "/login"\nregister = "/register"\n'
        'sign_out = "/logout"\nrefresh = ""\nidentity = "/me"\n'
    ),
    "unknown-key.toml": 'identity = "/me"\ncolour = "red"\n',
    "template-nope.toml": (
        'cookie_name = "sid"\nsign_in = "/login"\nregister = "/register"\n'
        'sign_out = "/logout"\nrefresh = ""\nidentity = "/me"\nidentity_field = "name"\n'
        'username_template = "{name}-{nope}"\n'
    ),
    "thresholds.toml": "max_leaks = 0\ncolour = 1\n",
    "latin1.toml": 'identity = "/m\u00e9"\n',  # written below as Latin-1, not UTF-8
    "raises.py": "import bench.locust_adapter\nraise RuntimeError('no users today')\n",
    "imports.py": "import nowhere\n",
    "syntax.py": "def broken(:\n",
    "nousers.py": "from bench.locust_adapter import AegisUser\n",
}
LOAD_COMMANDS = ("run", "compare", "ci", "ui")
# A usage error is found before anything starts: the preflight of a dead --host included.
USAGE_ERROR_WITHIN_S = 10.0


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
        (["run", "--crosswire-rate", "2"], "between 0 and 1"),
        (["serve", "--bind", "10.0.0.1"], "not a loopback address"),
        (["fly"], "invalid choice"),
        (["run", "--out", "{tmp}/file"], "is a file: give a folder"),
        (["run", "--out", "/proc/aegis-x"], "is under /proc, a kernel file system"),
        (["run", "--out", "{tmp}/file/sub"], "is a file, so the folder cannot be made"),
        pytest.param(
            ["run", "--processes", "64"],
            "is far more than this machine's",
            marks=pytest.mark.skipif(
                4 * (os.cpu_count() or 1) >= 64, reason="64 processes fit this machine's cores"
            ),
        ),
        (["run", "--users", "1", "--processes", "2"], "cannot be spread over --processes 2"),
        (["run", "--timeout", "0"], "'0' must be greater than zero"),
        (["run", "--profile", "{tmp}/absent.toml"], "cannot read profile"),
        (["run", "--profile", "{tmp}/no-identity-field.toml"], "missing identity_field"),
        (["run", "--profile", "{tmp}/unknown-key.toml"], "unknown profile keys colour"),
        (["run", "--profile", "{tmp}/template-nope.toml"], "names the unknown field 'nope'"),
        (["serve", "--port", "70000"], "is not a TCP port"),
        (["ci", "--max-leaks", "-1"], "must be 0 or more"),
        (["compare", "--strategies", "pooled"], "nothing to compare: give two or more"),
        (["compare", "--transports", "aiohttp"], "nothing to compare: give two or more"),
        (["compare", "--transports", "httpcore,curl"], "unknown 'curl': choose from httpcore"),
        (["ci", "--strategies", "pooled,pooled"], "give different names, comma-separated"),
        (["run", "--transport", "curl"], "invalid choice: 'curl'"),
        (["run", "--count-connections", "sometimes"], "invalid choice: 'sometimes'"),
        (["run", "--host", "http://127.0.0.1:1"], "does not answer"),
        (["ci", "--thresholds", "{tmp}/thresholds.toml"], "unknown thresholds keys colour"),
        (["run", "--profile", "{tmp}/latin1.toml"], "is not UTF-8 text"),
        (["run", "--timeout", "inf"], "is not a finite number"),
        (["run", "--think-time", "nan"], "must be finite seconds"),
        (["run", "--processes", "lots"], "is neither a whole number >= 1 nor 'auto'"),
        (["run", "--warmup", "-1"], "'-1' must be zero or more"),
        (["run", "--rate", "0"], "'0' must be greater than zero"),
        (["compare", "--repeat", "0"], "must be at least 1"),
        (["ui", "--web-port", "70000"], "is not a TCP port"),
        (["ui", "--web-port", "{taken}"], "is not free"),
        (["run", "--fault-5xx", "2"], "between 0 and 1"),
        (["run", "--refresh-outage", "soon"], "is not START+LENGTH in seconds"),
        (["run", "--fault-5xx", "0.6", "--fault-reset", "0.6"], "together at most 1"),
        (["run", "--host", "http://127.0.0.1:1", "--fault-slow", "0.1"], "drop --host"),
        (["serve", "--expire-every", "0"], "'0' must be greater than zero"),
        (["run", "--churn", "2"], "between 0 and 1"),
        (["run", "--host", "http://127.0.0.1:1", "--restart-target-at", "5"], "drop --host"),
        (["run", "--duration", "10s", "--restart-target-at", "10"], "must fall within"),
        (["ui", "--restart-target-at", "5"], "is for run, compare and ci"),
        (["run", "--host", "http://ann:secret@127.0.0.1:1"], "user name or password"),
        (["run", "--host", "http://127.0.0.1:1/?x=1"], "with a query or fragment is not a base"),
        (["run", "--host", "http://127.0.0.1:1/#top"], "with a query or fragment is not a base"),
        (
            ["run", "--scenario", "{tmp}/raises.py"],
            "RuntimeError: no users today (raises.py, line 2)",
        ),
        (
            ["run", "--scenario", "{tmp}/imports.py"],
            "ModuleNotFoundError: No module named 'nowhere'",
        ),
        (["run", "--scenario", "{tmp}/syntax.py"], "SyntaxError: "),
        (["run", "--scenario", "{tmp}/nousers.py"], "defines no Locust user class"),
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
        "crosswire-out-of-range",
        "non-loopback-bind",
        "unknown-command",
        "out-is-a-file",
        "out-under-proc",
        "out-under-a-file",
        "processes-beyond-cores",
        "fewer-users-than-processes",
        "zero-timeout",
        "profile-missing-file",
        "profile-without-identity-field",
        "profile-unknown-key",
        "profile-template-unknown-field",
        "port-out-of-range",
        "negative-max-leaks",
        "one-strategy-to-compare",
        "one-transport-to-compare",
        "unknown-transport-to-compare",
        "a-strategy-twice",
        "unknown-transport",
        "unknown-counting-mode",
        "dead-host-preflight",
        "thresholds-unknown-key",
        "profile-not-utf8",
        "infinite-timeout",
        "nan-think-time",
        "word-processes",
        "negative-warmup",
        "zero-rate",
        "zero-repetitions",
        "ui-port-out-of-range",
        "ui-port-taken",
        "fault-rate-above-one",
        "bad-refresh-outage",
        "fault-rates-sum-above-one",
        "faults-with-host",
        "zero-expire-every",
        "churn-above-one",
        "restart-with-host",
        "restart-after-the-end",
        "restart-in-ui",
        "host-with-credentials",
        "host-with-query",
        "host-with-fragment",
        "scenario-raises",
        "scenario-import-fails",
        "scenario-syntax-error",
        "scenario-without-users",
    ],
)
def test_usage_error_exits_2_with_a_clear_message(
    args: list[str], expected: str, tmp_path: Path
) -> None:
    """Each bad option exits 2 and names the problem in one line, creating nothing."""
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="latin-1" if "latin1" in name else "utf-8")
    before = sorted(tmp_path.rglob("*"))
    taken = socket.socket()  # a port something else listens on
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = str(taken.getsockname()[1])
    args = [arg.replace("{tmp}", str(tmp_path)).replace("{taken}", port) for arg in args]
    if args[0] in LOAD_COMMANDS and "--out" not in args:
        args += ["--out", str(tmp_path / "out")]
    started = time.monotonic()
    with taken:
        result = run_cli(*args, cwd=tmp_path)  # a default results/ folder would land here
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()  # one line, not the whole usage block
    assert line.startswith("aegis-bench")
    assert "error:" in line
    assert line.endswith("--help)")
    assert not (tmp_path / "out").exists()
    assert sorted(tmp_path.rglob("*")) == before
    assert elapsed < USAGE_ERROR_WITHIN_S


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


@pytest.mark.parametrize(
    ("options", "bursts"),
    [([], 0.0), (["--expire-every", "8s"], 0.05), (["--expire-every", "8s", "--bursts", "0"], 0.0),
     (["--bursts", "0.2"], 0.2)],
)  # fmt: skip
def test_expiry_storms_bring_bursts_unless_told_otherwise(
    options: list[str], bursts: float
) -> None:
    """With --expire-every, 5% of tasks are bursts (single flight can then be checked)."""
    assert settings_of(build_parser().parse_args(["run", *options]))[BURSTS] == bursts
