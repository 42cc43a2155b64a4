"""What ``check_isolation`` found: :class:`IsolationReport`, its examples, its error.

The report is read from the ``isolation`` section of the summary that
``bench.report.build_summary`` makes of the check's users, the section every run's
verdict comes from; nothing here judges again. Examples carry user names, endpoints and
the identity that came back, never a cookie or token value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.outcome import leak_count
from bench.registry import LEAK_VERDICTS, IsolationVerdict

__all__ = ["IsolationError", "IsolationReport", "LeakExample", "report_of"]

EXAMPLES_SHOWN = 5


@dataclass(frozen=True)
class LeakExample:
    """One leak: which user, at which endpoint, and what came back instead.

    ``kind`` is a leak verdict's name (``leak``: an answer named another user, whose
    name is ``got``; ``foreign_session``: the user's sign-out carried another session's
    cookie; ``replay_accepted``: the backend accepted the user's signed-out cookie).
    """

    kind: str
    user: str
    endpoint: str
    got: str

    def __str__(self) -> str:
        meaning = {str(verdict): text for verdict, text in LEAK_VERDICTS.items()}
        what = meaning.get(self.kind, self.kind)
        return f"{self.user} at {self.endpoint}: {what} (got: {self.got})"


class IsolationError(AssertionError):
    """Raised by :meth:`IsolationReport.raise_for_leaks` when the verdict is not
    ``isolated``; the message is the report with its examples. A subclass of
    ``AssertionError``, so a test fails (rather than errors) on it."""

    def __init__(self, report: IsolationReport) -> None:
        super().__init__(str(report))
        self.report = report


@dataclass(frozen=True)
class IsolationReport:
    """The verdict on a client's isolation, the evidence behind it, and a few leaks.

    - ``verdict``: ``isolated`` (identity checks ran, none failed), ``leak`` (some
      failed), or ``not checked`` (no evidence: never a pass).
    - ``reason``: why, in one line (what leaked, how many checks ran, or what was missing).
    - ``leaks``: calls answered for another user, accepted replays of a signed-out
      cookie, and sign-outs that carried another session's cookie.
    - ``checked``: identity comparisons that ran; ``replay_checked``: replays judged.
    - ``examples``: a few leaks (user, endpoint, what came back).
    - ``calls``, ``failures``: the users' calls, and those that failed.
    - ``users``, ``users_without_session``: users run, and those that never signed in;
      ``stopped_users``: users stopped by a step that overran its bound.
    - ``unwatched_clients``: clients whose wire could not be watched (not httpx-based):
      their cookie checks and replays were skipped.
    - ``control``: what the built-in leaky control showed before the client was judged.
    """

    verdict: IsolationVerdict
    reason: str
    leaks: int = 0
    checked: int = 0
    examples: tuple[LeakExample, ...] = ()
    replay_checked: int = 0
    calls: int = 0
    failures: int = 0
    users: int = 0
    users_without_session: int = 0
    stopped_users: int = 0
    unwatched_clients: int = 0
    control: str = ""

    def raise_for_leaks(self) -> None:
        """Raise :class:`IsolationError`, with the examples, unless the verdict is
        ``isolated``: a check that could not run is no proof of isolation."""
        __tracebackhide__ = True  # pytest shows the test's line, not this one
        if self.verdict is not IsolationVerdict.ISOLATED:
            raise IsolationError(self)

    def __str__(self) -> str:
        lines = [f"aegis-bench isolation check: {self.verdict}: {self.reason}"]
        lines += [f"  {example}" for example in self.examples[:EXAMPLES_SHOWN]]
        hidden = len(self.examples) - EXAMPLES_SHOWN
        if hidden > 0:
            lines.append(f"  ... and {hidden} more examples")
        if self.users:  # none when the control stopped the check before the client ran
            lines.append(
                f"  {self.users} users, {self.calls} calls ({self.failures} failed), "
                f"{self.checked} identity checks, {self.replay_checked} replays, "
                f"{self.leaks} leaks"
            )
        if self.users_without_session:
            lines.append(f"  {self.users_without_session} users never signed in")
        if self.stopped_users:
            lines.append(f"  {self.stopped_users} users stopped by a step that overran")
        if self.unwatched_clients:
            lines.append(
                f"  {self.unwatched_clients} clients not httpx-based: identity checks only"
            )
        if self.control:
            lines.append(f"  control: {self.control}")
        return "\n".join(lines)


def _examples(isolation: Mapping[str, Any]) -> tuple[LeakExample, ...]:
    """The section's examples that are leaks (not lifecycle findings)."""
    kinds = {str(verdict) for verdict in LEAK_VERDICTS} | {"server_leak"}
    return tuple(
        LeakExample(
            kind=str(found.get("kind")),
            user=str(found.get("user")),
            endpoint=str(found.get("endpoint")),
            got=str(found.get("got")),
        )
        for found in isolation.get("examples") or ()
        if found.get("kind") in kinds
    )


def report_of(
    summary: Mapping[str, Any],
    *,
    verdict: IsolationVerdict | None = None,
    reason: str | None = None,
    stopped_users: int = 0,
    unwatched_clients: int = 0,
    control: str = "",
) -> IsolationReport:
    """The report of a summary's ``isolation`` section; ``verdict`` and ``reason``
    replace the section's when the check itself knows better (cut short, control not
    caught)."""
    isolation = summary["isolation"]
    shortfall = summary.get("users_without_session") or {}
    return IsolationReport(
        verdict=verdict or IsolationVerdict(isolation["verdict"]),
        reason=reason or str(isolation["reason"]),
        leaks=leak_count(isolation),
        checked=int(isolation["checked"]),
        examples=_examples(isolation),
        replay_checked=int(isolation["replay_checked"]),
        calls=int(summary["requests"]),
        failures=int(summary["failures"]),
        users=int(summary["users"]),
        users_without_session=int(shortfall.get("count") or 0),
        stopped_users=stopped_users,
        unwatched_clients=unwatched_clients,
        control=control,
    )


# Named where users import them from (as httpx names its classes), so a failing test
# reads "bench.testing.IsolationError".
for _public in (IsolationError, IsolationReport, LeakExample):
    _public.__module__ = "bench.testing"
