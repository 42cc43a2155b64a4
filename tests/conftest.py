"""Shared fixtures: the async backend for anyio-marked tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio, the loop the bench itself uses (via uvloop)."""
    return "asyncio"
