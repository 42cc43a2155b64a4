"""The ``aegis-bench`` command line: ``serve``, ``run``, ``compare``, ``ci`` and ``ui``.

Exit codes: 0 success, 1 the run saw failed requests, a leak or a broken threshold,
2 usage errors (bad options, impossible settings), reported in one line, never as a
traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cli._args import (
    AUTO,
    UsageError,
    auto_processes,
    check_out_folder,
    check_port_free,
    duration,
    loopback_address,
    non_negative_float,
    non_negative_int,
    port_number,
    positive_float,
    positive_int,
    process_count,
    target_url,
)
from bench.cli._compare import OFFERED_SHARE_OF_CAPACITY
from bench.cli._signals import STOP

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# Users a second. Every new user signs in at once: at 500 a second, 15,000 users on
# 2 cores timed out 1,257 sign-ins (the target's accept queue overflowed); at 150, one
# run of two timed out none, the other 1,446: a gentler ramp, not a cure.
MAX_DEFAULT_SPAWN_RATE = 150.0
DEFAULT_REPETITIONS = 3  # compare's and ci's --repeat
TARGET_KEEPALIVE_S = 30.0  # the embedded target's default (TargetConfig.keep_alive_s)
Environment = tuple[tuple[str, str], ...]


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 1")
    return value


def _strategy_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if len(names) < 2 or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give two or more different strategies, comma-separated"
        )
    return names


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--session-ttl", type=positive_float, default=3600.0, help="seconds a session lives"
    )
    parser.add_argument(
        "--refresh-window",
        type=positive_float,
        default=3600.0,
        help="seconds after expiry in which refresh still works",
    )


def _outage(text: str) -> tuple[float, float]:
    from bench.faults import parse_outage

    try:
        return parse_outage(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float:
    """Seconds as a number (``1.5``) or in Locust's forms (``8s``, ``2m``)."""
    try:
        float(text)
    except ValueError:
        return duration(text)
    return positive_float(text)


def _add_fault_options(parser: argparse.ArgumentParser) -> None:
    """Faults the reference backend injects on demand (the embedded target only)."""
    faults = parser.add_argument_group("faults of the reference backend")
    faults.add_argument(
        "--fault-5xx", type=_fraction, default=0.0, help="answer this fraction of calls 503"
    )
    faults.add_argument(
        "--fault-slow",
        type=_fraction,
        default=0.0,
        help="answer this fraction of calls only after the client's timeout (+1 s)",
    )
    faults.add_argument(
        "--fault-reset",
        type=_fraction,
        default=0.0,
        help="break this fraction of answers mid-body (the connection is dropped)",
    )
    faults.add_argument(
        "--expire-every",
        type=_seconds,
        default=None,
        help="every this many seconds, expire every live session at once (refreshable)",
    )
    faults.add_argument(
        "--refresh-outage",
        type=_outage,
        default=None,
        metavar="START+LENGTH",
        help="the refresh route answers 503 from START s after the run starts, for LENGTH s",
    )


def _faults(args: argparse.Namespace, slow_s: float, *, after_reset: bool = True) -> Any:
    """The backend's faults from the options; a usage error when the rates exceed 1."""
    from bench.faults import Faults

    faults = Faults(
        error_rate=args.fault_5xx,
        slow_rate=args.fault_slow,
        slow_s=slow_s,
        reset_rate=args.fault_reset,
        expire_every_s=args.expire_every,
        refresh_outage=args.refresh_outage,
        after_reset=after_reset,
    )
    if faults.error_rate + faults.slow_rate + faults.reset_rate > 1.0:
        raise UsageError(
            "--fault-5xx, --fault-slow and --fault-reset are shares of the same calls: "
            "together at most 1"
        )
    return faults


