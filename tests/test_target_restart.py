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

import pytest

from bench.backend import TargetConfig, TargetProcess

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


def test_a_target_restart_leaves_isolation_not_checked(tmp_path: Path) -> None:
    """When the target restarts during a run, its oracle saw only part: not checked, exit 1."""
    port, out = _free_port(), tmp_path / "run"
    target = TargetProcess(TargetConfig(port=port)).start()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench", "run", "--host", target.url, "--users", "10",
         "--duration", "8s", "--out", str(out)],
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
