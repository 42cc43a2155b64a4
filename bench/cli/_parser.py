"""``aegis-bench``'s arguments, made from the option declarations (``bench.options``).

Each command takes the options declared for it, parsed by each option's own parser, so
the command line accepts exactly what Locust's command line and the web form accept. A
usage error is one line that says what was wrong and points at ``--help``, which ends
with the exit-code table.
"""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from bench.options import ALL, COMMANDS, Door, OptionError, Settings, settings_from_values
from bench.options._argparse import add_argument
from bench.options._reference import GROUPS
from bench.outcome import ExitCode, exit_code_table

__all__ = ["COMMAND_HELP", "UsageError", "build_parser", "settings_of"]

COMMAND_HELP = {
    "run": "one headless load run, written to a results folder",
    "compare": "run strategies with identical settings, capacity then latency at a rate",
    "ci": "a bounded comparison whose exit code is the gate (leaks, invariants, thresholds)",
    "ui": "Locust's web UI on 127.0.0.1 with a Sessions tab; a run folder per test",
    "serve": "run the reference Aegis backend in the foreground",
}


class UsageError(Exception):
    """The user asked for something that cannot work; the message says what to do."""


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors in one line instead of the whole usage block."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments:"):
            message = _elsewhere(message.split(":", 1)[1].split()) or message
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _elsewhere(arguments: list[str]) -> str | None:
    """For a declared option given to a command that does not take it: which do."""
    for argument in arguments:
        flag = argument.split("=", 1)[0]
        for option in ALL:
            if option.commands and option.flag == flag:
                commands = [name for name in COMMANDS if name in option.commands]
                listed = ", ".join(commands[:-1]) + " and " if len(commands) > 1 else ""
                return f"{flag} is for {listed}{commands[-1]}"
    return None


def _add_command(commands: Any, command: str) -> None:
    parser = commands.add_parser(
        command,
        help=COMMAND_HELP[command],
        description=COMMAND_HELP[command],
        epilog="exit codes:\n" + exit_code_table(markdown=False),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    groups: dict[str, Any] = {}
    order = list(GROUPS)  # the groups in the reference's order, each in declared order
    for option in sorted(ALL, key=lambda o: order.index(o.group)):
        if command not in option.commands:
            continue
        group = groups.get(option.group)
        if group is None:
            group = groups[option.group] = parser.add_argument_group(GROUPS[option.group])
        add_argument(group, option, command)


def build_parser() -> argparse.ArgumentParser:
    """The full parser; ``--help`` of each command documents every option it takes."""
    parser = _Parser(
        prog="aegis-bench",
        description="Multi-session load and isolation benchmark for session-carrying clients.",
        epilog="exit codes:\n" + exit_code_table(markdown=False),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    for command in COMMANDS:
        _add_command(commands, command)
    return parser


def settings_of(args: argparse.Namespace) -> Settings:
    """The command's settings: its options' values, defaults and derived values, checked
    against the rules between options (a broken rule is a :class:`UsageError`)."""
    command = args.command
    values = {o: getattr(args, o.name) for o in ALL if command in o.commands}
    try:
        return settings_from_values(values, Door.CLI, command)
    except OptionError as exc:
        raise UsageError(str(exc)) from None
