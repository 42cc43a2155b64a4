"""Users and sessions, in memory.

A session token is ``secrets.token_urlsafe(32)`` (256 bits). A session is *live* until
``expires_at``; after that it may still be refreshed inside the refresh window; a
revoked or rotated-away token is dead for good.

Secrets are never compared as they are: sessions are found by the SHA-256 digest of
their token (the store holds no token, and how long a lookup takes says nothing about
how much of a guess was right), and password hashes by ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

__all__ = ["Session", "SessionStore", "User"]


@dataclass(slots=True)
class User:
    """A registered account and its projects."""

    username: str
    salt: bytes
    password_hash: bytes
    projects: list[dict[str, object]] = field(default_factory=list)


@dataclass(slots=True)
class Session:
    """One issued token's state (stored under the token's digest, never the token)."""

    username: str
    expires_at: float
    revoked: bool = False


def _key(token: str) -> bytes:
    """What a session is stored under: its token's digest, never the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _hash(password: str, salt: bytes) -> bytes:
    # Deliberately cheap (one SHA-256): this is a load-test fixture, not a vault.
    return hashlib.sha256(salt + password.encode()).digest()


# Compared against when the name is unknown, so that case costs what a wrong password does.
_NO_SALT = bytes(16)
_NO_HASH = _hash("", _NO_SALT)


class SessionStore:
    """Accounts and sessions, with the counters the stats route reports."""

    def __init__(self, session_ttl_s: float, refresh_window_s: float, projects_per_user: int):
        self.session_ttl_s = session_ttl_s
        self.refresh_window_s = refresh_window_s
        self.projects_per_user = projects_per_user
        self.users: dict[str, User] = {}
        self.usernames: list[str] = []  # for picking "another user" quickly
        self.sessions: dict[bytes, Session] = {}  # by _key(token)
        self.issued = self.refreshed = self.revoked = 0

    def register(self, username: str, password: str) -> User | None:
        """Create an account; None when the name is taken."""
        if username in self.users:
            return None
        salt = secrets.token_bytes(16)
        user = User(username, salt, _hash(password, salt))
        user.projects = self._projects_of(username)
        self.users[username] = user
        self.usernames.append(username)
        return user

    def export_accounts(self) -> list[list[str]]:
        """Every account as ``[username, salt, password hash]`` (hex): what a database
        would keep across a restart. Sessions are not part of it."""
        return [[u.username, u.salt.hex(), u.password_hash.hex()] for u in self.users.values()]

    def import_accounts(self, accounts: list[list[str]]) -> None:
        """Add accounts exported by :meth:`export_accounts` (a restarted backend's)."""
        for username, salt, password_hash in accounts:
            user = User(username, bytes.fromhex(salt), bytes.fromhex(password_hash))
            user.projects = self._projects_of(username)
            self.users[username] = user
            self.usernames.append(username)

    def _projects_of(self, username: str) -> list[dict[str, object]]:
        return [
            {"id": f"{username}-p{i}", "name": f"Project {i} of {username}", "owner": username}
            for i in range(self.projects_per_user)
        ]

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password matches, else None: the same answer, after the same
        work, whether the name is unknown or the password wrong."""
        user = self.users.get(username)
        salt, expected = (user.salt, user.password_hash) if user else (_NO_SALT, _NO_HASH)
        matches = hmac.compare_digest(expected, _hash(password, salt))
        return user if user is not None and matches else None

    def issue(self, username: str) -> str:
        """A new session token for ``username``."""
        token = secrets.token_urlsafe(32)
        self.sessions[_key(token)] = Session(username, time.monotonic() + self.session_ttl_s)
        self.issued += 1
        return token

    def find(self, token: str | None) -> Session | None:
        """The session behind ``token`` in any state, or None."""
        return self.sessions.get(_key(token)) if token else None

    def live(self, token: str | None) -> Session | None:
        """The session if it is live (not expired, not revoked), else None."""
        session = self.find(token)
        if session is None or session.revoked or time.monotonic() >= session.expires_at:
            return None
        return session

    def rotate(self, token: str | None) -> str | None:
        """Replace a live or refreshable session by a new one; the old token dies at once."""
        session = self.find(token)
        if session is None or session.revoked:
            return None
        if time.monotonic() >= session.expires_at + self.refresh_window_s:
            return None
        assert token is not None
        del self.sessions[_key(token)]
        self.refreshed += 1
        return self.issue(session.username)

    def revoke(self, token: str) -> None:
        """Kill a session for good (it stays known, so a replay is recognised and refused)."""
        session = self.find(token)
        if session is not None and not session.revoked:
            session.revoked = True
            self.revoked += 1

    def expire_user(self, username: str, *, beyond_window: bool) -> int:
        """Make the user's live sessions expired now (or past the refresh window too)."""
        now = time.monotonic()
        expires_at = now - self.refresh_window_s - 1 if beyond_window else now - 0.001
        count = 0
        for session in self.sessions.values():
            if session.username == username and not session.revoked and session.expires_at > now:
                session.expires_at = expires_at
                count += 1
        return count

    def expire_all(self) -> int:
        """Make every live session expired now, still refreshable (an expiry storm)."""
        now = time.monotonic()
        count = 0
        for session in self.sessions.values():
            if not session.revoked and session.expires_at > now:
                session.expires_at = now - 0.001
                count += 1
        return count

    def active(self) -> int:
        """Live sessions now."""
        now = time.monotonic()
        return sum(1 for s in self.sessions.values() if not s.revoked and s.expires_at > now)
