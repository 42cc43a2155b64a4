"""The baseline: the default scenario on plain asyncio + uvloop, without Locust.

Runs the same sessions as ``aegis-bench run`` (same strategy, the same scenario steps
from ``bench.steps``, the same recorder) in one process, and writes the same
``summary.json`` schema, so the Locust overhead is one division::

    python -m bench.perf.bare_driver --host http://127.0.0.1:8000 --users 200 \
        --duration 30 --out results/bare
    aegis-bench run --host http://127.0.0.1:8000 --users 200 --duration 30s \
        --out results/locust

Users start at ``--spawn-rate`` per second (default: all within 5 s), browse until the
run time ends, then sign out and close their clients, as Locust users do.

``--plain`` runs the same sessions without any instrumentation (no measuring transport,
no acting-user header, no call records, no verdicts, no replays) and prints only the
throughput: run both in one sitting to see what the instrumentation costs.
"""

from __future__ import annotations

import argparse
import json
import logging

import uvloop

from bench.asyncio_driver import Crowd, run_crowd
from bench.measure import Part
from bench.options import COUNT_CONNECTIONS, DURATION, HOST, OUT, SPAWN_RATE, STRATEGY, USERS
from bench.options._argparse import add_argument
from bench.report import RunContext, build_summary, write_json_atomic
from bench.session import MeasuredSession, PlainSession
from bench.strategies import StrategyContext, create_strategy

__all__ = ["drive", "main"]


async def drive(
    host: str,
    users: int,
    spawn_rate: float,
    duration_s: float,
    strategy_name: str,
    instrument: bool = True,
    count_with: str = "stream",
) -> Part:
    """Run the sessions; return their part, as a Locust process writes one.

    The users are ``bench.asyncio_driver``'s, the same ``bench.testing`` runs; an
    exception that ended a user (a strategy's) is raised once every client is back.
    """
    strategy = create_strategy(strategy_name)
    context = StrategyContext(host, instrument=instrument, count_with=count_with)
    kind = MeasuredSession if instrument else PlainSession
    crowd = Crowd(users, duration_s, spawn_rate=spawn_rate, session_kind=kind)
    run = await run_crowd(strategy, context, crowd)
    if run.errors:
        raise run.errors[0]
    return run.part


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    for option in (HOST, USERS, SPAWN_RATE, DURATION, STRATEGY, OUT, COUNT_CONNECTIONS):
        add_argument(parser, option, "run")  # parsed as aegis-bench run parses them
    parser.add_argument("--plain", action="store_true", help="no instrumentation at all")
    args = parser.parse_args()
    if args.host is None:
        parser.error("give --host: the target these sessions run against")
    args.users = args.users or USERS.default_for("run")
    args.duration = args.duration or DURATION.default_for("run")
    args.strategy = args.strategy or STRATEGY.default
    args.count_connections = args.count_connections or COUNT_CONNECTIONS.default
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aegis_client").setLevel(logging.ERROR)
    spawn_rate = args.spawn_rate or max(1.0, args.users / 5.0)
    part = uvloop.run(
        drive(
            args.host,
            args.users,
            spawn_rate,
            args.duration,
            args.strategy,
            instrument=not args.plain,
            count_with=args.count_connections,
        )
    )
    if args.plain:
        elapsed = (part.stopped_at or 0.0) - (part.started_at or 0.0)
        calls = PlainSession.calls
        print(
            json.dumps(
                {
                    "plain": True,
                    "requests": calls,
                    "throughput_rps": round(calls / elapsed, 1),
                    "client_cpu_us_per_request": round(part.cpu_s / calls * 1e6, 1),
                }
            )
        )
        return
    context = RunContext(
        strategy=args.strategy,
        users=args.users,
        target=args.host,
        duration_requested_s=args.duration,
        driver="bare-asyncio-uvloop",
    )
    summary, _ = build_summary([part], context)
    if args.out:
        write_json_atomic(args.out / "summary.json", summary)
    keys = ("requests", "failures", "throughput_rps", "client_cpu_us_per_request", "latency_ms")
    print(json.dumps({key: summary[key] for key in keys}))


if __name__ == "__main__":
    main()