def _add_load_options(parser: argparse.ArgumentParser, *, users: int, run_time: str) -> None:
    """The options every load command shares (run, compare, ci)."""
    parser.add_argument(
        "--users", type=positive_int, default=users, help=f"concurrent sessions ({users})"
    )
    parser.add_argument(
        "--spawn-rate",
        type=positive_float,
        default=None,
        help=f"users started per second (default: all within 2 s, at most "
        f"{MAX_DEFAULT_SPAWN_RATE:g} a second)",
    )
    parser.add_argument(
        "--warmup",
        type=non_negative_float,
        default=2.0,
        help="seconds after all users spawned before the steady-state window, from which "
        "latency, throughput and CPU figures come, opens (2)",
    )
    parser.add_argument(
        "--duration",
        type=duration,
        default=duration(run_time),
        help=f"run time per strategy, as 90, 30s, 2m or 1h30m ({run_time})",
    )
    parser.add_argument(
        "--processes",
        type=process_count,
        default=1,
        help="Locust load processes, or 'auto': one per core, less one for a target on "
        "this machine; the load generator is the bottleneck (1)",
    )
    parser.add_argument(
        "--host",
        type=target_url,
        default=None,
        help="target base URL; default: start the embedded reference backend",
    )
    parser.add_argument("--out", type=Path, default=None, help="results folder")
    parser.add_argument(
        "--think-time", default="0", help="seconds between a user's tasks: 0, 0.5, or 1-3"
    )
    parser.add_argument(
        "--keepalive",
        type=positive_float,
        default=4.0,
        help="seconds a client keeps an idle connection (4); keep it below the server's "
        "keep-alive (the embedded target's is 30 s): raise it for think times over 4 s",
    )
    parser.add_argument(
        "--crosswire-rate",
        type=_fraction,
        default=0.0,
        help="embedded target only: answer this fraction of identity and data requests "
        "with another user's data (a fault the isolation checks must catch), e.g. 0.001",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="embedded target only: serve HTTPS with a throwaway CA the clients trust",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="TOML target profile for a backend whose routes differ from Aegis's",
    )
    parser.add_argument(
        "--scenario", default=None, help="locustfile (default scenarios/aegis_session.py)"
    )
    parser.add_argument(
        "--count-connections",
        choices=("stream", "trace"),
        default="stream",
        help="count new connections where the pool opens them (default, free) or with "
        "httpcore's trace (15-45 us per request)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=10.0,
        help="seconds a client waits for an answer (10); raise it for slow backends",
    )
    parser.add_argument(
        "--churn",
        type=_fraction,
        default=0.0,
        help="share of tasks that recycle the user's client instead: sign out (or just "
        "drop it, half the time), then a new client signs in again (0)",
    )
    parser.add_argument(
        "--bursts",
        type=_fraction,
        default=None,
        help="share of tasks that ask for identity and data at once instead, so that one "
        "refresh must serve a burst of 401s (default 0.05 with --expire-every, else 0; "
        "bursts open extra connections)",
    )
    parser.add_argument(
        "--restart-target-at",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="embedded target only: stop and restart it this long after the load starts "
        "(as 20, 20s or 1m); accounts survive, sessions do not, so users sign in again",
    )
    _add_fault_options(parser)


def _add_strategies_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strategies",
        type=_strategy_list,
        default=["pooled", "per-call"],
        help="comma-separated strategies, the first is the baseline (pooled,per-call)",
    )


def _add_repetition_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=DEFAULT_REPETITIONS,
        help=f"repetitions of each strategy, run alternately (A B A B ...); intervals are "
        f"computed across them ({DEFAULT_REPETITIONS})",
    )
    parser.add_argument(
        "--rate",
        type=positive_float,
        default=None,
        help="requests per second offered in the latency runs (default: "
        f"{OFFERED_SHARE_OF_CAPACITY:g} of the lowest capacity measured)",
    )


def _add_threshold_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--thresholds", type=Path, default=None, help="TOML file of thresholds")
    parser.add_argument(
        "--max-leaks", type=non_negative_int, default=None, help="allowed leaks (0)"
    )
    parser.add_argument("--max-error-rate", type=_fraction, default=None)
    parser.add_argument("--max-p99-ms", type=positive_float, default=None)
    parser.add_argument(
        "--min-speedup", type=positive_float, default=None, help="pooled / per-call throughput"
    )
    parser.add_argument(
        "--max-conns-per-request", type=positive_float, default=None, help="for pooled"
    )


