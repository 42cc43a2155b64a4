"""The tool's names, each declared once: call verdicts, lifecycle invariants, failure kinds.

Enums in a Locust-free package, used by every layer (the transport and the session that
note verdicts, the recorder that counts them, the summary, the outcome, Locust's rows).
"""

from bench.registry._failures import FailureKind, failure_kind
from bench.registry._invariants import INVARIANTS, Invariant, InvariantSpec, needs
from bench.registry._verdicts import (
    LEAK_VERDICTS,
    ROW_KINDS,
    IsolationVerdict,
    RowKind,
    Verdict,
)

__all__ = [
    "INVARIANTS",
    "LEAK_VERDICTS",
    "ROW_KINDS",
    "FailureKind",
    "Invariant",
    "InvariantSpec",
    "IsolationVerdict",
    "RowKind",
    "Verdict",
    "failure_kind",
    "needs",
]
