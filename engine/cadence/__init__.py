"""Cadence: declarative async orchestration of service logic.

Build a :class:`Cadence` of measures (``.then``, ``.sequence``, ``.sync``, ``.split``, ``.child``)
over a dataclass :class:`Score`, and run it. Standard library only.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from ._runtime import Waypoint
from .cadence import Cadence
from .checkpoint import (
    CheckpointError,
    CheckpointStore,
    InMemoryCheckpointStore,
    SQLiteCheckpointStore,
    pending,
)
from .events import Event
from .exceptions import (
    BeatError,
    CadenceError,
    CircuitOpenError,
    DefinitionError,
    DiagramError,
    MergeConflict,
    NoteError,
    ParallelNoteError,
    RetryExhaustedError,
    Skip,
    TimeoutError,
)
from .hooks import (
    CadenceHooks,
    DebugHooks,
    HooksManager,
    LoggingHooks,
    MetricsHooks,
    TimingHooks,
    TracingHooks,
)
from .merge import MergeStrategy, Snapshot, merge_snapshots
from .note import Note, beat, note
from .recorder import RunRecorder
from .reporters import console_reporter, json_reporter
from .resilience import (
    CircuitBreaker,
    CircuitState,
    circuit_breaker,
    fallback,
    get_circuit,
    retry,
    timeout,
)
from .result import Err, Ok, Result, err, ok
from .score import (
    Atomic,
    AtomicDict,
    AtomicList,
    Context,
    ImmutableContext,
    ImmutableScore,
    Score,
)
from .serialize import (
    TRANSIENT,
    SerializationError,
    register_codec,
    restore_score,
    restore_value,
    serialize_score,
    serialize_value,
    unknown_fields,
)
from .stepping import StepController

if TYPE_CHECKING:
    from .diagram import print_cadence, render_svg, save_diagram, to_dot, to_mermaid, to_text

# Diagrams need subprocess, tempfile and pathlib: loaded on first use, not at `import cadence`.
_LAZY = {"print_cadence", "render_svg", "save_diagram", "to_dot", "to_mermaid", "to_text"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import diagram

        return getattr(diagram, name)
    if name == "Checkpoint":  # the old name: "checkpoint" now means a saved score only
        warnings.warn(
            "cadence.Checkpoint is deprecated; use cadence.Waypoint "
            "(a checkpoint is now a saved score, see cadence.checkpoint)",
            DeprecationWarning,
            stacklevel=2,
        )
        return Waypoint
    msg = f"module 'cadence' has no attribute {name!r}"
    raise AttributeError(msg)


__version__ = "0.1.0"

# Plain sorted order (tests/engine/test_exports.py), not ruff's constants-first one.
__all__ = [  # noqa: RUF022
    "Atomic",
    "AtomicDict",
    "AtomicList",
    "BeatError",
    "Cadence",
    "CadenceError",
    "CadenceHooks",
    "CheckpointError",
    "CheckpointStore",
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "Context",
    "DebugHooks",
    "DefinitionError",
    "DiagramError",
    "Err",
    "Event",
    "HooksManager",
    "ImmutableContext",
    "ImmutableScore",
    "InMemoryCheckpointStore",
    "LoggingHooks",
    "MergeConflict",
    "MergeStrategy",
    "MetricsHooks",
    "Note",
    "NoteError",
    "Ok",
    "ParallelNoteError",
    "Result",
    "RetryExhaustedError",
    "RunRecorder",
    "SQLiteCheckpointStore",
    "Score",
    "SerializationError",
    "Skip",
    "Snapshot",
    "StepController",
    "TRANSIENT",
    "TimeoutError",
    "TimingHooks",
    "TracingHooks",
    "Waypoint",
    "__version__",
    "beat",
    "circuit_breaker",
    "console_reporter",
    "err",
    "fallback",
    "get_circuit",
    "json_reporter",
    "merge_snapshots",
    "note",
    "ok",
    "pending",
    "print_cadence",
    "register_codec",
    "render_svg",
    "restore_score",
    "restore_value",
    "retry",
    "save_diagram",
    "serialize_score",
    "serialize_value",
    "timeout",
    "to_dot",
    "to_mermaid",
    "to_text",
    "unknown_fields",
]