def build_parser() -> argparse.ArgumentParser:
    """The full parser; ``--help`` of each command documents every option."""
    parser = argparse.ArgumentParser(
        prog="aegis-bench",
        description="Multi-session load and isolation benchmark for session-carrying clients.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the reference Aegis backend in the foreground")
    serve.add_argument(
        "--bind", type=loopback_address, default="127.0.0.1", help="loopback address to listen on"
    )
    serve.add_argument("--port", type=port_number, default=8000, help="TCP port, 0 for any (8000)")
    _add_target_options(serve)
    _add_fault_options(serve)

    run = commands.add_parser("run", help="one headless load run, written to a results folder")
    run.add_argument(
        "--strategy", default="pooled", help="pooled (default), per-call, shared, or your own"
    )
    _add_load_options(run, users=50, run_time="30s")
    run.add_argument(
        "--rate",
        type=positive_float,
        default=None,
        help="open model: requests per second over all users, each user on a fixed "
        "schedule; latency is then also measured from each request's intended start "
        "(default: closed loop, each user as fast as its think time allows)",
    )

    compare = commands.add_parser("compare", help="run strategies with identical settings")
    _add_strategies_option(compare)
    _add_load_options(compare, users=50, run_time="15s")
    _add_repetition_options(compare)

    ui = commands.add_parser(
        "ui", help="Locust's web UI on 127.0.0.1 with a Sessions tab; a run folder per test"
    )
    ui.add_argument(
        "--strategy", default="pooled", help="the start form's strategy (pooled, per-call, ...)"
    )
    _add_load_options(ui, users=10, run_time="10m")
    ui.add_argument(
        "--web-port", type=port_number, default=8089, help="the web UI's port on 127.0.0.1 (8089)"
    )

    ci = commands.add_parser("ci", help="a bounded comparison that fails on leaks or thresholds")
    _add_strategies_option(ci)
    _add_load_options(ci, users=20, run_time="10s")
    _add_repetition_options(ci)
    _add_threshold_options(ci)
    return parser


@dataclass(frozen=True)
class Target:
    """The target a command runs against, and what the load processes need to reach it."""

    url: str
    env: Environment = ()  # extra environment for Locust (SSL_CERT_FILE)
    ca_file: str | None = None  # the throwaway CA of a --tls target
    restart: Callable[[], None] | None = None  # the embedded target's (same URL after)


@contextlib.contextmanager
def _target(
    args: argparse.Namespace, out: Path, *, faults_per_test: bool = False
) -> Iterator[Target]:
    """The target (embedded unless --host), checked by a preflight user and reset.

    The embedded target logs to ``target.log`` in ``out``. With ``faults_per_test`` (the
    web UI) it starts with none: each test sets its own from the start form.
    """
    faults = _faults(args, slow_s=args.timeout + 1.0)
    if args.host is not None:
        if args.crosswire_rate or args.tls or faults.any:
            raise UsageError(
                "--crosswire-rate, --tls and the fault options configure the embedded "
                "target: drop --host"
            )
        yield _ready(args, Target(args.host))
        return
    if args.keepalive >= TARGET_KEEPALIVE_S:
        raise UsageError(
            f"--keepalive {args.keepalive:g} must stay below the embedded target's keep-alive "
            f"({TARGET_KEEPALIVE_S:g} s), or the server closes idle connections first and "
            "clients reconnect silently"
        )
    from bench.backend import TargetConfig, TargetProcess

    if faults_per_test:
        from bench.faults import Faults

        faults = Faults()
    config = TargetConfig(port=0, crosswire_rate=args.crosswire_rate, faults=faults)
    env: Environment = ()
    verify: Any = True
    ca_file = None
    if args.tls:
        from bench.cli._tls import make_tls_files

        files = make_tls_files(out / "tls")
        config = TargetConfig(
            port=0,
            crosswire_rate=args.crosswire_rate,
            certfile=str(files.server_pem),
            keyfile=str(files.server_pem),
            faults=faults,
        )
        ca_file = str(files.ca)
        env = (("SSL_CERT_FILE", ca_file),)
        verify = ca_file
    try:
        process = TargetProcess(config, verify=verify, log_path=out / "target.log").start()
    except RuntimeError as exc:
        raise UsageError(f"{exc} (its log: {out / 'target.log'})") from None
    try:
        yield _ready(args, Target(process.url, env, ca_file, process.restart))
    finally:
        process.stop()


