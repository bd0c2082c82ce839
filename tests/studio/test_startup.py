"""Start-up: `cadence-studio TARGET` starts the worker before it imports the UI, and the UI's client
adopts that process (a real worker subprocess) as if it had started it itself."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TypeVar

from cadence_studio import protocol as p
from cadence_studio.cli.studio import opens_at_once
from cadence_studio.spawn import start_worker
from cadence_studio.ui.client import WorkerClient

MODULE = """
from dataclasses import dataclass

from cadence import Cadence, Score


@dataclass
class Tally(Score):
    n: int = 0


async def bump(score: Tally) -> None:
    score.n += 1


tally = Cadence("tally", Tally()).then("first", bump).then("second", bump)
"""


T = TypeVar("T")


async def next_of(client: WorkerClient, kind: type[T]) -> T:
    async def find() -> T:
        async for message in client.messages():
            if isinstance(message, kind):
                return message
        raise AssertionError("the messages ended")

    return await asyncio.wait_for(find(), 30)


def test_the_entry_point_imports_neither_the_command_line_nor_the_ui() -> None:
    """What `cadence-studio TARGET` imports before it starts the worker: the standard library only."""
    code = (
        "import sys, cadence_studio.cli.studio, cadence_studio.spawn\n"
        "heavy = sorted(m for m in ('typer', 'textual', 'pydantic', 'rich', 'cadence_studio.ui',"
        " 'cadence_studio.protocol', 'cadence_studio.store') if m in sys.modules)\n"
        "print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"imported before the worker starts: {done.stdout.strip()}"


def test_a_target_alone_opens_at_once_and_anything_else_goes_to_the_commands() -> None:
    assert opens_at_once(["examples/shop.py"]) == "examples/shop.py"
    assert opens_at_once(["myapp.cadences:checkout"]) == "myapp.cadences:checkout"
    assert opens_at_once(["@"]) == "@"
    assert opens_at_once(["list", "x.py"]) is None
    assert opens_at_once(["history"]) is None  # a command's name
    assert opens_at_once(["--help"]) is None
    assert opens_at_once([]) is None


async def test_the_client_adopts_a_worker_started_before_the_loop(tmp_path: Path) -> None:
    (tmp_path / "tally_module.py").write_text(textwrap.dedent(MODULE))
    early = start_worker("tally_module.py", tmp_path)
    client = WorkerClient("tally_module.py", cwd=tmp_path, early=early)
    await client.start()
    try:
        assert client.process is not None
        assert client.process.pid == early.pid  # the same process, not a second worker
        catalog = await next_of(client, p.Catalog)
        assert [entry.name for entry in catalog.entries] == ["tally"]
        await client.send(p.Run(target="tally"))
        end = await next_of(client, p.RunEnded)
        assert end.status == "done"
        await client.restart()  # a restart starts a new worker, as before
        assert client.process is not None
        assert client.process.pid != early.pid
        await next_of(client, p.Catalog)
    finally:
        await client.close(grace=1.0)
    assert early.poll() is not None, "the adopted worker outlived its client"


def test_the_early_worker_is_read_before_any_event_loop_runs(tmp_path: Path) -> None:
    """A thread reads the worker's protocol pipe from its start: a catalog far larger than a pipe holds
    (3,000 notes, some 700 KB) is all read while the UI would still be importing, so the worker is not
    held up writing it and goes on to read its commands (here: shut down)."""
    notes = "".join(f'big = big.then("n{i:04d}", bump)\n' for i in range(3000))
    (tmp_path / "big_module.py").write_text(
        textwrap.dedent(MODULE) + 'big = Cadence("big", Tally())\n' + notes
    )
    with start_worker("big_module.py", tmp_path) as early:  # (closes its pipes)
        assert early.stdin is not None
        early.stdin.write(p.encode(p.Shutdown()))
        early.stdin.flush()
        try:
            assert early.wait(timeout=30) == 0  # nothing else reads its output: the thread did
        finally:
            early.kill()
        chunks = early.take(lambda chunk: None)
        assert chunks[-1] is None  # the pipe's end, once the worker is gone
        lines = b"".join(chunk for chunk in chunks if chunk).splitlines()
        catalog_line = next(line for line in lines if line.startswith(b'{"type":"catalog"'))
        assert len(catalog_line) > 256 * 1024
        catalog = p.decode_message(catalog_line)
        assert isinstance(catalog, p.Catalog)
        big = next(entry for entry in catalog.entries if entry.name == "big")
        assert big.graph is not None
        assert len(big.graph["children"]) == 3000
