"""One declaration per option: every door reads it the same way, and the docs say so.

The doors are aegis-bench's command line, Locust's command line and the web UI's start
form (Locust's options with the form's fields laid over them). The adapter's side is
driven here without Locust: its parser is stood in for by a recorder of arguments.
"""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from aegis_client import KEEPALIVE_EXPIRY_S
from bench.cli import reference
from bench.cli._parser import UsageError, build_parser, settings_of
from bench.options import (
    ALL,
    BURSTS,
    EXPIRE_EVERY,
    FAULT_5XX,
    KEEPALIVE,
    TRANSPORT,
    Door,
    Option,
    OptionError,
    add_locust_arguments,
    read_locust_options,
    with_form,
)

pytestmark = pytest.mark.timeout(30)


class LocustParser:
    """Stands in for Locust's parser: records each argument the tool adds."""

    def __init__(self) -> None:
        self.arguments: dict[str, dict[str, Any]] = {}

    def add_argument(self, flag: str, **options: Any) -> None:
        self.arguments[flag] = options


def locust_options(*argv: str) -> argparse.Namespace:
    """Locust's parsed options for ``argv`` (tool options and Locust's own ones)."""
    parser = argparse.ArgumentParser()
    for flag, options in _locust_arguments().items():
        options.pop("include_in_web_ui")
        parser.add_argument(flag, **options)
    # Locust's own options, as Locust names them.
    parser.add_argument("--users", "-u", dest="num_users", type=int, default=None)
    parser.add_argument("--spawn-rate", type=float, default=1.0)
    parser.add_argument("--run-time", type=int, default=None)
    parser.add_argument("--host", default=None)
    parser.add_argument("--processes", type=int, default=None)
    return parser.parse_args(argv)


def _locust_arguments() -> dict[str, dict[str, Any]]:
    recorder = LocustParser()
    add_locust_arguments(recorder)
    return recorder.arguments


def cli(*argv: str) -> dict[str, str]:
    """``aegis-bench run ARGV``'s settings, as text."""
    return settings_of(build_parser().parse_args(["run", *argv])).as_text()


def locust(*argv: str) -> dict[str, str]:
    return read_locust_options(locust_options(*argv)).as_text()


def form(**fields: str) -> dict[str, str]:
    return read_locust_options(with_form(locust_options(), fields), Door.WEB_FORM).as_text()


def shared(settings: dict[str, str], names: set[str]) -> dict[str, str]:
    return {name: value for name, value in settings.items() if name in names}


# The options both aegis-bench run and Locust take.
BOTH = {o.name for o in ALL if o.locust is not None and not o.locust_own and "run" in o.commands}


def test_the_docs_options_reference_is_the_declarations() -> None:
    """docs/options.md and docs/exit-codes.md are what the declarations generate."""
    assert reference.main(["--check"]) == 0


def test_locust_gets_every_tool_option_with_its_declared_default_as_text() -> None:
    """Each tool option reaches Locust's parser (so the form) once, its default as text."""
    arguments = _locust_arguments()
    declared = [o for o in ALL if o.locust is not None and not o.locust_own]
    assert sorted(arguments) == sorted(o.locust for o in declared if o.locust)
    for option in declared:
        if not option.switch:
            assert arguments[option.locust or ""]["default"] == option.text(option.default)


def test_every_door_applies_the_same_defaults() -> None:
    """Unset, every option has the same value in every door (the keep-alive one place)."""
    assert shared(cli(), BOTH) == shared(locust(), BOTH) == shared(form(), BOTH)
    assert cli()[KEEPALIVE.name] == f"{KEEPALIVE_EXPIRY_S:g}"


@pytest.mark.parametrize(
    ("option", "text", "value"),
    [
        (EXPIRE_EVERY, "8s", "8"),
        (EXPIRE_EVERY, "2m", "120"),
        (FAULT_5XX, "0.25", "0.25"),
        (TRANSPORT, "aiohttp", "aiohttp"),
    ],
)
def test_every_door_accepts_the_same_syntax(option: Option[Any], text: str, value: str) -> None:
    """A value aegis-bench accepts, Locust's command line and the form accept alike."""
    assert cli(option.flag, text)[option.name] == value
    assert locust(option.locust or "", text)[option.name] == value
    assert form(**{option.dest or "": text})[option.name] == value


