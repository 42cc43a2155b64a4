"""Value parsers: the text of an option (a command line, a web form field) to its value.

Each raises ``ValueError`` whose message says what was wrong and what is accepted; the
door that read the text adds where it came from (``argument --users:``, a form field's
name). Every door parses an option with the same function, so they accept the same
syntax: ``8s`` is as good on the web form as on ``aegis-bench run``.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from bench.faults import parse_outage
from bench.profile import load_profile
from bench.think_time import ThinkTime

__all__ = [
    "AUTO",
    "base_url",
    "choice",
    "duration",
    "fraction",
    "locustfile",
    "loopback_address",
    "name_list",
    "non_negative_float",
    "non_negative_int",
    "outage",
    "path",
    "port_number",
    "positive_float",
    "positive_int",
    "process_count",
    "profile_file",
    "seconds",
    "show_outage",
    "show_seconds",
    "text",
    "think_time",
    "timespan",
]

AUTO = "auto"
_TIMESPAN = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def _whole(text: str, minimum: int, must: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if value < minimum:
        raise ValueError(f"{text!r} must be {must}")
    return value


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    return _whole(text, 1, "at least 1")


def non_negative_int(text: str) -> int:
    """A whole number >= 0."""
    return _whole(text, 0, "0 or more")


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = _finite(text)
    if not value > 0:
        raise ValueError(f"{text!r} must be greater than zero")
    return value


def non_negative_float(text: str) -> float:
    """A finite number >= 0."""
    value = _finite(text)
    if value < 0:
        raise ValueError(f"{text!r} must be zero or more")
    return value


def fraction(text: str) -> float:
    """A share, 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise ValueError(f"{text!r} must be between 0 and 1")
    return value


def timespan(text: str) -> int:
    """Whole seconds in Locust's forms, zero included: ``0``, ``90``, ``30s``, ``1h30m``."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    match = _TIMESPAN.match(text)
    if not match or not any(match.groups()):
        raise ValueError(
            f"invalid duration {text!r}: use seconds or Locust's forms such as 30s, 2m, 1h30m"
        )
    hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + secs


def duration(text: str) -> float:
    """Whole seconds in Locust's forms: ``90``, ``30s``, ``2m``, ``1h30m``; above zero."""
    value = timespan(text)
    if value <= 0:
        raise ValueError(f"duration {text.strip()!r} must be longer than zero")
    return float(value)


def seconds(text: str) -> float:
    """Seconds as a number (``1.5``) or in Locust's forms (``8s``, ``2m``); above zero."""
    try:
        float(text)
    except ValueError:
        return duration(text)
    return positive_float(text)


def show_seconds(value: float) -> str:
    """Seconds as :func:`seconds` reads them back."""
    return f"{value:g}"


def process_count(text: str) -> int | str:
    """A whole number of load processes >= 1, or ``auto`` (Locust's ``-1``)."""
    if text.strip().lower() in (AUTO, "-1"):
        return AUTO
    try:
        return positive_int(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither a whole number >= 1 nor 'auto'") from None


def base_url(text: str) -> str:
    """An ``http://`` or ``https://`` base URL: a host, an optional port and path, no more.

    Credentials are refused (they would be written into every result file), and so are a
    query and a fragment (the routes would be appended after them).
    """
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{text!r} is not a base URL: use http://HOST[:PORT] or https://HOST[:PORT]"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "the URL holds a user name or password, which would be written into every "
            "result file: give the URL without them (the tool signs its own users in)"
        )
    if parts.query or parts.fragment or text.rstrip().endswith(("?", "#")):
        raise ValueError(
            f"{parts.scheme}://{parts.netloc}{parts.path} with a query or fragment is not a "
            "base URL: drop what follows ? or # (the API routes are appended to the URL)"
        )
    return text.rstrip("/")


def loopback_address(text: str) -> str:
    """An IP address in 127.0.0.0/8 or ::1 (the reference backend serves loopback only)."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address") from None
    if not address.is_loopback:
        raise ValueError(
            f"{text} is not a loopback address: the reference backend binds only to "
            "127.0.0.0/8 or ::1"
        )
    return text


def port_number(text: str) -> int:
    """A TCP port, 0 (any free port) to 65535."""
    value = non_negative_int(text)
    if value > 65535:
        raise ValueError(f"{text!r} is not a TCP port: use 0 to 65535")
    return value


def think_time(text: str) -> ThinkTime:
    """``0``, ``0.5`` or a range ``1-3`` (seconds)."""
    return ThinkTime.parse(text)


def outage(text: str) -> tuple[float, float]:
    """``START+LENGTH`` in seconds (``30+10``)."""
    return parse_outage(text)


def show_outage(value: tuple[float, float]) -> str:
    """An outage as :func:`outage` reads it back."""
    return f"{value[0]:g}+{value[1]:g}"


def name_list(*allowed: str) -> Callable[[str], tuple[str, ...]]:
    """Different names, comma-separated (each one of ``allowed``, when given). Whether
    there are enough to compare is a rule between options (``_settings.RULES``)."""

    def parse(text: str) -> tuple[str, ...]:
        names = tuple(name.strip() for name in text.split(",") if name.strip())
        if not names or len(set(names)) != len(names):
            raise ValueError(f"{text!r}: give different names, comma-separated")
        unknown = [name for name in names if allowed and name not in allowed]
        if unknown:
            raise ValueError(f"unknown {unknown[0]!r}: choose from {', '.join(allowed)}")
        return names

    parse.__doc__ = f"Names, comma-separated{': ' + ', '.join(allowed) if allowed else ''}."
    return parse


def profile_file(text: str) -> Path:
    """A target profile's path, read and checked (``ProfileError`` names what is wrong)."""
    profile = Path(text)
    load_profile(profile)
    return profile


def locustfile(text: str) -> Path:
    """A locustfile's path: the file must exist (whether it imports is checked later)."""
    scenario = Path(text)
    if not scenario.is_file():
        raise ValueError(f"scenario file {text} not found: pass --scenario PATH to a locustfile")
    return scenario


def path(text: str) -> Path:
    """A file or folder path (what must be there is checked where it is used)."""
    if not text.strip():
        raise ValueError("give a path")
    return Path(text)


def text(value: str) -> str:
    """Any non-empty text."""
    if not value.strip():
        raise ValueError("give a value")
    return value.strip()


def choice(*choices: str) -> Callable[[str], str]:
    """One of ``choices``."""

    def parse(value: str) -> str:
        if value not in choices:
            shown = ", ".join(repr(c) for c in choices)
            raise ValueError(f"invalid choice: {value!r} (choose from {shown})")
        return value

    parse.__doc__ = f"One of {', '.join(choices)}."
    return parse
