"""The ``on_unauthorized`` handler every measured client gets.

The lifecycle's invariants themselves are declared in ``bench.registry``.
"""

from __future__ import annotations

from bench.measure._context import CURRENT_CALL
from bench.registry import Verdict

__all__ = ["note_unauthorized"]


def note_unauthorized() -> None:
    """The ``on_unauthorized`` handler of every measured client: marks the call in flight.

    The session that made the call reads the mark when the call returns, counts it, and
    does what the Aegis app does: signs out locally and signs in again (see
    ``MeasuredSession``).
    """
    record = CURRENT_CALL.get()
    if record is not None:
        record.verdict(Verdict.ON_UNAUTHORIZED)
