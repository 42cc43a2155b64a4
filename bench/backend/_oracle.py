"""The identity oracle: requests whose cookie belongs to someone else than declared.

A load generator declares the acting user of each request in ``X-Bench-User`` (from
the user's own task context, never from the cookie jar). The oracle compares it with the
owner of the session the cookie names. Examples carry user names, never tokens.
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

    def observe(
        self, declared: str | None, session_user: str | None, has_cookie: bool, path: str,
        needs_session: bool,
    ) -> None:  # fmt: skip
        """Judge one request: declared user vs the owner of the session its cookie names."""
        if declared is None:
            return
        self.declared += 1
        if not has_cookie:
            if needs_session:
                self.no_cookie += 1
            return
        if session_user is None:
            return
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
        }
