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

__all__ = [
    "AEGIS",
    "OPTIONAL_KEYS",
    "REQUIRED_KEYS",
    "DataRoute",
    "Profile",
    "ProfileError",
    "load_profile",
]


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

# Keys a profile file must set: a silent Aegis default would judge another backend by
# the wrong routes or field (e.g. 329 false "leaks" from a default identity field).
REQUIRED_KEYS = ("cookie_name", "sign_in", "register", "sign_out", "refresh", "identity",
                 "identity_field")  # fmt: skip
OPTIONAL_KEYS = ("name", "sign_in_answers", "register_fields", "username_template", "data")
_ROUTE_KEYS = ("sign_in", "register", "sign_out", "identity")
_DATA_KEYS = ("route", "owner_field")


def _route(value: Any, key: str, source: Path) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise ProfileError(f"{source}: {key} must be a path starting with '/', got {value!r}")
    return value


def _text(raw: dict[str, Any], key: str, source: Path) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(f"{source}: {key} must be a non-empty string, got {value!r}")
    return value


def _template(value: str, source: Path) -> str:
    if "{name}" not in value:
        raise ProfileError(f"{source}: username_template must contain {{name}}, got {value!r}")
    try:
        value.format(name="x")
    except (KeyError, IndexError) as exc:
        raise ProfileError(
            f"{source}: username_template {value!r} names the unknown field {exc}: "
            "only {name} is filled in"
        ) from None
    except ValueError as exc:
        raise ProfileError(f"{source}: username_template {value!r} is malformed: {exc}") from None
    return value


def _data_routes(value: Any, source: Path) -> tuple[DataRoute, ...]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ProfileError(f"{source}: data must be a list of [[data]] tables")
    routes = []
    for index, item in enumerate(value, start=1):
        unknown = sorted(set(item) - set(_DATA_KEYS))
        missing = [key for key in _DATA_KEYS if key not in item]
        if unknown or missing:
            raise ProfileError(
                f"{source}: [[data]] table {index} needs exactly route and owner_field"
                + (f" (unknown: {', '.join(unknown)})" if unknown else "")
                + (f" (missing: {', '.join(missing)})" if missing else "")
            )
        routes.append(
            DataRoute(
                _route(item["route"], "data.route", source), _text(item, "owner_field", source)
            )
        )
    return tuple(routes)


def load_profile(path: Path) -> Profile:
    """Read and fully check a profile TOML file.

    Unknown keys, missing required keys (``REQUIRED_KEYS``), malformed routes, a
    ``username_template`` naming a field other than ``{name}``, and malformed ``[[data]]``
    tables are errors that name the file and the key. Optional keys default to Aegis's
    values, except ``data``, which defaults to no data routes.
    """
    raw = load_toml(path, "profile", {*REQUIRED_KEYS, *OPTIONAL_KEYS}, ProfileError)
    missing = [key for key in REQUIRED_KEYS if key not in raw]
    if missing:
        raise ProfileError(
            f"{path}: missing {', '.join(missing)} (a profile sets every one of "
            f'{", ".join(REQUIRED_KEYS)}; refresh = "" when the backend has none)'
        )
    values: dict[str, Any] = {"name": path.stem, "data": ()}
    for key in ("name", "cookie_name", "identity_field", *_ROUTE_KEYS):
        if key in raw:
            values[key] = _text(raw, key, path)
    for key in _ROUTE_KEYS:
        _route(values[key], key, path)
    if "sign_in_answers" in raw:
        if raw["sign_in_answers"] not in ("json", "cookie-only"):
            raise ProfileError(f"{path}: sign_in_answers must be 'json' or 'cookie-only'")
        values["sign_in_answers"] = raw["sign_in_answers"]
    refresh = raw["refresh"]
    if not isinstance(refresh, str):
        raise ProfileError(f'{path}: refresh must be a path, or "" when there is none')
    values["refresh"] = _route(refresh, "refresh", path) if refresh else None
    if "register_fields" in raw:
        fields = raw["register_fields"]
        if (
            not isinstance(fields, dict)
            or set(fields) != {"username", "password"}
            or not all(isinstance(v, str) and v for v in fields.values())
        ):
            raise ProfileError(
                f"{path}: register_fields needs exactly username and password, as field names"
            )
        values["register_fields"] = (fields["username"], fields["password"])
    if "username_template" in raw:
        values["username_template"] = _template(_text(raw, "username_template", path), path)
    if "data" in raw:
        values["data"] = _data_routes(raw["data"], path)
    return Profile(**values)
