"""The capacity forecast and the ramp's pace: what the box carries, what a run offers,
and sign-ins that wait for a place instead of timing out.

The forecast's arithmetic and the gate's window are checked directly; the refusal goes
through aegis-bench run in this process, with a calibration handed in (no run starts).
"""

from __future__ import annotations

import contextlib
import io
import threading
from pathlib import Path

import pytest

from bench.capacity import Calibration, forecast, sessions_carried
from bench.cli import main
from bench.pacing import MAX_WINDOW, MIN_WINDOW, START_WINDOW, SignInGate
from bench.profile import AEGIS
from bench.steps import calls_per_task

pytestmark = pytest.mark.timeout(30)

# What the calibration measured on this project's 2-core machine (2026-12-03).
MEASURED = Calibration(
    client_cpu_us_per_request=1653.0, server_cpu_us_per_request=316.0, latency_p50_ms=2.2,
    sessions=200, requests=2457, measured_at="2026-12-03 15:40", machine="test",
)  # fmt: skip


def test_the_default_scenario_makes_about_1_1_calls_a_task() -> None:
    """Ten identity calls, ten data calls and one sign-out-replay-sign-in in 21 tasks."""
    assert calls_per_task(AEGIS) == pytest.approx(23 / 21)
    assert calls_per_task(AEGIS, bursts=1.0) == 3  # identity, data, identity again


def test_a_paced_run_offers_users_times_calls_over_their_cycle() -> None:
    """15,000 users thinking 50 s on average offer about 328 requests a second."""
    result = forecast(MEASURED, users=15_000, processes=2, think_mean_s=50.0,
                      calls_per_task=23 / 21)  # fmt: skip
    assert result.offered_rps == pytest.approx(15_000 * (23 / 21) / (50 + 23 / 21 * 0.0022))
    assert not result.over_capacity
    assert result.headroom is not None
    assert result.headroom > 1


def test_the_sessions_carried_are_the_users_that_offer_that_rate() -> None:
    """Solved for the users, the offered rate's formula gives back the users."""
    calls = calls_per_task(AEGIS)
    result = forecast(MEASURED, users=15_000, processes=2, think_mean_s=50.0,
                      calls_per_task=calls)  # fmt: skip
    assert result.offered_rps is not None
    carried = sessions_carried(result.offered_rps, think_mean_s=50.0, calls_per_task=calls,
                               latency_s=MEASURED.latency_p50_ms / 1000)  # fmt: skip
    assert carried in (14_999, 15_000)  # floored


def test_capacity_is_the_tighter_of_the_generators_cores_and_the_machines() -> None:
    """Two load processes on two cores share them with the target: the machine binds."""
    result = forecast(MEASURED, users=200, processes=2, think_mean_s=1.0, calls_per_task=1.0,
                      cores=2)  # fmt: skip
    machine = 2 * 0.9 / ((1653 + 316) / 1e6)
    assert result.capacity_rps == pytest.approx(machine)
    assert result.bound_by == "machine"
    alone = forecast(MEASURED, users=200, processes=1, think_mean_s=1.0, calls_per_task=1.0,
                     cores=8)  # fmt: skip
    assert alone.capacity_rps == pytest.approx(0.9 / (1653 / 1e6))
    assert alone.bound_by == "generator"


def test_eight_to_twelve_seconds_of_think_time_for_15000_users_is_over_capacity() -> None:
    """The old 15,000-session command offers about 1,640 requests a second: over."""
    result = forecast(MEASURED, users=15_000, processes=2, think_mean_s=10.0,
                      calls_per_task=23 / 21, cores=2)  # fmt: skip
    assert result.offered_rps == pytest.approx(1642, rel=0.01)
    assert result.over_capacity


def test_a_closed_loop_offers_no_rate_and_is_never_over() -> None:
    """No think time, no rate: the run saturates by design, nothing to refuse."""
    result = forecast(MEASURED, users=50, processes=1, think_mean_s=0.0, calls_per_task=1.0)
    assert result.offered_rps is None
    assert not result.over_capacity


