"""Figures that survive a rerun: intervals across repetitions, the steady-state window,
the open model's latency from intended start, and the saturation flags."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bench.measure import LATE_START_S, CallRecord, Part, Recorder
from bench.options._catalog import auto_processes
from bench.report import ratio_interval, rerun_interval
from bench.report._repetitions import t_975
from tests._helpers import part_of
from tests._helpers import summarise as summarise_parts

pytestmark = pytest.mark.timeout(30)


def call(latency_s: float = 0.002, delay_s: float | None = None) -> CallRecord:
    return CallRecord(
        "GET", "/api/v1/auth/me", latency_s=latency_s, ok=True, http_requests=1,
        identity_checks=1, start_delay_s=delay_s,
    )  # fmt: skip


def snapshot(*calls: CallRecord) -> dict[str, Any]:
    recorder = Recorder()
    for one in calls:
        recorder.record(one)
    return recorder.snapshot()


def part(**fields: Any) -> Part:
    """A load process's part: 100 calls over a 10 s run, fields overriding."""
    base = {
        "role": "local", "pid": 1, "final": True, "recorder": snapshot(*[call()] * 100),
        "started_at": 1000.0, "stopped_at": 1010.0, "cpu_s": 1.0, "users_peak": 5,
        "clients_built": 5, "clients_released": 5,
    }  # fmt: skip
    return part_of(**{**base, **fields})


def window(opened_at: float, closed_at: float, calls: int, cpu_s: float) -> dict[str, Any]:
    return {"warmup_s": 2.0, "opened_at": opened_at, "closed_at": closed_at, "cpu_s": cpu_s,
            "recorder": snapshot(*[call(0.004)] * calls)}  # fmt: skip


def summarise(parts: list[Part], **context: Any) -> dict[str, Any]:
    if "box_cpu" in context:
        context["box_cpu"] = tuple(context["box_cpu"])
    return summarise_parts(parts, users=5, duration_requested_s=10.0, **context)


# Intervals across repetitions.


def test_t_quantiles_match_the_table() -> None:
    """Student's t 97.5% quantile is 4.303 at 2 degrees of freedom and 1.96 far out."""
    assert (t_975(2), t_975(1000)) == (4.303, 1.96)


def test_one_repetition_has_no_interval() -> None:
    """A single repetition gives a value and no interval."""
    interval = rerun_interval([5.0])
    assert (interval.value, interval.ci_low, interval.ci_high) == (5.0, None, None)


def test_a_rerun_interval_is_t_times_sqrt_two_over_n_wider_than_the_spread() -> None:
    """With a zero among the values the interval is linear: mean ± t·s·sqrt(2/N), clamped."""
    interval = rerun_interval([0.0, 2.0], widening=1.0)
    half = 12.706 * math.sqrt(2.0) * math.sqrt(2.0 / 2)
    assert interval.ci_low == 0.0
    assert interval.ci_high == pytest.approx(1.0 + half)


def test_positive_figures_get_an_interval_even_in_logs() -> None:
    """For positive values the interval is multiplicative around the mean: low·high = mean²."""
    interval = rerun_interval([500.0, 600.0, 700.0])
    assert interval.ci_low is not None
    assert interval.ci_high is not None
    assert interval.ci_low > 0
    assert interval.ci_low * interval.ci_high == pytest.approx(600.0**2)


def test_missing_values_are_skipped() -> None:
    """A repetition without the figure (None) does not count towards N."""
    assert rerun_interval([1.0, None, 3.0]).n == 2


def test_a_ratio_of_steady_pairs_has_no_spread() -> None:
    """Pairs with the same ratio give that ratio with a zero-width interval."""
    interval = ratio_interval([200.0, 400.0, 300.0], [100.0, 200.0, 150.0])
    assert interval.value == pytest.approx(2.0)
    assert (interval.ci_low, interval.ci_high) == (pytest.approx(2.0), pytest.approx(2.0))


def test_the_ratio_is_mean_over_mean() -> None:
    """The ratio's value is the first side's mean over the second's."""
    interval = ratio_interval([100.0, 300.0], [100.0, 100.0])
    assert interval.value == pytest.approx(2.0)
    assert interval.contains(2.0)


def test_an_interval_contains_only_what_lies_inside() -> None:
    """contains() is true inside the bounds and false outside, or without an interval."""
    interval = rerun_interval([10.0, 11.0, 12.0])
    assert interval.contains(11.0)
    assert not interval.contains(1_000.0)
    assert not rerun_interval([10.0]).contains(10.0)


# The open model's latency from intended start.


