"""``aegis-bench ui`` in a real browser: the start form, the Sessions tab, Stop and New.

Headless Chromium (Debian's ``chromium`` and ``chromium-driver``) drives Locust's web UI
as a person would: it fills the start form (users, ramp and the strategy drop-down under
"Custom parameters"), clicks Start, opens the Sessions tab and reads its table, clicks
Stop, and starts the next test from the New button. One ``aegis-bench ui`` and one
browser serve the whole module.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests._browser import chromium
from tests._helpers import free_port

START_TIMEOUT_S = 60.0  # from spawning ``aegis-bench ui`` until its web UI answers
UI_TIMEOUT_S = 20.0  # a page, the form, a button or a tab to appear
LIVE_TIMEOUT_S = 45.0  # the Sessions tab (polled every 2 s) to show a running test's figures
STOP_TIMEOUT_S = 60.0  # from clicking Stop until the run folder is written
EXIT_TIMEOUT_S = 60.0  # from SIGTERM until ``aegis-bench ui`` exits

SESSIONS_TAB = "aegis-sessions"
# Every row of the Sessions tab as {metric: value}, read in one go: React re-renders the
# table on every poll, so elements found one by one can go stale between two reads.
READ_TABLE_JS = """
const rows = {};
for (const tr of document.querySelectorAll('table tbody tr')) {
  const cells = tr.querySelectorAll('td');
  if (cells.length === 2) rows[cells[0].innerText.trim()] = cells[1].innerText.trim();
}
return rows;
"""

Rows = dict[str, str]

pytestmark = pytest.mark.e2e


def _bench_command() -> list[str]:
    """``python -m bench``, or the ``aegis-bench`` script when the module cannot run."""
    probe = subprocess.run(
        [sys.executable, "-m", "bench", "--help"], capture_output=True, timeout=60, check=False
    )
    if probe.returncode == 0:
        return [sys.executable, "-m", "bench"]
    script = shutil.which("aegis-bench")
    assert script is not None, f"neither python -m bench nor aegis-bench runs: {probe.stderr!r}"
    return [script]


@dataclass
class WebUI:
    """A running ``aegis-bench ui``: its URL, its folder for run folders, and its log."""

    url: str
    out: Path
    log: Path

    def sessions(self) -> dict[str, Any]:
        """``GET /aegis/sessions``: the running (or last) test as the tool sees it."""
        response = httpx.get(f"{self.url}aegis/sessions", timeout=30)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


@pytest.fixture(scope="module")
def web_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebUI]:
    """One ``aegis-bench ui`` (embedded target, Locust's web UI) for the whole module."""
    base = tmp_path_factory.mktemp("browser-ui")
    out = base / "runs"
    log = base / "ui.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [*_bench_command(), "ui", "--web-port", str(port), "--out", str(out)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, f"aegis-bench ui ended early: {log.read_text()}"
            try:
                if httpx.get(f"{url}aegis/sessions", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"the web UI did not come up: {log.read_text()}"
            time.sleep(0.3)
        assert f"web UI on {url} against http://127.0.0.1:" in log.read_text()
        yield WebUI(url, out, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    """One headless Chromium for the whole module."""
    with chromium() as browser:
        yield browser


def _wait(driver: WebDriver, timeout: float = UI_TIMEOUT_S) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, timeout, poll_frequency=0.25)


def _button(text: str) -> tuple[str, str]:
    return (By.XPATH, f"//button[normalize-space()='{text}']")


def _click(driver: WebDriver, locator: tuple[str, str]) -> None:
    """Click what ``locator`` finds, again if React re-rendered it in between."""

    def attempt(d: WebDriver) -> bool:
        d.find_element(*locator).click()
        return True

    WebDriverWait(
        driver,
        UI_TIMEOUT_S,
        poll_frequency=0.25,
        ignored_exceptions=(
            ElementClickInterceptedException,
            ElementNotInteractableException,
            NoSuchElementException,
            StaleElementReferenceException,
        ),
    ).until(attempt)


def start_test(
    driver: WebDriver,
    web_ui: WebUI,
    *,
    users: int,
    strategy: str,
    fields: dict[str, str] | None = None,
) -> None:
    """Fill Locust's start form (a fresh page's, or New's after a test) and click Start;
    ``fields`` are more custom parameters, by their name in the form (``targetFault5xx``)."""
    wait = _wait(driver)
    if not driver.current_url.startswith(web_ui.url) or not driver.find_elements(*_button("New")):
        driver.get(web_ui.url)
    wait.until(lambda d: d.find_elements(By.NAME, "userCount") or d.find_elements(*_button("New")))
    if not driver.find_elements(By.NAME, "userCount"):  # a test ran: the form is behind New
        _click(driver, _button("New"))
    for name, value in (("userCount", users), ("spawnRate", users)):
        field = wait.until(ec.visibility_of_element_located((By.NAME, name)))
        # clear() leaves React's controlled input its old value: select it and type over it.
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(str(value))
        assert field.get_attribute("value") == str(value)
    if not driver.find_element(By.NAME, "clientStrategy").is_displayed():
        _click(driver, (By.XPATH, "//*[normalize-space(text())='Custom parameters']"))
    choice = Select(wait.until(ec.visibility_of_element_located((By.NAME, "clientStrategy"))))
    assert {option.get_attribute("value") for option in choice.options} >= {
        "pooled",
        "per-call",
        "shared",
    }
    choice.select_by_value(strategy)
    assert choice.first_selected_option.get_attribute("value") == strategy
    for name, value in (fields or {}).items():
        field = wait.until(ec.visibility_of_element_located((By.NAME, name)))
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(value)
        assert field.get_attribute("value") == value
    _click(driver, (By.XPATH, "//button[@type='submit']"))
    wait.until(ec.element_to_be_clickable(_button("Stop")))


@contextlib.contextmanager
def ui_test(
    driver: WebDriver,
    web_ui: WebUI,
    *,
    users: int,
    strategy: str,
    fields: dict[str, str] | None = None,
) -> Iterator[None]:
    """A test started from the form; stopped behind the UI's back if the block fails, so
    the next browser test finds the UI stopped."""
    start_test(driver, web_ui, users=users, strategy=strategy, fields=fields)
    try:
        yield
    except BaseException:
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(f"{web_ui.url}stop", timeout=STOP_TIMEOUT_S)
        raise


def open_sessions_tab(driver: WebDriver) -> None:
    """Click the Sessions tab and wait for its Metric / Value table."""
    _click(driver, (By.XPATH, "//*[@role='tab'][normalize-space()='Sessions']"))
    _wait(driver).until(lambda d: f"tab={SESSIONS_TAB}" in d.current_url)
    _wait(driver).until(
        lambda d: (
            [th.text.strip().lower() for th in d.find_elements(By.CSS_SELECTOR, "table th")]
            == ["metric", "value"]
        )
    )


def read_rows(driver: WebDriver) -> Rows:
    """The Sessions tab's table as {metric: value}."""
    rows: Rows = driver.execute_script(READ_TABLE_JS)
    return rows


def wait_for_rows(
    driver: WebDriver, until: Callable[[Rows], bool], timeout: float = LIVE_TIMEOUT_S
) -> Rows:
    """The Sessions tab's rows once ``until`` holds for them (the tab refreshes every 2 s)."""
    seen: list[Rows] = [{}]

    def check(d: WebDriver) -> Rows | Literal[False]:
        seen[0] = read_rows(d)
        return seen[0] if until(seen[0]) else False

    try:
        rows: Rows = _wait(driver, timeout).until(check)
    except TimeoutException as exc:
        raise AssertionError(f"the Sessions tab never showed it; last rows: {seen[0]}") from exc
    return rows


def _number(value: str) -> float:
    return float(value.replace(",", "")) if value else 0.0


def running(strategy: str, users: int, min_requests: int = 0) -> Callable[[Rows], bool]:
    """The tab shows this test (not the last one's figures) with every session alive."""
    return lambda rows: (
        rows.get("strategy") == strategy
        and _number(rows.get("sessions alive", "")) == users
        and _number(rows.get("requests", "")) >= max(min_requests, 1)
    )


def leaking(rows: Rows) -> bool:
    """The tab flags a leak: a ``LEAK n`` count or the LEAK verdict."""
    return rows.get("client-side leaks", "").startswith("LEAK") or (
        rows.get("isolation verdict") == "LEAK"
    )


def stop_test(driver: WebDriver, web_ui: WebUI) -> dict[str, Any]:
    """Click Stop and wait for New; the tool's view once the run folder is written.

    Locust's UI learns that the test stopped from its next poll of ``/stats/requests``
    (every 2 s, and Locust caches that answer for 2 s), so New shows 1-4 s after Stop.
    Waiting for it also keeps a page loaded next from a cached answer still "running".
    """
    _click(driver, _button("Stop"))
    WebDriverWait(driver, STOP_TIMEOUT_S, poll_frequency=0.25).until(
        ec.element_to_be_clickable(_button("New"))
    )
    deadline = time.monotonic() + STOP_TIMEOUT_S
    view = web_ui.sessions()
    while not (view["state"] == "stopped" and view["run_folder"]):
        assert time.monotonic() < deadline, f"no run folder after Stop: {view}"
        time.sleep(0.3)
        view = web_ui.sessions()
    return view


@pytest.mark.timeout(150)
def test_a_pooled_test_from_the_form_shows_sessions_and_leaves_a_run_folder(
    driver: WebDriver, web_ui: WebUI
) -> None:
    """A 3-user pooled test shows live sessions and no leaks, and Stop leaves its run folder."""
    with ui_test(driver, web_ui, users=3, strategy="pooled"):
        open_sessions_tab(driver)
        live = wait_for_rows(driver, running("pooled", 3))
        view = stop_test(driver, web_ui)
        # The tab's last poll (the one that told the UI the test stopped: it polls no more).
        stopped = read_rows(driver)

    assert _number(live["sessions alive"]) > 0
    assert live["client-side leaks"] == "0"
    assert live["isolation verdict"] in {"ISOLATED", "NOT CHECKED"}
    assert live["run folder"] == ""

    folder = Path(view["run_folder"])
    assert folder.parent == web_ui.out
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["strategy"] == "pooled"
    assert summary["requests"] > 0
    assert summary["isolation"]["client_side_leaks"] == 0

    assert stopped["run folder"] == str(folder), stopped
    assert stopped["strategy"] == "pooled"
    assert stopped["sessions alive"] == "0"
    assert stopped["client-side leaks"] == "0"


@pytest.mark.timeout(150)
def test_shared_chosen_in_the_drop_down_shows_leaks_in_the_sessions_tab(
    driver: WebDriver, web_ui: WebUI
) -> None:
    """A 4-user test with shared chosen in the strategy drop-down shows LEAK in the tab."""
    with ui_test(driver, web_ui, users=4, strategy="shared"):
        open_sessions_tab(driver)
        rows = wait_for_rows(driver, lambda r: running("shared", 4)(r) and leaking(r))
        stop_test(driver, web_ui)

    assert rows["isolation verdict"] == "LEAK"
    assert rows["client-side leaks"].startswith("LEAK ")
    assert _number(rows["client-side leaks"].removeprefix("LEAK ")) > 0


@pytest.mark.timeout(150)
def test_the_strategy_chosen_in_the_form_applies_to_the_next_test(
    driver: WebDriver, web_ui: WebUI
) -> None:
    """Pooled, then per-call from the New form: connections per request go from ~0 to ~1."""
    with ui_test(driver, web_ui, users=3, strategy="pooled"):
        open_sessions_tab(driver)
        pooled = wait_for_rows(driver, running("pooled", 3, min_requests=100))
        first_folder = stop_test(driver, web_ui)["run_folder"]

    with ui_test(driver, web_ui, users=3, strategy="per-call"):
        open_sessions_tab(driver)
        per_call = wait_for_rows(driver, running("per-call", 3, min_requests=100))
        second_folder = stop_test(driver, web_ui)["run_folder"]

    assert _number(pooled["connections per request"]) < 0.2
    assert _number(per_call["connections per request"]) >= 0.9
    assert _number(per_call["connections opened (client)"]) > _number(
        pooled["connections opened (client)"]
    )
    assert first_folder != second_folder
    assert Path(second_folder).name.endswith("-per-call")


@pytest.mark.timeout(150)
def test_a_fault_typed_into_the_form_reaches_the_target(driver: WebDriver, web_ui: WebUI) -> None:
    """A 503 rate typed into the start form's fault field is what the target injects."""
    with ui_test(driver, web_ui, users=3, strategy="pooled", fields={"targetFault5xx": "0.2"}):
        open_sessions_tab(driver)
        wait_for_rows(driver, running("pooled", 3, min_requests=50))
        view = stop_test(driver, web_ui)

    summary = json.loads((Path(view["run_folder"]) / "summary.json").read_text())
    assert summary["server"]["faults"]["errors_5xx"] > 0
    assert summary["failures_by_kind"]["server_error"] > 0
