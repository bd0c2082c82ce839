"""How a worker is started: the module the UI runs, and what it tells the worker in its environment
(defined in :mod:`cadence_studio.spawn`, which the entry point imports before anything else)."""

from __future__ import annotations

from ..spawn import PARENT_ENV, WORKER_MODULE

__all__ = ["PARENT_ENV", "WORKER_MODULE"]
