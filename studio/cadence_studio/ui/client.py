"""The UI's side of the worker: start it, send commands, read its messages, replace it.

The studio never imports the user's module; everything it knows comes through here.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ValidationError

from .. import protocol as p
from ..memory import collector_held
from ..spawn import EarlyWorker, worker_argv, worker_env

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


class WorkerProcess(Protocol):
    """What the client uses of a worker process (an asyncio one, or one started before the loop)."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    @property
    def stdin(self) -> asyncio.StreamWriter | None: ...

    @property
    def stdout(self) -> asyncio.StreamReader | None: ...

    @property
    def stderr(self) -> asyncio.StreamReader | None: ...

    async def wait(self) -> int: ...

    def kill(self) -> None: ...


READ_LIMIT = 64 * 1024 * 1024  # one protocol line (a 10,000-note catalog) must fit
#: seconds: decoding what a fast run sent lets the loop in this often (a key waits no longer for it)
READ_SLICE = 0.004


class AdoptedProcess:
    """A worker started before the event loop ran (:func:`cadence_studio.spawn.start_worker`), its
    pipes connected to the loop: it reads and writes as an ``asyncio.subprocess.Process`` does."""

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        stdin: asyncio.StreamWriter,
        stdout: asyncio.StreamReader,
        stderr: asyncio.StreamReader,
    ) -> None:
        self._popen = popen
        self.pid = popen.pid
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr

    @classmethod
    async def adopt(cls, popen: subprocess.Popen[bytes]) -> AdoptedProcess:
        assert popen.stdin is not None
        assert popen.stdout is not None
        assert popen.stderr is not None
        loop = asyncio.get_running_loop()

        async def reader(pipe: object) -> asyncio.StreamReader:
            stream = asyncio.StreamReader(limit=READ_LIMIT)
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), pipe)
            return stream

        stdout = _read_ahead(popen, loop) if isinstance(popen, EarlyWorker) else await reader(popen.stdout)
        stderr = await reader(popen.stderr)
        transport, protocol = await loop.connect_write_pipe(
            lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()), popen.stdin
        )
        stdin = asyncio.StreamWriter(transport, protocol, None, loop)
        return cls(popen, stdin, stdout, stderr)

    @property
    def returncode(self) -> int | None:
        return self._popen.poll()

    async def wait(self) -> int:
        if (code := self._popen.poll()) is not None:
            return code
        return await asyncio.to_thread(self._popen.wait)

    def kill(self) -> None:
        self._popen.kill()


def _read_ahead(worker: EarlyWorker, loop: asyncio.AbstractEventLoop) -> asyncio.StreamReader:
    """A stream of what ``worker``'s reading thread has read (at once) and will read (as it comes)."""
    stream = asyncio.StreamReader(limit=READ_LIMIT)

    def feed(chunk: bytes | None) -> None:
        if chunk is None:
            stream.feed_eof()
        else:
            stream.feed_data(chunk)

    def sink(chunk: bytes | None) -> None:  # in the reading thread
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody reads any more
            loop.call_soon_threadsafe(feed, chunk)

    for chunk in worker.take(sink):
        feed(chunk)
    return stream


class WorkerClient:
    """Runs ``python -m cadence_studio.worker TARGET`` and talks to it over pipes.

    ``early`` is a worker the entry point started before the UI was imported: the first start adopts it.
    """

    def __init__(
        self,
        target: str,
        *,
        cwd: Path | None = None,
        python: str = sys.executable,
        early: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self.target = target
        self.cwd = (cwd or Path.cwd()).resolve()
        self.python = python
        self.process: WorkerProcess | None = None
        self._early = early
        self._queue: asyncio.Queue[p.Message] = asyncio.Queue()
        self._readers: list[asyncio.Task[None]] = []
        self._generation = 0
        #: Where runs are recorded (the project's run history), if anywhere.
        self.recorder: Recorder | None = None

    async def start(self) -> None:
        self._generation += 1
        early, self._early = self._early, None
        if early is not None:
            self.process = await AdoptedProcess.adopt(early)
        else:
            self.process = await asyncio.create_subprocess_exec(
                *worker_argv(self.target, self.cwd, self.python),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=self.cwd,
                env=worker_env(),
                limit=READ_LIMIT,
            )
        generation = self._generation
        self._readers = [
            asyncio.create_task(self._read_protocol(self.process, generation)),
            asyncio.create_task(self._read_stderr(self.process, generation)),
        ]

    async def _read_protocol(self, process: WorkerProcess, generation: int) -> None:
        assert process.stdout is not None
        # Lines already buffered are read without waiting: thousands of them would hold the loop
        # (and a key pressed meanwhile) for as long as they take to decode; it is let in at times,
        # once the catalog is in (before it, the first frame waits for nothing but the catalog).
        let_in = float("inf")
        async for line in process.stdout:
            if generation != self._generation:
                return
            if time.perf_counter() >= let_in:
                await asyncio.sleep(0)
                let_in = time.perf_counter() + READ_SLICE
                if generation != self._generation:
                    return
            try:
                with collector_held():  # a catalog or a run's start: a big graph, made in one go
                    message = p.decode_message(line)
            except ValidationError:
                self._queue.put_nowait(p.Log(stream="worker", text=line.decode("utf-8", "replace")))
                continue
            if self.recorder is not None:
                self.recorder.observe(message, line)
            self._queue.put_nowait(message)
            if let_in == float("inf") and isinstance(message, (p.Catalog, p.LoadFailed)):
                let_in = time.perf_counter() + READ_SLICE
        code = await process.wait()
        if generation == self._generation:
            exited = p.WorkerExited(returncode=code, stderr=self._stderr_tail)
            if self.recorder is not None:
                self.recorder.observe(exited)
            self._queue.put_nowait(exited)

    _stderr_tail = ""

    async def _read_stderr(self, process: WorkerProcess, generation: int) -> None:
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
