"""Defaults of :class:`aegis_client.APIClient`: where it connects and how it pools.

Keep-alive
----------
``KEEPALIVE_EXPIRY_S`` is 4 s, deliberately below the 5 s keep-alive timeout of a stock
uvicorn (what FastAPI backends such as Aegis run on) and far below the reference
backend's 30 s. When both sides use the same idle timeout they race: the server closes
an idle connection just as the client reuses it, and httpcore reconnects silently
(measured here: 38,002 connections for 19,000 sessions). With the client's expiry
strictly shorter, it is always the client that retires an idle connection, so a
reconnect only ever follows at least 4 s of idleness and never costs a failed request.
"""

from __future__ import annotations

import functools
import os
import ssl

import httpx

__all__ = [
    "API_URL_ENV",
    "DEFAULT_API_URL",
    "DEFAULT_LIMITS",
    "KEEPALIVE_EXPIRY_S",
    "resolve_base_url",
    "shared_ssl_context",
]

API_URL_ENV = "AEGIS_API_URL"
DEFAULT_API_URL = "http://127.0.0.1:8000"
KEEPALIVE_EXPIRY_S = 4.0

# httpx's own defaults except for the idle expiry (see the module docstring). One session
# issues its calls one after another, so it normally holds a single connection.
DEFAULT_LIMITS = httpx.Limits(
    max_connections=100, max_keepalive_connections=20, keepalive_expiry=KEEPALIVE_EXPIRY_S
)


def resolve_base_url(base_url: str | None) -> str:
    """Return ``base_url``, else ``$AEGIS_API_URL``, else ``http://127.0.0.1:8000``."""
    if base_url:
        return base_url
    return os.environ.get(API_URL_ENV) or DEFAULT_API_URL


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """Return the process-wide SSL context every ``APIClient`` verifies with by default.

    A stock ``httpx.AsyncClient()`` builds its own context even for ``http://`` URLs:
    17-19 ms and about 840 KiB of OpenSSL heap each (measured here), which makes
    thousands of clients per process impossible. One context shared by all clients
    costs that once. It honours ``SSL_CERT_FILE``/``SSL_CERT_DIR`` like httpx does.
    """
    return httpx.create_ssl_context()
