"""The typed, immutable events every run emits.

Hooks, reporters, the studio's worker and run history all read this one stream. Each event names
the run (``run_id``), the cadence at its level (``cadence``; a child cadence's events carry the
child's name and ``depth`` > 0) and the graph node it concerns (``node_id``, the path used by
:meth:`Cadence.describe`).
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

__all__ = [
    "BranchTaken",
    "ChildEntered",
    "ChildLeft",
    "CircuitStateChanged",
    "ErrorHandled",
    "Event",
    "FallbackUsed",
    "Forked",
    "Interrupted",
    "Merged",
    "NoteFinished",
    "NoteStarted",
    "Resumed",
    "RetryAttempt",
    "RunFinished",
    "RunStarted",
    "Skipped",
    "TimedOut",
    "describe_error",
]


class Event:
    """Common fields of every event; events are immutable records built with keyword arguments."""

    kind: ClassVar[str] = "event"
    __slots__ = ("at", "cadence", "depth", "node_id", "run_id")
    _defaults: ClassVar[dict[str, Any]] = {"depth": 0, "at": 0.0}
    _fields: ClassVar[tuple[str, ...]] = ("run_id", "cadence", "node_id", "depth", "at")
    run_id: str
    cadence: str
    node_id: str
    depth: int
    at: float

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        parent = cls.__mro__[1]
        cls._fields = (*parent._fields, *cls.__dict__.get("__slots__", ()))  # type: ignore[attr-defined]
        cls._defaults = {**parent._defaults, **cls.__dict__.get("_defaults", {})}  # type: ignore[attr-defined]

    def __init__(self, **fields: Any) -> None:
        defaults = self._defaults
        for name in self._fields:
            if name in fields:
                value = fields.pop(name)
            elif name in defaults:
                value = defaults[name]
            else:
                msg = f"{type(self).__name__} needs the field {name!r}"
                raise TypeError(msg)
            object.__setattr__(self, name, value)
        if fields:
            msg = f"{type(self).__name__} has no field(s) {', '.join(sorted(fields))}"
            raise TypeError(msg)

    def __setattr__(self, name: str, value: Any) -> None:
        msg = f"events are immutable: cannot set {name!r}"
        raise AttributeError(msg)

    def __delattr__(self, name: str) -> None:
        msg = f"events are immutable: cannot delete {name!r}"
        raise AttributeError(msg)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), {name: getattr(self, name) for name in self._fields}))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in self._fields if name not in _SKIPPED_FIELDS
        )
        return f"{type(self).__name__}({shown})"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict: scores are left out, errors become ``{type, message, traceback}``."""
        out: dict[str, Any] = {"kind": self.kind}
        for name in self._fields:
            if name not in _SKIPPED_FIELDS:
                out[name] = _plain(getattr(self, name))
        return out


def _rebuild(cls: type[Event], fields: dict[str, Any]) -> Event:
    return cls(**fields)


_EMPTY: Mapping[str, Any] = MappingProxyType({})


_SKIPPED_FIELDS = frozenset({"score", "snapshots", "parent_score"})


