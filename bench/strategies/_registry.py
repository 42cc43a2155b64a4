"""Strategies by name, so ``--client-strategy NAME`` can pick built-in and plugged-in ones."""

from __future__ import annotations

from typing import TypeVar

from bench.strategies._base import ClientStrategy
from bench.strategies._builtin import (
    NoSingleFlightStrategy,
    PerCallStrategy,
    PooledStrategy,
    SharedStrategy,
    StaleJarStrategy,
)

__all__ = ["UnknownStrategyError", "create_strategy", "register_strategy", "strategy_names"]

_S = TypeVar("_S", bound=type[ClientStrategy])
_REGISTRY: dict[str, type[ClientStrategy]] = {}


class UnknownStrategyError(ValueError):
    """A strategy name that nobody registered."""


def register_strategy(cls: _S) -> _S:
    """Class decorator: make ``cls`` selectable by its ``name``."""
    _REGISTRY[cls.name] = cls
    return cls


def strategy_names() -> list[str]:
    """The names that can be selected, built-in ones first."""
    return list(_REGISTRY)


def create_strategy(name: str) -> ClientStrategy:
    """A new instance of the strategy registered as ``name``."""
    try:
        return _REGISTRY[name]()
    except KeyError:
        known = ", ".join(_REGISTRY)
        raise UnknownStrategyError(f"unknown client strategy {name!r} (known: {known})") from None


for _builtin in (
    PooledStrategy,
    PerCallStrategy,
    SharedStrategy,
    StaleJarStrategy,
    NoSingleFlightStrategy,
):
    register_strategy(_builtin)
