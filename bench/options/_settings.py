"""The values one door read, checked once for every door.

:func:`settings_from_text` (Locust's command line, the web form: text) and
:func:`settings_from_values` (aegis-bench's parser, which parsed with the same
functions) both fill in the command's defaults, derive the derived ones and check the
rules between options (:data:`RULES`), so every door accepts and refuses the same
settings, with the same message, naming the option as its user knows it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from bench.options import _catalog as c
from bench.options._option import Door, Option
from bench.options._values import AUTO
from bench.options._variants import Variant, variants

__all__ = [
    "RULES",
    "TARGET_KEEPALIVE_S",
    "OptionError",
    "Rule",
    "Settings",
    "embedded_keep_alive_s",
    "settings_from_text",
    "settings_from_values",
]

T = TypeVar("T")
# The embedded target's keep-alive (TargetConfig.keep_alive_s) at the least, and how much
# longer than the clients' it keeps an idle connection: the clients must retire idle
# connections first, or the server closes one under a request and the client reconnects
# silently (equal timeouts race).
TARGET_KEEPALIVE_S = 30.0
TARGET_KEEPALIVE_MARGIN_S = 10.0


def embedded_keep_alive_s(client_keepalive_s: float) -> float:
    """The embedded target's keep-alive for clients that keep idle connections this long:
    think times longer than 30 s need a client keep-alive above them, and the target's
    follows (0 reconnects for 15,000 sessions at 40-60 s think time)."""
    return max(TARGET_KEEPALIVE_S, client_keepalive_s + TARGET_KEEPALIVE_MARGIN_S)


class OptionError(ValueError):
    """A value or a combination of values no door accepts; the message names the option
    as the user of that door knows it, and says what to do."""


class Settings:
    """Option values by option: ``settings[USERS]`` is an ``int``.

    Holds only the options its door knows; ``option in settings`` tells. Read-only: use
    :meth:`replace` for a changed copy.
    """

    __slots__ = ("_values", "door")

    def __init__(self, values: Mapping[str, Any], door: Door) -> None:
        self._values = dict(values)
        self.door = door

    def __getitem__(self, option: Option[T]) -> T:
        value: T = self._values[option.name]
        return value

    def get(self, option: Option[T], default: T | None = None) -> T | None:
        value: T | None = self._values.get(option.name, default)
        return value

    def required(self, option: Option[T | None]) -> T:
        """The value of an option the door has filled in (``--out`` once a folder was
        chosen, ``--host`` once the target is up); ``ValueError`` when it has not."""
        value: T | None = self._values.get(option.name)
        if value is None:
            raise ValueError(f"{option.flag} is not set yet")
        return value

    def __contains__(self, option: Option[Any]) -> bool:
        return option.name in self._values

    def names(self) -> list[str]:
        """The names of the options these settings hold."""
        return sorted(self._values)

    def replace(self, changes: Mapping[Option[Any], Any]) -> Settings:
        """A copy with ``changes`` applied (values, already parsed)."""
        return Settings({**self._values, **{o.name: v for o, v in changes.items()}}, self.door)

    def variants(self) -> tuple[Variant, ...]:
        """A comparison's variants: each of its strategies on each of its transports."""
        transports = self.get(c.TRANSPORTS) or (self[c.TRANSPORT],)
        return variants(self[c.STRATEGIES], transports)

    def with_variant(self, variant: Variant) -> Settings:
        """These settings with ``variant``'s strategy and transport (one run of it)."""
        return self.replace({c.STRATEGY: variant.strategy, c.TRANSPORT: variant.transport})

    def as_text(self) -> dict[str, str]:
        """Every value as the text its option reads back (empty when unset), by name."""
        return {name: _by_name(name).text(value) for name, value in sorted(self._values.items())}

    def locust_argv(self) -> list[str]:
        """Locust's command line for these settings (each option with a Locust flag)."""
        argv: list[str] = []
        for option in c.ALL:
            if option.name in self._values:
                argv += option.to_locust(self._values[option.name])
        return argv


def _by_name(name: str) -> Option[Any]:
    for option in c.ALL:
        if option.name == name:
            return option
    raise KeyError(name)


@dataclass(frozen=True)
class Rule:
    """A rule between options, checked wherever a door has them all (and is in ``doors``).

    ``broken`` says whether the settings break it; ``message`` says why, given a function
    that names an option as the door's user knows it.
    """

    options: tuple[Option[Any], ...]
    broken: Callable[[Settings], bool]
    message: Callable[[Settings, Callable[[Option[Any]], str]], str]
    doors: frozenset[Door] = frozenset(Door)


