"""Shared fixtures: the async backend for anyio tests, and the real reference backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.backend import TargetConfig, TargetProcess
from bench.cli._calibrate import CACHE_ENV


@pytest.fixture(scope="session", autouse=True)
def calibration_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Capacity calibrations go to a folder of this session's, never the user's cache
    (the variable reaches every aegis-bench the tests start)."""
    folder = tmp_path_factory.mktemp("calibrations")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(folder))
        yield folder


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio, the loop the bench itself uses (via uvloop)."""
    return "asyncio"


@pytest.fixture(scope="module")
def target() -> Iterator[TargetProcess]:
    """The reference backend in its own process on an ephemeral loopback port."""
    with TargetProcess(TargetConfig(port=0)) as process:
        yield process


@pytest.fixture
def fresh_target(target: TargetProcess) -> TargetProcess:
    """The module's backend with its counters zeroed."""
    target.reset()
    return target
