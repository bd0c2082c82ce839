"""The typed, immutable events every run emits.

Hooks, reporters, the studio's worker and run history all read this one stream. Each event names
the run (``run_id``), the cadence at its level (``cadence``; a child cadence's events carry the
child's name and ``depth`` > 0) and the graph node it concerns (``node_id``, the path used by
:meth:`Cadence.describe`).
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Mapping
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
    "RetryAttempt",
    "RunFinished",
    "RunStarted",
    "Skipped",
    "TimedOut",
    "describe_error",
]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Common fields of every event."""

    kind: ClassVar[str] = "event"
    run_id: str
    cadence: str
    node_id: str
    depth: int = 0
    at: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict: scores are left out, errors become ``{type, message, traceback}``."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            if f.name in _SKIPPED_FIELDS:
                continue
            value = getattr(self, f.name)
            out[f.name] = _plain(value)
        return out


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


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RunStarted(Event):
    """A cadence started (``depth`` > 0 for a child cadence)."""

    kind: ClassVar[str] = "run_started"
    score: Any = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RunFinished(Event):
    """A cadence ended; ``status`` is done, failed, skipped, interrupted or cancelled."""

    kind: ClassVar[str] = "run_finished"
    score: Any = None
    duration: float = 0.0
    status: str = "done"
    error: BaseException | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NoteStarted(Event):
    """A note is about to run on ``score`` (a task's own copy inside ``.sync``)."""

    kind: ClassVar[str] = "note_started"
    name: str = ""
    score: Any = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NoteFinished(Event):
    """A note ended; ``status`` is done, failed, skipped, interrupted or cancelled."""

    kind: ClassVar[str] = "note_finished"
    name: str = ""
    score: Any = None
    duration: float = 0.0
    status: str = "done"
    error: BaseException | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Forked(Event):
    """A ``.sync`` group (or a parallel ``.split`` branch) forked the score for its tasks."""

    kind: ClassVar[str] = "forked"
    name: str = ""
    tasks: tuple[str, ...] = ()
    score: Any = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Merged(Event):
    """The tasks' copies were merged: per-task changes, conflicting fields and the strategy used.

    ``conflicts`` maps a field to the ``[(task, value), ...]`` that disagreed; ``error`` is set
    when the strategy refused (nothing was merged then).
    """

    kind: ClassVar[str] = "merged"
    name: str = ""
    strategy: str = ""
    changes: tuple[Mapping[str, Any], ...] = ()
    conflicts: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    merged: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    snapshots: tuple[Any, ...] = ()
    score: Any = None
    error: BaseException | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BranchTaken(Event):
    """A ``.split`` evaluated its condition (``value``) and took ``branch`` ("true" or "false")."""

    kind: ClassVar[str] = "branch_taken"
    name: str = ""
    value: Any = None
    branch: str = "true"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ChildEntered(Event):
    """A ``.child`` measure starts its child cadence on ``score`` (the child's fresh score)."""

    kind: ClassVar[str] = "child_entered"
    name: str = ""
    child: str = ""
    score: Any = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ChildLeft(Event):
    """A ``.child`` measure ended (after merging, unless it failed)."""

    kind: ClassVar[str] = "child_left"
    name: str = ""
    child: str = ""
    duration: float = 0.0
    error: BaseException | None = None
    score: Any = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RetryAttempt(Event):
    """Attempt ``attempt`` of ``max_attempts`` failed with ``error``; the next starts after ``delay``."""

    kind: ClassVar[str] = "retry_attempt"
    name: str = ""
    attempt: int = 0
    max_attempts: int = 0
    error: BaseException | None = None
    delay: float = 0.0
    score: Any = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TimedOut(Event):
    """A note ran past its ``@timeout``."""

    kind: ClassVar[str] = "timed_out"
    name: str = ""
    seconds: float = 0.0


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FallbackUsed(Event):
    """``@fallback`` replaced a failure with ``value``."""

    kind: ClassVar[str] = "fallback_used"
    name: str = ""
    error: BaseException | None = None
    value: Any = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CircuitStateChanged(Event):
    """A circuit breaker moved from ``old`` to ``new`` state during a note."""

    kind: ClassVar[str] = "circuit_state_changed"
    name: str = ""
    circuit: str = ""
    old: str = ""
    new: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Skipped(Event):
    """A note raised :class:`Skip`; the cadence ends cleanly."""

    kind: ClassVar[str] = "skipped"
    name: str = ""
    reason: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Interrupted(Event):
    """A ``can_interrupt`` note returned ``True``; the cadence ends cleanly."""

    kind: ClassVar[str] = "interrupted"
    name: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ErrorHandled(Event):
    """The cadence's ``.on_error`` handler received ``error``; ``stop`` tells whether the run ends."""

    kind: ClassVar[str] = "error_handled"
    error: BaseException | None = None
    stop: bool = True
