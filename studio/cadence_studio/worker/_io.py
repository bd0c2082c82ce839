"""The worker process's plumbing: its private protocol pipes, and staying alive only with its parent.

User code runs in the worker, so it must not be able to reach the protocol by accident: ``input()``
would read the command pipe and ``print`` or a C library would write into the reply pipe. At start the
worker moves both pipes to private descriptors (not inherited by subprocesses), gives fd 0 ``/dev/null``
(``input()`` raises ``EOFError``) and points fd 1 at stderr.

The worker is the UI's child and must not outlive it, even while a note holds its main thread: on Linux
the kernel kills it when its parent dies (``PR_SET_PDEATHSIG``), and everywhere a watchdog thread ends it
when its parent changes or the command pipe closes and the worker does not stop by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import io
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, BinaryIO

from pydantic import BaseModel

from .. import protocol as p

__all__ = [
    "Channel",
    "LogStream",
    "guard_parent",
    "isolate_stdio",
    "read_commands",
    "serve_loop",
]

#: How long the worker may take to stop by itself once its command pipe closed.
EOF_GRACE = 2.0
#: How often the watchdog looks at the parent.
POLL = 0.25
#: Exit code of a worker ended because its parent went away.
ORPHANED = 70

_PR_SET_PDEATHSIG = 1


class Channel:
    """Writes protocol lines to the worker's private reply pipe, from any thread."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def send(self, message: BaseModel) -> None:
        data = p.encode(message)
        with self.lock:
            try:
                self.stream.write(data)
                self.stream.flush()
            except (BrokenPipeError, ValueError):  # the UI went away
                os._exit(0)


class LogStream(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` of the user's code: each write becomes a ``log`` message."""

    def __init__(self, channel: Channel, name: str) -> None:
        self.channel = channel
        self.name = name

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            self.channel.send(p.Log(stream=self.name, text=text))
        return len(text)


def isolate_stdio() -> tuple[int, Channel]:
    """Move the protocol off fds 0 and 1; returns the command fd and the reply channel.

    Afterwards fd 0 is ``/dev/null`` and fd 1 is stderr, so neither ``input()`` nor a stray write to
    fd 1 (a C extension, a subprocess) touches the protocol; Python-level prints become ``log``s.
    """
    commands = os.dup(0)  # dup'd descriptors are not inherited by the user's subprocesses
    channel = Channel(os.fdopen(os.dup(1), "wb", buffering=0))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, encoding="utf-8")  # lives as long as the process
    sys.stdout = LogStream(channel, "stdout")
    sys.stderr = LogStream(channel, "stderr")
    return commands, channel


def read_commands(fd: int, on_line: Callable[[bytes], None], on_eof: Callable[[], None]) -> None:
    """Call ``on_line`` with each line read from ``fd``, then ``on_eof``.

    Plain ``os.read``: no buffered reader whose lock a daemon thread could hold while the interpreter
    shuts down (that is "Fatal Python error: _enter_buffered_busy").
    """
    pending = bytearray()
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except InterruptedError:  # pragma: no cover (retried by Python since 3.5)
            continue
        except OSError:
            chunk = b""
        if not chunk:
            break
        pending += chunk
        start = 0
        while (end := pending.find(b"\n", start)) >= 0:
            on_line(bytes(pending[start : end + 1]))
            start = end + 1
        del pending[:start]
    if pending:
        on_line(bytes(pending))
    on_eof()


def _set_pdeathsig() -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but not ours to signal
        return True
    return True


def guard_parent() -> threading.Event:
    """Make the worker die with its parent; returns an event to set when the command pipe closed.

    A daemon thread ends the process (``os._exit``: a note may hold the main thread, and the pool's
    threads would block a normal exit) when the parent is gone, or ``EOF_GRACE`` seconds after the
    event is set if the worker has not exited by then.
    """
    expected = os.environ.pop(p.PARENT_ENV, "")
    _set_pdeathsig()
    parent = os.getppid()
    if expected.isdigit() and int(expected) != parent and not _exists(int(expected)):
        os._exit(ORPHANED)  # the client died before we started (a wrapper between us is fine)
    closed = threading.Event()

    def watch() -> None:
        while os.getppid() == parent:  # a reparented worker (to init or a subreaper) lost its parent
            if closed.wait(POLL):
                time.sleep(EOF_GRACE)
                os._exit(0)
        os._exit(ORPHANED)

    threading.Thread(target=watch, daemon=True, name="parent-watchdog").start()
    return closed


def serve_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on an event loop that survives ``SystemExit`` and ``KeyboardInterrupt``.

    asyncio re-raises those out of the loop when any task's code raises them (a note's ``sys.exit()``,
    also in a ``.sync`` task); the task keeps them as its exception, so whoever awaits it sees the
    note fail, and the loop just goes on.
    """
    with asyncio.Runner() as runner:
        loop = runner.get_loop()
        task = loop.create_task(main)
        while True:
            try:
                loop.run_until_complete(task)
                return
            except (SystemExit, KeyboardInterrupt):
                if task.done():
                    raise
