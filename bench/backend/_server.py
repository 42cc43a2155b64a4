"""Running the reference backend: in the foreground, or as a child process.

``serve`` runs uvicorn (uvloop, httptools, no access log) with the ledger's protocol
class. ``TargetProcess`` starts ``python -m bench.backend`` as a separate process (the
load generator must not share its CPU or its event loop), waits for its ready line, and
stops exactly that process.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import urlsplit

import httpx
import uvicorn

from bench._lifeline import preexec_die_with_parent
from bench.backend._app import create_app
from bench.backend._config import TargetConfig
from bench.backend._ledger import ConnectionLedger
from bench.backend._protocol import ledger_protocol

__all__ = ["READY_PREFIX", "TargetProcess", "serve"]

READY_PREFIX = "AEGIS_TARGET_READY "
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def _raise_open_file_limit() -> None:
    # Every session holds a connection: 15,000+ sessions need as many descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _check_loopback(host: str) -> None:
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(
            f"{host} is not a loopback address: the reference backend serves loopback only"
        )


def serve(config: TargetConfig, *, ready: Callable[[str], None] | None = None) -> None:
    """Serve until SIGINT/SIGTERM; ``ready(url)`` is called once listening (port 0 resolved)."""
    _check_loopback(config.host)
    _raise_open_file_limit()
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((config.host, config.port))
    sock.listen(config.backlog)
    port = sock.getsockname()[1]
    host = f"[{config.host}]" if family == socket.AF_INET6 else config.host
    url = f"{config.scheme}://{host}:{port}"
    ledger = ConnectionLedger()
    server_config = uvicorn.Config(
        create_app(config, ledger),
        loop="uvloop",
        http=ledger_protocol(ledger),
        access_log=False,
        log_level="warning",
        lifespan="off",
        timeout_keep_alive=int(config.keep_alive_s),
        backlog=config.backlog,
        ssl_certfile=config.certfile,
        ssl_keyfile=config.keyfile,
    )
    server = uvicorn.Server(server_config)
    if ready is not None:
        original_startup = server.startup

        async def startup(sockets: list[socket.socket] | None = None) -> None:
            await original_startup(sockets=sockets)
            ready(url)

        server.startup = startup  # type: ignore[method-assign]
    server.run(sockets=[sock])


def _arguments(config: TargetConfig) -> list[str]:
    """The child's command line: its whole configuration as one JSON value."""
    return ["--config", config.to_json()]


class TargetProcess:
    """The reference backend in its own process, on an ephemeral loopback port by default.

    Use as a context manager; ``url`` is set once it listens. ``stats()``, ``reset()``
    and ``expire()`` call its admin routes. ``stop()`` ends only this child (SIGTERM,
    then SIGKILL after a bounded wait) and is safe to call twice.

    Its log (uvicorn's warnings, tracebacks) goes to ``log_path`` (a temporary file when
    none is given): a pipe nobody reads fills up and stalls the server. It runs in a
    session of its own, so a terminal's Ctrl-C reaches only the tool, which stops the
    load first and the target last; and it dies with its parent, however that ends.
    """

    def __init__(
        self,
        config: TargetConfig | None = None,
        *,
        verify: Any = True,
        log_path: Path | None = None,
    ) -> None:
        self.config = config or TargetConfig(port=0)
        _check_loopback(self.config.host)
        self._verify = verify
        self._child: subprocess.Popen[bytes] | None = None
        self._log_path = log_path
        self._log: IO[bytes] | None = None
        self.url = ""

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    def start(self) -> TargetProcess:
        command = [sys.executable, "-m", "bench.backend", *_arguments(self.config)]
        if self._log_path is not None:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self._log_path.open("a+b")
        else:
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
        self._child = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
            preexec_fn=preexec_die_with_parent(),
        )
        assert self._child.stdout is not None
        stdout = self._child.stdout.fileno()
        deadline = time.monotonic() + START_TIMEOUT_S
        buffer = b""
        while time.monotonic() < deadline and self._child.poll() is None:
            readable, _, _ = select.select([stdout], [], [], 0.1)
            if not readable:
                continue
            buffer += os.read(stdout, 4096)
            for line in buffer.decode(errors="replace").splitlines():
                if line.startswith(READY_PREFIX):
                    self.url = line[len(READY_PREFIX) :].strip()
                    return self
        self._end_child()
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"the reference backend did not start: {tail or 'no output'}")

    def log_tail(self, size: int = 2000) -> str:
        """The end of the target's log, for error messages."""
        if self._log is None or self._log.closed:
            return ""
        self._log.flush()
        self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, self._log.tell() - size))
        return self._log.read().decode(errors="replace").strip()

    def _end_child(self) -> None:
        """SIGTERM the child, then SIGKILL after a bounded wait; only this child."""
        child = self._child
        if child is None or child.poll() is not None:
            return
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def stop(self) -> None:
        child = self._child
        if child is None:
            return
        self._end_child()
        if child.stdout is not None and not child.stdout.closed:
            child.stdout.close()
        if self._log is not None:
            self._log.close()

    def restart(self) -> None:
        """Stop the target and start it again on the same port and URL, as a deploy does.

        Accounts survive (as a database keeps them); sessions do not (kept in memory, as
        many backends keep them), so every user's next call gets 401 and, the refresh
        failing too, signs in again. Counters start from zero in the new process.
        """
        accounts = self._admin("GET", "/_bench/accounts")
        port = urlsplit(self.url).port
        assert port is not None
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as saved:
            json.dump(accounts, saved)
        try:
            self.stop()
            self.config = dataclasses.replace(self.config, port=port, accounts_file=saved.name)
            self.start()
        finally:
            os.unlink(saved.name)

    def __enter__(self) -> TargetProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _admin(self, method: str, path: str, json: Any = None) -> dict[str, Any]:
        with httpx.Client(
            base_url=self.url, trust_env=False, timeout=10.0, verify=self._verify
        ) as c:
            response = c.request(method, path, json=json)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def stats(self) -> dict[str, Any]:
        """The instruments' counters (``GET /_bench/stats``)."""
        return self._admin("GET", "/_bench/stats")

    def reset(self) -> None:
        """Zero the counters (``POST /_bench/reset``)."""
        self._admin("POST", "/_bench/reset")

    def expire(self, username: str, *, beyond_window: bool = False) -> int:
        """Expire the user's live sessions now; returns how many."""
        body = {"username": username, "beyond_window": beyond_window}
        return int(self._admin("POST", "/_bench/expire", json=body)["expired"])