def describe_error(error: BaseException) -> dict[str, Any]:
    """``{type, message, code?, traceback}`` for an exception."""
    info: dict[str, Any] = {
        "type": type(error).__qualname__,
        "message": str(error),
        "traceback": "".join(traceback.format_exception(error)),
    }
    code = getattr(error, "code", None)
    if isinstance(code, str):
        info["code"] = code
    return info


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, BaseException):
        return describe_error(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return repr(value)


class RunStarted(Event):
    """A cadence started (``depth`` > 0 for a child cadence)."""

    kind: ClassVar[str] = "run_started"
    __slots__ = ("score",)
    _defaults: ClassVar[dict[str, Any]] = {"score": None}
    score: Any


class Resumed(Event):
    """A run goes on from its checkpoints (before its ``RunStarted``): the ``completed`` node ids are not
    run again; ``changed_notes`` are the notes whose code changed since the run was checkpointed."""

    kind: ClassVar[str] = "resumed"
    __slots__ = ("changed_notes", "completed")
    _defaults: ClassVar[dict[str, Any]] = {"changed_notes": (), "completed": ()}
    changed_notes: tuple[str, ...]
    completed: tuple[str, ...]


class RunFinished(Event):
    """A cadence ended; ``status`` is done, failed, skipped, interrupted or cancelled."""

    kind: ClassVar[str] = "run_finished"
    __slots__ = ("duration", "error", "score", "status")
    _defaults: ClassVar[dict[str, Any]] = {"score": None, "duration": 0.0, "status": "done", "error": None}
    score: Any
    duration: float
    status: str
    error: BaseException | None


class NoteStarted(Event):
    """A note is about to run on ``score`` (a task's own copy inside ``.sync``)."""

    kind: ClassVar[str] = "note_started"
    __slots__ = ("name", "score")
    _defaults: ClassVar[dict[str, Any]] = {"name": "", "score": None}
    name: str
    score: Any


class NoteFinished(Event):
    """A note ended; ``status`` is done, failed, skipped, interrupted or cancelled."""

    kind: ClassVar[str] = "note_finished"
    __slots__ = ("duration", "error", "name", "score", "status")
    _defaults: ClassVar[dict[str, Any]] = {
        "name": "",
        "score": None,
        "duration": 0.0,
        "status": "done",
        "error": None,
    }
    name: str
    score: Any
    duration: float
    status: str
    error: BaseException | None


class Forked(Event):
    """A ``.sync`` group (or a parallel ``.split`` branch) forked the score for its tasks."""

    kind: ClassVar[str] = "forked"
    __slots__ = ("name", "score", "tasks")
    _defaults: ClassVar[dict[str, Any]] = {"name": "", "tasks": (), "score": None}
    name: str
    tasks: tuple[str, ...]
    score: Any


class Merged(Event):
    """The tasks' copies were merged: per-task changes, conflicting fields and the strategy used.

    ``tasks`` are the copies' node ids, in the order of ``changes`` and ``snapshots`` (declaration
    order, whatever order the tasks ended in). ``conflicts`` maps a field to the
    ``[(task, value), ...]`` that disagreed; ``error`` is set when the strategy refused (nothing was
    merged then). ``duration``: the group's time from the fork to the merge (time held by a
    controller left out, as in every duration).
    """

    kind: ClassVar[str] = "merged"
    __slots__ = (
        "changes",
        "conflicts",
        "duration",
        "error",
        "merged",
        "name",
        "score",
        "snapshots",
        "strategy",
        "tasks",
    )
    _defaults: ClassVar[dict[str, Any]] = {
        "name": "",
        "duration": 0.0,
        "tasks": (),
        "strategy": "",
        "changes": (),
        "conflicts": _EMPTY,
        "merged": _EMPTY,
        "snapshots": (),
        "score": None,
        "error": None,
    }
    name: str
    tasks: tuple[str, ...]
    strategy: str
    changes: tuple[Mapping[str, Any], ...]
    conflicts: Mapping[str, Any]
    merged: Mapping[str, Any]
    snapshots: tuple[Any, ...]
    score: Any
    duration: float
    error: BaseException | None


class BranchTaken(Event):
    """A ``.split`` evaluated its condition (``value``) and took ``branch`` ("true" or "false")."""

    kind: ClassVar[str] = "branch_taken"
    __slots__ = ("branch", "name", "value")
    _defaults: ClassVar[dict[str, Any]] = {"name": "", "value": None, "branch": "true"}
    name: str
    value: Any
    branch: str


class ChildEntered(Event):
    """A ``.child`` measure starts its child cadence on ``score`` (the child's fresh score)."""

    kind: ClassVar[str] = "child_entered"
    __slots__ = ("child", "name", "score")
    _defaults: ClassVar[dict[str, Any]] = {"name": "", "child": "", "score": None}
    name: str
    child: str
    score: Any


class ChildLeft(Event):
    """A ``.child`` measure ended (after merging, unless it failed)."""

    kind: ClassVar[str] = "child_left"
    __slots__ = ("child", "duration", "error", "name", "score")
    _defaults: ClassVar[dict[str, Any]] = {
        "name": "",
        "child": "",
        "duration": 0.0,
        "error": None,
        "score": None,
    }
    name: str
    child: str
    duration: float
    error: BaseException | None
    score: Any


class RetryAttempt(Event):
    """Attempt ``attempt`` of ``max_attempts`` failed with ``error``; the next starts after ``delay``."""

    kind: ClassVar[str] = "retry_attempt"
    __slots__ = ("attempt", "delay", "error", "max_attempts", "name", "score")
    _defaults: ClassVar[dict[str, Any]] = {
        "name": "",
        "attempt": 0,
        "max_attempts": 0,
        "error": None,
        "delay": 0.0,
        "score": None,
    }
    name: str
    attempt: int
    max_attempts: int
    error: BaseException | None
    delay: float
    score: Any


class TimedOut(Event):
    """A note ran past its ``@timeout``."""

    kind: ClassVar[str] = "timed_out"
    __slots__ = ("name", "seconds")
    _defaults: ClassVar[dict[str, Any]] = {"name": "", "seconds": 0.0}
    name: str
    seconds: float


class FallbackUsed(Event):
    """``@fallback`` replaced a failure with ``value``."""

    kind: ClassVar[str] = "fallback_used"
    __slots__ = ("error", "name", "value")
    _defaults: ClassVar[dict[str, Any]] = {"name": "", "error": None, "value": None}
    name: str
    error: BaseException | None
    value: Any


class CircuitStateChanged(Event):
    """A circuit breaker moved from ``old`` to ``new`` state during a note."""

    kind: ClassVar[str] = "circuit_state_changed"
    __slots__ = ("circuit", "name", "new", "old")
    _defaults: ClassVar[dict[str, Any]] = {"name": "", "circuit": "", "old": "", "new": ""}
    name: str
    circuit: str
    old: str
    new: str


class Skipped(Event):
    """A note raised :class:`Skip`; the cadence ends cleanly."""

    kind: ClassVar[str] = "skipped"
    __slots__ = ("name", "reason")
    _defaults: ClassVar[dict[str, Any]] = {"name": "", "reason": ""}
    name: str
    reason: str


class Interrupted(Event):
    """A ``can_interrupt`` note returned ``True``; the cadence ends cleanly."""

    kind: ClassVar[str] = "interrupted"
    __slots__ = ("name",)
    _defaults: ClassVar[dict[str, Any]] = {"name": ""}
    name: str


class ErrorHandled(Event):
    """The cadence's ``.on_error`` handler received ``error``; ``stop`` tells whether the run ends."""

    kind: ClassVar[str] = "error_handled"
    __slots__ = ("error", "stop")
    _defaults: ClassVar[dict[str, Any]] = {"error": None, "stop": True}
    error: BaseException | None
    stop: bool
