"""User code that reaches for the process: input(), fd 1, sys.exit(). The real worker survives each."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cadence_studio import protocol as p
from cadence_studio.ui.client import WorkerClient
from tests.e2e.test_worker import collect_until, next_of, write

ASKS_AT_IMPORT = """
    from dataclasses import dataclass
    from cadence import Cadence, Score

    NAME = input("name? ")

    @dataclass
    class S(Score):
        n: int = 0

    c = Cadence("c", S()).then("a", lambda s: None)
"""

MISBEHAVES = """
    import asyncio, os, subprocess, sys
    from dataclasses import dataclass
    from cadence import Cadence, Score

    @dataclass
    class S(Score):
        n: int = 0
        text: str = ""

    def ask(s):
        s.text = input("x? ")

    def fine(s):
        s.n = 1

    def writes_fd1(s):
        os.write(1, b"raw bytes on fd 1\\n")
        done = subprocess.run(["cat"], capture_output=True, timeout=5)  # reads fd 0, as a child would
        s.text = done.stdout.decode()
        subprocess.run(["echo", "a child's stdout"], check=True)
        s.n = 2

    def exits(s):
        sys.exit(3)

    async def exits_async(s):
        await asyncio.sleep(0)
        sys.exit(4)

    def exits_in_pool(s):
        sys.exit(5)

    asks = Cadence("asks", S()).then("ask", ask)
    plain = Cadence("plain", S()).then("fine", fine)
    fd1 = Cadence("fd1", S()).then("writes_fd1", writes_fd1)
    sync_exit = Cadence("sync_exit", S()).then("exits", exits)
    async_exit = Cadence("async_exit", S()).then("exits_async", exits_async)
    pool_exit = Cadence("pool_exit", S()).sync("group", [fine, exits_in_pool])
"""


DIES = """
    dies = Cadence("dies", S()).then("x", lambda s: os._exit(9))
