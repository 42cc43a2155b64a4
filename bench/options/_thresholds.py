"""The gate's limits: what fails a run, from the threshold options or a TOML file.

Every command judges its runs against :class:`Limits`; ``aegis-bench ci`` takes them as
flags or from ``--thresholds FILE`` (the same names with underscores), every other door
uses the declared defaults (no leak, no failed request).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from bench._toml import load_toml
from bench.options import _catalog_gate as c
from bench.options._option import Option

__all__ = ["Limits", "load_limits"]


@dataclass(frozen=True)
class Limits:
    """Limits a run must hold; ``None`` means not checked (field names are the options')."""

    max_leaks: int = c.MAX_LEAKS.default or 0
    max_error_rate: float | None = c.MAX_ERROR_RATE.default
    max_p99_ms: float | None = c.MAX_P99_MS.default
    min_speedup: float | None = c.MIN_SPEEDUP.default
    max_conns_per_request: float | None = c.MAX_CONNS_PER_REQUEST.default

    def merged(self, overrides: dict[Option[Any], Any]) -> Limits:
        """These limits with every set (not ``None``) override applied."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update({o.name: v for o, v in overrides.items() if v is not None})
        return Limits(**values)

    def as_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Limits:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


def load_limits(path: Path) -> Limits:
    """Limits from a TOML file of threshold options; ``ValueError`` names a bad key or value."""
    options = {o.name: o for o in c.THRESHOLD_OPTIONS}
    raw = load_toml(path, "thresholds", options)
    parsed: dict[Option[Any], Any] = {}
    for key, value in raw.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"{path}: {key} must be a number, got {value!r}")
        try:
            parsed[options[key]] = options[key].parse(str(value))
        except ValueError as exc:
            raise ValueError(f"{path}: {key}: {exc}") from None
    return Limits().merged(parsed)
