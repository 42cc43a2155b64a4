"""Target profiles: how the Aegis routes map onto a backend, loaded from TOML.

The default profile is the Aegis API. Another backend gets a TOML file such as::

    cookie_name = "fastapiusersauth"
    sign_in = "/auth/cookie/login"          # form username + password
    sign_in_answers = "cookie-only"         # "json" (200 with a body) or "cookie-only" (204)
    register = "/auth/register"             # JSON body
    register_fields = { username = "email", password = "password" }
    sign_out = "/auth/cookie/logout"
    refresh = ""                            # empty: the backend has no refresh route
    identity = "/users/me"
    identity_field = "email"
    username_template = "{name}@example.com"  # what the backend calls a user

    [[data]]
    route = "/items"
    owner_field = "owner"

Every route is a path on the target; ``identity_field`` names the JSON field that says
whose session answered, and each data route's ``owner_field`` the field naming the owner
of each returned record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._toml import load_toml

__all__ = ["AEGIS", "DataRoute", "Profile", "ProfileError", "load_profile"]


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class DataRoute:
    """A route returning a user's records, and the field naming each record's owner."""

    route: str
    owner_field: str = "owner"


@dataclass(frozen=True)
class Profile:
    """The routes and fields the scenario and the isolation checks use."""

    name: str = "aegis"
    cookie_name: str = "aegis_session"
    sign_in: str = "/api/v1/auth/token"
    sign_in_answers: str = "json"
    register: str = "/api/v1/auth/register"
    register_fields: tuple[str, str] = ("username", "password")
    sign_out: str = "/api/v1/auth/logout"
    refresh: str | None = "/api/v1/auth/refresh"
    identity: str = "/api/v1/auth/me"
    identity_field: str = "username"
    data: tuple[DataRoute, ...] = field(default=(DataRoute("/api/v1/insights/projects", "owner"),))
    username_template: str = "{name}"

    @property
    def credential_routes(self) -> frozenset[str]:
        """Routes whose 401 means wrong credentials rather than an expired session."""
        return frozenset({self.sign_in, self.register})

    def login_name(self, name: str) -> str:
        """The name the backend knows a simulated user by."""
        return self.username_template.format(name=name)


AEGIS = Profile()

_STRING_FIELDS = (
    "name",
    "cookie_name",
    "sign_in",
    "register",
    "sign_out",
    "identity",
    "identity_field",
    "username_template",
)


def _route(value: Any, key: str, source: Path) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise ProfileError(f"{source}: {key} must be a path starting with '/', got {value!r}")
    return value


def load_profile(path: Path) -> Profile:
    """Read a profile TOML file; unknown keys and malformed values are errors."""
    known = {*_STRING_FIELDS, "sign_in_answers", "register_fields", "refresh", "data"}
    raw = load_toml(path, "profile", known, ProfileError)
    values: dict[str, Any] = {"name": path.stem}
    for key in _STRING_FIELDS:
        if key in raw:
            if not isinstance(raw[key], str) or not raw[key]:
                raise ProfileError(f"{path}: {key} must be a non-empty string")
            values[key] = raw[key]
    for key in ("sign_in", "register", "sign_out", "identity"):
        if key in values:
            _route(values[key], key, path)
    if "sign_in_answers" in raw:
        if raw["sign_in_answers"] not in ("json", "cookie-only"):
            raise ProfileError(f"{path}: sign_in_answers must be 'json' or 'cookie-only'")
        values["sign_in_answers"] = raw["sign_in_answers"]
    if "refresh" in raw:
        values["refresh"] = _route(raw["refresh"], "refresh", path) if raw["refresh"] else None
    if "register_fields" in raw:
        fields = raw["register_fields"]
        if not isinstance(fields, dict) or set(fields) != {"username", "password"}:
            raise ProfileError(f"{path}: register_fields needs exactly username and password")
        values["register_fields"] = (str(fields["username"]), str(fields["password"]))
    if "data" in raw:
        if not isinstance(raw["data"], list):
            raise ProfileError(f"{path}: data must be a list of [[data]] tables")
        values["data"] = tuple(
            DataRoute(
                _route(item.get("route"), "data.route", path), str(item.get("owner_field", "owner"))
            )
            for item in raw["data"]
        )
    if "{name}" not in values.get("username_template", "{name}"):
        raise ProfileError(f"{path}: username_template must contain {{name}}")
    return Profile(**values)
