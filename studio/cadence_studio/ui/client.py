"""The UI's side of the worker: start it, send commands, read its messages, replace it.

The studio never imports the user's module; everything it knows comes through here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ValidationError

from .. import protocol as p

if TYPE_CHECKING:
    from ..store.recorder import Recorder

__all__ = ["Client", "WorkerClient", "exit_reason"]


def exit_reason(returncode: int | None) -> str:
    """How a worker process ended, in words: ``exited with code 9``, ``was killed by SIGKILL``."""
    if returncode is None:
        return "closed its pipes"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited with code {returncode}"


class Client(Protocol):
    """What the UI needs of a worker (the real one, or a scripted one in tests)."""

    async def start(self) -> None: ...

    async def send(self, command: BaseModel) -> None: ...

    def messages(self) -> AsyncIterator[p.Message]: ...

    def pending(self) -> list[p.Message]: ...

    async def restart(self) -> None: ...

    async def close(self, *, grace: float = 0.0) -> None: ...


class WorkerClient:
    """Runs ``python -m cadence_studio.worker TARGET`` and talks to it over pipes."""

    def __init__(self, target: str, *, cwd: Path | None = None, python: str = sys.executable) -> None:
        self.target = target
        self.cwd = (cwd or Path.cwd()).resolve()
        self.python = python
        self.process: asyncio.subprocess.Process | None = None
        self._queue: asyncio.Queue[p.Message] = asyncio.Queue()
        self._readers: list[asyncio.Task[None]] = []
        self._generation = 0
        #: Where runs are recorded (the project's run history), if anywhere.
        self.recorder: Recorder | None = None

    async def start(self) -> None:
        self._generation += 1
        # The worker dies with this process; it learns our pid here in case we die before it starts.
        env = {**os.environ, "PYTHONUNBUFFERED": "1", p.PARENT_ENV: str(os.getpid())}
        self.process = await asyncio.create_subprocess_exec(
            self.python,
            "-m",
            p.WORKER_MODULE,
            self.target,
            "--cwd",
            str(self.cwd),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=self.cwd,
            env=env,
            limit=64 * 1024 * 1024,
        )
        generation = self._generation
        self._readers = [
            asyncio.create_task(self._read_protocol(self.process, generation)),
            asyncio.create_task(self._read_stderr(self.process, generation)),
        ]

    async def _read_protocol(self, process: asyncio.subprocess.Process, generation: int) -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            if generation != self._generation:
                return
            try:
                message = p.decode_message(line)
            except ValidationError:
                self._queue.put_nowait(p.Log(stream="worker", text=line.decode("utf-8", "replace")))
                continue
            if self.recorder is not None:
                self.recorder.observe(message, line)
            self._queue.put_nowait(message)
        code = await process.wait()
        if generation == self._generation:
            exited = p.WorkerExited(returncode=code, stderr=self._stderr_tail)
            if self.recorder is not None:
                self.recorder.observe(exited)
            self._queue.put_nowait(exited)

    _stderr_tail = ""

    async def _read_stderr(self, process: asyncio.subprocess.Process, generation: int) -> None:
        assert process.stderr is not None
        async for line in process.stderr:
            text = line.decode("utf-8", "replace")
            self._stderr_tail = (self._stderr_tail + text)[-4000:]
            if generation == self._generation:
                self._queue.put_nowait(p.Log(stream="stderr", text=text))

    async def send(self, command: BaseModel) -> None:
        process = self.process
        if process is None or process.stdin is None or process.returncode is not None:
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            process.stdin.write(p.encode(command))
            await process.stdin.drain()

    async def messages(self) -> AsyncIterator[p.Message]:
        while True:
            yield await self._queue.get()

    def pending(self) -> list[p.Message]:
        """Every message already received and not yet taken, without waiting."""
        out = []
        while not self._queue.empty():
            out.append(self._queue.get_nowait())
        return out

    async def restart(self) -> None:
        """Replace the worker (after a hang, a crash or a change of the user's files)."""
        await self.close()
        self._stderr_tail = ""
        await self.start()

    async def close(self, *, grace: float = 0.0) -> None:
        """End the worker: ask it to shut down and wait ``grace`` seconds, then kill it."""
        if grace and self.process is not None:
            await self.send(p.Shutdown())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), grace)
        process, self.process = self.process, None
        self._generation += 1
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
