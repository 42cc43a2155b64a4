"""``aegis-bench ui``: the start form's values apply per test, and each test leaves a folder.

Driven as the web UI drives Locust (``POST /swarm``, ``POST /stop``), against a real
``aegis-bench ui``: embedded target, Locust's web UI, the tool's routes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._helpers import SUMMARY_KEYS, free_port, key_paths

pytestmark = [pytest.mark.timeout(120), pytest.mark.e2e]


@dataclass
class WebUI:
    """A running ``aegis-bench ui``: its URL and the folder its run folders go to."""

    url: str
    out: Path

    def post(self, path: str, **form: Any) -> dict[str, Any]:
        response = httpx.post(f"{self.url}{path}", data=form, timeout=30)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def sessions(self) -> dict[str, Any]:
        data: dict[str, Any] = httpx.get(f"{self.url}/aegis/sessions", timeout=30).json()
        return data

    def run_test(
        self, strategy: str, users: int = 4, seconds: float = 3.0, **fields: Any
    ) -> dict[str, Any]:
        """Start a test from the form's fields, let it run, stop it; the view after stop."""
        started = self.post(
            "/swarm", user_count=users, spawn_rate=users, client_strategy=strategy, **fields
        )
        assert started["success"], started
        time.sleep(seconds)
        assert self.post("/stop")["success"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            view = self.sessions()
            if view["run_folder"] and view["state"] == "stopped":
                return view
            time.sleep(0.5)
        raise AssertionError(f"no run folder after the stop: {self.sessions()}")


@contextlib.contextmanager
def running_ui(out: Path, *options: str) -> Iterator[WebUI]:
    """A real ``aegis-bench ui`` with these options, up and answering; stopped after."""
    port = free_port()
    out.mkdir(parents=True, exist_ok=True)
    log = out.parent / f"ui-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench", "ui", "--web-port", str(port), "--out", str(out),
             *options],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/aegis/sessions", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise AssertionError(f"the web UI did not come up: {log.read_text()}")
        yield WebUI(url, out)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def web_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebUI]:
    with running_ui(tmp_path_factory.mktemp("ui") / "runs") as ui:
        yield ui


@pytest.fixture(scope="module")
def pooled_view(web_ui: WebUI) -> dict[str, Any]:
    """One pooled test started from the form and stopped: the view after the stop."""
    return web_ui.run_test("pooled", users=3)


def test_a_bad_strategy_in_the_form_refuses_the_swarm(web_ui: WebUI) -> None:
    """An unknown strategy refuses the swarm with a message naming the known ones."""
    answer = web_ui.post("/swarm", user_count=2, spawn_rate=2, client_strategy="nope")
    assert answer["success"] is False
    assert "unknown client strategy 'nope'" in answer["message"]
    assert "per-call" in answer["message"]


def test_a_bad_number_in_the_form_refuses_the_swarm(web_ui: WebUI) -> None:
    """A keep-alive that is not a number refuses the swarm and says which field."""
    answer = web_ui.post("/swarm", user_count=2, spawn_rate=2, client_keepalive="soon")
    assert answer["success"] is False
    assert "client_keepalive: 'soon' is not a number" in answer["message"]


def test_the_form_strategy_applies_to_each_test(web_ui: WebUI) -> None:
    """per-call from the form opens a connection per request; pooled after it, few."""
    per_call = web_ui.run_test("per-call")
    pooled = web_ui.run_test("pooled")
    assert per_call["strategy"] == "per-call"
    assert per_call["connections"]["per_request"] >= 0.9
    assert pooled["strategy"] == "pooled"
    assert pooled["connections"]["client_opened"] <= 4  # one per session
    assert per_call["run_folder"] != pooled["run_folder"]


