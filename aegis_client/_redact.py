"""Keeps cookie values out of httpcore's debug log.

At DEBUG level httpcore logs every response's header list verbatim, ``Set-Cookie``
included, so turning debug logging on would print live session tokens. The filter
installed here rewrites those records before any handler sees them.
"""

from __future__ import annotations

import logging
import re

__all__ = ["REDACTED", "install_cookie_redaction", "redact_cookies"]

REDACTED = "<redacted>"

# Matches a ``(b'set-cookie', b'...')`` or ``(b'cookie', b'...')`` header pair as
# httpcore's trace log renders it (Python's repr of bytes): group 1 runs up to the value's
# opening quote, group 4 is the value up to the matching closing quote. The value may
# hold the other kind of quote, semicolons and backslash escapes (repr writes b"a'b"
# and b'a\'b"c'), so it ends only at an unescaped quote of the kind that opened it.
_COOKIE_PAIR = re.compile(
    r"""(b?(['"])(?:set-)?cookie\2,\s*b?(['"]))((?:\\.|(?!\3)[^\\])*)""", re.IGNORECASE
)

# Filters on a logger only see records created by that logger (not by its children),
# so each httpcore module logger gets its own.
_HTTPCORE_LOGGERS = (
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def redact_cookies(text: str) -> str:
    """Return ``text`` with every cookie header value replaced by ``<redacted>``."""
    return _COOKIE_PAIR.sub(lambda match: match.group(1) + REDACTED, text)


class _CookieRedactingFilter(logging.Filter):
    """Rewrites a record's message so that no cookie value survives formatting."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "ookie" in message:
            record.msg = redact_cookies(message)
            record.args = None
        return True


_FILTER = _CookieRedactingFilter()


def install_cookie_redaction() -> None:
    """Attach the redacting filter to httpcore's loggers; calling it again is a no-op."""
    for name in _HTTPCORE_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
