"""CPU per ``get``: ``APIClient.get`` against a bare ``httpx.AsyncClient`` on the real backend.

Run::

    python -m bench.perf.bench_get -o results/get.json [--target-url URL]
    python -m pyperf stats results/get.json

Without ``--target-url`` the pyperf manager process starts the reference backend once
(in its own process) and passes its URL to the workers. Each value is the process CPU
time (``time.process_time``) of one sequential keep-alive ``GET /api/v1/auth/me`` by a
signed-in session, on uvloop: what the client costs, whatever the server does. The bare
case is ``client.get`` plus ``response.json()`` with the same cookie and SSL context.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys
import time
from typing import Any

import httpx
import pyperf
import uvloop

from aegis_client import APIClient, register, shared_ssl_context

ME = "/api/v1/auth/me"


def _apiclient_cpu(loops: int, url: str) -> float:
    async def measure() -> float:
        async with APIClient(url) as api:
            await register(api, f"perf-{secrets.token_hex(6)}", "pw")
            await api.get(ME)  # the connection is open before timing
            started = time.process_time()
            for _ in range(loops):
                await api.get(ME)
            return time.process_time() - started

    return _on_uvloop(measure())


def _bare_cpu(loops: int, url: str) -> float:
    async def measure() -> float:
        async with httpx.AsyncClient(base_url=url, verify=shared_ssl_context()) as client:
            name = f"perf-{secrets.token_hex(6)}"
            await client.post("/api/v1/auth/register", json={"username": name, "password": "pw"})
            (await client.get(ME)).json()
            started = time.process_time()
            for _ in range(loops):
                (await client.get(ME)).json()
            return time.process_time() - started

    return _on_uvloop(measure())


def _on_uvloop(coroutine: Any) -> float:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result: float = runner.run(coroutine)
    return result


def _pass_url(cmd: list[str], args: Any) -> None:
    cmd.extend(("--target-url", args.target_url))


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    runner = pyperf.Runner(add_cmdline_args=_pass_url)
    runner.argparser.add_argument("--target-url", default="")
    args = runner.parse_args()
    target = None
    if not args.target_url and "--worker" not in sys.argv:
        from bench.backend import TargetProcess

        target = TargetProcess().start()
        args.target_url = target.url
    try:
        runner.metadata["description"] = "CPU time per keep-alive GET /api/v1/auth/me"
        runner.bench_time_func("apiclient-get-cpu", _apiclient_cpu, args.target_url)
        runner.bench_time_func("bare-httpx-get-cpu", _bare_cpu, args.target_url)
    finally:
        if target is not None:
            target.stop()


if __name__ == "__main__":
    main()
