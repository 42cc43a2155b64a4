"""Test your own session-carrying client for cross-user leaks, from your own test suite.

::

    from aegis_client import APIClient
    from bench.testing import check_isolation

    report = await check_isolation(lambda url: APIClient(url), "http://127.0.0.1:8000")
    report.raise_for_leaks()  # IsolationError, with examples, unless "isolated"

:func:`check_isolation` runs many users at once on plain asyncio, each on a new client
from your factory, with the checks of an ``aegis-bench`` run (and after proving them
on a built-in leaky control). :func:`embedded_backend` starts the reference backend from
a test. The pytest plugin (``bench.testing.pytest_plugin``, installed with the package)
offers the same check as the synchronous fixture ``aegis_isolation``.

Nothing here imports Locust or gevent, and importing this package is cheap: each name
loads its module on first use (PEP 562), so pytest loading the plugin costs nothing to
projects that never call the fixture.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "IsolationError",
    "IsolationReport",
    "LeakExample",
    "check_isolation",
    "embedded_backend",
    "time_budget_s",
]

if TYPE_CHECKING:
    from bench.testing._backend import embedded_backend
    from bench.testing._check import check_isolation, time_budget_s
    from bench.testing._report import IsolationError, IsolationReport, LeakExample

_HOMES = {
    "IsolationError": "bench.testing._report",
    "IsolationReport": "bench.testing._report",
    "LeakExample": "bench.testing._report",
    "check_isolation": "bench.testing._check",
    "embedded_backend": "bench.testing._backend",
    "time_budget_s": "bench.testing._check",
}


def __getattr__(name: str) -> Any:
    """A public name, its module imported when first asked for (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # asked once: later lookups find it directly
    return value
