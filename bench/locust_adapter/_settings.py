"""The tool's settings as one test uses them: read from Locust's options, checked, built.

Read when a process starts (a bad value on Locust's command line exits 2) and again at
every test start, because the web UI's start form writes its fields into the same
options before it starts a test. The form's values are checked before Locust takes
them (:func:`check_form`), so a bad value refuses the swarm with a message the UI shows,
naming the form's field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.faults import faults_to_json
from bench.locust_adapter._options import read_settings
from bench.options import (
    ALL,
    PROFILE,
    STRATEGY,
    TIMEOUT,
    Door,
    Option,
    OptionError,
    Settings,
    faults_of,
    settings_from_text,
    with_form,
)
from bench.profile import AEGIS, Profile, load_profile
from bench.strategies import ClientStrategy, create_strategy

__all__ = [
    "AdapterSettings",
    "SettingsError",
    "built",
    "default_settings",
    "form_settings",
    "settings_from",
]


class SettingsError(ValueError):
    """An option value the tool cannot run with; the message says which and what to do."""


@dataclass(frozen=True)
class AdapterSettings:
    """A test's settings, and what they build: its strategy, its profile, its faults.

    ``target_faults`` is what the reference backend is to inject during the test
    (``POST /_bench/faults``'s body), or None when the options ask for no fault.
    """

    values: Settings
    strategy: ClientStrategy
    profile: Profile
    target_faults: dict[str, Any] | None


def settings_from(options: Any, door: Door = Door.LOCUST) -> AdapterSettings:
    """The settings in Locust's parsed options; :class:`SettingsError` names a bad one."""
    try:
        return built(read_settings(options, door))
    except OptionError as exc:
        raise SettingsError(str(exc)) from None


def default_settings(texts: Mapping[Option[Any], str] | None = None) -> AdapterSettings:
    """Every Locust option at its default but ``texts`` (for tools that drive users
    without Locust's parser, e.g. ``bench/perf/session_memory.py``)."""
    given = {o: None for o in ALL if o.locust is not None} | dict(texts or {})
    return built(settings_from_text(given, Door.LOCUST))


def built(values: Settings) -> AdapterSettings:
    """What the settings build: the strategy, the profile, the target's faults."""
    try:
        strategy = create_strategy(values[STRATEGY])
    except ValueError as exc:  # UnknownStrategyError
        raise SettingsError(str(exc)) from None
    path = values[PROFILE]
    faults = faults_of(values, slow_s=values[TIMEOUT] + 1.0)
    return AdapterSettings(
        values=values,
        strategy=strategy,
        profile=load_profile(path) if path is not None else AEGIS,
        target_faults=faults_to_json(faults) if faults.any else None,
    )


def form_settings(options: Any, form: Mapping[str, str]) -> AdapterSettings:
    """The settings the start form (over the options) asks for; :class:`SettingsError`."""
    return settings_from(with_form(options, form), Door.WEB_FORM)
