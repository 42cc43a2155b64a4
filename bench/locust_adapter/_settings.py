"""The tool's options as one test uses them: read from Locust's options, and checked.

Read when a process starts (a bad value on Locust's command line exits 2) and again at
every test start, because the web UI's start form writes its fields into the same
options before it starts a test. The form's values are checked before Locust takes
them (:func:`check_form`), so a bad value refuses the swarm with a message the UI shows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.faults import faults_from_json, parse_outage
from bench.profile import AEGIS, Profile, load_profile
from bench.strategies import ClientStrategy, create_strategy
from bench.think_time import ThinkTime

__all__ = [
    "AdapterSettings",
    "SettingsError",
    "asks_for_faults",
    "check_form",
    "settings_from",
    "settings_of",
]

COUNTING_MODES = ("stream", "trace")


class SettingsError(ValueError):
    """An option value the tool cannot run with; the message says which and what to do."""


@dataclass(frozen=True)
class AdapterSettings:
    """Everything a test's users take from the tool's options."""

    strategy: ClientStrategy
    think_time: ThinkTime
    profile: Profile
    keepalive_s: float
    count_with: str
    timeout_s: float
    rate_rps: float | None
    warmup_s: float
    churn: float = 0.0
    bursts: float = 0.0
    # What the reference backend is to inject during the test (``POST /_bench/faults``'s
    # body), or None when the options ask for no fault.
    target_faults: dict[str, Any] | None = None


# The fault options (the web UI's form fields) and the /_bench/faults keys they set.
FAULT_RATES = {
    "target_fault_5xx": "error_rate",
    "target_fault_slow": "slow_rate",
    "target_fault_reset": "reset_rate",
}


def _target_faults(options: Any, timeout_s: float) -> dict[str, Any] | None:
    """The faults the options ask of the target, checked as the backend checks them."""
    body: dict[str, Any] = {key: _share(options, name) for name, key in FAULT_RATES.items()}
    every = _number(options, "target_expire_every", "target_expire_every", 0.0, positive=False)
    outage_text = str(getattr(options, "target_refresh_outage", "") or "").strip()
    if not any(body.values()) and not every and not outage_text:
        return None
    try:
        outage = list(parse_outage(outage_text)) if outage_text else None
        body.update(expire_every_s=every or None, refresh_outage=outage, slow_s=timeout_s + 1.0)
        faults_from_json(body, timeout_s + 1.0)
    except ValueError as exc:
        raise SettingsError(f"target faults: {exc}") from None
    return body


def _number(options: Any, name: str, flag: str, default: float, *, positive: bool) -> float:
    raw = getattr(options, name, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{flag} {raw!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "above 0" if positive else "0 or more"
        raise SettingsError(f"{flag} {raw!r} must be a finite number {bound}")
    return value


def settings_from(options: Any) -> AdapterSettings:
    """The settings in Locust's parsed options; :class:`SettingsError` names a bad one."""
    try:
        strategy = create_strategy(str(getattr(options, "client_strategy", "pooled")))
        think_time = ThinkTime.parse(str(getattr(options, "think_time", "0")))
        profile_path = str(getattr(options, "target_profile", "") or "")
        profile = load_profile(Path(profile_path)) if profile_path else AEGIS
    except ValueError as exc:  # UnknownStrategyError, ProfileError, ThinkTime's
        raise SettingsError(str(exc)) from None
    count_with = str(getattr(options, "count_connections", "stream"))
    if count_with not in COUNTING_MODES:
        raise SettingsError(f"count_connections {count_with!r}: choose stream or trace")
    rate = _number(options, "aegis_rate", "aegis_rate", 0.0, positive=False)
    timeout_s = _number(options, "client_timeout", "client_timeout", 10.0, positive=True)
    return AdapterSettings(
        strategy=strategy,
        think_time=think_time,
        profile=profile,
        keepalive_s=_number(options, "client_keepalive", "client_keepalive", 4.0, positive=True),
        count_with=count_with,
        timeout_s=timeout_s,
        rate_rps=rate or None,
        warmup_s=_number(options, "aegis_warmup", "aegis_warmup", 2.0, positive=False),
        churn=_share(options, "aegis_churn"),
        bursts=_share(options, "aegis_bursts"),
        target_faults=_target_faults(options, timeout_s),
    )


def _share(options: Any, name: str) -> float:
    raw = getattr(options, name, 0.0)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{name} {raw!r} is not a number between 0 and 1") from None
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise SettingsError(f"{name} {raw!r} must be between 0 and 1")
    return value


def settings_of(runtime: Any) -> AdapterSettings:
    """The settings a runtime was made with (a fresh strategy of the same name)."""
    return AdapterSettings(
        strategy=create_strategy(runtime.strategy.name),
        think_time=runtime.think_time,
        profile=runtime.profile,
        keepalive_s=runtime.keepalive_s,
        count_with=runtime.count_with,
        timeout_s=runtime.timeout_s,
        rate_rps=runtime.rate_rps,
        warmup_s=runtime.warmup_s,
        churn=runtime.churn,
        bursts=runtime.bursts,
    )


class _Merged:
    """Locust's options with a form's values laid over them, as Locust will set them."""

    def __init__(self, options: Any, form: Mapping[str, str]) -> None:
        self.__dict__.update(vars(options))
        for key, value in form.items():
            if key in self.__dict__ and not isinstance(self.__dict__[key], bool):
                self.__dict__[key] = value


def asks_for_faults(options: Any, form: Mapping[str, str]) -> bool:
    """True when the start form (over the options) asks the target for faults."""
    try:
        return settings_from(_Merged(options, form)).target_faults is not None
    except SettingsError:
        return False


def check_form(options: Any, form: Mapping[str, str]) -> str | None:
    """Why the web UI's start form cannot start a test, or None when it can."""
    try:
        settings_from(_Merged(options, form))
    except SettingsError as exc:
        return f"aegis-bench: {exc}"
    return None