"""


@pytest.fixture
async def misbehaves(tmp_path: Path) -> AsyncIterator[WorkerClient]:
    write(tmp_path, "misbehaves.py", MISBEHAVES)
    client = WorkerClient("misbehaves.py", cwd=tmp_path)
    await client.start()
    await next_of(client, p.Catalog)
    yield client
    await client.close(grace=1.0)


async def run_to_end(client: WorkerClient, target: str) -> list[p.Message]:
    await client.send(p.Run(target=target))
    return await collect_until(client, lambda m: isinstance(m, p.RunEnded | p.WorkerExited), timeout=10)


def fields(tree: dict[str, object]) -> dict[str, str]:
    return {key: node["r"] for key, node in tree["c"]}  # type: ignore[index,union-attr,misc]


async def test_input_at_import_fails_the_load_with_eof_at_its_line(tmp_path: Path) -> None:
    """input() while the module imports reads an empty stdin: the load fails with EOFError at that line."""
    write(tmp_path, "asks.py", ASKS_AT_IMPORT)
    client = WorkerClient("asks.py", cwd=tmp_path)
    await client.start()
    try:
        failed = await next_of(client, p.LoadFailed, timeout=10)
    finally:
        await client.close()
    assert "EOFError" in failed.error.message
    assert failed.error.file is not None
    assert failed.error.file.endswith("asks.py")
    assert failed.error.line == 5


def test_list_of_a_module_calling_input_does_not_hang(tmp_path: Path) -> None:
    """`cadence-studio list` on such a module ends at once with the error, exit code 2."""
    write(tmp_path, "asks.py", ASKS_AT_IMPORT)
    done = subprocess.run(
        [sys.executable, "-m", "cadence_studio", "list", "asks.py", "--cwd", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,  # before the fix it waited forever for a line on the command pipe
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "EOFError: EOF when reading a line" in done.stderr
    assert "asks.py:5" in done.stderr


async def test_input_in_a_note_fails_that_note_and_the_next_commands_work(misbehaves: WorkerClient) -> None:
    """The note gets EOFError (the run fails, naming it); the command pipe is untouched."""
    for _ in range(2):
        seen = await run_to_end(misbehaves, "asks")
        end = seen[-1]
        assert isinstance(end, p.RunEnded), end
        assert end.status == "failed"
        assert end.error is not None
        assert "EOFError" in end.error.message
        assert end.error.file is not None
        assert end.error.file.endswith("misbehaves.py")
        finished = [
            m.event for m in seen if isinstance(m, p.EventMessage) and m.event["kind"] == "note_finished"
        ]
        assert finished[0]["status"] == "failed"
        assert finished[0]["error"]["type"] == "EOFError"
    end = (await run_to_end(misbehaves, "plain"))[-1]
    assert isinstance(end, p.RunEnded)
    assert end.status == "done"


async def test_fd_1_and_fd_0_of_user_code_are_not_the_protocol(misbehaves: WorkerClient) -> None:
    """Raw writes to fd 1 and a child's stdout arrive as logs; a child reading stdin gets EOF."""
    seen = await run_to_end(misbehaves, "fd1")
    end = seen[-1]
    assert isinstance(end, p.RunEnded), end
    assert end.status == "done", end.error
    assert fields(end.score) == {"n": "2", "text": "''"}
    # fd 1 is the worker's stderr, read by its own task: its lines may come after RunEnded.
    logs = "".join(m.text for m in seen if isinstance(m, p.Log))
    if "a child's stdout" not in logs:
        later = await collect_until(
            misbehaves, lambda m: isinstance(m, p.Log) and "a child's stdout" in m.text, timeout=10
        )
        logs += "".join(m.text for m in later if isinstance(m, p.Log))
    assert "raw bytes on fd 1" in logs
    assert "a child's stdout" in logs
    assert (await run_to_end(misbehaves, "plain"))[-1].status == "done"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("target", "note", "code"),
    [
        ("sync_exit", "sync_exit/exits", "3"),
        ("async_exit", "async_exit/exits_async", "4"),
        ("pool_exit", "pool_exit/group/exits_in_pool", "5"),  # SystemExit in a pool thread
    ],
)
async def test_sys_exit_in_a_note_fails_the_note_every_time(
    misbehaves: WorkerClient, target: str, note: str, code: str
) -> None:
    """sys.exit(n) in a note: the note fails with SystemExit(n), the run fails, the worker goes on."""
    for _ in range(5):
        seen = await run_to_end(misbehaves, target)
        end = seen[-1]
        assert isinstance(end, p.RunEnded), f"the worker died: {end}"
        assert end.status == "failed"
        assert end.error is not None
        assert (end.error.type, end.error.message) == ("SystemExit", code)
        assert end.error.file is not None
        assert end.error.file.endswith("misbehaves.py")
        finished = {
            m.event["node_id"]: m.event
            for m in seen
            if isinstance(m, p.EventMessage) and m.event["kind"] == "note_finished"
        }
        assert finished[note]["status"] == "failed"
        assert finished[note]["error"]["type"] == "SystemExit"
        again = (await run_to_end(misbehaves, "plain"))[-1]
        assert isinstance(again, p.RunEnded)
        assert again.status == "done"


async def test_os_exit_in_a_note_is_reported_as_the_worker_exiting(tmp_path: Path) -> None:
    """os._exit(n) really ends the process: the client reports the exit code, every time."""
    write(tmp_path, "dies.py", MISBEHAVES + DIES)
    for _ in range(5):
        client = WorkerClient("dies.py", cwd=tmp_path)
        await client.start()
        await next_of(client, p.Catalog)
        exited = (await run_to_end(client, "dies"))[-1]
        await client.close()
        assert isinstance(exited, p.WorkerExited)
        assert exited.returncode == 9


def test_headless_run_names_how_the_worker_ended(tmp_path: Path) -> None:
    """`cadence-studio run` of a note calling os._exit(9) says the worker exited with code 9."""
    write(tmp_path, "dies.py", MISBEHAVES + DIES)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cadence_studio",
            "run",
            "dies.py:dies",
            "--cwd",
            str(tmp_path),
            "--no-history",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "error: the worker exited with code 9 during the run" in done.stderr
    assert "os._exit()" in done.stderr
