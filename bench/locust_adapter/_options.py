"""The tool's options on Locust's command line: declared in ``bench.options``, with the
strategies registered in this process as the strategy field's drop-down."""

from __future__ import annotations

from typing import Any

from bench.options import STRATEGY, Door, Settings, add_locust_arguments, read_locust_options
from bench.strategies import strategy_names

__all__ = ["add_arguments", "read_settings"]


def add_arguments(parser: Any) -> None:
    """Register the options on Locust's parser (``events.init_command_line_parser``)."""
    add_locust_arguments(parser, {STRATEGY: strategy_names()})


def read_settings(options: Any, door: Door = Door.LOCUST) -> Settings:
    """The tool's settings in Locust's parsed options (see ``bench.options._locust``)."""
    return read_locust_options(options, door)
