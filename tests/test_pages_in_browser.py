"""The pages people read, in a real browser: the compare report, a run's report, the docs.

Headless Chromium at 1,366 px opens each page from disk (offline) and saves a screenshot
(to ``$AEGIS_SCREENSHOTS`` when set, else the test's folder): the compare report of a
fake three-strategy comparison, one of its runs' reports, and the index of the docs site
built by mkdocs. Each must fit the window: nothing scrolls sideways.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests._browser import chromium, scroll_width
from tests._fake_compare import HOSTILE, Reports, fake_comparison

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

REPO = Path(__file__).resolve().parents[1]
WIDTH = 1366  # the narrowest screen the reports are made for


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    with chromium(width=WIDTH, height=900) as browser:
        yield browser


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go."""
    folder = Path(os.environ.get("AEGIS_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Reports:
    return fake_comparison(tmp_path_factory.mktemp("compare"))


def look_at(driver: WebDriver, page: Path, shot: Path) -> None:
    """Open ``page`` and save a screenshot of its whole height to ``shot``."""
    driver.get(page.resolve().as_uri())
    height = driver.execute_script("return document.documentElement.scrollHeight;")
    driver.set_window_size(WIDTH, min(int(height) + 120, 12_000))
    driver.save_screenshot(str(shot))
    driver.set_window_size(WIDTH, 900)


def test_the_compare_report_fits_a_1366_px_screen(
    driver: WebDriver, reports: Reports, shots: Path
) -> None:
    """The comparison's report opens offline, leads with its verdicts, scrolls no sideways."""
    look_at(driver, reports.out / "report.html", shots / "compare-report.png")
    width, inner = scroll_width(driver)
    assert width <= inner, (width, inner)
    headings = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
    assert headings[:2] == ["Verdict", "Headline"]
    assert headings.index("Compared figures") < headings.index("Every run")
    assert driver.find_elements(By.TAG_NAME, "svg")


def test_a_run_report_fits_a_1366_px_screen(
    driver: WebDriver, reports: Reports, shots: Path
) -> None:
    """A leaking run's report fits the window and shows its leak first."""
    look_at(driver, reports.out / HOSTILE / "at-rate-2" / "report.html", shots / "run-report.png")
    width, inner = scroll_width(driver)
    assert width <= inner, (width, inner)
    assert "LEAK" in driver.find_element(By.TAG_NAME, "body").text.split("Latency")[0]


def test_the_docs_index_renders_with_its_navigation(
    driver: WebDriver, shots: Path, tmp_path: Path
) -> None:
    """The docs site, built by mkdocs, opens at its index with the options reference in
    its navigation, and fits the window."""
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    look_at(driver, site / "index.html", shots / "docs-index.png")
    width, inner = scroll_width(driver)
    assert width <= inner, (width, inner)
    assert "Options" in driver.find_element(By.TAG_NAME, "body").text
