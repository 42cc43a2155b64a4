"""The options on Locust's command line (and so in the web UI's start form).

Every tool option with a Locust flag is added to Locust's parser as text with its
declared default, unless it is one of Locust's own (``--users``): the form writes what
the user typed into Locust's options, and :func:`read_locust_options` parses it with
each option's own parser, so the form, Locust's command line and ``aegis-bench`` accept
the same values and derive the same defaults. Nothing here imports Locust: the adapter
hands its parser in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.options._catalog import ALL
from bench.options._option import Door, Option
from bench.options._settings import Settings, settings_from_text

__all__ = ["add_locust_arguments", "read_locust_options", "with_form"]


def add_locust_arguments(
    parser: Any, choices: Mapping[Option[Any], Sequence[str]] | None = None
) -> None:
    """Add the tool's options to Locust's ``parser`` (``choices`` adds drop-downs the
    declarations cannot know, e.g. the strategies a locustfile registered)."""
    for option in ALL:
        if option.locust is None or option.locust_own:
            continue
        # Locust's own add_argument (not an argument group's) knows include_in_web_ui.
        if option.switch:
            parser.add_argument(
                option.locust, action="store_true", default=False, help=option.help,
                include_in_web_ui=option.web_form,
            )  # fmt: skip
            continue
        parser.add_argument(
            option.locust, default=option.text(option.default), help=option.help,
            choices=(choices or {}).get(option, option.choices),
            include_in_web_ui=option.web_form,
        )  # fmt: skip


def read_locust_options(options: Any, door: Door = Door.LOCUST) -> Settings:
    """The settings in Locust's parsed options (its own ones included), parsed and
    checked as every door checks them; ``OptionError`` names a bad one for ``door``."""
    texts = {o: getattr(options, o.dest or "", None) for o in ALL if o.locust is not None}
    return settings_from_text(texts, door)


class _WithForm:
    """Locust's options with a start form's fields laid over them, as Locust sets them
    when it starts the test (switches aside: the form does not change them)."""

    def __init__(self, options: Any, form: Mapping[str, str]) -> None:
        self.__dict__.update(vars(options))
        for key, value in form.items():
            if key in self.__dict__ and not isinstance(self.__dict__[key], bool):
                self.__dict__[key] = value


def with_form(options: Any, form: Mapping[str, str]) -> Any:
    """``options`` as the web UI's start form ``form`` will leave them."""
    return _WithForm(options, form)