def _most_processes() -> int:
    return max(4, 4 * (os.cpu_count() or 1))


def _is_set(settings: Settings, option: Option[Any]) -> bool:
    value = settings.get(option)
    return value is not None and value is not False and value != 0


def _embedded_only_set(settings: Settings) -> list[Option[Any]]:
    return [o for o in c.ALL if o.embedded_only and o in settings and _is_set(settings, o)]


RULES: tuple[Rule, ...] = (
    Rule(
        (c.STRATEGIES, c.TRANSPORT),
        lambda s: len(s.variants()) < 2,
        lambda s, name: (
            f"nothing to compare: give two or more strategies ({name(c.STRATEGIES)} "
            f"pooled,per-call) or transports ({name(c.TRANSPORTS)} httpcore,aiohttp)"
        ),
    ),
    Rule(
        c.FAULT_SHARES,
        lambda s: sum(s[o] or 0.0 for o in c.FAULT_SHARES) > 1.0,
        lambda s, name: (
            f"{', '.join(name(o) for o in c.FAULT_SHARES[:-1])} and "
            f"{name(c.FAULT_SHARES[-1])} are shares of the same calls: together at most 1"
        ),
    ),
    Rule(
        (c.HOST,),
        lambda s: s[c.HOST] is not None and bool(_embedded_only_set(s)),
        lambda s, name: (
            f"{', '.join(name(o) for o in _embedded_only_set(s))} configure the embedded "
            f"target: drop {name(c.HOST)}"
        ),
        frozenset({Door.CLI}),
    ),
    Rule(
        (c.RESTART_TARGET_AT, c.DURATION),
        lambda s: (s[c.RESTART_TARGET_AT] or 0.0) >= (s[c.DURATION] or float("inf")),
        lambda s, name: (
            f"{name(c.RESTART_TARGET_AT)} {s[c.RESTART_TARGET_AT]:g} must fall within "
            f"{name(c.DURATION)} ({s[c.DURATION]:g} s)"
        ),
    ),
    Rule(
        (c.PROCESSES,),
        lambda s: s[c.PROCESSES] > _most_processes(),
        lambda s, name: (
            f"{name(c.PROCESSES)} {s[c.PROCESSES]} is far more than this machine's "
            f"{os.cpu_count()} cores can run (at most {_most_processes()}): each load process "
            "needs a core's share; use about one per core"
        ),
        frozenset({Door.CLI}),
    ),
    Rule(
        (c.USERS, c.PROCESSES),
        lambda s: isinstance(s[c.PROCESSES], int) and s[c.USERS] < s[c.PROCESSES],
        lambda s, name: (
            f"{name(c.USERS)} {s[c.USERS]} cannot be spread over {name(c.PROCESSES)} "
            f"{s[c.PROCESSES]}: give at least one user per load process"
        ),
        frozenset({Door.CLI}),
    ),
)


def _finish(values: dict[str, Any], door: Door, options: Iterable[Option[Any]]) -> Settings:
    """Derive the unset derived values, then check every rule the door has options for."""
    settings = Settings(values, door)
    for option in options:
        if option.derive is not None and values.get(option.name) in (None, AUTO):
            values[option.name] = option.derive(settings)
    settings = Settings(values, door)
    for rule in RULES:
        applies = door in rule.doors and all(o in settings for o in rule.options)
        if applies and rule.broken(settings):
            raise OptionError(rule.message(settings, lambda o: o.label(door)))
    return settings


def settings_from_values(
    values: Mapping[Option[Any], Any], door: Door, command: str | None = None
) -> Settings:
    """Settings from values a door parsed already (``None``: unset, the default applies)."""
    filled = {
        o.name: value if value is not None else o.default_for(command)
        for o, value in values.items()
    }
    return _finish(filled, door, values)


def settings_from_text(
    texts: Mapping[Option[Any], Any], door: Door, command: str | None = None
) -> Settings:
    """Settings from text (Locust's options, the web form's fields), parsed and checked.

    A value that is not text (Locust's own ``num_users``) is taken as its text. The first
    bad value raises :class:`OptionError` naming the option as ``door``'s user knows it.
    """
    parsed: dict[Option[Any], Any] = {}
    for option, raw in texts.items():
        try:
            parsed[option] = option.read(raw)
        except ValueError as exc:
            raise OptionError(f"{option.label(door)}: {exc}") from None
    return settings_from_values(parsed, door, command)
