"""How a worker is started: the module the UI runs, and what it tells the worker in its environment."""

from __future__ import annotations

__all__ = ["PARENT_ENV", "WORKER_MODULE"]

#: ``python -m WORKER_MODULE TARGET [--cwd DIR]`` starts a worker (its ``__main__``).
WORKER_MODULE = "cadence_studio.worker"
#: The client puts its pid here, so a worker whose parent died before it started notices at once.
PARENT_ENV = "CADENCE_STUDIO_PARENT_PID"
