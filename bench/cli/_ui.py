"""``aegis-bench ui``: Locust's web UI with the tool inside, against the embedded target.

Locust runs as a child in a session of its own, its web UI on 127.0.0.1 only, with the
default scenario and ``--aegis-out``: every test started from the UI gets its own run
folder in ``--out``, written when the test stops. The command's options are the start
form's defaults. Ctrl-C or SIGTERM stops Locust gracefully (a running test's users
sign out and its run folder is written), then the target.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from bench._lifeline import preexec_die_with_parent
from bench.cli._locust_child import stop_grace_s
from bench.cli._signals import STOP
from bench.options import HOST, OUT, SCENARIO, Settings

__all__ = ["WEB_HOST", "serve_ui"]

WEB_HOST = "127.0.0.1"  # the web UI starts tests: it never listens beyond loopback


def _command(settings: Settings, web_port: int) -> list[str]:
    return [
        sys.executable, "-m", "locust",
        "-f", str(settings[SCENARIO]),
        "--web-host", WEB_HOST,
        "--web-port", str(web_port),
        # Locust's master binds its worker port on every interface unless told.
        "--master-bind-host", WEB_HOST,
        "--logfile", str(settings.required(OUT) / "locust.log"),
        # The command's options: the start form's defaults (target faults included).
        *settings.locust_argv(),
    ]  # fmt: skip


def serve_ui(settings: Settings, env: tuple[tuple[str, str], ...], web_port: int) -> int:
    """Run Locust's web UI until a stop signal or until Locust ends; its exit code."""
    out = settings.required(OUT)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "locust-stdout.txt").open("wb") as stdout:
        child = subprocess.Popen(
            _command(settings, web_port),
            stdout=stdout,
            stderr=subprocess.STDOUT,
            env={**os.environ, **dict(env)},
            start_new_session=True,
            preexec_fn=preexec_die_with_parent(),
        )
        print(
            f"aegis-bench: web UI on http://{WEB_HOST}:{web_port}/ against "
            f"{settings.required(HOST)}; "
            f"run folders go to {out} (Ctrl-C stops)",
            flush=True,
        )
        asked_at: float | None = None
        while child.poll() is None:
            now = time.monotonic()
            if STOP.requested and asked_at is None:
                child.send_signal(signal.SIGTERM)  # Locust's graceful shutdown
                asked_at = now
            elif asked_at is not None and (
                STOP.immediate or now > asked_at + stop_grace_s(settings)
            ):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                break
            time.sleep(0.1)
        return child.wait()