def _ready(args: argparse.Namespace, target: Target) -> Target:
    """The target, once a throwaway user has proved it and the profile work (preflight)."""
    from bench.preflight import PreflightError, preflight
    from bench.profile import AEGIS, load_profile

    profile = load_profile(args.profile) if args.profile is not None else AEGIS
    try:
        preflight(target.url, profile, timeout_s=args.timeout, ca_file=target.ca_file)
    except PreflightError as exc:
        raise UsageError(f"preflight: {exc}") from None
    return target


def _prepare(args: argparse.Namespace, default_name: str) -> Path:
    from bench.think_time import ThinkTime

    if args.spawn_rate is None:
        args.spawn_rate = min(MAX_DEFAULT_SPAWN_RATE, max(1.0, args.users / 2.0))
    if args.processes == AUTO:
        # Every target this tool can reach is on loopback: on this machine.
        args.processes = auto_processes(target_on_this_machine=True)
    try:
        ThinkTime.parse(args.think_time)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    out: Path = args.out or Path("results") / f"{time.strftime('%Y%m%d-%H%M%S')}-{default_name}"
    check_out_folder(out)
    return out


def _report_run(summary: dict[str, Any], *, saturation_note: bool = True) -> bool:
    """Print a run's notes; True when it failed (failed requests, a leak, no evidence).

    ``saturation_note=False`` leaves out the note on a saturated generator (a
    comparison's capacity runs are closed loops that saturate it by design).
    """
    isolation = summary["isolation"]
    name = summary["strategy"]
    for reason in summary["partial_reasons"]:
        print(f"note: {name}: partial: {reason}")
    for note in summary["notes"]:
        print(f"note: {name}: {note}")
    if isolation["verdict"] == "leak":
        print(f"ISOLATION FAILED ({name}): {isolation['reason']}:", file=sys.stderr)
        for example in isolation["examples"][:5]:
            print(f"  {example}", file=sys.stderr)
    elif isolation["verdict"] == "not checked":
        print(f"ISOLATION NOT CHECKED ({name}): {isolation['reason']}", file=sys.stderr)
    if saturation_note and summary["generator"]["saturated"]:
        print(
            f"note: {name}: the load generator, not the target, limited this run ("
            + "; ".join(summary["generator"]["reasons"])
            + "): add --processes or a think time for target-bound figures"
        )
    without = summary["users_without_session"]
    if without["count"] or without["sign_in_failures"]:
        reasons = ", ".join(f"{why} ({n:,})" for why, n in without["sign_in_failures"].items())
        print(
            f"note: {name}: {without['count']:,} users ended without a session; failed "
            f"sign-ins: {reasons or 'none'}. For slow password hashing lower --spawn-rate "
            "or raise --timeout"
        )
    if isolation["server_oracle"] == "unavailable":
        print("note: the target has no server-side oracle; isolation was judged client-side only")
    lifecycle = summary.get("lifecycle") or {}
    for invariant, counts in (lifecycle.get("invariants") or {}).items():
        if counts["broken"]:
            print(
                f"LIFECYCLE INVARIANT BROKEN ({name}): {invariant}, {counts['broken']:,} of "
                f"{counts['checked']:,} checks:",
                file=sys.stderr,
            )
            for example in lifecycle.get("invariant_examples", [])[:5]:
                if example.get("invariant") == invariant:
                    print(f"  {example}", file=sys.stderr)
    if lifecycle.get("not_checked"):
        from bench.measure import NEEDS

        print(
            f"note: {name}: lifecycle invariants not checked, nothing in this run exercised "
            "them: "
            + "; ".join(
                f"{invariant} (needs {NEEDS[invariant]})" if invariant in NEEDS else invariant
                for invariant in lifecycle["not_checked"]
            )
        )
    return bool(
        isolation["verdict"] != "isolated"
        or summary["failures"]
        or summary["requests"] == 0
        or lifecycle.get("invariants_broken")
    )