def test_an_open_model_call_counts_its_wait() -> None:
    """A call that started 30 ms late records service time and 30 ms more from intended start."""
    recorder = Recorder()
    recorder.record(call(latency_s=0.002, delay_s=0.030))
    stats = recorder.total()
    assert stats.histogram.get_max_value() == pytest.approx(2_000, rel=0.01)
    assert stats.intended is not None
    assert stats.intended.get_max_value() == pytest.approx(32_000, rel=0.01)


def test_a_start_later_than_the_threshold_is_late() -> None:
    """Starts later than LATE_START_S count as late; on-time starts do not."""
    recorder = Recorder()
    recorder.record(call(delay_s=LATE_START_S * 2))
    recorder.record(call(delay_s=0.0))
    counters = recorder.total().counters
    assert (counters["scheduled"], counters["late_starts"]) == (2, 1)


def test_a_closed_loop_call_has_no_intended_start() -> None:
    """Without a schedule no from-intended-start histogram exists."""
    recorder = Recorder()
    recorder.record(call())
    assert recorder.total().intended is None


def test_the_intended_histogram_survives_a_snapshot() -> None:
    """Merging a snapshot keeps the from-intended-start latencies."""
    merged = Recorder()
    merged.merge(snapshot(call(latency_s=0.001, delay_s=0.050)))
    intended = merged.total().intended
    assert intended is not None
    assert intended.get_total_count() == 1


# The steady-state window.


def test_figures_come_from_the_window() -> None:
    """Throughput and CPU per request come from the window; counts from the whole run."""
    summary = summarise([part(window=window(1003.0, 1008.0, calls=50, cpu_s=0.1))])
    assert summary["requests"] == 100
    assert summary["window"]["requests"] == 50
    assert summary["throughput_rps"] == 10.0  # 50 calls in 5 s, not 100 in 10 s
    assert summary["client_cpu_us_per_request"] == 2_000.0  # 0.1 s over 50 calls
    assert summary["latency_ms"]["p50"] == pytest.approx(4.0, rel=0.01)


def test_a_run_without_a_window_says_its_figures_are_whole_run() -> None:
    """No window (the run ended within the warm-up): whole-run figures and a note."""
    summary = summarise([part(window={"warmup_s": 2.0, "opened_at": None})])
    assert summary["window"]["opened"] is False
    assert summary["throughput_rps"] == 10.0  # 100 calls over the 10 s run
    assert any("no steady-state window" in note for note in summary["notes"])


def test_window_throughput_adds_each_process_rate() -> None:
    """Two load processes' windows add their own rates."""
    parts = [
        part(pid=1, window=window(1002.0, 1007.0, calls=50, cpu_s=0.1)),
        part(pid=2, window=window(1003.0, 1008.0, calls=100, cpu_s=0.1)),
    ]
    assert summarise(parts)["throughput_rps"] == 30.0


# Saturation.


def test_a_full_machine_flags_the_run() -> None:
    """Machine-wide CPU at or above 90% flags the run, naming the target's share."""
    summary = summarise([part()], box_cpu=[(1001.0, 95.0), (1002.0, 97.0)])
    assert summary["generator"]["saturated"]
    assert "the machine's CPU ran at" in summary["generator"]["reasons"][0]
    assert summary["latency_bound_by_generator"]


def test_loop_lag_a_tenth_of_the_latency_flags_the_run() -> None:
    """Event-loop lag of 10% of the median latency or more flags the run."""
    lagging = part(
        recorder=snapshot(*[call(0.020)] * 100),
        generator={"cpu_percent": [40.0], "loop_lag_ms": [2.5, 2.5, 2.5]},
    )
    summary = summarise([lagging])  # median latency 20 ms: 2.5 ms is 12% of it
    assert summary["generator"]["saturated"]
    assert "event loop lagged" in summary["generator"]["reasons"][0]


def test_lag_within_the_timer_resolution_is_not_saturation() -> None:
    """Lag under 2 ms (the loop's clock ticks) never flags a run, even beside 2 ms latencies."""
    ticking = part(generator={"cpu_percent": [40.0], "loop_lag_ms": [1.0, 1.0, 1.0]})
    assert not summarise([ticking])["generator"]["saturated"]


def test_an_idle_generator_is_not_flagged() -> None:
    """Low CPU, low lag and an idle machine leave the run unflagged."""
    idle = part(generator={"cpu_percent": [30.0, 35.0], "loop_lag_ms": [0.0, 0.1]})
    summary = summarise([idle], box_cpu=[(1001.0, 40.0)])
    assert not summary["generator"]["saturated"]
    assert not summary["latency_bound_by_generator"]


# --processes auto.


@pytest.mark.parametrize(("cores", "expected"), [(1, 1), (2, 1), (8, 7)])
def test_auto_processes_leave_the_target_a_core(cores: int, expected: int) -> None:
    """auto gives one load process per core, less one for the target on this machine."""
    assert auto_processes(cores=cores) == expected
