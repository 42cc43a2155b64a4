"""What one option is: declared once, read by every door.

An :class:`Option` holds the option's name, its parser, its defaults, its help, the
``aegis-bench`` commands that take it, its name on Locust's command line (so in the web
UI's start form), how its value goes back to text (child processes' argv, the docs), a
default derived from other options, and how a run counts what it did (its evidence).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

__all__ = ["COMMANDS", "Door", "Evidence", "Option"]

T = TypeVar("T")
# The aegis-bench commands, in the order --help and the docs list them.
COMMANDS = ("run", "compare", "ci", "ui", "serve")


class Door(Enum):
    """Where an option's text came from, and so how a message names the option."""

    CLI = "aegis-bench"  # aegis-bench's command line: --churn
    LOCUST = "locust"  # Locust's command line: --aegis-churn
    WEB_FORM = "web form"  # the web UI's start form: aegis_churn


@dataclass(frozen=True)
class Evidence:
    """How a run counts what an option asked for, so that a run which asked for it but
    never did it says "not exercised" instead of passing on nothing.

    ``count`` reads the count from a summary (``None``: the run cannot tell, e.g. a target
    without the reference backend's counters); ``where`` names the summary field.
    """

    what: str  # "clients recycled"
    where: str  # "lifecycle.recycled_clients"
    count: Callable[[Mapping[str, Any]], int | None]


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True, eq=False)
class Option(Generic[T]):
    """One option of the tool. Declared once in ``bench.options``' catalog.

    ``default`` applies where ``defaults`` (per command) names no other; ``None`` means
    unset, and then ``derive`` (if any) computes the value from the other options.
    ``locust`` is the option's flag on Locust's command line; ``locust_own`` marks
    Locust's own options (``--users``), which the tool passes but does not declare to
    Locust. ``web_form`` puts a tool option in the web UI's start form.
    """

    name: str
    parse: Callable[[str], T]
    help: str
    commands: frozenset[str] = frozenset()
    default: T | None = None
    defaults: Mapping[str, T] = field(default_factory=dict)
    locust: str | None = None
    locust_own: bool = False
    locust_dest: str | None = None  # Locust's attribute when not the flag's (num_users)
    choices: tuple[str, ...] | None = None  # a drop-down on the web form
    web_form: bool = True
    switch: bool = False  # a flag without a value (store_true)
    show: Callable[[Any], str] = _show
    metavar: str | None = None
    default_doc: str | None = None  # the docs' default, when not the plain value
    group: str = "load"
    embedded_only: bool = False  # configures the embedded reference backend
    derive: Callable[[Any], T] | None = None  # from the other values, when unset
    evidence: Evidence | None = None
    help_by_command: Mapping[str, str] = field(default_factory=dict)
    # Locust's argv for a value, when not ``[locust, show(value)]`` (e.g. omitted at 1).
    locust_argv: Callable[[T], list[str]] | None = None

    @property
    def flag(self) -> str:
        """The option on aegis-bench's command line: ``--spawn-rate``."""
        return "--" + self.name.replace("_", "-")

    @property
    def dest(self) -> str | None:
        """The option's attribute in Locust's parsed options and its form field's name."""
        if self.locust_dest is not None:
            return self.locust_dest
        return self.locust[2:].replace("-", "_") if self.locust else None

    def label(self, door: Door) -> str:
        """How a message names this option to a user of ``door``."""
        if door is Door.WEB_FORM and self.dest is not None:
            return self.dest
        if door is Door.LOCUST and self.locust is not None:
            return self.locust
        return self.flag

    def default_for(self, command: str | None) -> T | None:
        """The default under ``command`` (``None``: the generic one)."""
        if command is not None and command in self.defaults:
            return self.defaults[command]
        return self.default

    def help_for(self, command: str | None) -> str:
        return self.help_by_command.get(command or "", self.help)

    def read(self, raw: Any) -> T | None:
        """A value from text (or a value already parsed, e.g. Locust's own ``num_users``).

        Empty text is unset. ``ValueError`` says what is wrong with the text.
        """
        if raw is None:
            return None
        if self.switch:
            return raw if isinstance(raw, bool) else str(raw).strip().lower() in ("true", "1")  # type: ignore[return-value]
        if not isinstance(raw, str):
            raw = self.show(raw)
        if not raw.strip():
            return None
        return self.parse(raw.strip())

    def text(self, value: T | None) -> str:
        """The value as text this option reads back (empty when unset)."""
        if value is None:
            return ""
        return self.show(value)

    def to_locust(self, value: T | None) -> list[str]:
        """This option's part of Locust's argv for ``value`` (nothing when unset)."""
        if self.locust is None or value is None:
            return []
        if self.switch:
            return [self.locust] if value else []
        if self.locust_argv is not None:
            return self.locust_argv(value)
        return [self.locust, self.show(value)]
