"""``python -m bench.locust_adapter.check_scenario LOCUSTFILE``: does it import, with users?

``aegis-bench`` runs this before it starts a target or Locust, in a child process
(importing Locust patches the process it runs in), so that a scenario that raises, fails
to import a module, has a syntax error or defines no user fails in seconds, in one line
on stderr (exit 1), instead of after a target started and Locust printed a traceback.
"""

from __future__ import annotations

import runpy
import sys
import traceback
from pathlib import Path

from locust import User


def _where(exc: BaseException, scenario: Path) -> str:
    """The scenario's own line that raised (or, for a syntax error, the line it names)."""
    if isinstance(exc, SyntaxError) and exc.lineno is not None:
        return f"{Path(exc.filename or scenario).name}, line {exc.lineno}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == scenario]
    return f"{scenario.name}, line {frames[-1].lineno}" if frames else scenario.name


def check(scenario: Path) -> str | None:
    """Why ``scenario`` cannot be used as a locustfile, or None when it can."""
    scenario = scenario.resolve()
    sys.path.insert(0, str(scenario.parent))  # as Locust does: its neighbours import
    try:
        namespace = runpy.run_path(str(scenario), run_name="locustfile")
    except BaseException as exc:
        detail = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        return f"{type(exc).__name__}: {detail} ({_where(exc, scenario)})"
    users = [
        value
        for value in namespace.values()
        if isinstance(value, type) and issubclass(value, User) and not value.abstract
    ]
    if not users:
        return "it defines no Locust user class (a subclass of AegisUser or locust.User)"
    return None


def main() -> int:
    if len(sys.argv) != 2:
        sys.stderr.write("usage: python -m bench.locust_adapter.check_scenario LOCUSTFILE\n")
        return 2
    problem = check(Path(sys.argv[1]))
    if problem is not None:
        sys.stderr.write(problem + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
