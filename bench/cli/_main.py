"""The ``aegis-bench`` command line: ``serve`` and ``run``.

Exit codes: 0 success, 1 the run saw failed requests (or a broken check), 2 usage
errors (bad options, impossible settings), which are reported in one line, never as a
traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.cli._args import (
    UsageError,
    duration,
    loopback_address,
    positive_float,
    positive_int,
    target_url,
)

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--session-ttl",
        type=positive_float,
        default=3600.0,
        help="seconds a session lives (default 3600)",
    )
    parser.add_argument(
        "--refresh-window",
        type=positive_float,
        default=3600.0,
        help="seconds after expiry in which refresh still works (default 3600)",
    )


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The full parser; ``--help`` of each command documents every option."""
    parser = argparse.ArgumentParser(
        prog="aegis-bench",
        description="Multi-session load and isolation benchmark for session-carrying clients.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the reference Aegis backend in the foreground")
    serve.add_argument(
        "--bind",
        type=loopback_address,
        default="127.0.0.1",
        help="loopback address to listen on (default 127.0.0.1)",
    )
    serve.add_argument("--port", type=int, default=8000, help="TCP port, 0 for any (default 8000)")
    _add_target_options(serve)

    run = commands.add_parser("run", help="one headless load run, written to a results folder")
    run.add_argument(
        "--strategy",
        default="pooled",
        help="client strategy: pooled (default), per-call, shared, or your own",
    )
    run.add_argument("--users", type=positive_int, default=50, help="concurrent sessions (50)")
    run.add_argument(
        "--spawn-rate",
        type=positive_float,
        default=None,
        help="users started per second (default: all within 5 s)",
    )
    run.add_argument(
        "--duration",
        type=duration,
        default=duration("30s"),
        help="run time, as 90, 30s, 2m or 1h30m (default 30s)",
    )
    run.add_argument(
        "--processes",
        type=positive_int,
        default=1,
        help="Locust load processes; the load generator is the bottleneck (1)",
    )
    run.add_argument(
        "--host",
        type=target_url,
        default=None,
        help="target base URL; default: start the embedded reference backend",
    )
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results folder (default results/<timestamp>-<strategy>/)",
    )
    run.add_argument(
        "--think-time", default="0", help="seconds between a user's tasks: 0 (default), 0.5, or 1-3"
    )
    run.add_argument(
        "--keepalive",
        type=positive_float,
        default=4.0,
        help="seconds a client keeps an idle connection (4); keep it below the server's "
        "keep-alive (the embedded target's is 30 s): raise it for think times over 4 s",
    )
    run.add_argument(
        "--crosswire-rate",
        type=_fraction,
        default=0.0,
        help="embedded target only: answer this fraction of identity and data requests "
        "with another user's data (a fault the isolation checks must catch), e.g. 0.001",
    )
    run.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="TOML target profile for a backend whose routes differ from Aegis's",
    )
    run.add_argument(
        "--scenario", default=None, help="locustfile to run (default scenarios/aegis_session.py)"
    )
    return parser


def _serve(args: argparse.Namespace) -> int:
    from bench.target import TargetConfig, serve

    config = TargetConfig(
        host=args.bind,
        port=args.port,
        session_ttl_s=args.session_ttl,
        refresh_window_s=args.refresh_window,
    )
    serve(config, ready=lambda url: print(f"aegis-bench: reference backend on {url}", flush=True))
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from bench.cli._run import RunSettings, execute_run, print_table
    from bench.locust_adapter._options import ThinkTime
    from bench.target import TargetConfig, TargetProcess

    if args.spawn_rate is None:
        args.spawn_rate = max(1.0, args.users / 5.0)
    try:
        ThinkTime.parse(args.think_time)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = args.out or Path("results") / f"{stamp}-{args.strategy}"
    settings = RunSettings.from_args(args, strategy=args.strategy, out=out)
    settings.validate()
    if settings.host is None and settings.keepalive_s >= TargetConfig().keep_alive_s:
        raise UsageError(
            f"--keepalive {settings.keepalive_s:g} must stay below the embedded target's "
            f"keep-alive ({TargetConfig().keep_alive_s:g} s), or the server closes idle "
            "connections first and clients reconnect silently"
        )
    if settings.host is not None and args.crosswire_rate:
        raise UsageError("--crosswire-rate is a fault of the embedded target: drop --host")
    if settings.host is not None:
        summary = execute_run(settings, settings.host)
    else:
        config = TargetConfig(port=0, crosswire_rate=args.crosswire_rate)
        with TargetProcess(config) as target:
            summary = execute_run(settings, target.url)
    print_table([summary])
    print(f"results: {out}")
    if summary["partial"]:
        print("note: the run did not complete; summary.json is marked partial", file=sys.stderr)
    isolation = summary["isolation"]
    if isolation["failed"]:
        print("ISOLATION FAILED: sessions saw each other's data:", file=sys.stderr)
        for example in isolation["examples"][:5]:
            print(f"  {example}", file=sys.stderr)
    if summary["generator"]["saturated"]:
        print(
            "note: the load generator, not the target, limited this run ("
            + "; ".join(summary["generator"]["reasons"])
            + "): add --processes or a think time for target-bound figures"
        )
    if isolation["server_oracle"] == "unavailable":
        print("note: the target has no server-side oracle; isolation was judged client-side only")
    failed = isolation["failed"] or summary["failures"] or summary["requests"] == 0
    return EXIT_FAILED if failed else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aegis-bench`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"serve": _serve, "run": _run}
    try:
        return handlers[args.command](args)
    except UsageError as exc:
        parser.exit(EXIT_USAGE, f"aegis-bench {args.command}: error: {exc}\n")
    except KeyboardInterrupt:
        return 130
