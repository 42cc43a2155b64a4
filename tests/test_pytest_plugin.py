"""``bench.testing`` as users meet it: light imports, the public names, the embedded
backend helper, and the pytest plugin's ``aegis_isolation`` fixture in a project of its own."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

import bench.testing
from aegis_client import APIClient
from bench.backend import TargetProcess
from bench.testing import embedded_backend
from bench.testing.pytest_plugin import IsolationCheck

pytestmark = pytest.mark.timeout(90)

DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "testing-your-client.md"


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return set(done.stdout.split())


def run_pytest(folder: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest`` in ``folder``, a project of its own (no config of this repo's)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options],
        cwd=folder, capture_output=True, text=True, timeout=80,
    )  # fmt: skip


def test_importing_bench_testing_imports_no_locust_or_gevent() -> None:
    """Every public name of bench.testing loads without Locust or gevent (they patch a process)."""
    loaded = modules_after("from bench.testing import *\nimport bench.testing.pytest_plugin")
    assert "bench.testing._check" in loaded
    assert not {name for name in loaded if name.split(".")[0] in ("locust", "gevent")}


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    """pytest loading the plugin imports neither httpx, the report builder nor the backend."""
    loaded = modules_after("import bench.testing.pytest_plugin")
    heavy = {"httpx", "bench.report", "bench.session", "bench.backend", "starlette", "uvicorn"}
    assert "bench.testing.pytest_plugin" in loaded
    assert not heavy & loaded


def test_public_names_are_listed_once_sorted_and_resolve() -> None:
    """bench.testing's __all__ is sorted, has no repeat, and each name resolves."""
    names = bench.testing.__all__
    assert names == sorted(names, key=lambda name: (not name[0].isupper(), name))
    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(bench.testing, name) is not None
    with pytest.raises(AttributeError):
        bench.testing.no_such_name  # noqa: B018


def test_embedded_backend_serves_while_open_and_stops_after() -> None:
    """embedded_backend() yields a loopback URL serving the Aegis routes, stopped on exit."""
    with embedded_backend() as url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert httpx.get(f"{url}/api/v1/auth/me", trust_env=False).status_code == 401
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/v1/auth/me", trust_env=False)


def test_the_fixture_needs_a_backend_url(aegis_isolation: IsolationCheck) -> None:
    """Without base_url, marker or --aegis-url the fixture says how to give one."""
    with pytest.raises(ValueError, match="--aegis-url"):
        aegis_isolation(APIClient)


@pytest.mark.anyio
async def test_the_fixture_works_inside_an_async_test(
    aegis_isolation: IsolationCheck, target: TargetProcess
) -> None:
    """Called from a running event loop, the fixture runs the check on a loop of its own."""
    report = aegis_isolation(APIClient, target.url, users=4, duration=1)
    assert report.verdict == "isolated", str(report)


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), re.S | re.M)


@pytest.mark.e2e
def test_the_docs_test_file_passes_in_a_project_of_its_own(tmp_path: Path) -> None:
    """The docs page's complete test file passes under plain pytest in an empty folder."""
    (tmp_path / "test_isolation.py").write_text(python_blocks(DOCS_PAGE)[0])
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


LEAKY_PROJECT = """
    import pytest
    from aegis_client import APIClient

    def test_good(aegis_isolation):
        report = aegis_isolation(APIClient, users=6, duration=1)  # --aegis-url's backend
        report.raise_for_leaks()

    @pytest.mark.aegis_url("{url}")
    def test_leaky(aegis_isolation):
        clients = []

        def shared_in_pairs(url):
            client = APIClient(url)
            if len(clients) % 2:
                client.cookie_jar.jar = clients[-1].cookie_jar.jar
            clients.append(client)
            return client

        aegis_isolation(shared_in_pairs, users=6, duration=1).raise_for_leaks()
"""


@pytest.mark.e2e
def test_the_fixture_passes_a_good_client_and_fails_a_leaky_one(
    tmp_path: Path, target: TargetProcess
) -> None:
    """Under plain pytest, --aegis-url and the marker point the fixture at the backend; the
    leaky client's test fails with its examples."""
    (tmp_path / "test_clients.py").write_text(textwrap.dedent(LEAKY_PROJECT.format(url=target.url)))
    result = run_pytest(tmp_path, "--aegis-url", target.url)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 failed, 1 passed" in result.stdout
    assert "FAILED test_clients.py::test_leaky - bench.testing.IsolationError" in result.stdout
    assert "answered another user's data" in result.stdout