def _run(args: argparse.Namespace) -> int:
    from bench.cli._run import RunSettings, execute_run
    from bench.report import print_table

    out = _prepare(args, args.strategy)
    settings = RunSettings.from_args(args, strategy=args.strategy, out=out, rate_rps=args.rate)
    settings.validate()
    with _target(args, out) as target:
        summary = execute_run(
            dataclasses.replace(settings, env=target.env), target.url, target.restart
        )
    print_table([summary])
    print(f"results: {out} (summary.json, report.html, locust.html, pyperf file)")
    failed = _report_run(summary)
    if STOP.requested:
        return STOP.exit_code
    return EXIT_FAILED if failed else EXIT_OK


def _comparison(args: argparse.Namespace, out: Path) -> tuple[Any, dict[str, Any]] | None:
    """Run a comparison, write its reports; None when stopped before any run.

    Returns (the runs, the combined summary). Writes compare.md, summary.json, the
    top-level pyperf files and report.html into ``out``.
    """
    from bench.cli._compare import run_comparison, validate_comparison
    from bench.report import comparison_headline, write_compare, write_report_html

    validate_comparison(args, out)
    with _target(args, out) as target:
        done = run_comparison(args, out, target.url, target.env, target.restart)
    if not done.runs:
        return None
    _, combined = write_compare(
        out,
        done.runs,
        args.strategies,
        repetitions=args.repeat,
        offered_rate_rps=done.offered_rate_rps,
        offered_rate_from=done.offered_rate_from,
    )
    shown = [r for r in done.runs if r.phase == "at-rate"] or done.runs
    write_report_html(
        out,
        [r.folder for r in shown],
        labels=[f"{r.strategy} {r.phase} {r.repetition}" for r in shown],
        headline=comparison_headline(combined["comparison"]),
    )
    return done, combined


def _report_comparison(combined: dict[str, Any]) -> bool:
    """Print a comparison's headline, table and run notes; True when a run failed."""
    from bench.report import comparison_headline, print_comparison

    print_comparison(combined["comparison"])
    for sentence in comparison_headline(combined["comparison"]):
        print(sentence)
    failed = False
    for entry in combined["runs"]:
        summary = entry["summary"]
        summary = {**summary, "strategy": f"{entry['strategy']} {entry['phase']} "
                   f"{entry['repetition']}"}  # fmt: skip
        at_capacity = entry["phase"] == "capacity"
        failed = _report_run(summary, saturation_note=not at_capacity) or failed
    print(
        "note: capacity runs are closed loops: the load generator bounds them by design "
        "(their latencies are marked generator-bound); compare latencies at the offered rate"
    )
    return failed


def _compare(args: argparse.Namespace) -> int:
    out = _prepare(args, "compare")
    result = _comparison(args, out)
    if result is None:
        print(f"aegis-bench: stopped before any strategy ran; nothing to compare in {out}")
        return STOP.exit_code or EXIT_FAILED
    _, combined = result
    failed = _report_comparison(combined)
    print(f"results: {out} (compare.md, report.html, summary.json, pyperf-<strategy>.json)")
    if STOP.requested:
        return STOP.exit_code
    return EXIT_FAILED if failed else EXIT_OK


