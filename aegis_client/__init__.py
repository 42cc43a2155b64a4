"""aegis_client: the Aegis frontend's session-carrying async API client.

``APIClient`` wraps one long-lived ``httpx.AsyncClient`` per session (its cookie jar
carries the HttpOnly ``aegis_session`` cookie), returns parsed JSON or ``None``, and
calls ``on_unauthorized`` on a 401 that one refresh-and-retry did not recover. The
contract is ``aegis_client/README.md``. This package depends on httpx and anyio only.
"""

from aegis_client._auth import is_authenticated, register, sign_in, sign_out
from aegis_client._client import (
    CREDENTIAL_ENDPOINTS,
    REFRESH_ENDPOINT,
    APIClient,
    UnauthorizedHandler,
)
from aegis_client._config import DEFAULT_LIMITS, KEEPALIVE_EXPIRY_S, shared_ssl_context
from aegis_client._protocol import JSONResult, SessionAPI

__all__ = [
    "CREDENTIAL_ENDPOINTS",
    "DEFAULT_LIMITS",
    "KEEPALIVE_EXPIRY_S",
    "REFRESH_ENDPOINT",
    "APIClient",
    "JSONResult",
    "SessionAPI",
    "UnauthorizedHandler",
    "is_authenticated",
    "register",
    "shared_ssl_context",
    "sign_in",
    "sign_out",
]
