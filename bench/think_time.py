"""Think time: how long a simulated user waits between its tasks.

Kept apart from the Locust adapter so the CLI can check ``--think-time`` without
importing Locust (which monkey-patches the process with gevent on import).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

__all__ = ["ThinkTime"]


@dataclass(frozen=True)
class ThinkTime:
    """Seconds a user waits between tasks: a constant, or uniform in ``[low, high]``."""

    low: float
    high: float

    @classmethod
    def parse(cls, text: str) -> ThinkTime:
        """Parse ``"0"``, ``"0.5"`` or ``"1-3"``; raise ValueError with the accepted forms."""
        try:
            parts = [float(p) for p in str(text).split("-", 1)]
        except ValueError:
            raise ValueError(
                f"think time {text!r} is not a number of seconds or a range such as 1-3"
            ) from None
        low, high = (parts[0], parts[0]) if len(parts) == 1 else (parts[0], parts[1])
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"think time {text!r} must be finite seconds")
        if low < 0 or high < low:
            raise ValueError(f"think time {text!r} must be >= 0, and a range must be low-high")
        return cls(low, high)

    def __str__(self) -> str:
        """The think time as :meth:`parse` reads it back: ``0.5`` or ``1-3``."""
        return f"{self.low:g}" if self.low == self.high else f"{self.low:g}-{self.high:g}"

    def sample(self, rng: random.Random) -> float:
        return self.low if self.low == self.high else rng.uniform(self.low, self.high)
