"""``python -m bench.cli.reference``: write the generated reference pages of the docs.

``docs/options.md`` comes from the option declarations (``bench.options``) and
``docs/exit-codes.md`` from the exit-code table (``bench.outcome``); ``--check`` exits 1
when a page in the tree differs from what the declarations give (the tests run it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.options import reference_markdown
from bench.outcome import exit_code_table

__all__ = ["PAGES", "pages"]

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ("options.md", "exit-codes.md")


def _exit_codes() -> str:
    return "\n".join(
        [
            "# Exit codes",
            "",
            "Every `aegis-bench` command, and Locust running the tool (`locust -f ...` with a",
            "run folder, a master, the web UI's last test), exits with one of these codes,",
            "decided in one place (`bench/outcome/`); `aegis-bench --help` prints the same",
            "table. A run's `summary.json` holds its verdict as `outcome`: `complete`,",
            "`passed`, `exit_code` and every reason.",
            "",
            exit_code_table(),
            "",
        ]
    )


def pages() -> dict[str, str]:
    """Each generated page's file name and text."""
    return {"options.md": reference_markdown(), "exit-codes.md": _exit_codes()}


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    stale = []
    for name, text in pages().items():
        path = DOCS / name
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale: {', '.join(stale)}: run python -m bench.cli.reference", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