def test_each_stopped_test_leaves_a_run_folder(web_ui: WebUI, pooled_view: dict[str, Any]) -> None:
    """A stopped test's folder holds summary.json (its strategy's), report and pyperf file."""
    folder = Path(pooled_view["run_folder"])
    assert folder.parent == web_ui.out
    assert re.fullmatch(r"\d{8}-\d{6}-pooled(-\d+)?", folder.name)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["strategy"] == "pooled"
    assert summary["requests"] > 0
    assert summary["isolation"]["verdict"] == "isolated"
    assert (folder / "report.html").is_file()
    assert (folder / "pyperf-pooled.json").is_file()


def test_a_web_ui_test_writes_every_summary_field(pooled_view: dict[str, Any]) -> None:
    """A web-UI test's summary.json has the same keys as aegis-bench run's, and the
    fields only the CLI used to fill: the kernel's connections, how the test ended."""
    view = pooled_view
    summary = json.loads((Path(view["run_folder"]) / "summary.json").read_text())
    assert key_paths(summary) == SUMMARY_KEYS
    assert summary["connections"]["os_established_peak"] is not None
    assert (summary["interrupted"], summary["stopped_by"], summary["target_restarts"]) == (
        False, None, [],
    )  # fmt: skip
    assert summary["locust_exit_code"] is None  # Locust wrote it: its exit code is the outcome
    assert view["outcome"]["passed"] is True
    assert view["lifecycle"]["users_signing_in"] == 0  # a row the Sessions tab shows


def test_the_sessions_tab_names_options_as_the_form_does(
    web_ui: WebUI, pooled_view: dict[str, Any]
) -> None:
    """The tab's hints for invariants nothing exercised use the form's field names."""
    rows = dict(
        line.split(",", 1)
        for line in httpx.get(f"{web_ui.url}/aegis/sessions/csv", timeout=30).text.splitlines()
    )
    assert "aegis_bursts with target_expire_every" in rows["invariants not checked"]
    assert "--bursts" not in rows["invariants not checked"]
    assert rows["users signing in"] == "0"


def test_the_shared_control_shows_its_leaks_live(web_ui: WebUI) -> None:
    """While a shared test runs, /aegis/sessions reports its client-side leaks."""
    assert web_ui.post("/swarm", user_count=4, spawn_rate=4, client_strategy="shared")["success"]
    try:
        deadline = time.monotonic() + 30
        leaks = 0
        while time.monotonic() < deadline and not leaks:
            time.sleep(1)
            leaks = web_ui.sessions()["isolation"]["client_side_leaks"]
        assert leaks > 0
    finally:
        web_ui.post("/stop")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and web_ui.sessions()["state"] != "stopped":
            time.sleep(0.5)


def test_a_bad_fault_rate_in_the_form_refuses_the_swarm(web_ui: WebUI) -> None:
    """A fault rate above 1 refuses the swarm and names the field."""
    answer = web_ui.post("/swarm", user_count=2, spawn_rate=2, target_fault_5xx="2")
    assert answer["success"] is False
    assert "target_fault_5xx: '2' must be between 0 and 1" in answer["message"]


def test_faults_from_the_form_apply_to_their_test_only(web_ui: WebUI) -> None:
    """A test asking for 503s gets them from the embedded target; the next test, none."""
    faulty = web_ui.run_test("pooled", users=3, target_fault_5xx="0.2")
    clean = web_ui.run_test("pooled", users=3, target_fault_5xx="0")
    assert faulty["failures_by_kind"].get("server_error", 0) > 0
    summary = json.loads((Path(faulty["run_folder"]) / "summary.json").read_text())
    assert summary["server"]["faults"]["errors_5xx"] > 0
    assert clean["failures_by_kind"] == {}


def test_a_form_asking_no_faults_gets_none_whatever_the_command_line_said(
    tmp_path: Path,
) -> None:
    """ui --fault-5xx only sets the form's default: a first test with 0 gets no 503."""
    with running_ui(tmp_path / "runs", "--fault-5xx", "0.5") as ui:
        view = ui.run_test("pooled", users=3, target_fault_5xx="0")
    assert view["failures_by_kind"] == {}
    summary = json.loads((Path(view["run_folder"]) / "summary.json").read_text())
    assert summary["server"]["faults"]["errors_5xx"] == 0
