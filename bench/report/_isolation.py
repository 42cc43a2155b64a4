"""summary.json's ``isolation``: cross-user isolation judged from both sides.

Client side from the call verdicts the sessions noted; server side from the reference
backend's oracle and connection ledger, when the target has them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.measure import MAX_FINDINGS
from bench.outcome import leak_count
from bench.registry import IsolationVerdict
from bench.registry import Verdict as V

__all__ = ["ISOLATED", "LEAK", "NOT_CHECKED", "isolation_section"]

# The outcomes of an isolation verdict: evidence of none, evidence of a leak, or none
# (named once, in the registry; plain strings in summary.json).
ISOLATED = IsolationVerdict.ISOLATED.value
LEAK = IsolationVerdict.LEAK.value
NOT_CHECKED = IsolationVerdict.NOT_CHECKED.value


def _checks(
    verdicts: Counter[str], oracle: dict[str, Any] | None, connections: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Each isolation check: how many times it ran, and how many times it failed."""
    return {
        "identity_client": {"ran": verdicts[V.IDENTITY_CHECKED], "failed": verdicts[V.LEAK]},
        "session_cookie": {
            "ran": verdicts[V.COOKIE_CHECKED],
            "failed": verdicts[V.LOST_SESSION],
        },
        "sign_out_cookie": {
            "ran": verdicts[V.SIGN_OUT_CHECKED],
            "failed": verdicts[V.FOREIGN_SESSION],
        },
        "replay": {
            "ran": verdicts[V.REPLAY_REFUSED] + verdicts[V.REPLAY_ACCEPTED],
            "failed": verdicts[V.REPLAY_ACCEPTED],
            "skipped": {
                "sign_out_failed": verdicts[V.REPLAY_SKIPPED_SIGN_OUT_FAILED],
                "foreign_session": verdicts[V.REPLAY_SKIPPED_FOREIGN_SESSION],
                "no_cookie": verdicts[V.REPLAY_SKIPPED_NO_COOKIE],
            },
        },
        "identity_server": {
            "ran": oracle.get("checked") if oracle else None,
            "failed": oracle.get("mismatches") if oracle else None,
        },
        "connections_server": {
            "ran": connections.get("accepted") if oracle else None,
            "failed": connections.get("multi_user") if oracle else None,
        },
    }


def _not_checked_reason(verdicts: Counter[str], requests: int, identity: tuple[str, str]) -> str:
    """Why no identity comparison ran, as specifically as the counters allow."""
    route, field = identity
    if verdicts[V.IDENTITY_FIELD_MISSING]:
        return (
            f"0 identity checks: {route} answered no field '{field}' "
            f"({verdicts[V.IDENTITY_FIELD_MISSING]:,} times): set identity_field in the profile"
        )
    if verdicts[V.IDENTITY_NOT_OBJECT]:
        return (
            f"0 identity checks: {route} answered something other than a JSON object "
            f"({verdicts[V.IDENTITY_NOT_OBJECT]:,} times): is 'identity' the identity route?"
        )
    if requests == 0:
        return "0 identity checks: no call completed (see locust.log and target.log)"
    return f"0 identity checks: no identity answer from {route} and no owned records"


def _server_examples(oracle: dict[str, Any] | None, room: int) -> list[dict[str, str]]:
    return [
        {
            "kind": "server_leak",
            "endpoint": str(example.get("path")),
            "user": str(example.get("declared")),
            "got": str(example.get("session_user")),
        }
        for example in (oracle or {}).get("examples", [])[: max(0, room)]
    ]


def isolation_section(
    verdicts: Counter[str],
    findings: list[dict[str, str]],
    server: dict[str, Any] | None,
    *,
    server_state: str,
    oracle_expected: bool,
    requests: int,
    identity: tuple[str, str],
) -> dict[str, Any]:
    """Isolation judged from both sides, with one of three verdicts.

    ``leak`` when any check failed (with examples), ``not checked`` when there is no
    evidence either way (no identity comparison ran, or the target's oracle was
    expected but saw only part of the run or could not be read), else ``isolated``.
    """
    oracle = (server or {}).get("oracle") if server_state == "available" else None
    connections = (server or {}).get("connections", {}) if oracle else {}
    checks = _checks(verdicts, oracle, connections)
    section: dict[str, Any] = {
        "verdict": ISOLATED,
        "reason": "",
        "checked": verdicts[V.IDENTITY_CHECKED],
        "checks": checks,
        "client_side_leaks": verdicts[V.LEAK],
        "server_side_leaks": oracle.get("mismatches") if oracle else None,
        "shared_connections": connections.get("multi_user") if oracle else None,
        "foreign_sessions": verdicts[V.FOREIGN_SESSION],
        "lost_sessions": verdicts[V.LOST_SESSION],
        "lost_sessions_server": oracle.get("no_cookie") if oracle else None,
        "replay_checked": checks["replay"]["ran"],
        "replay_accepted": verdicts[V.REPLAY_ACCEPTED],
        "replay_skipped": sum(checks["replay"]["skipped"].values()),
        "unjudged_answers": {
            name: verdicts[name]
            for name in (V.IDENTITY_FIELD_MISSING, V.IDENTITY_NOT_OBJECT, V.OWNER_FIELD_MISSING)
        },
        "server_oracle": server_state if oracle_expected or oracle else "unavailable",
        "crosswired_by_target": (server or {}).get("faults", {}).get("crosswired"),
        "examples": [*findings, *_server_examples(oracle, MAX_FINDINGS - len(findings))],
    }
    leaks = {
        "client-side leaks": section["client_side_leaks"],
        "server-side leaks": section["server_side_leaks"],
        "shared connections": section["shared_connections"],
        "replays accepted (the backend kept a revoked session)": section["replay_accepted"],
        "foreign sessions (a client carried someone else's session)": section["foreign_sessions"],
    }
    found = {name: count for name, count in leaks.items() if count}
    if leak_count(section):
        section["verdict"] = LEAK
        section["reason"] = ", ".join(f"{count:,} {name}" for name, count in found.items())
    elif not section["checked"]:
        section["verdict"] = NOT_CHECKED
        section["reason"] = _not_checked_reason(verdicts, requests, identity)
    elif oracle_expected and not oracle:
        section["verdict"] = NOT_CHECKED
        section["reason"] = f"the target's server-side oracle {server_state}"
    else:
        server_side = (
            f", {checks['identity_server']['ran']:,} server-side checks"
            if oracle
            else "; client side only: the target has no server-side oracle"
        )
        section["reason"] = f"{section['checked']:,} identity checks{server_side}, none failed"
    section["failed"] = section["verdict"] == LEAK
    return section
