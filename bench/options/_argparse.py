"""An option on an ``argparse`` parser: aegis-bench's commands, and the perf scripts."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bench.options._option import Option

__all__ = ["add_argument"]


def _typed(option: Option[Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return option.read(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = option.name  # argparse names the type in some messages
    return parse


def _help(option: Option[Any], command: str | None) -> str:
    if command in option.defaults or option.default_doc is None:
        shown = option.text(option.default_for(command))
    else:
        shown = option.default_doc
    return f"{option.help_for(command)} (default: {shown or 'unset'})".replace("%", "%%")


def add_argument(parser: Any, option: Option[Any], command: str | None = None) -> None:
    """Add ``option`` to ``parser`` (or an argument group) under its flag, parsed by its
    own parser; its value is ``None`` when not given (the settings fill defaults in)."""
    if option.switch:
        parser.add_argument(
            option.flag, dest=option.name, action="store_const", const=True, default=None,
            help=_help(option, command),
        )  # fmt: skip
        return
    parser.add_argument(
        option.flag, dest=option.name, type=_typed(option), default=None,
        metavar=option.metavar, help=_help(option, command),
    )  # fmt: skip
