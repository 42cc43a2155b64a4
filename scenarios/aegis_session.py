"""The default aegis-bench scenario: sign up or in, then browse, occasionally re-login.

    locust -f scenarios/aegis_session.py --host http://127.0.0.1:8000 \
        --client-strategy pooled --think-time 0

Every user owns one client (per ``--client-strategy``) for its whole life. Task weights
come from ``bench.steps.STEP_WEIGHTS``, so the bare asyncio baseline runs the same mix.
"""

from __future__ import annotations

from typing import Any, ClassVar

from bench.locust_adapter import AegisUser
from bench.steps import STEP_WEIGHTS, STEPS, Step


def _task(step: Step) -> Any:
    def run_step(user: AegisUser) -> None:
        user.run_task(step)  # or, with --churn, recycle the user's client

    run_step.__name__ = step.__name__
    return run_step


class AegisSessionUser(AegisUser):
    """Browses /auth/me and /insights/projects; signs out and back in now and then."""

    tasks: ClassVar[dict[Any, int]] = {
        _task(step): weight for step, weight in zip(STEPS, STEP_WEIGHTS, strict=True)
    }
