"""What one session costs in memory, component by component, and what the GC makes of it.

Run (a benchmark, not a test: keep to a few thousand sessions on a small machine)::

    nice -n 10 python -m bench.perf.session_memory --sessions 1000 [--json results/mem.json]
        [--requests 5000] [--concurrency 32] [--rounds 1] [--thresholds 10000,10,10]
        [--no-greenlet-tree]

It starts the reference backend (its own process, loopback, port 0), then three
measuring processes, one after the other, each patched by Locust as a Locust load
process is (Locust imported first, one uvloop loop in a native thread behind the
adapter's ``LoopBridge``, the adapter's thread primitives restored). Each builds
``--sessions`` sessions as the adapter does, in four steps, and charges each step to
one component:

1. **client**: ``strategy.new_client(context)`` on the loop thread (``APIClient``, its
   ``httpx.AsyncClient`` and cookie jar, the ``InstrumentedTransport``, httpx's transport
   and httpcore's pool), no connection yet;
2. **measurement**: a ``MeasuredSession`` per client, with its sink (a pending list);
3. **connection**: the session signs in (``bench.steps.start_session``: registration
   signs in), which leaves a cookie in the jar and one keep-alive connection in the
   pool (httpcore connection, h11 state, anyio stream, the loop's socket transport);
4. **Locust user + greenlet**: an ``AegisUser`` subclass that adopts the session,
   started in a gevent ``Group`` as Locust's runner starts users, and parked as Locust
   parks a thinking user (``TaskSet.wait`` -> ``gevent.sleep``).

The processes:

- ``rss``: resident memory (``/proc/self/statm`` after ``gc.collect()``; it sees C
  allocations too, such as uvloop's and the greenlets' saved stacks) and the objects
  the cyclic GC tracks, by type. Then, as a check on the sum, as many sessions again
  built by the adapter's own ``AegisUser.on_start`` (client over the bridge, sign-in
  with ``run_step``) and parked the same way.
- ``traced``: the same under ``tracemalloc`` (which inflates RSS, hence its own
  process): where the bytes are, grouped by source file.
- ``gc``: with the sessions parked, what the GC walks (tracked objects, gen 2) and what
  ``gc.collect()`` of each generation costs, without and with ``gc.freeze()``. Then
  ``--requests`` identity calls made through the parked users' ``run_step``
  (``--concurrency`` greenlets, each over its own share of the users), once per GC
  setting (as is; frozen; and with ``--thresholds``, with and without freezing), each
  from a full collection, ``--rounds`` times: process CPU and GC time per request, the
  collections of each generation, and the cyclic garbage found per request.

Figures are per session: the growth over ``--sessions`` sessions built after a warm-up
of 20, divided by their number. ``--json`` writes all of it, per-process raw figures
included.

This module holds the command line of both kinds of process: the driver's (``main``),
which starts the backend and the measuring processes one after the other and prints the
report, and a measuring process's (this same module run with ``--child``). What they run
is in the private package ``bench.perf._session_memory``, one job to a module.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

# Re-exported (``X as X``): the names this module has always offered stay importable
# from it (the tests import COMPONENTS and LABELS).
from bench.perf._session_memory._common import CHILD_TIMEOUT_S as CHILD_TIMEOUT_S
from bench.perf._session_memory._common import CLIENT_KEEPALIVE_S as CLIENT_KEEPALIVE_S
from bench.perf._session_memory._common import COMPONENTS as COMPONENTS
from bench.perf._session_memory._common import KINDS as KINDS
from bench.perf._session_memory._common import LABELS as LABELS
from bench.perf._session_memory._common import PASSWORD as PASSWORD
from bench.perf._session_memory._common import RSS_SAMPLE_S as RSS_SAMPLE_S
from bench.perf._session_memory._common import SERVER_KEEPALIVE_S as SERVER_KEEPALIVE_S
from bench.perf._session_memory._common import SIGN_IN_CONCURRENCY as SIGN_IN_CONCURRENCY
from bench.perf._session_memory._common import SPAWN_BATCH as SPAWN_BATCH
from bench.perf._session_memory._common import THINK_TIME_TEXT as THINK_TIME_TEXT
from bench.perf._session_memory._common import TOP as TOP
from bench.perf._session_memory._common import WARMUP_SESSIONS as WARMUP_SESSIONS
from bench.perf._session_memory._common import thresholds as _thresholds
from bench.perf._session_memory._measurer import Measurer
from bench.perf._session_memory._report import render as render

__all__ = ["main"]


# -- the measuring process -------------------------------------------------------------


def _child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=KINDS, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--requests", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--thresholds", type=_thresholds, default=None)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-greenlet-tree", action="store_true")
    args = parser.parse_args(argv)
    if args.no_greenlet_tree:
        os.environ["GEVENT_TRACK_GREENLET_TREE"] = "false"
    measurer = Measurer(args.url, args.sessions, args.child)
    result = measurer.run(
        {
            "requests": args.requests,
            "concurrency": args.concurrency,
            "thresholds": args.thresholds,
            "rounds": args.rounds,
        }
    )
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    # Sessions, connections and the loop thread go with the process: no teardown to time.
    os._exit(0)


# -- the driving process ---------------------------------------------------------------


def _measure(kind: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        *(sys.executable, "-m", "bench.perf.session_memory", "--child", kind, "--url", url),
        *("--sessions", str(args.sessions), "--requests", str(args.requests)),
        *("--concurrency", str(args.concurrency), "--rounds", str(args.rounds)),
    ]
    if args.thresholds is not None:
        command += ["--thresholds", ",".join(map(str, args.thresholds))]
    if args.no_greenlet_tree:
        command.append("--no-greenlet-tree")
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {kind} measurement failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if "--child" in argv:
        _child(argv)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sessions", type=int, default=1000, help="sessions to measure")
    parser.add_argument(
        "--requests",
        type=int,
        default=5000,
        help="identity calls per GC setting for the load figures (0: none)",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight at once")
    parser.add_argument("--rounds", type=int, default=1, help="turns of the GC settings")
    parser.add_argument(
        "--thresholds",
        type=_thresholds,
        default=None,
        help="also load with these gc.set_threshold() values (as 10000,10,10)",
    )
    parser.add_argument(
        "--no-greenlet-tree",
        action="store_true",
        help="measure with gevent's greenlet tree tracking off (GEVENT_TRACK_GREENLET_TREE)",
    )
    parser.add_argument(
        "--only",
        choices=KINDS,
        action="append",
        help="run only this measuring process (repeatable; default: all three)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.rounds < 1 or args.concurrency < 1 or args.requests < 0:
        parser.error("--sessions, --rounds and --concurrency must be positive")
    from bench.backend import TargetConfig, TargetProcess

    with TargetProcess(TargetConfig(port=0, keep_alive_s=SERVER_KEEPALIVE_S)) as target:
        results = {kind: _measure(kind, target.url, args) for kind in args.only or KINDS}
    print(render(results))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
