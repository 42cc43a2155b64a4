"""The Locust environment and the two ``AegisUser`` subclasses the measurer starts.

Locust and the adapter are imported inside ``user_classes``, not at import time: the
measuring process imports Locust first, and this module is imported before that.
"""

from __future__ import annotations

from typing import Any


def user_classes(url: str) -> tuple[Any, Any, Any]:
    """Locust's environment and two AegisUser subclasses: one adopts a session, one builds it."""
    import locust
    from locust.env import Environment

    from bench.locust_adapter import AegisUser

    def nothing(user: Any) -> None:
        return None

    class ParkedUser(AegisUser):
        """Adopts a session built beforehand; its only task does nothing, then it thinks."""

        abstract = False
        host = url
        tasks = [nothing]  # noqa: RUF012 - Locust's own class attribute

        def on_start(self) -> None:
            return None  # the session was given to it before start

        def on_stop(self) -> None:
            return None

    class AdapterUser(AegisUser):
        """The adapter's own on_start (client over the bridge, sign-in with run_step)."""

        abstract = False
        host = url
        tasks = [nothing]  # noqa: RUF012 - Locust's own class attribute

        def on_stop(self) -> None:
            return None

    environment = Environment(user_classes=[ParkedUser, AdapterUser], events=locust.events)
    return environment, ParkedUser, AdapterUser
