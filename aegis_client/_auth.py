"""Frontend-agnostic auth flow helpers on top of an :class:`APIClient` (or any ``SessionAPI``).

Each takes the session's client and returns plain values; none raises. The endpoint
keywords exist for backends whose routes differ from Aegis's.
"""

from __future__ import annotations

from aegis_client._protocol import JSONResult, SessionAPI

__all__ = [
    "LOGOUT_ENDPOINT",
    "ME_ENDPOINT",
    "REGISTER_ENDPOINT",
    "TOKEN_ENDPOINT",
    "is_authenticated",
    "register",
    "sign_in",
    "sign_out",
]

TOKEN_ENDPOINT = "/api/v1/auth/token"
REGISTER_ENDPOINT = "/api/v1/auth/register"
LOGOUT_ENDPOINT = "/api/v1/auth/logout"
ME_ENDPOINT = "/api/v1/auth/me"


async def sign_in(
    api: SessionAPI, username: str, password: str, *, endpoint: str = TOKEN_ENDPOINT
) -> JSONResult | None:
    """Post the credentials as a form; the session cookie lands in ``api``'s jar.

    Returns the backend's JSON on success (``{}`` when it answers with no body) and
    ``None`` on failure, wrong credentials included. Test with ``is None``, not truthiness.
    """
    return await api.post_form(endpoint, {"username": username, "password": password})


async def register(
    api: SessionAPI, username: str, password: str, *, endpoint: str = REGISTER_ENDPOINT
) -> JSONResult | None:
    """Post the new account as JSON; returns the created user (signed in) or ``None``."""
    return await api.post(endpoint, json={"username": username, "password": password})


async def sign_out(api: SessionAPI, *, endpoint: str = LOGOUT_ENDPOINT) -> bool:
    """Revoke the session server-side, then always empty the local jar.

    Returns True when the backend confirmed the logout. The jar is cleared even when the
    logout failed, so a stale cookie cannot be replayed by a later call.
    """
    try:
        result = await api.post(endpoint)
    finally:
        api.clear_cookies()
    return result is not None


async def is_authenticated(api: SessionAPI, *, endpoint: str = ME_ENDPOINT) -> bool:
    """True when the identity endpoint answers with a JSON object for this session."""
    return isinstance(await api.get(endpoint), dict)
