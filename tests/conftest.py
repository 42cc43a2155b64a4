"""Shared fixtures: the async backend for anyio tests, and the real reference backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.backend import TargetConfig, TargetProcess


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
