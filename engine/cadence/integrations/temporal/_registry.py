"""What this worker process serves, per task queue: ``{cadence name: plan}`` and ``{cadence name: Cadence}``.

Standard library only. The workflow sandbox passes ``cadence`` through, so the workflow reads the
very dictionaries the worker filled (the plans are plain JSON; the workflow never touches a
definition object).
"""

from __future__ import annotations

from typing import Any

from ...exceptions import DefinitionError
from ._plan import iter_cadences, plan

__all__ = ["Settings", "cadence_of", "clear", "plan_of", "register", "served", "settings"]


class Settings:
    """Worker-wide settings the workflow reads when it schedules activities."""

    def __init__(self) -> None:
        #: Seconds without a heartbeat after which a running note's worker counts as lost.
        self.heartbeat_timeout = 2.0
        #: start-to-close timeout of a note without ``@timeout`` (seconds).
        self.default_timeout = 3600.0
        #: How many times a note is scheduled again after its worker was lost, before the run fails.
        self.lost_worker_limit = 10


settings = Settings()
_plans: dict[str, dict[str, dict[str, Any]]] = {}
_cadences: dict[str, dict[str, Any]] = {}


def register(task_queue: str, cadence: Any) -> dict[str, Any]:
    """Serve ``cadence`` (and, as cadences of their own, the children it uses) on ``task_queue``;
    returns its plan.

    Raises:
        DefinitionError: another definition with the same name is already served on that queue.
    """
    plans = _plans.setdefault(task_queue, {})
    cadences = _cadences.setdefault(task_queue, {})
    for _nid, definition, _chain in iter_cadences(cadence):
        known = cadences.get(definition.name)
        if known is not None and known is not definition:
            msg = (
                f"two different cadences are named {definition.name!r} on task queue {task_queue!r}; a "
                "Temporal worker finds a cadence by its name, so give each its own name"
            )
            raise DefinitionError(msg)
    for _nid, definition, _chain in iter_cadences(cadence):
        if definition.name not in cadences:
            cadences[definition.name] = definition
            plans[definition.name] = plan(definition)
    return plans[cadence.name]


def plan_of(task_queue: str, name: str, fingerprint: str | None = None) -> dict[str, Any] | None:
    """The plan of cadence ``name`` served on ``task_queue``. On a queue this process does not serve
    (a ``Replayer`` runs on a queue of its own): a plan of that name registered here, one with
    ``fingerprint`` when given."""
    plans = _plans.get(task_queue)
    if plans is not None:
        return plans.get(name)
    candidates = [p[name] for p in _plans.values() if name in p]
    matching = [p for p in candidates if fingerprint is None or p["fingerprint"] == fingerprint]
    chosen = matching or candidates
    return chosen[0] if chosen else None


def cadence_of(task_queue: str, name: str) -> Any:
    return _cadences.get(task_queue, {}).get(name)


def served(task_queue: str) -> list[str]:
    """The names of the cadences served on ``task_queue`` (every queue's when it is not served here)."""
    if task_queue in _cadences:
        return sorted(_cadences[task_queue])
    return sorted({name for cadences in _cadences.values() for name in cadences})


def clear() -> None:
    """Forget every registered cadence (tests)."""
    _plans.clear()
    _cadences.clear()
