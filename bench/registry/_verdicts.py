"""What a call showed: the verdicts a measured session and the transport note on a call.

Each is counted per endpoint by the recorder (``summary.json`` reads the counts). A few
mean that isolation broke: :data:`LEAK_VERDICTS` are leaks (one session's data or cookie
where another's belonged), and :data:`ROW_KINDS` gives every verdict that Locust's
statistics show as a failed row its kind: ``LEAK`` only for leaks, ``LOST SESSION`` for
a call sent without its session's cookie, ``BROKEN`` for a lifecycle invariant broken.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["LEAK_VERDICTS", "ROW_KINDS", "IsolationVerdict", "RowKind", "Verdict"]


class Verdict(StrEnum):
    """A verdict on one call (its value is the name counted in summary.json)."""

    # Isolation, client side.
    IDENTITY_CHECKED = "identity_checked"
    COOKIE_CHECKED = "cookie_checked"
    LEAK = "leak"  # an answer named another user
    LOST_SESSION = "lost_session"  # a protected call went out without the session cookie
    SIGN_OUT_CHECKED = "sign_out_checked"
    FOREIGN_SESSION = "foreign_session"  # a sign-out carried another session's cookie
    REPLAY_REFUSED = "replay_refused"
    REPLAY_ACCEPTED = "replay_accepted"  # the backend kept a revoked session
    REPLAY_SKIPPED_SIGN_OUT_FAILED = "replay_skipped_sign_out_failed"
    REPLAY_SKIPPED_FOREIGN_SESSION = "replay_skipped_foreign_session"
    REPLAY_SKIPPED_NO_COOKIE = "replay_skipped_no_cookie"
    IDENTITY_FIELD_MISSING = "identity_field_missing"
    IDENTITY_NOT_OBJECT = "identity_not_object"
    OWNER_FIELD_MISSING = "owner_field_missing"
    # Connections.
    RECONNECTED_SESSION = "reconnected_session"  # the session opened its second connection
    # The session lifecycle, as the wire showed it.
    UNAUTHORIZED = "unauthorized"  # an exchange answered 401
    RETRY_UNAUTHORIZED = "retry_unauthorized"  # a retry's 401 (no refresh follows it)
    REFRESH = "refresh"  # a refresh exchange
    REFRESH_FAILED = "refresh_failed"
    REFRESH_CONCURRENT = "refresh_concurrent"  # started while another was in flight
    RETRY = "retry"  # the exchange a successful refresh allowed
    ON_UNAUTHORIZED = "on_unauthorized"  # the client's handler ran for this call
    ON_UNAUTHORIZED_AGAIN = "on_unauthorized_again"  # again, for a session already lost
    AFTER_SIGN_OUT_CHECKED = "after_sign_out_checked"
    COOKIE_AFTER_SIGN_OUT = "cookie_after_sign_out"  # sent a signed-out session's cookie


class IsolationVerdict(StrEnum):
    """A run's verdict on isolation as a whole (``summary.json``'s ``isolation.verdict``).

    ``isolated`` needs evidence: a run whose checks never ran is ``not checked``.
    """

    ISOLATED = "isolated"  # identity checks ran and none failed
    LEAK = "leak"  # some check failed: a session's data or cookie reached another
    NOT_CHECKED = "not checked"  # no evidence either way


class RowKind(StrEnum):
    """The "Method" column of the failed rows Locust's statistics show for a verdict."""

    LEAK = "LEAK"
    LOST_SESSION = "LOST SESSION"
    BROKEN = "BROKEN"


# The client-side verdicts that are leaks, and what each means.
LEAK_VERDICTS = {
    Verdict.LEAK: "answered another user's data",
    Verdict.FOREIGN_SESSION: "sign-out carried another session's cookie",
    Verdict.REPLAY_ACCEPTED: "the target accepted a signed-out session's cookie",
}
# Every verdict that shows as a failed row of its own in Locust's statistics.
ROW_KINDS = {
    **{verdict: (RowKind.LEAK, meaning) for verdict, meaning in LEAK_VERDICTS.items()},
    Verdict.LOST_SESSION: (RowKind.LOST_SESSION, "sent without its session's cookie"),
    Verdict.COOKIE_AFTER_SIGN_OUT: (RowKind.BROKEN, "sent a signed-out session's cookie"),
    Verdict.ON_UNAUTHORIZED_AGAIN: (
        RowKind.BROKEN,
        "on_unauthorized ran again for a session it had reported lost",
    ),
}
