"""The ``aegis-bench`` command line: ``run``, ``compare``, ``ci``, ``ui`` and ``serve``.

Options come from their declarations (``bench.options``); verdicts and exit codes from
the one outcome function (``bench.outcome``): 0 only for a complete run whose checks
ran and held, 1 for a leak, a broken invariant, a failed request or a check that never
ran, 2 for usage errors (one line, never a traceback), 3 for a run that did not complete,
130 and 143 for SIGINT and SIGTERM.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from bench.cli._checks import (
    check_open_files,
    check_out_folder,
    check_port_free,
    check_scenario_imports,
)
from bench.cli._parser import UsageError, build_parser, settings_of
from bench.cli._report import notes_of, print_notes, print_outcome
from bench.cli._signals import STOP
from bench.cli._target import target_of
from bench.options import (
    HOST,
    OUT,
    PROCESSES,
    REPEAT,
    SCENARIO,
    STRATEGIES,
    STRATEGY,
    THRESHOLD_OPTIONS,
    THRESHOLDS,
    USERS,
    WEB_PORT,
    Limits,
    Settings,
    load_limits,
)
from bench.outcome import ExitCode, Outcome, judge_run

__all__ = ["build_parser", "default_scenario", "main"]


def default_scenario() -> Path:
    """The bundled default locustfile, ``scenarios/aegis_session.py``."""
    return Path(__file__).resolve().parents[2] / "scenarios" / "aegis_session.py"


def _prepare(settings: Settings, default_name: str) -> Settings:
    """Check what the command asks against this machine, before anything starts; the
    settings with the results folder and scenario filled in."""
    from bench.strategies import strategy_names

    stamp = time.strftime("%Y%m%d-%H%M%S")
    out: Path = settings[OUT] or Path("results") / f"{stamp}-{default_name}"
    check_out_folder(out)
    if out.exists() and any((out / "parts").glob("part-*.json")):
        raise UsageError(f"{out} already holds a run: choose another --out folder")
    check_open_files(settings[USERS], settings[PROCESSES], embedded_target=settings[HOST] is None)
    scenario = settings[SCENARIO]
    if scenario is None:
        scenario = default_scenario()
        asked = (
            [v.strategy for v in settings.variants()]
            if STRATEGIES in settings
            else [settings[STRATEGY]]
        )
        unknown = [name for name in asked if name not in strategy_names()]
        if unknown:
            raise UsageError(
                f"unknown strategy {unknown[0]!r}: choose one of {', '.join(strategy_names())}, "
                "or plug your own in with --scenario"
            )
    else:
        check_scenario_imports(scenario)
    return settings.replace({OUT: out, SCENARIO: scenario})


def _limits(settings: Settings) -> Limits:
    """The gate's limits: the declared defaults, a thresholds file, then the flags."""
    limits = Limits()
    path = settings.get(THRESHOLDS)
    if path is not None:
        try:
            limits = load_limits(path)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return limits.merged({o: settings.get(o) for o in THRESHOLD_OPTIONS if o in settings})


def _finish(outcome: Outcome) -> int:
    print_outcome(outcome)
    return int(outcome.exit_code)


def _run(settings: Settings) -> int:
    from bench.cli._forecast import forecast_run
    from bench.cli._run import execute_run
    from bench.report import print_table

    default = settings[SCENARIO] is None
    settings = _prepare(settings, settings[STRATEGY])
    out = settings.required(OUT)
    predicted = forecast_run(settings, default_scenario=default)
    with target_of(settings, out) as target:
        summary = execute_run(
            settings.replace({HOST: target.url}), target.env, target.restart, forecast=predicted
        )
    print_table([summary])
    print(f"results: {out} (summary.json, report.html, locust.html, pyperf file)")
    print_notes([("", note) for note in notes_of(summary)], 1)
    return _finish(judge_run(summary, subject=summary["strategy"]))


