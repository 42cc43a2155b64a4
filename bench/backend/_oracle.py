"""The identity oracle: requests whose cookie belongs to someone else than declared, or
to a session that signed out.

A load generator declares the acting user of each request in ``X-Bench-User`` (from
the user's own task context, never from the cookie jar). The oracle compares it with the
owner of the session the cookie names. It also counts requests that carry the cookie of
a session revoked by its sign-out: a client must have emptied its jar. A deliberate
replay of such a cookie (marked ``X-Bench-Replay``) is the backend's test, not the
client's fault, and is left out. Examples carry user names, never tokens.
"""

from __future__ import annotations

from typing import Any

__all__ = ["IdentityOracle"]

MAX_EXAMPLES = 10


class IdentityOracle:
    """Counters since the last reset."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.declared = 0
        self.checked = 0
        self.mismatches = 0
        self.no_cookie = 0
        self.examples: list[dict[str, str]] = []
        # Requests whose cookie named a known session (replays aside): each checked for
        # a signed-out session.
        self.signed_out_checked = 0
        self.signed_out_cookie = 0
        self.signed_out_examples: list[dict[str, str]] = []

    def observe(
        self, declared: str | None, session_user: str | None, has_cookie: bool, path: str,
        needs_session: bool, *, signed_out: bool = False, replay: bool = False,
    ) -> None:  # fmt: skip
        """Judge one request: declared user vs the owner of the session its cookie names,
        and whether that session had signed out (``signed_out``; not for a ``replay``)."""
        if declared is None:
            return
        self.declared += 1
        if not has_cookie:
            if needs_session:
                self.no_cookie += 1
            return
        if session_user is None:
            return
        if not replay:
            self.signed_out_checked += 1
            if signed_out:
                self.signed_out_cookie += 1
                if len(self.signed_out_examples) < MAX_EXAMPLES:
                    self.signed_out_examples.append({"declared": declared, "path": path})
        self.checked += 1
        if session_user != declared:
            self.mismatches += 1
            if len(self.examples) < MAX_EXAMPLES:
                self.examples.append(
                    {"declared": declared, "session_user": session_user, "path": path}
                )

    def stats(self) -> dict[str, Any]:
        return {
            "declared": self.declared,
            "checked": self.checked,
            "mismatches": self.mismatches,
            "no_cookie": self.no_cookie,
            "examples": self.examples,
            "signed_out_checked": self.signed_out_checked,
            "signed_out_cookie": self.signed_out_cookie,
            "signed_out_examples": self.signed_out_examples,
        }
