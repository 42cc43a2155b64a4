"""Shared fixtures: the async backend for anyio tests, the real reference backend, and a
real fastapi-users backend (tests/fastapi_users_app.py) for profile-driven checks."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from bench.backend import TargetConfig, TargetProcess
from bench.cli._calibrate import CACHE_ENV

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def calibration_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Capacity calibrations go to a folder of this session's, never the user's cache
    (the variable reaches every aegis-bench the tests start)."""
    folder = tmp_path_factory.mktemp("calibrations")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(folder))
        yield folder


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio, the loop the bench itself uses (via uvloop)."""
    return "asyncio"


@pytest.fixture(scope="module")
def tls_target(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TargetProcess, ssl.SSLContext]]:
    """The reference backend over TLS, and an SSL context that trusts it."""
    authority = trustme.CA()
    pem = tmp_path_factory.mktemp("tls") / "server.pem"
    authority.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem))
    trust = ssl.create_default_context()
    authority.configure_trust(trust)
    config = TargetConfig(port=0, certfile=str(pem), keyfile=str(pem))
    with TargetProcess(config, verify=trust) as process:
        yield process, trust


@pytest.fixture(scope="module")
def target() -> Iterator[TargetProcess]:
    """The reference backend in its own process on an ephemeral loopback port."""
    with TargetProcess(TargetConfig(port=0)) as process:
        yield process


@pytest.fixture
def fresh_target(target: TargetProcess) -> TargetProcess:
    """The module's backend with its counters zeroed."""
    target.reset()
    return target


@pytest.fixture(scope="module")
def fastapi_users_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """tests/fastapi_users_app.py on uvicorn, on a socket bound to a free loopback port."""
    database = tmp_path_factory.mktemp("fastapi-users") / "users.db"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tests.fastapi_users_app:app", "--fd",
         str(listener.fileno()), "--log-level", "warning", "--no-access-log",
         # Hashing requests still queued at the end are dropped, not awaited for seconds.
         "--timeout-graceful-shutdown", "1"],
        pass_fds=[listener.fileno()],
        env={"AEGIS_FASTAPI_USERS_DB": str(database), "PATH": "", "PYTHONPATH": "."},
        cwd=REPO,
    )  # fmt: skip
    listener.close()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/users/me", trust_env=False).status_code == 401:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the fastapi-users backend did not start")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:  # uvicorn still waiting on hashing requests
            server.kill()
            server.wait(timeout=20)
