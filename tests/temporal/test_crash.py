"""THE CRASH TEST: a real `cadence-studio worker` process is SIGKILLed in the middle of a run; a second
worker finishes it, and every note that had completed before the kill ran exactly once."""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from cadence import serialize_score
from cadence.integrations.temporal import start
from cadence.integrations.temporal._client import result
from tests.temporal.conftest import TemporalServer

APP = textwrap.dedent(
    """
    import asyncio, os, time
    from dataclasses import dataclass, field
    from cadence import Cadence, Score

    LOG = os.environ["CRASH_LOG"]
    MARKER = os.environ["CRASH_MARKER"]

    def ran(what: str) -> None:
        with open(LOG, "a") as f:
            f.write(f"{what} {os.getpid()}\\n")

    @dataclass
    class Job(Score):
        steps: list[str] = field(default_factory=list)
        left: int = 0
        right: int = 0

    async def first(job: Job) -> None:
        ran("first")
        job.steps.append("first")

    def left(job: Job) -> None:
        ran("left")
        job.left = 1

    async def right(job: Job) -> None:
        ran("right")
        job.right = 2

    def slow(job: Job) -> None:
        ran("slow started")
        if not os.path.exists(MARKER):
            open(MARKER, "w").close()  # the test kills this worker now
            time.sleep(60)
        job.steps.append("slow")

    async def last(job: Job) -> None:
        ran("last")
        job.steps.append("last")

    crash = (
        Cadence("crash", Job())
        .then("first", first)
        .sync("pair", [left, right])
        .then("slow", slow)
        .then("last", last)
    )
    """
)


def _worker(tmp_path: Path, server: TemporalServer, queue: str, name: str) -> subprocess.Popen[bytes]:
    binary = Path(sys.executable).parent / "cadence-studio"
    with (tmp_path / f"{name}.out").open("wb") as out:  # the child keeps its own copy of the descriptor
        return _popen(binary, tmp_path, server, queue, out)


def _popen(
    binary: Path, tmp_path: Path, server: TemporalServer, queue: str, out: Any
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(binary), "worker", "crash_app.py", "--temporal", server.address, "--task-queue", queue,
         "--cwd", str(tmp_path), "--heartbeat-timeout", "1", "--sticky-timeout", "1"],
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "CRASH_LOG": str(tmp_path / "log.txt"), "CRASH_MARKER": str(tmp_path / "marker")},
    )  # fmt: skip


def _wait_for(check: Any, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds  # generous: a loaded machine, not a bound under test
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    (tmp_path / "crash_app.py").write_text(APP)
    monkeypatch.setenv("CRASH_LOG", str(tmp_path / "log.txt"))
    monkeypatch.setenv("CRASH_MARKER", str(tmp_path / "marker"))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("crash_app", None)
    yield importlib.import_module("crash_app")
    sys.modules.pop("crash_app", None)


async def test_killed_worker_run_completes_on_a_second_worker(
    temporal_server: TemporalServer, app: Any, tmp_path: Path
) -> None:
    queue = f"crash-{os.getpid()}-{time.monotonic_ns()}"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        workers.append(_worker(tmp_path, temporal_server, queue, "first"))
        _wait_for(lambda: b"serving 'crash'" in (tmp_path / "first.out").read_bytes(), "the first worker")
        client = await Client.connect(temporal_server.address)
        handle = await start(client, app.crash, app.Job(), task_queue=queue)
        await asyncio.to_thread(_wait_for, (tmp_path / "marker").exists, "the slow note to start")
        os.kill(workers[0].pid, signal.SIGKILL)
        workers[0].wait()
        workers.append(_worker(tmp_path, temporal_server, queue, "second"))
        final = await asyncio.wait_for(result(handle, app.crash, app.Job()), 60)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
    lines = (tmp_path / "log.txt").read_text().splitlines()
    counts = Counter(line.rpartition(" ")[0] for line in lines)
    pids = {line.rpartition(" ")[0]: line.rpartition(" ")[2] for line in lines}
    # Completed before the kill: run once, on the first worker.
    assert (counts["first"], counts["left"], counts["right"]) == (1, 1, 1)
    assert pids["first"] == str(workers[0].pid)
    # Interrupted by the kill: started on the first worker, run again (to its end) on the second.
    assert counts["slow started"] == 2
    assert pids["slow started"] == str(workers[1].pid)
    assert (counts["last"], pids["last"]) == (1, str(workers[1].pid))
    expected = await app.crash.run(app.Job())  # marker exists now, so a local run is quick
    assert serialize_score(final) == serialize_score(expected)
    assert final.steps == ["first", "slow", "last"]
    assert workers[1].returncode == 0  # SIGTERM ends a worker cleanly
