"""aegis-bench's pytest plugin: the ``aegis_isolation`` fixture, ``--aegis-url``, a marker.

Installed with aegis-bench (the ``pytest11`` entry point ``aegis_bench``), so every
project that has aegis-bench gets it. ``aegis_isolation`` is a synchronous callable with
``check_isolation``'s arguments that returns its report::

    def test_no_leak(aegis_isolation):
        report = aegis_isolation(lambda url: APIClient(url), "http://127.0.0.1:8000")
        report.raise_for_leaks()

``base_url`` may be left out when the test is marked ``@pytest.mark.aegis_url(URL)`` or
pytest runs with ``--aegis-url URL`` (the marker wins). The check runs on a fresh event
loop: in a plain test with ``asyncio.run``; in an async test (a loop already running in
this thread) on a thread of its own, the test waiting for it.

Loading the plugin imports pytest and the standard library only: the check and its
dependencies are imported by the fixture's first call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pytest

if TYPE_CHECKING:
    from bench.testing._clients import ClientFactory
    from bench.testing._report import IsolationReport

__all__ = ["OPTION", "IsolationCheck", "aegis_isolation"]

OPTION = "--aegis-url"
MARKER = "aegis_url"
_T = TypeVar("_T")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aegis-bench", "aegis-bench isolation checks")
    group.addoption(
        OPTION,
        dest="aegis_url",
        default=None,
        metavar="URL",
        help="the backend aegis_isolation checks run against when a test gives no base_url",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(url): the backend this test's aegis_isolation checks run against "
        f"(instead of {OPTION})",
    )


class IsolationCheck(Protocol):
    """The ``aegis_isolation`` fixture: ``check_isolation``, run to completion."""

    def __call__(
        self,
        client_factory: ClientFactory,
        base_url: str | None = None,
        users: int = 50,
        duration: float = 10.0,
        profile: str | Path | None = None,
    ) -> IsolationReport: ...


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coroutine`` on a new event loop, whether or not one runs in this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # asyncio.run refuses to start inside a running loop (an async test): run it on a
    # thread of its own, with its own loop, and wait.
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="aegis-check") as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _default_url(request: pytest.FixtureRequest) -> str | None:
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        if len(marker.args) != 1 or not isinstance(marker.args[0], str):
            raise pytest.UsageError(f"@pytest.mark.{MARKER} takes one URL, such as {MARKER}(URL)")
        return marker.args[0]
    url: str | None = request.config.getoption("aegis_url")
    return url


@pytest.fixture
def aegis_isolation(request: pytest.FixtureRequest) -> IsolationCheck:
    """``check_isolation`` as a synchronous call returning its report (see the module)."""
    default_url = _default_url(request)

    def check(
        client_factory: ClientFactory,
        base_url: str | None = None,
        users: int = 50,
        duration: float = 10.0,
        profile: str | Path | None = None,
    ) -> IsolationReport:
        url = base_url or default_url
        if url is None:
            raise ValueError(
                f"aegis_isolation needs a backend: pass base_url, mark the test "
                f"@pytest.mark.{MARKER}(URL), or run pytest with {OPTION} URL"
            )
        from bench.testing._check import check_isolation  # here: only tests that check pay

        return _run(check_isolation(client_factory, url, users, duration, profile))

    return check
