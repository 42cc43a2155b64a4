"""summary.json's ``lifecycle`` and ``failures_by_kind``: what happened to the sessions.

The session lifecycle as the wire showed it (401s, refreshes, retries, sign-ins and
sign-outs), what the sessions did about it (``on_unauthorized`` calls, users signed in
again, clients recycled, burst tasks), and every invariant with how often it ran and
broke (declared in ``bench.registry.INVARIANTS``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.measure import MAX_FINDINGS, Part, Recorder
from bench.profile import Profile
from bench.registry import INVARIANTS, FailureKind, Invariant, failure_kind
from bench.registry import Verdict as V

__all__ = ["REPLAY_METHOD", "failures_by_kind", "lifecycle_section"]

REPLAY_METHOD = "REPLAY"  # bench.session.REPLAY: the report does not import sessions


def failures_by_kind(recorder: Recorder) -> dict[str, int]:
    """Every failed call by kind; the counts sum to ``failures``."""
    kinds: Counter[str] = Counter()
    for stats in recorder.endpoints.values():
        for reason, count in stats.failure_reasons.items():
            kinds[failure_kind(reason)] += count
        # Reasons are kept for every failure; any shortfall is named, not dropped.
        missing = stats.counters["failures"] - sum(stats.failure_reasons.values())
        if missing > 0:
            kinds[FailureKind.OTHER] += missing
    return {str(kind): count for kind, count in kinds.most_common()}


def _of_processes(load_parts: list[Part]) -> dict[str, Any]:
    """What the load processes counted of the lifecycle, summed over their parts."""
    served: Counter[str] = Counter()
    checked, broken = Counter[str](), Counter[str]()
    examples: list[dict[str, str]] = []
    for part in load_parts:
        served.update(part.lifecycle.refresh_served)
        for name, counts in part.lifecycle.invariants.items():
            checked[name] += int(counts.get("checked", 0))
            broken[name] += int(counts.get("broken", 0))
        examples += part.lifecycle.invariant_examples
    return {
        "refresh_served": dict(sorted(served.items(), key=lambda item: int(item[0]))),
        "signed_in_again": sum(part.lifecycle.signed_in_again for part in load_parts),
        "recycled_clients": sum(part.lifecycle.recycled_clients for part in load_parts),
        "bursts": sum(part.lifecycle.bursts for part in load_parts),
        "checked": checked,
        "broken": broken,
        "examples": examples,
    }


def lifecycle_section(
    recorder: Recorder,
    profile: Profile,
    load_parts: list[Part],
    oracle: dict[str, Any] | None,
) -> dict[str, Any]:
    """The ``lifecycle`` section; ``oracle`` is the target's oracle counters when it has
    them (the server side of "no cookie after sign-out")."""
    verdicts: Counter[str] = Counter()
    for name, stats in recorder.endpoints.items():
        method, _, path = name.partition(" ")
        # A replay's 401 is the refusal it tests for; a sign-in's, wrong credentials.
        if method != REPLAY_METHOD and path not in profile.credential_routes:
            verdicts.update(stats.verdicts)

    def requests_to(*paths: str) -> int:
        return sum(
            stats.counters["requests"]
            for name, stats in recorder.endpoints.items()
            if name.partition(" ")[2] in paths
        )

    processes = _of_processes(load_parts)
    checked, broken = processes.pop("checked"), processes.pop("broken")
    examples = processes.pop("examples")
    all_verdicts = recorder.total().verdicts
    for invariant, spec in INVARIANTS.items():
        if spec.verdicts is not None:
            checked[invariant] += all_verdicts[spec.verdicts[0]]
            broken[invariant] += all_verdicts[spec.verdicts[1]]
    at_server = Invariant.NO_COOKIE_AFTER_SIGN_OUT_SERVER
    if oracle is not None and "signed_out_checked" in oracle:
        checked[at_server] += int(oracle["signed_out_checked"])
        broken[at_server] += int(oracle["signed_out_cookie"])
        examples += [
            {"invariant": str(at_server), **example}
            for example in oracle.get("signed_out_examples") or []
        ]
    refreshes = verdicts[V.REFRESH]
    names = [*(str(i) for i in INVARIANTS), *(n for n in checked if n not in INVARIANTS)]
    return {
        "unauthorized": verdicts[V.UNAUTHORIZED],
        "refreshes": refreshes,
        # How many 401s each refresh served, as its task saw them: over 1, single flight.
        "unauthorized_per_refresh": (
            round((verdicts[V.UNAUTHORIZED] - verdicts[V.RETRY_UNAUTHORIZED]) / refreshes, 2)
            if refreshes
            else None
        ),
        "refresh_failures": verdicts[V.REFRESH_FAILED],
        "retries": verdicts[V.RETRY],
        "on_unauthorized": verdicts[V.ON_UNAUTHORIZED],
        "sign_ins": requests_to(profile.sign_in, profile.register),
        "sign_outs": requests_to(profile.sign_out),
        **processes,
        "invariants": {name: {"checked": checked[name], "broken": broken[name]} for name in names},
        "not_checked": [str(name) for name in INVARIANTS if not checked[name]],
        "invariants_broken": sum(broken.values()),
        "invariant_examples": examples[:MAX_FINDINGS],
    }