def _ci(args: argparse.Namespace) -> int:
    from bench.report import (
        Thresholds,
        evaluate,
        load_thresholds,
        write_gate_markdown,
        write_junit,
    )

    thresholds = Thresholds()
    if args.thresholds is not None:
        try:
            thresholds = load_thresholds(args.thresholds)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    thresholds = thresholds.merged(
        {
            "max_leaks": args.max_leaks,
            "max_error_rate": args.max_error_rate,
            "max_p99_ms": args.max_p99_ms,
            "min_speedup": args.min_speedup,
            "max_conns_per_request": args.max_conns_per_request,
        }
    )
    out = _prepare(args, "ci")
    result = _comparison(args, out)
    if result is None:
        print(f"aegis-bench: stopped before any strategy ran; no gate in {out}")
        return STOP.exit_code or EXIT_FAILED
    _, combined = result
    checks = evaluate(thresholds, combined["comparison"])
    write_junit(out / "junit.xml", checks)
    write_gate_markdown(out / "ci.md", checks, combined["comparison"])
    _report_comparison(combined)  # its notes; the gate alone decides the exit code
    broken = [check for check in checks if not check.passed]
    for check in broken:
        print(f"THRESHOLD BROKEN: {check.name}: {check.message} (limit {check.limit})",
              file=sys.stderr)  # fmt: skip
    print(f"results: {out} (junit.xml, ci.md, compare.md, report.html, pyperf files)")
    if STOP.requested:
        return STOP.exit_code
    return EXIT_FAILED if broken else EXIT_OK


def _ui(args: argparse.Namespace) -> int:
    from bench.cli._run import RunSettings
    from bench.cli._ui import WEB_HOST, serve_ui

    if args.restart_target_at is not None:
        raise UsageError(
            "--restart-target-at is for run, compare and ci: in the web UI, stop and "
            "start the test yourself"
        )
    out = _prepare(args, "ui")
    settings = RunSettings.from_args(args, strategy=args.strategy, out=out)
    settings.validate()
    check_port_free(WEB_HOST, args.web_port)
    with _target(args, out, faults_per_test=True) as target:
        code = serve_ui(
            dataclasses.replace(settings, env=target.env),
            target.url,
            args.web_port,
            _fault_form_defaults(args),
        )
    if STOP.requested:
        return STOP.exit_code
    return code


def _fault_form_defaults(args: argparse.Namespace) -> list[str]:
    """The fault options as the web UI's start form fields (set per test from there)."""
    outage = args.refresh_outage
    return [
        "--target-fault-5xx", f"{args.fault_5xx:g}",
        "--target-fault-slow", f"{args.fault_slow:g}",
        "--target-fault-reset", f"{args.fault_reset:g}",
        "--target-expire-every", f"{args.expire_every or 0:g}",
        "--target-refresh-outage", f"{outage[0]:g}+{outage[1]:g}" if outage else "",
    ]  # fmt: skip


def _serve(args: argparse.Namespace) -> int:
    from bench.backend import TargetConfig, serve

    config = TargetConfig(
        host=args.bind,
        port=args.port,
        session_ttl_s=args.session_ttl,
        refresh_window_s=args.refresh_window,
        # The client's default timeout is 10 s: a slow answer outlasts it.
        faults=_faults(args, slow_s=11.0, after_reset=False),
    )
    try:
        serve(
            config, ready=lambda url: print(f"aegis-bench: reference backend on {url}", flush=True)
        )
    except OSError as exc:  # the port is taken, or not ours to bind
        raise UsageError(
            f"cannot listen on {args.bind}:{args.port}: {exc.strerror or exc}: "
            "choose another --port (0 picks a free one)"
        ) from None
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aegis-bench`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"run": _run, "compare": _compare, "ci": _ci, "ui": _ui}
    try:
        if args.command == "serve":
            return _serve(args)
        with STOP:
            return handlers[args.command](args)
    except UsageError as exc:
        parser.exit(EXIT_USAGE, f"aegis-bench {args.command}: error: {exc}\n")
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
