"""Measurements of many processes in one place: parts sent to the master, and run folders.

A worker (a ``--processes`` load process, or a worker on another machine) sends its
parts to the master through Locust's own worker-to-master messages, every few seconds
and once its users have stopped. The master keeps the latest part of each worker's
test, and writes it to ``<run folder>/parts/`` when it has one, so the summary is the
same exact merge (histograms merged, counts added) whatever the processes' machines.

Locust's master fires ``test_stop`` before it tells its workers to stop on a run-time
end, and stops listening 0.5 s after it told them to quit: a final part sent then was
lost. So, when its test stops, the master asks its workers to stop their users and
send their final parts, and waits for them (bounded) before anything goes on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
from locust.runners import Runner

from bench.measure import Part, PartError
from bench.report import write_json_atomic

__all__ = [
    "FINISH_MESSAGE",
    "PART_MESSAGE",
    "PartCollector",
    "finish_workers",
    "on_finish_request",
]

PART_MESSAGE = "aegis_part"
FINISH_MESSAGE = "aegis_finish"
# Beyond Locust's --stop-timeout, how long the master waits for its workers' final parts:
# their users sign out first, and 7,500 users on a saturated worker took over a minute
# (the same allowance as aegis-bench run's grace: 20 s and 1 s per 100 users).
FINISH_MARGIN_S = 20.0
FINISH_USERS_PER_S = 100.0
logger = logging.getLogger(__name__)


@dataclass
class PartCollector:
    """The master's copy of its workers' latest parts for the test running now."""

    parts: dict[str, Part] = field(default_factory=dict)
    out_dir: Path | None = None  # the test's parts folder, when the master writes one

    def reset(self, out_dir: Path | None) -> None:
        """A new test: forget the last one's parts."""
        self.parts, self.out_dir = {}, out_dir

    def on_message(self, environment: Any, msg: Any, **_: Any) -> None:
        """Keep (and write) a part a worker sent: ``{"name": ..., "part": {...}}``."""
        data = msg.data if isinstance(msg.data, dict) else {}
        try:
            part = Part.from_json(data.get("part"))
        except PartError as exc:  # another version of the tool, or a broken message
            logger.warning("aegis-bench: ignored a part from worker %s: %s", msg.node_id, exc)
            return
        # Two workers on two machines may share a PID: the node id tells them apart.
        name = f"part-worker-{msg.node_id}-{part.test_seq}.json"
        self.parts[name] = part
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.out_dir / name, part.to_json())

    def final_from(self) -> set[str]:
        """The workers (node ids) whose final part for this test has arrived."""
        return {
            name.removeprefix("part-worker-").rsplit("-", 1)[0]
            for name, part in self.parts.items()
            if part.final
        }


COLLECTOR = PartCollector()


def finish_workers(environment: Any) -> list[str]:
    """On the master: ask every worker to stop its users and send its final part, and
    wait until each has (at most ``--stop-timeout`` and a margin); the workers whose
    final part never came."""
    runner = environment.runner
    workers = [client.id for client in runner.clients.all]
    if not workers:
        return []
    runner.send_message(FINISH_MESSAGE, None)
    margin = FINISH_MARGIN_S + runner.user_count / FINISH_USERS_PER_S
    deadline = time.monotonic() + float(environment.stop_timeout or 0) + margin
    while time.monotonic() < deadline:
        missing = set(workers) - COLLECTOR.final_from()
        if not missing:
            return []
        gevent.sleep(0.1)
    logger.warning("aegis-bench: no final part from worker(s) %s", ", ".join(sorted(missing)))
    return sorted(missing)


def on_finish_request(environment: Any, **_: Any) -> None:
    """On a worker: the master asks for the end of the test; stop the users (their
    ``test_stop`` sends the final part). Locust's own stop message comes after, and finds
    the worker stopped already."""
    runner = environment.runner
    if runner is not None:
        # Runner.stop, not WorkerRunner's: no "client_stopped", which would make the
        # master forget the worker before it tells it to quit.
        gevent.spawn(Runner.stop, runner)
