"""Cookie values never reach httpcore's debug log, whatever characters they hold."""

from __future__ import annotations

import logging

import pytest

from aegis_client import APIClient, register
from aegis_client._redact import REDACTED, redact_cookies
from bench.backend import TargetProcess

# Every part of each value that must not survive says SECRET.
TRICKY_VALUES = [
    b"aegis_session=SECRET; HttpOnly; Path=/SECRET",
    b'aegis_session=SECRET"SECRET;SECRET; HttpOnly',
    b"aegis_session=SECRET'SECRET; HttpOnly",
    b"aegis_session=SECRET'SECRET\"SECRET;SECRET; HttpOnly",
    b"aegis_session=SECRET\\SECRET; HttpOnly",
]


@pytest.mark.parametrize("value", TRICKY_VALUES)
@pytest.mark.parametrize("header", [b"set-cookie", b"cookie", b"Set-Cookie"])
def test_a_cookie_header_value_is_redacted_whole(header: bytes, value: bytes) -> None:
    """The whole value goes, quotes and semicolons included; other headers stay."""
    line = repr([(header, value), (b"content-type", b"application/json")])
    redacted = redact_cookies(line)
    assert "SECRET" not in redacted
    assert REDACTED in redacted
    assert "(b'content-type', b'application/json')" in redacted


@pytest.mark.anyio
async def test_httpcore_debug_log_shows_no_session_token(
    target: TargetProcess, caplog: pytest.LogCaptureFixture
) -> None:
    """With httpcore at DEBUG, signing up on the real backend logs no token value."""
    async with APIClient(target.url) as client:
        with caplog.at_level(logging.DEBUG, logger="httpcore"):
            assert await register(client, "redact-check", "pw") is not None
            assert await client.get("/api/v1/auth/me") is not None
        [token] = [cookie.value for cookie in client.cookie_jar.jar]
    log = "\n".join(record.getMessage() for record in caplog.records)
    assert "set-cookie" in log.lower()  # the headers were logged...
    assert token not in log  # ...without the value