def _comparison(settings: Settings, limits: Limits, name: str) -> int:
    """``compare`` and ``ci``: run the comparison, write its reports, judge it."""
    from bench.cli._compare import run_comparison
    from bench.report import (
        comparison_headline,
        print_comparison,
        run_label,
        write_compare,
        write_comparison_report,
        write_gate_markdown,
        write_junit,
    )

    settings = _prepare(settings, name)
    out = settings.required(OUT)
    with target_of(settings, out) as target:
        done = run_comparison(settings.replace({HOST: target.url}), target.env, target.restart,
                              limits)  # fmt: skip
    if not done.runs:
        print(f"aegis-bench: stopped before any strategy ran; nothing to compare in {out}")
        return STOP.exit_code or ExitCode.INCOMPLETE
    strategies = [variant.name for variant in settings.variants()]
    combined, outcome = write_compare(
        out,
        done.runs,
        strategies,
        repetitions=settings[REPEAT],
        offered_rate_rps=done.offered_rate_rps,
        offered_rate_from=done.offered_rate_from,
        limits=limits,
        stopped_by=STOP.name,
    )
    write_comparison_report(out, combined)
    labels = [run_label(entry) for entry in combined["runs"]]
    files = "compare.md, report.html, summary.json, pyperf-<strategy>.json"
    if name == "ci":
        write_junit(out / "junit.xml", outcome, labels)
        write_gate_markdown(out / "ci.md", outcome, combined["comparison"])
        files = "junit.xml, ci.md, " + files
    print_comparison(combined["comparison"])
    for sentence in comparison_headline(combined["comparison"]):
        print(sentence)
    print_notes(
        (
            (run_label(entry), note)
            for entry in combined["runs"]
            for note in notes_of(entry["summary"], at_capacity=entry["phase"] == "capacity")
        ),
        len(labels),
    )
    print(f"results: {out} ({files})")
    return _finish(outcome)


def _ui(settings: Settings) -> int:
    from bench.cli._ui import WEB_HOST, serve_ui

    settings = _prepare(settings, "ui")
    check_port_free(WEB_HOST, settings[WEB_PORT])
    with target_of(settings, settings.required(OUT), faults_per_test=True) as target:
        code = serve_ui(settings.replace({HOST: target.url}), target.env, settings[WEB_PORT])
    return STOP.exit_code if STOP.requested else code


def _serve(settings: Settings) -> int:
    from bench.backend import TargetConfig, serve
    from bench.options import BIND, PORT, REFRESH_WINDOW, SESSION_TTL, faults_of

    config = TargetConfig(
        host=settings[BIND],
        port=settings[PORT],
        session_ttl_s=settings[SESSION_TTL],
        refresh_window_s=settings[REFRESH_WINDOW],
        # The client's default timeout is 10 s: a slow answer outlasts it.
        faults=faults_of(settings, slow_s=11.0, after_reset=False),
    )
    try:
        serve(
            config, ready=lambda url: print(f"aegis-bench: reference backend on {url}", flush=True)
        )
    except OSError as exc:  # the port is taken, or not ours to bind
        raise UsageError(
            f"cannot listen on {settings[BIND]}:{settings[PORT]}: {exc.strerror or exc}: "
            "choose another --port (0 picks a free one)"
        ) from None
    return ExitCode.OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aegis-bench`` console script."""
    parser = build_parser()
    args: argparse.Namespace = parser.parse_args(argv)
    command: str = args.command
    try:
        settings = settings_of(args)
        if command == "serve":
            return _serve(settings)
        with STOP:
            if command == "run":
                return _run(settings)
            if command == "ui":
                return _ui(settings)
            return _comparison(settings, _limits(settings), command)
    except UsageError as exc:
        prog = f"aegis-bench {command}"
        parser.exit(ExitCode.USAGE, f"{prog}: error: {exc} (see {prog} --help)\n")
    except KeyboardInterrupt:
        return ExitCode.SIGINT
