"""Client strategies: what a run compares, behind one interface (see ``_base``)."""

from bench.strategies._base import (
    ClientStrategy,
    StrategyContext,
    pooled_transport_factory,
)
from bench.strategies._builtin import (
    PerCallClient,
    PerCallStrategy,
    PooledStrategy,
    SharedStrategy,
    StaleJarStrategy,
)
from bench.strategies._registry import (
    UnknownStrategyError,
    create_strategy,
    register_strategy,
    strategy_names,
)

__all__ = [
    "ClientStrategy",
    "PerCallClient",
    "PerCallStrategy",
    "PooledStrategy",
    "SharedStrategy",
    "StaleJarStrategy",
    "StrategyContext",
    "UnknownStrategyError",
    "create_strategy",
    "pooled_transport_factory",
    "register_strategy",
    "strategy_names",
]
