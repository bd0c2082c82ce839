"""How a worker process is started; standard library only, so the entry point can start one at once.

``cadence-studio TARGET`` starts the worker here before it imports the UI (Textual, pydantic, the
studio's widgets): the worker imports the user's module while the UI imports itself, and the UI's
:class:`~cadence_studio.ui.client.WorkerClient` adopts the process when its event loop runs. A thread
reads the worker's protocol pipe from the start (:class:`EarlyWorker`): what the worker says meanwhile
(its catalog: 2.4 MB for 10,000 notes) is in memory when the UI is up, and the worker is never held
up by a full pipe.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = ["PARENT_ENV", "WORKER_MODULE", "EarlyWorker", "start_worker", "worker_argv", "worker_env"]

#: ``python -m WORKER_MODULE TARGET [--cwd DIR]`` starts a worker (its ``__main__``).
WORKER_MODULE = "cadence_studio.worker"
#: The client puts its pid here, so a worker whose parent died before it started notices at once.
PARENT_ENV = "CADENCE_STUDIO_PARENT_PID"


def worker_argv(target: str, cwd: Path, python: str = sys.executable) -> list[str]:
    return [python, "-m", WORKER_MODULE, target, "--cwd", str(cwd)]


def worker_env() -> dict[str, str]:
    # The worker dies with this process; it learns our pid here in case we die before it starts.
    return {**os.environ, "PYTHONUNBUFFERED": "1", PARENT_ENV: str(os.getpid())}


#: What a reading thread hands on: a chunk of the protocol pipe, or None at its end.
Sink = Callable[[bytes | None], None]


class EarlyWorker(subprocess.Popen[bytes]):
    """A worker process whose protocol pipe (its stdout) a thread reads from the start.

    Until :meth:`take`, what it reads is kept; from then on each chunk goes to the taker.
    """

    def __init__(self, argv: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        super().__init__(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env
        )
        self._lock = threading.Lock()
        self._read: list[bytes | None] = []
        self._sink: Sink | None = None
        threading.Thread(target=self._reading, daemon=True, name="worker-protocol").start()

    def _reading(self) -> None:
        assert self.stdout is not None
        fd = self.stdout.fileno()
        while True:
            try:
                chunk: bytes | None = os.read(fd, 1 << 16) or None
            except OSError:
                chunk = None
            with self._lock:
                sink = self._sink
                if sink is None:
                    self._read.append(chunk)
            if sink is not None:
                sink(chunk)
            if chunk is None:
                with contextlib.suppress(OSError):
                    self.stdout.close()
                return

    def take(self, sink: Sink) -> list[bytes | None]:
        """What was read so far (ending with None if the pipe ended); what is read from now on goes to
        ``sink``, called in the reading thread."""
        with self._lock:
            self._sink = sink
            read, self._read = self._read, []
        return read


def start_worker(target: str, cwd: Path, python: str = sys.executable) -> EarlyWorker:
    """A worker on ``target``, its three pipes open, started before any event loop exists."""
    cwd = cwd.resolve()
    return EarlyWorker(worker_argv(target, cwd, python), cwd=cwd, env=worker_env())
