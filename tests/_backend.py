"""Helpers for tests that need the real reference backend on an ephemeral loopback port."""

from __future__ import annotations

import httpx

__all__ = ["raw_client"]


def raw_client(url: str) -> httpx.Client:
    """A plain sync client (not aegis_client) for poking the backend directly."""
    return httpx.Client(base_url=url, trust_env=False, timeout=10.0)