def test_the_open_model_offers_its_rate() -> None:
    """With --rate the offered rate is the rate, whatever the think time."""
    result = forecast(MEASURED, users=50, processes=1, think_mean_s=0.0, calls_per_task=1.0,
                      rate_rps=400.0)  # fmt: skip
    assert result.offered_rps == 400.0


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def test_a_run_over_capacity_is_refused_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run states the forecast, then refuses the old 15,000-session command in one line
    naming what to change, and starts nothing."""
    monkeypatch.setattr("bench.cli._forecast.calibration", lambda settings, again: MEASURED)
    out = tmp_path / "out"
    code, printed, error = run_cli(
        "run", "--users", "15000", "--processes", "2", "--think-time", "8-12",
        "--keepalive", "20", "--out", str(out),
    )  # fmt: skip
    assert code == 2
    assert "capacity: this box carries about" in printed
    assert "offered: this run offers about 1,642 requests a second" in printed
    [line] = error.strip().splitlines()
    assert "more than the" in line
    assert "--think-time" in line
    assert "--users" in line
    assert "--over-capacity" in line
    assert not out.exists()


def test_a_closed_loop_needs_no_calibration(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run without think time or rate is never calibrated nor refused."""
    from bench.cli._forecast import forecast_run
    from bench.cli._parser import build_parser, settings_of

    def refuse(settings: object, again: bool) -> Calibration:
        raise AssertionError("a closed loop was calibrated")

    monkeypatch.setattr("bench.cli._forecast.calibration", refuse)
    settings = settings_of(build_parser().parse_args(["run", "--users", "15000"]))
    with contextlib.redirect_stdout(io.StringIO()):
        assert forecast_run(settings, default_scenario=True) is None


def gate(timeout_s: float = 10.0) -> SignInGate:
    return SignInGate(timeout_s, threading.Semaphore)


def test_the_gate_starts_with_a_window_of_places() -> None:
    """At most the window's sign-ins are in flight at once."""
    ramp = gate()
    for _ in range(START_WINDOW):
        ramp.enter()
    assert ramp.in_flight == ramp.peak_in_flight == START_WINDOW
    waited = threading.Event()

    def one_more() -> None:
        ramp.enter()
        waited.set()

    threading.Thread(target=one_more, daemon=True).start()
    assert not waited.wait(0.2)  # no place left
    ramp.leave(0.1, ok=True)
    assert waited.wait(5)  # a place given back lets it in


def test_fast_sign_ins_grow_the_window_by_one_per_window() -> None:
    """A window's worth of sign-ins within a quarter of the timeout adds one place."""
    ramp = gate()
    for _ in range(START_WINDOW):
        ramp.enter()
        ramp.leave(0.1, ok=True)
    assert ramp.window == START_WINDOW + 1


def test_a_slow_or_failed_sign_in_halves_the_window() -> None:
    """A sign-in slower than a quarter of the timeout, or a failed one, halves it."""
    ramp = gate(timeout_s=4.0)
    ramp.enter()
    ramp.leave(1.5, ok=True)  # over 1 s: a quarter of 4 s
    assert ramp.window == START_WINDOW // 2
    ramp.enter()
    ramp.leave(0.1, ok=False)
    assert ramp.window == START_WINDOW // 4


def test_a_shrunk_window_holds_no_more_in_flight_than_it_says() -> None:
    """Places are taken back as sign-ins end: once shrunk, the window is what enters."""
    ramp = gate(timeout_s=4.0)
    for _ in range(START_WINDOW):
        ramp.enter()
    ramp.leave(3.0, ok=True)  # slow: the window halves to 16, 31 still in flight
    for _ in range(START_WINDOW - 1):
        ramp.leave(0.1, ok=True)
    entered = 0
    while ramp._places.acquire(blocking=False):  # what is free now
        entered += 1
    assert entered == ramp.window


def test_the_window_stays_within_its_bounds() -> None:
    """However slow or fast, the window stays between its floor and its ceiling."""
    ramp = gate(timeout_s=4.0)
    for _ in range(20):
        ramp.enter()
        ramp.leave(3.0, ok=False)
    assert ramp.window == MIN_WINDOW
    fast = gate()
    for _ in range(200_000):
        fast.enter()
        fast.leave(0.0, ok=True)
        if fast.window == MAX_WINDOW:
            break
    assert fast.window == MAX_WINDOW
