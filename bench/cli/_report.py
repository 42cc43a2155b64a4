"""What the terminal says after a run or a comparison: the outcome, then the notes.

Every reason the outcome gives is printed (to stderr) with its examples; the notes, things
a reader of the figures must know that are not failures, are printed once each with
the runs they concern, however many runs share them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from bench.options import Door
from bench.outcome import Outcome
from bench.registry import INVARIANTS, Invariant, needs

__all__ = ["notes_of", "print_notes", "print_outcome"]


def print_outcome(outcome: Outcome) -> None:
    """Each reason the run did not pass, with up to five examples of it."""
    for reason in outcome.reasons:
        print(reason.line(), file=sys.stderr)
        for example in reason.examples:
            print(f"  {dict(example)}", file=sys.stderr)


def notes_of(summary: Mapping[str, Any], *, at_capacity: bool = False) -> list[str]:
    """The notes one run's summary gives (``at_capacity``: a closed loop that saturates the
    generator by design, so that is no news)."""
    notes = list(summary.get("notes") or [])
    generator = summary.get("generator") or {}
    if generator.get("saturated") and not at_capacity:
        notes.append(
            "the load generator, not the target, limited the run ("
            + "; ".join(generator.get("reasons") or [])
            + "): add --processes or a think time for target-bound figures"
        )
    without = summary.get("users_without_session") or {}
    if without.get("count") or without.get("sign_in_failures"):
        reasons = ", ".join(f"{why} ({n:,})" for why, n in without["sign_in_failures"].items())
        notes.append(
            f"{without['count']:,} users ended without a session; failed sign-ins: "
            f"{reasons or 'none'}. For slow password hashing lower --spawn-rate or raise "
            "--timeout"
        )
    isolation = summary.get("isolation") or {}
    lost, lost_server = isolation.get("lost_sessions") or 0, isolation.get("lost_sessions_server")
    if lost or lost_server:
        notes.append(
            "lost sessions: calls of signed-in users that went out without their "
            f"session's cookie, {lost:,} seen by the clients, {lost_server or 0:,} by the target"
        )
    if isolation.get("server_oracle") == "unavailable":
        notes.append("the target has no server-side oracle; isolation was judged client-side only")
    for name in (summary.get("lifecycle") or {}).get("not_checked") or []:
        if _asked_to_exercise(summary, name):  # else the report lists it, not the terminal
            notes.append(f"lifecycle invariant {name} not checked: needs {needs(name, Door.CLI)}")
    return notes


def _asked_to_exercise(summary: Mapping[str, Any], invariant: str) -> bool:
    """Whether the run set an option that exercises ``invariant``: only then is its not
    being checked news for the terminal (a run that never set out to test it says so in
    its report)."""
    spec = INVARIANTS.get(Invariant(invariant)) if invariant in set(Invariant) else None
    settings = summary.get("settings") or {}
    return spec is not None and any(
        settings.get(option.name, "") not in ("", "0", "false")
        for group in spec.exercised_by
        for option in group
    )


def print_notes(notes: Iterable[tuple[str, str]], runs: int) -> None:
    """Print each distinct note once, with the runs it concerns (``runs``: how many ran).

    ``notes`` are (run label, note) pairs.
    """
    by_note: dict[str, list[str]] = {}
    for label, note in notes:
        by_note.setdefault(note, []).append(label)
    for note, labels in by_note.items():
        if runs <= 1:
            print(f"note: {note}")
        elif len(labels) == runs:
            print(f"note: {note} ({runs} of {runs} runs)")
        else:
            print(f"note: {note} ({len(labels)} of {runs} runs: {', '.join(labels)})")
