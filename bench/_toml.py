"""Reading the tool's TOML files (profiles, thresholds) with errors a user can act on."""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any

__all__ = ["load_toml"]


def load_toml(
    path: Path, what: str, known: Collection[str], error: type[ValueError] = ValueError
) -> dict[str, Any]:
    """The file's table; ``error`` names the file when it is unreadable, not TOML, or has
    keys outside ``known``."""
    try:
        # utf-8-sig: a byte-order mark (as some Windows editors write) is read, not refused.
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise error(f"{path} is not UTF-8 text: save the {what} as UTF-8 TOML") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path} is not valid TOML: {exc}") from None
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise error(
            f"{path}: unknown {what} keys {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    return raw
