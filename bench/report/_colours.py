"""One colour per strategy, from the Okabe-Ito palette (told apart with any colour vision).

The built-in strategies always get the same colour, so a strategy reads the same in a
comparison's report.html and in each of its runs' own; any other strategy takes,
in the order the report lists them, the colours no built-in one owns, then those of
built-in ones absent from the report.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["colours"]

# Okabe-Ito, yellow last: it is the hardest to see on white.
_PALETTE = ("#0072B2", "#D55E00", "#CC79A7", "#E69F00", "#009E73", "#56B4E9", "#000000",
            "#F0E442")  # fmt: skip
# The strategies bench.strategies registers, in the palette's order. (Named here, not
# imported: the reports do not depend on the strategies' code.)
_BUILT_IN = ("pooled", "per-call", "shared", "stale-jar", "no-single-flight")


def colours(strategies: Iterable[str]) -> dict[str, str]:
    """Each strategy's colour: a built-in one's own, else the next free one (cycling)."""
    names = list(dict.fromkeys(strategies))
    chosen = {name: _PALETTE[_BUILT_IN.index(name)] for name in names if name in _BUILT_IN}
    # The colours no built-in strategy owns come first, so a single strategy of the
    # scenario's own keeps its colour whichever strategies share its report.
    spare = _PALETTE[len(_BUILT_IN) :]
    free = [*spare, *(c for c in _PALETTE if c not in spare and c not in chosen.values())]
    others = [name for name in names if name not in chosen]
    chosen |= {name: free[i % len(free)] for i, name in enumerate(others)}
    return {name: chosen[name] for name in names}
