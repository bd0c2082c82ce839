"""Errors raised by the Cadence engine.

Every error derives from :class:`CadenceError`::

    CadenceError                       "[CODE] message"
    ├── DefinitionError (ValueError)   a cadence or decorator was built wrongly
    ├── DiagramError (RuntimeError)    a diagram tool (dot, mmdc) is missing or failed
    ├── NoteError                      a note failed; .note_name, .original_error
    │   └── ParallelNoteError          ... inside a .sync group; .group_name, .task_index
    ├── MergeConflict                  .sync tasks wrote one field differently
    ├── TimeoutError (TimeoutError)    a note ran past its @timeout
    ├── RetryExhaustedError            @retry gave up; .attempts, .last_error
    ├── CircuitOpenError               a circuit breaker refused the call
    └── Skip                           raised by a note to end the cadence cleanly
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

__all__ = [
    "BeatError",
    "CadenceError",
    "CircuitOpenError",
    "DefinitionError",
    "DiagramError",
    "MergeConflict",
    "NoteError",
    "ParallelNoteError",
    "RetryExhaustedError",
    "Skip",
    "TimeoutError",
]


class CadenceError(Exception):
    """Root of every engine error; ``str()`` is ``"[CODE] message"``."""

    default_code: ClassVar[str] = "CADENCE_ERROR"

    def __init__(self, message: str, *, code: str | None = None, details: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class DefinitionError(CadenceError, ValueError):
    """A cadence, measure or decorator was declared with invalid arguments."""

    default_code = "DEFINITION_ERROR"


class DiagramError(CadenceError, RuntimeError):
    """A diagram could not be rendered: a tool is missing or failed."""

    default_code = "DIAGRAM_ERROR"


class NoteError(CadenceError):
    """A note raised; the original exception is ``original_error`` (and ``__cause__``)."""

    default_code = "NOTE_ERROR"

    def __init__(
        self,
        message: str,
        *,
        note_name: str,
        original_error: BaseException | None = None,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
    ):
        super().__init__(message, code=code, details=details)
        self.note_name = note_name
        self.original_error = original_error


class ParallelNoteError(NoteError):
    """A task of a ``.sync`` group raised."""

    default_code = "PARALLEL_NOTE_ERROR"

    def __init__(
        self,
        message: str,
        *,
        note_name: str,
        group_name: str,
        task_index: int,
        original_error: BaseException | None = None,
    ):
        super().__init__(message, note_name=note_name, original_error=original_error)
        self.group_name = group_name
        self.task_index = task_index


class MergeConflict(CadenceError):
    """Two ``.sync`` tasks changed one field to different values."""

    default_code = "MERGE_CONFLICT"

    def __init__(self, field: str, tasks: Sequence[str], values: Sequence[Any], *, reason: str = ""):
        shown = ", ".join(f"{t!r} set {v!r}" for t, v in zip(tasks, values, strict=False))
        why = f" ({reason})" if reason else ""
        msg = (
            f"field {field!r} was changed by several parallel tasks{why}: {shown}; "
            "write different fields, use Atomic types, or pick another merge_strategy"
        )
        super().__init__(msg, details={"field": field, "tasks": list(tasks)})
        self.field = field
        self.tasks = tuple(tasks)
        self.values = tuple(values)


class TimeoutError(CadenceError, builtins.TimeoutError):
    """A note exceeded its ``@timeout``."""

    default_code = "TIMEOUT"

    def __init__(self, message: str, *, seconds: float, note_name: str | None = None):
        super().__init__(message, details={"seconds": seconds, "note": note_name})
        self.seconds = seconds
        self.note_name = note_name


class RetryExhaustedError(CadenceError):
    """Every attempt of a ``@retry`` note failed."""

    default_code = "RETRY_EXHAUSTED"

    def __init__(self, message: str, *, attempts: int, last_error: BaseException):
        super().__init__(message, details={"attempts": attempts})
        self.attempts = attempts
        self.last_error = last_error


class CircuitOpenError(CadenceError):
    """A circuit breaker is open and refused the call."""

    default_code = "CIRCUIT_OPEN"

    def __init__(self, message: str, *, circuit: str, retry_after: float):
        super().__init__(message, details={"circuit": circuit, "retry_after": retry_after})
        self.circuit = circuit
        self.retry_after = retry_after


class Skip(CadenceError):
    """Raised by a note to end its cadence cleanly; never retried, never replaced by a fallback."""

    default_code = "SKIP"

    def __init__(self, reason: str = ""):
        super().__init__(reason or "skipped")
        self.reason = reason


#: Old name from the first draft of the API.
BeatError = NoteError
