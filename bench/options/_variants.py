"""What a comparison compares: its variants, each a strategy on a transport.

``compare`` and ``ci`` run every strategy (``--strategies``) on every HTTP stack
(``--transports``, else ``--transport`` alone), the first variant being the baseline.
A variant is named by what varies: the strategy (``per-call``), the transport
(``aiohttp``) or both (``per-call+aiohttp``); folders, pyperf files and reports use
that name. ``Settings.variants()`` reads them from a comparison's settings.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Variant", "variants"]


@dataclass(frozen=True)
class Variant:
    """One compared variant: a strategy on a transport, and its name in reports."""

    name: str
    strategy: str
    transport: str


def variants(strategies: tuple[str, ...], transports: tuple[str, ...]) -> tuple[Variant, ...]:
    """Every strategy on every transport, named by what varies, the baseline first."""
    found = []
    for strategy in strategies:
        for transport in transports:
            if len(transports) == 1:
                name = strategy
            elif len(strategies) == 1:
                name = transport
            else:
                name = f"{strategy}+{transport}"
            found.append(Variant(name, strategy, transport))
    return tuple(found)
