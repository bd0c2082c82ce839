"""How a worker process is started; standard library only, so the entry point can start one at once.

``cadence-studio TARGET`` starts the worker here before it imports the UI (Textual, pydantic, the
studio's widgets): the worker imports the user's module while the UI imports itself, and the UI's
:class:`~cadence_studio.ui.client.WorkerClient` adopts the process when its event loop runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["PARENT_ENV", "WORKER_MODULE", "start_worker", "worker_argv", "worker_env"]

#: ``python -m WORKER_MODULE TARGET [--cwd DIR]`` starts a worker (its ``__main__``).
WORKER_MODULE = "cadence_studio.worker"
#: The client puts its pid here, so a worker whose parent died before it started notices at once.
PARENT_ENV = "CADENCE_STUDIO_PARENT_PID"


def worker_argv(target: str, cwd: Path, python: str = sys.executable) -> list[str]:
    return [python, "-m", WORKER_MODULE, target, "--cwd", str(cwd)]


def worker_env() -> dict[str, str]:
    # The worker dies with this process; it learns our pid here in case we die before it starts.
    return {**os.environ, "PYTHONUNBUFFERED": "1", PARENT_ENV: str(os.getpid())}


def start_worker(target: str, cwd: Path, python: str = sys.executable) -> subprocess.Popen[bytes]:
    """A worker on ``target``, its three pipes open, started before any event loop exists."""
    cwd = cwd.resolve()
    return subprocess.Popen(
        worker_argv(target, cwd, python),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=worker_env(),
    )
