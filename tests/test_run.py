"""`aegis-bench run`: short real Locust runs against the embedded reference backend."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests._helpers import SUMMARY_KEYS, key_paths

pytestmark = [pytest.mark.timeout(180), pytest.mark.e2e]

DURATION_S = 3
Run = tuple[subprocess.CompletedProcess[str], dict[str, Any], float]


def bench_run(
    out: Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], float]:
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "run",
            "--duration",
            f"{DURATION_S}s",
            "--warmup",
            "0.5",
            "--out",
            str(out),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=170,
    )
    elapsed = time.monotonic() - started
    summary = json.loads((out / "summary.json").read_text())
    return result, summary, elapsed


@pytest.fixture(scope="module")
def pooled_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], float, Path]:
    """One pooled run of 20 users, shared by the tests that read it."""
    out = tmp_path_factory.mktemp("pooled")
    result, summary, elapsed = bench_run(out, "--users", "20", "--spawn-rate", "20")
    return result, summary, elapsed, out


def test_pooled_run_succeeds_with_a_complete_summary(pooled_run: Any) -> None:
    """A pooled run exits 0 and writes every documented summary field."""
    result, summary, _, out = pooled_run
    assert result.returncode == 0, result.stderr
    for key in (
        "strategy", "users", "duration_s", "partial", "requests", "failures", "throughput_rps",
        "latency_ms", "client_cpu_us_per_request", "client_rss_kib_per_session", "versions",
        "isolation", "connections",
    ):  # fmt: skip
        assert key in summary
    assert summary["strategy"] == "pooled"
    assert summary["partial"] is False
    assert summary["failures"] == 0
    assert summary["requests"] > 100
    assert set(summary["latency_ms"]) >= {"p50", "p90", "p99", "max"}
    assert summary["latency_ms"]["p50"] <= summary["latency_ms"]["p99"]
    assert set(summary["versions"]) >= {"python", "httpx", "httpcore", "anyio", "locust", "uvloop"}
    assert (out / "locust.html").is_file()
    assert (out / "locust_stats.csv").is_file()
    assert (out / "report.html").is_file()
    assert (out / "pyperf-pooled.json").is_file()


def test_a_cli_run_writes_every_summary_field(pooled_run: Any) -> None:
    """aegis-bench run's summary.json has exactly the builder's keys (so a web-UI test's
    and a Locust master's: tests/test_web_ui.py, tests/test_distributed.py)."""
    _, summary, _, _ = pooled_run
    assert key_paths(summary) == SUMMARY_KEYS
    assert summary["outcome"] == {"complete": True, "passed": True, "exit_code": 0, "reasons": []}


def test_pooled_users_each_hold_one_connection(pooled_run: Any) -> None:
    """Client and server both count exactly one connection per pooled user."""
    _, summary, _, _ = pooled_run
    assert summary["connections"]["client_opened"] == 20
    assert summary["connections"]["server_accepted"] == 20
    assert summary["connections"]["reconnects"] == 0
    assert summary["connections"]["os_established_peak"] == 20  # the kernel agrees


def test_pooled_run_is_isolated(pooled_run: Any) -> None:
    """A pooled run checks identities, finds no leak, and every replay is refused."""
    _, summary, _, _ = pooled_run
    isolation = summary["isolation"]
    assert isolation["checked"] > 0
    assert isolation["failed"] is False
    assert isolation["client_side_leaks"] == 0
    assert isolation["server_side_leaks"] == 0
    assert isolation["server_oracle"] == "available"
    assert isolation["replay_accepted"] == 0


def test_run_stops_gracefully_and_closes_every_client(pooled_run: Any) -> None:
    """The run ends within run time plus stop timeout, clients all closed, no odd states."""
    _, summary, elapsed, out = pooled_run
    assert summary["clients_left_open"] == 0
    assert elapsed < DURATION_S + 10 + 20  # run time + stop timeout + start-up of two processes
    log = (out / "locust.log").read_text()
    assert "unexpected state" not in log.lower()
    assert "Traceback" not in log


def test_per_call_opens_one_connection_per_request(tmp_path: Path) -> None:
    """per-call: client and server agree on connections, one per HTTP exchange."""
    result, summary, _ = bench_run(tmp_path / "run", "--strategy", "per-call", "--users", "5")
    assert result.returncode == 0, result.stderr
    connections = summary["connections"]
    assert connections["client_opened"] == connections["server_accepted"]
    assert connections["client_opened"] == summary["http_requests"]


def test_shared_strategy_is_caught_leaking(tmp_path: Path) -> None:
    """The shared client (the negative control) is reported leaking and exits 1."""
    result, summary, _ = bench_run(tmp_path / "run", "--strategy", "shared", "--users", "10")
    assert result.returncode == 1
    assert summary["isolation"]["failed"] is True
    assert summary["isolation"]["client_side_leaks"] > 0
    assert summary["isolation"]["server_side_leaks"] > 0
    assert "ISOLATION FAILED" in result.stderr
    assert result.stdout.splitlines()[0].split() == ["ISOLATION", "LEAK"]  # shown first
    assert ">LEAK (" in (tmp_path / "run" / "report.html").read_text()


CUSTOM = textwrap.dedent(
    """
    from locust import task

    from aegis_client import APIClient
    from bench.locust_adapter import AegisUser
    from bench.steps import browse_identity
    from bench.strategies import ClientStrategy, register_strategy


    @register_strategy
    class Mine(ClientStrategy):
        name = "mine"

        def new_client(self, context):
            return APIClient(context.base_url, **context.client_options())


    class MyUser(AegisUser):
        @task
        def me(self):
            self.run_step(browse_identity)
    """
)


def test_a_locustfile_can_plug_in_its_own_strategy(tmp_path: Path) -> None:
    """A strategy registered by a custom locustfile runs with everything else unchanged."""
    scenario = tmp_path / "my_locustfile.py"
    scenario.write_text(CUSTOM)
    out = tmp_path / "out"
    result, summary, _ = bench_run(
        out, "--scenario", str(scenario), "--strategy", "mine", "--users", "5"
    )
    assert result.returncode == 0, result.stderr
    assert summary["strategy"] == "mine"
    assert summary["failures"] == 0
    assert summary["isolation"]["checked"] > 0
    assert summary["connections"]["server_accepted"] == 5


def test_every_crosswired_response_is_caught(tmp_path: Path) -> None:
    """With the target cross-wiring responses, the client side flags each one as a leak."""
    result, summary, _ = bench_run(tmp_path / "run", "--users", "10", "--crosswire-rate", "0.05")
    isolation = summary["isolation"]
    assert isolation["crosswired_by_target"] > 0
    assert isolation["client_side_leaks"] == isolation["crosswired_by_target"]
    assert isolation["server_side_leaks"] == 0  # the cookies themselves never crossed
    assert result.returncode == 1


def test_tls_run_verifies_against_the_throwaway_ca(tmp_path: Path) -> None:
    """--tls serves HTTPS; pooled clients verify it and do one handshake per session."""
    result, summary, _ = bench_run(tmp_path / "run", "--users", "5", "--tls")
    assert result.returncode == 0, result.stderr
    assert summary["target"].startswith("https://")
    assert summary["failures"] == 0
    assert summary["connections"]["tls_handshakes"] == summary["connections"]["client_opened"] == 5


IDLE = textwrap.dedent(
    """
    from locust import User, constant, task

    import bench.locust_adapter  # noqa: F401  (the tool's listeners write the parts)


    class Idle(User):
        wait_time = constant(0.5)

        @task
        def idle(self):
            pass
    """
)


def test_a_run_without_a_completed_call_writes_a_summary_that_says_so(tmp_path: Path) -> None:
    """Zero calls: a complete summary whose isolation was not checked (saying why), and
    whose outcome is that: exit 1, no traceback."""
    scenario = tmp_path / "idle.py"
    scenario.write_text(IDLE)
    out = tmp_path / "run"
    result, summary, _ = bench_run(out, "--scenario", str(scenario), "--users", "2")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert summary["requests"] == 0
    assert summary["partial"] is False  # the run ran its course: it checked nothing
    assert summary["isolation"]["verdict"] == "not checked"
    assert "no call completed" in summary["isolation"]["reason"]
    assert [r["kind"] for r in summary["outcome"]["reasons"]] == ["not_checked"]
    assert "ISOLATION NOT CHECKED" in result.stderr
    assert not (out / "pyperf-pooled.json").exists()
    assert (out / "report.html").is_file()


def test_a_multi_process_run_stops_on_time_with_every_part_final(tmp_path: Path) -> None:
    """--processes 2: every part is final, counts agree with Locust's, users stop in time."""
    out = tmp_path / "run"
    result, summary, _ = bench_run(out, "--users", "10", "--processes", "2")
    assert result.returncode == 0, result.stderr
    parts = [json.loads(path.read_text()) for path in (out / "parts").glob("part-*.json")]
    assert sorted(part["role"] for part in parts) == ["master", "worker", "worker"]
    assert all(part["final"] for part in parts)
    assert summary["partial"] is False
    assert summary["clients_left_open"] == 0
    assert summary["duration_s"] < DURATION_S + 10  # run time + Locust's stop timeout
    with (out / "locust_stats.csv").open() as stats:
        [aggregated] = [row for row in csv.DictReader(stats) if row["Name"] == "Aggregated"]
    assert summary["requests"] == int(aggregated["Request Count"])
