"""SIGINT and SIGTERM as requests to stop, which the run loop honours in order.

A signal handler that raised would cut the tool off wherever it happened to be (half
through a summary, between starting Locust and watching it). Instead the signals are
recorded, and each phase looks at them: the first asks for a graceful stop (the users
sign out, every client is closed, the results are written, marked partial); a second
asks for an immediate one (the load processes are killed, and the summary is made from
their last checkpoints). The exit code is then 128 + the first signal's number: 130
after SIGINT, 143 after SIGTERM.
"""

from __future__ import annotations

import os
import signal
from types import FrameType, TracebackType
from typing import Any

__all__ = ["STOP", "StopSignals"]


class StopSignals:
    """The stop requests received while installed (a context manager)."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        self.received = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)
        name = signal.Signals(signum).name
        # os.write, not sys.stderr: the handler may interrupt a print to stderr, and a
        # buffered writer entered again raises.
        if len(self.received) == 1:
            os.write(
                2,
                f"aegis-bench: {name}: stopping the users and keeping what they measured "
                "(send it again to stop at once)\n".encode(),
            )
        elif len(self.received) == 2:
            os.write(2, f"aegis-bench: {name} again: stopping at once\n".encode())

    @property
    def requested(self) -> bool:
        """True once any stop was asked for."""
        return bool(self.received)

    @property
    def immediate(self) -> bool:
        """True once a second signal asked to stop at once."""
        return len(self.received) >= 2

    @property
    def name(self) -> str | None:
        """The first signal's name (``SIGINT``, ``SIGTERM``), or None."""
        return signal.Signals(self.received[0]).name if self.received else None

    @property
    def exit_code(self) -> int:
        """128 + the first signal's number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.received[0] if self.received else 0


# The tool's one instance: installed by ``main`` around the load commands.
STOP = StopSignals()