@pytest.mark.parametrize(
    ("given", "bursts"), [({}, "0"), ({EXPIRE_EVERY: "8s"}, "0.05"),
                          ({EXPIRE_EVERY: "8s", BURSTS: "0"}, "0")],
)  # fmt: skip
def test_every_door_derives_bursts_from_expiry_storms(
    given: dict[Option[Any], str], bursts: str
) -> None:
    """Expiry storms bring 5% bursts, unless bursts are given, through every door."""
    argv = [part for option, text in given.items() for part in (option.flag, text)]
    locust_argv = [part for option, text in given.items() for part in (option.locust, text)]
    fields = {option.dest or "": text for option, text in given.items()}
    assert cli(*argv)[BURSTS.name] == bursts
    assert locust(*(a or "" for a in locust_argv))[BURSTS.name] == bursts
    assert form(**fields)[BURSTS.name] == bursts


def test_a_rule_reads_the_same_in_every_door_naming_the_option_as_its_user_knows_it() -> None:
    """Fault shares over 1 are refused by every door, each naming its own field."""
    with pytest.raises(UsageError, match="--fault-5xx, --fault-slow and --fault-reset are"):
        cli("--fault-5xx", "0.6", "--fault-slow", "0.6")
    with pytest.raises(OptionError, match="--target-fault-5xx, --target-fault-slow and"):
        locust("--target-fault-5xx", "0.6", "--target-fault-slow", "0.6")
    with pytest.raises(OptionError, match="target_fault_5xx, target_fault_slow and"):
        form(target_fault_5xx="0.6", target_fault_slow="0.6")


def test_a_bad_value_is_refused_with_the_same_reason_in_every_door() -> None:
    """An out-of-range value gets one message, whichever door it came through."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--churn", "2"])
    with pytest.raises(OptionError, match="aegis_churn: '2' must be between 0 and 1"):
        form(aegis_churn="2")
    with pytest.raises(OptionError, match="--aegis-churn: '2' must be between 0 and 1"):
        locust("--aegis-churn", "2")


def test_the_host_is_checked_in_the_form_too() -> None:
    """A target URL with a password is refused by the form as by the command line."""
    with pytest.raises(OptionError, match="user name or password"):
        form(host="http://ann:secret@127.0.0.1:8000")


@pytest.mark.parametrize("option", ALL, ids=[o.name for o in ALL])
def test_every_option_is_reachable_and_documented(option: Option[Any]) -> None:
    """Each declaration reaches a door, says what it does, and reads its default back."""
    assert option.commands or option.locust
    assert option.help
    default = option.default
    if default is not None and not option.switch:
        assert option.read(option.text(default)) == default


def _variants(*argv: str) -> list[tuple[str, str, str]]:
    settings = settings_of(build_parser().parse_args(["compare", *argv]))
    return [(v.name, v.strategy, v.transport) for v in settings.variants()]


def test_a_comparison_compares_pooled_and_per_call_on_httpx_by_default() -> None:
    """By default compare runs pooled and per-call on httpx's own transport."""
    assert _variants() == [("pooled", "pooled", "httpcore"), ("per-call", "per-call", "httpcore")]


def test_comparing_transports_runs_pooled_on_each_named_by_its_transport() -> None:
    """--transports alone compares pooled on each stack, each named by its transport."""
    assert _variants("--transports", "httpcore,aiohttp") == [
        ("httpcore", "pooled", "httpcore"), ("aiohttp", "pooled", "aiohttp")
    ]  # fmt: skip


def test_strategies_and_transports_give_every_pair_named_by_both() -> None:
    """Strategies and transports together run each strategy on each transport."""
    assert [name for name, *_ in _variants("--strategies", "pooled,per-call", "--transports",
                                           "aiohttp,httpcore")] == [
        "pooled+aiohttp", "pooled+httpcore", "per-call+aiohttp", "per-call+httpcore"
    ]  # fmt: skip


def test_one_transport_carries_every_strategy_of_a_comparison() -> None:
    """--transport aiohttp compares the strategies on aiohttp, named by strategy."""
    assert _variants("--transport", "aiohttp") == [
        ("pooled", "pooled", "aiohttp"), ("per-call", "per-call", "aiohttp")
    ]  # fmt: skip
