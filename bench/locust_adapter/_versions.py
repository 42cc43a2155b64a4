"""The library versions the adapter is tested against, checked before anything runs.

The adapter leans on parts of Locust that are not a public API (its CSV writer, its
master's heartbeat allowance, ``Runner.stop`` on a worker; see ``_csv.py`` and
``_plugin.py``), and counts on httpx's and httpcore's behaviour. Their tested versions
are bounded once, in ``pyproject.toml``; a process running with versions outside those
bounds stops here with one line saying what to install, instead of failing obscurely.
"""

from __future__ import annotations

import sys
from importlib import metadata

from packaging.requirements import Requirement

__all__ = ["BOUNDED", "check_versions", "out_of_bounds"]

# The libraries whose versions the adapter's patches and measurements depend on.
BOUNDED = ("locust", "httpx", "httpcore")


def out_of_bounds() -> list[str]:
    """Each bounded library installed at a version outside aegis-bench's requirement."""
    try:
        requirements = [Requirement(text) for text in metadata.requires("aegis-bench") or []]
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return []
    problems = []
    for requirement in requirements:
        if requirement.name not in BOUNDED or requirement.marker is not None:
            continue
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            problems.append(f"{requirement.name} {installed} (tested: {requirement})")
    return problems


def check_versions() -> None:
    """Exit with one line when a bounded library is outside its tested versions."""
    problems = out_of_bounds()
    if problems:
        sys.stderr.write(
            f"aegis-bench: {'; '.join(problems)} is outside the versions the Locust adapter "
            "is tested against: pip install -e . (or the versions in pyproject.toml)\n"
        )
        sys.exit(2)
