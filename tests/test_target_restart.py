"""A target that restarts mid-run: the server-side verdict says it saw only part of the run."""

from __future__ import annotations

import json
import queue
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from bench.backend import TargetConfig, TargetProcess
from bench.measure import merge_readings
from tests._helpers import bench_run

pytestmark = pytest.mark.timeout(150)

PROGRESS = re.compile(r"requests\s+([\d,]+)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_requests(lines: queue.Queue[str], timeout_s: float = 60.0) -> None:
    """Block until a progress line shows requests > 0 (bounded)."""
    while True:
        line = lines.get(timeout=timeout_s)
        match = PROGRESS.search(line)
        if match and int(match.group(1).replace(",", "")) > 0:
            return


@pytest.mark.e2e
def test_a_target_restart_leaves_isolation_not_checked(tmp_path: Path) -> None:
    """When the target restarts during a run, its oracle saw only part: not checked, exit 1."""
    port, out = _free_port(), tmp_path / "run"
    target = TargetProcess(TargetConfig(port=port)).start()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench", "run", "--host", target.url, "--users", "10",
         "--duration", "6s", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    assert child.stderr is not None
    assert child.stdout is not None
    threading.Thread(target=lambda: [lines.put(x) for x in child.stderr], daemon=True).start()  # type: ignore[union-attr]
    stdout: list[str] = []
    threading.Thread(target=lambda: stdout.extend(child.stdout), daemon=True).start()  # type: ignore[arg-type]
    restarted = None
    try:
        _wait_for_requests(lines)
        target.stop()
        restarted = TargetProcess(TargetConfig(port=port)).start()
        assert child.wait(timeout=120) == 1
    finally:
        child.kill()
        child.communicate(timeout=30)  # reaps it and closes its pipes
        target.stop()
        if restarted is not None:
            restarted.stop()
    isolation = json.loads((out / "summary.json").read_text())["isolation"]
    assert isolation["verdict"] == "not checked"
    assert "restarted during the run" in isolation["reason"]
    assert isolation["server_oracle"].startswith("restarted")
    assert isolation["checked"] > 0  # the client side did check: only the server side is short


def test_a_restarted_target_keeps_its_accounts_but_not_its_sessions() -> None:
    """After restart() the old cookie is refused and the old password still signs in."""
    with TargetProcess() as target:
        url = target.url
        with httpx.Client(base_url=url) as client:
            client.post("/api/v1/auth/register", json={"username": "ann", "password": "pw"})
            old = client.cookies["aegis_session"]
        target.restart()
        assert target.url == url
        with httpx.Client(base_url=url, cookies={"aegis_session": old}) as stale:
            assert stale.get("/api/v1/auth/me").status_code == 401
        with httpx.Client(base_url=url) as client:
            signed_in = client.post(
                "/api/v1/auth/token", data={"username": "ann", "password": "pw"}
            )
            assert signed_in.status_code == 200
            assert client.get("/api/v1/auth/me").json() == {"username": "ann"}


def test_counters_of_several_lives_add_up() -> None:
    """Counts add up over a restart, examples are pooled, states are the last life's."""
    first = {"boot_id": "a", "oracle": {"checked": 3, "examples": [{"x": "1"}]},
             "connections": {"accepted": 2, "open": 2, "max_requests_per_connection": 9},
             "cpu_s": 1.5}  # fmt: skip
    second = {"boot_id": "b", "oracle": {"checked": 4, "examples": [{"x": "2"}]},
              "connections": {"accepted": 5, "open": 1, "max_requests_per_connection": 7},
              "cpu_s": 0.25}  # fmt: skip
    assert merge_readings([first, second]) == {
        "boot_id": "b", "oracle": {"checked": 7, "examples": [{"x": "1"}, {"x": "2"}]},
        "connections": {"accepted": 7, "open": 1, "max_requests_per_connection": 9},
        "cpu_s": 1.75,
    }  # fmt: skip


@pytest.mark.e2e
def test_restart_target_at_restarts_the_embedded_target_and_users_sign_in_again(
    tmp_path: Path,
) -> None:
    """--restart-target-at: one restart, lost sessions signed in again, both lives judged."""
    result, summary = bench_run(
        tmp_path / "out", "--users", "12", "--spawn-rate", "12", "--duration", "7s",
        "--think-time", "0.5-1", "--restart-target-at", "3",
    )  # fmt: skip
    assert len(summary["target_restarts"]) == 1
    assert summary["target_restarts"][0]["at_s"] >= 3
    lifecycle = summary["lifecycle"]
    assert lifecycle["on_unauthorized"] > 0
    assert lifecycle["signed_in_again"] > 0
    assert lifecycle["invariants_broken"] == 0
    isolation = summary["isolation"]
    assert isolation["verdict"] == "isolated", isolation["reason"]
    # Connections the old target took after its last reading are lost with it.
    connections = summary["connections"]
    assert 0 <= connections["client_opened"] - connections["server_accepted"] <= 12
    assert sum(summary["failures_by_kind"].values()) == summary["failures"]
    assert "Traceback" not in result.stderr


def test_a_target_that_does_not_come_back_is_noted_and_not_counted_on() -> None:
    """A failed restart is listed with its error; the server side is then no evidence."""
    from bench.cli._run import _TargetLives

    with TargetProcess() as target:

        def fails() -> None:
            target.stop()  # down, and it does not come back
            raise RuntimeError("the reference backend did not start: port taken")

        lives = _TargetLives(target.url, fails)
        assert lives.restart is not None
        lives.restart(5.0)
        _, state, expected = lives.finish()
    assert lives.restarts == [
        {"at_s": 5.0, "error": "the reference backend did not start: port taken"}
    ]
    assert state == "not restarted: the reference backend did not start: port taken"
    assert expected  # so the isolation verdict is "not checked", never client side only
