"""Run history faults: the file deleted while recording, and a run whose process was killed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from cadence_studio import protocol as p
from cadence_studio.store.history import History
from cadence_studio.ui.client import WorkerClient

MODULE = textwrap.dedent(
    """
    import os, time
    from dataclasses import dataclass
    from pathlib import Path
    from cadence import Cadence, Score

    @dataclass
    class Job(Score):
        n: int = 1
        hold: str = ""

    def first(job: Job) -> None:
        job.n += 1

    def second(job: Job) -> None:
        if job.hold:  # tell the test who runs it, then hang until killed
            Path(job.hold).write_text(str(os.getpid()))
            while True:
                time.sleep(0.05)
        job.n *= 10

    job = Cadence("job", Job()).then("first", first).then("second", second)
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "jobs.py").write_text(MODULE)
    return tmp_path


async def _next(client: WorkerClient, kind: type[p.Message]) -> p.Message:
    async def wait() -> p.Message:
        async for message in client.messages():
            if isinstance(message, kind):
                return message
            if isinstance(message, p.WorkerExited | p.LoadFailed):
                raise AssertionError(f"the worker gave up: {message!r}")
        raise AssertionError("no more messages")

    return await asyncio.wait_for(wait(), 30)


def _delete_history(history: History) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{history.path}{suffix}").unlink(missing_ok=True)
    assert not history.path.exists()


async def _record(project: Path, between: Callable[[History], Awaitable[None]]) -> list[str]:
    """Two runs of jobs.py:job in one real worker, one recorder; ``between`` runs after the first."""
    history = History(project)
    notices: list[str] = []
    client = WorkerClient("jobs.py", cwd=project)
    recorder = client.recorder = history.recorder("jobs.py")
    recorder.on_notice = notices.append
    await client.start()
    try:
        await _next(client, p.Catalog)
        await client.send(p.Run(target="job", score={"n": 1}))
        await _next(client, p.RunEnded)
        recorder.flush()
        await between(history)
        await client.send(p.Run(target="job", score={"n": 2}))
        await _next(client, p.RunEnded)
        recorder.flush()
    finally:
        await client.close(grace=1.0)
        recorder.close()
    assert recorder.error is None
    return notices


async def test_a_history_file_deleted_between_runs_is_made_again(project: Path) -> None:
    """The next run is recorded in a new file, and the user is told once."""

    async def delete(history: History) -> None:
        assert [r.score for r in history.runs()] == [{"n": 1}]
        _delete_history(history)

    notices = await _record(project, delete)
    history = History(project)
    assert history.path.exists()
    (run,) = history.runs()
    assert (run.status, run.score) == ("done", {"n": 2})
    final = {key: child["r"] for key, child in history.replay(run.id).score["c"]}
    assert final["n"] == "30"
    assert len(notices) == 1
    assert f"the run history {history.path} was deleted while the studio ran" in notices[0]
    assert "it was made again" in notices[0]


async def test_a_history_file_deleted_during_a_run_keeps_what_follows(project: Path) -> None:
    """A run paused at a breakpoint when the file goes is written again from its start, marked."""
    history = History(project)
    notices: list[str] = []
    client = WorkerClient("jobs.py", cwd=project)
    recorder = client.recorder = history.recorder("jobs.py")
    recorder.on_notice = notices.append
    await client.start()
    try:
        await _next(client, p.Catalog)
        await client.send(p.Run(target="job", score={"n": 5}, breakpoints=["job/second"]))
        await _next(client, p.Paused)
        recorder.flush()
        _delete_history(history)
        await client.send(p.Continue())
        await _next(client, p.RunEnded)
        recorder.flush()
    finally:
        await client.close(grace=1.0)
        recorder.close()
    (run,) = History(project).runs()
    assert (run.status, run.score) == ("done", {"n": 5})
    assert run.error == "part of this run was lost: the history file was deleted while it ran"
    record = History(project).replay(run.id)
    assert record.status == "done"
    assert record.nodes["job/second"].status == "done"
    assert len(notices) == 1


# ---------------------------------------------------------------------------- killed recorders


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        time.sleep(0.05)


def test_a_run_whose_process_was_killed_ends_as_unknown(project: Path) -> None:
    """`cadence-studio run` SIGKILLed mid-run: the run stays running while it lives, then `unknown`."""
    marker = project / "worker.pid"
    score = json.dumps({"hold": str(marker)})
    cli = subprocess.Popen(
        [sys.executable, "-m", "cadence_studio", "run", "jobs.py:job", "--score", score],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    history = History(project)
    try:
        _wait_for(marker.exists, "the note to start")
        _wait_for(lambda: history.path.exists() and len(history.runs()) == 1, "the run to be recorded")
        # opening the history while its recorder lives leaves the run alone
        (alive,) = history.runs()
        assert alive.status == "running"
        assert History(project).get(alive.id).status == "running"
    finally:
        cli.send_signal(signal.SIGKILL)
        cli.wait()
        if marker.exists():
            os.kill(int(marker.read_text()), signal.SIGKILL)
        assert cli.stderr is not None
        cli.stderr.close()
    (run,) = history.runs()
    assert run.status == "unknown"
    assert run.error == (
        f"the process that recorded it (pid {cli.pid}) ended before the run did (killed?); "
        "how the run ended is unknown"
    )
    listing = subprocess.run(
        [sys.executable, "-m", "cadence_studio", "history"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listing.returncode == 0, listing.stderr
    assert "jobs.py:job  unknown" in listing.stdout
    assert History(project).replay(run.id).status == "unknown"


def test_a_reused_pid_is_not_taken_for_the_recorder() -> None:
    """A live process with the recorder's pid but another start time is not the recorder."""
    from cadence_studio.store.writers import writer_gone as _writer_gone
    from cadence_studio.store.writers import writer_identity

    me = writer_identity()
    assert me is not None
    assert not _writer_gone(os.getpid(), me)
    host, boot, started = me.split(" ")
    assert _writer_gone(os.getpid(), f"{host} {boot} {int(started) + 1}")
    assert not _writer_gone(os.getpid(), f"another-{socket.gethostname()} {boot} 1")  # cannot tell: kept


async def test_a_format_1_history_is_upgraded_and_keeps_its_runs(project: Path) -> None:
    """A file written before runs named their process: its runs stay, new runs are recorded."""
    folder = project / ".cadence"
    folder.mkdir()
    with sqlite3.connect(folder / "history.sqlite3") as db:
        db.executescript(
            """
            CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL,
                entry TEXT NOT NULL, started REAL NOT NULL, ended REAL,
                status TEXT NOT NULL DEFAULT 'running', duration REAL,
                error TEXT, graph TEXT NOT NULL, args TEXT NOT NULL DEFAULT '{}', score TEXT,
                messages INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE lines (run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                seq INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (run, seq)) WITHOUT ROWID;
            INSERT INTO runs (target, entry, started, status, graph)
                VALUES ('jobs.py', 'job', 1.0, 'running', '{}');
            PRAGMA user_version = 1;
            """
        )

    async def nothing(history: History) -> None:
        return None

    await _record(project, nothing)
    runs = History(project).runs()
    assert [(r.id, r.status) for r in runs] == [(3, "done"), (2, "done"), (1, "running")]
    with sqlite3.connect(folder / "history.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone() == (3,)
