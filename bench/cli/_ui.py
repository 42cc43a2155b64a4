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
from bench.cli._run import STOP_TIMEOUT_S, RunSettings, stop_grace_s, tool_options
from bench.cli._signals import STOP

__all__ = ["WEB_HOST", "serve_ui"]

WEB_HOST = "127.0.0.1"  # the web UI starts tests: it never listens beyond loopback


def _command(
    settings: RunSettings, host: str, web_port: int, form_defaults: list[str]
) -> list[str]:
    return [
        sys.executable, "-m", "locust",
        "-f", str(settings.scenario),
        "--host", host,
        "--web-host", WEB_HOST,
        "--web-port", str(web_port),
        # Locust's master binds its worker port on every interface unless told.
        "--master-bind-host", WEB_HOST,
        "--users", str(settings.users),
        "--spawn-rate", f"{settings.spawn_rate:g}",
        "--run-time", f"{int(settings.duration_s)}s",
        "--stop-timeout", str(STOP_TIMEOUT_S),
        "--logfile", str(settings.out / "locust.log"),
        *tool_options(settings),
        *form_defaults,
    ]  # fmt: skip


def serve_ui(
    settings: RunSettings, host: str, web_port: int, form_defaults: list[str] | None = None
) -> int:
    """Run Locust's web UI until a stop signal or until Locust ends; its exit code.

    ``form_defaults`` are more Locust options, shown as the start form's defaults (the
    target faults).
    """
    settings.out.mkdir(parents=True, exist_ok=True)
    with (settings.out / "locust-stdout.txt").open("wb") as stdout:
        child = subprocess.Popen(
            _command(settings, host, web_port, form_defaults or []),
            stdout=stdout,
            stderr=subprocess.STDOUT,
            env={**os.environ, **dict(settings.env)},
            start_new_session=True,
            preexec_fn=preexec_die_with_parent(),
        )
        print(
            f"aegis-bench: web UI on http://{WEB_HOST}:{web_port}/ against {host}; "
            f"run folders go to {settings.out} (Ctrl-C stops)",
            flush=True,
        )
        asked_at: float | None = None
        while child.poll() is None:
            now = time.monotonic()
            if STOP.requested and asked_at is None:
                child.send_signal(signal.SIGTERM)  # Locust's graceful shutdown
                asked_at = now
            elif asked_at is not None and (
                STOP.immediate or now > asked_at + stop_grace_s(settings.users)
            ):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                break
            time.sleep(0.1)
        return child.wait()
