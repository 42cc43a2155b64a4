"""Why calls failed: each failure reason (``HTTP 503``, ``ReadTimeout``, ``truncated
body: ...``) has one kind, and summary.json's ``failures_by_kind`` counts them."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["FailureKind", "failure_kind"]


class FailureKind(StrEnum):
    """The kind of a failed call (its value is the key in ``failures_by_kind``)."""

    UNAUTHORIZED = "unauthorized"  # a 401 nothing recovered
    SERVER_ERROR = "server_error"  # 5xx
    CLIENT_ERROR = "client_error"  # another 4xx
    UNUSABLE_ANSWER = "unusable_answer"  # a 2xx whose body was not JSON
    TRUNCATED = "truncated"  # the answer broke off mid-body
    TIMEOUT = "timeout"
    CONNECT = "connect"  # no connection could be made
    OTHER = "other"


def failure_kind(reason: str) -> FailureKind:
    """The kind of a failure reason as the session labels it."""
    if reason.startswith("HTTP "):
        code = reason[5:8]
        if code == "401":
            return FailureKind.UNAUTHORIZED
        if code.startswith("5"):
            return FailureKind.SERVER_ERROR
        return FailureKind.UNUSABLE_ANSWER if code.startswith("2") else FailureKind.CLIENT_ERROR
    if reason.startswith("truncated body"):
        return FailureKind.TRUNCATED
    if "Timeout" in reason:
        return FailureKind.TIMEOUT
    return FailureKind.CONNECT if reason.startswith("Connect") else FailureKind.OTHER
