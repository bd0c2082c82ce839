"""Type aliases and protocols to annotate code that works with cadences.

Type variables (for generic helpers of your own):

- ``ScoreT``: the score a cadence runs on (``Cadence[ScoreT]``).
- ``ChildScoreT``: the score of a child cadence (``.child(name, cadence, merge)``).

Callables, generic in the score (``SyncNote[OrderScore]``), then the untyped ones:

- ``SyncNote[S]`` / ``AsyncNote[S]`` / ``NoteCallable[S]``: a note, ``(score) -> Any``; a note that
  returns exactly ``True`` in a ``can_interrupt`` measure stops the cadence; an immutable score's note
  may return the new score.
- ``SyncCondition[S]`` / ``AsyncCondition[S]`` / ``ConditionCallable[S]``: a ``.split`` condition,
  ``(score) -> bool``.
- ``ChildMerge[S, C]``: ``merge(parent_score, child_score)`` of a ``.child`` measure, sync or async.
- ``NoteFn``, ``Condition``: a note / a condition on any score.
- ``ErrorHandler``: ``.on_error(handler)``, ``(score, error)``.
- ``Reporter``: ``.with_reporter(fn)``, ``(note_name, elapsed_seconds, score)``.
- ``MergeFn``: a ``.sync`` merge strategy, ``(original, snapshots, changes)``.
- ``Listener``: a subscriber to the event stream, ``(event)``.
- ``Controller``: the stepping controller awaited before each note, fork, branch and child.

Each alias accepts ``def`` and ``async def`` where its ``Sync``/``Async`` pair says so; at run time
any callable returning an awaitable is awaited.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from ._runtime import Waypoint
from .events import Event
from .merge import MergeFn

__all__ = [
    "AsyncCondition",
    "AsyncNote",
    "ChildMerge",
    "ChildScoreT",
    "Condition",
    "ConditionCallable",
    "Controller",
    "ErrorHandler",
    "Listener",
    "MergeFn",
    "NoteCallable",
    "NoteFn",
    "Reporter",
    "ScoreT",
    "SyncCondition",
    "SyncNote",
]

ScoreT = TypeVar("ScoreT")
"""The score type a cadence runs on: ``Cadence[ScoreT]``."""

ChildScoreT = TypeVar("ChildScoreT")
"""The score type of a child cadence, next to its parent's ``ScoreT``."""

SyncNote = Callable[[ScoreT], Any]
"""A ``def`` note on a ``ScoreT``: ``SyncNote[OrderScore]``."""

AsyncNote = Callable[[ScoreT], Awaitable[Any]]
"""An ``async def`` note on a ``ScoreT``: ``AsyncNote[OrderScore]``."""

NoteCallable = Callable[[ScoreT], Any | Awaitable[Any]]
"""A note on a ``ScoreT``, ``def`` or ``async def``: ``NoteCallable[OrderScore]``."""

SyncCondition = Callable[[ScoreT], bool]
"""A ``def`` condition of ``.split`` on a ``ScoreT``: ``SyncCondition[OrderScore]``."""

AsyncCondition = Callable[[ScoreT], Awaitable[bool]]
"""An ``async def`` condition of ``.split`` on a ``ScoreT``: ``AsyncCondition[OrderScore]``."""

ConditionCallable = Callable[[ScoreT], bool | Awaitable[bool]]
"""A condition of ``.split`` on a ``ScoreT``, ``def`` or ``async def``."""

ChildMerge = Callable[[ScoreT, ChildScoreT], Any | Awaitable[Any]]
"""``merge(parent_score, child_score)`` of ``.child``: ``ChildMerge[OrderScore, PaymentScore]``."""

NoteFn = Callable[[Any], Any | Awaitable[Any]]
"""A note on any score, ``def`` or ``async def``."""

Condition = Callable[[Any], Any | Awaitable[Any]]
"""A ``.split`` condition on any score (its result is used for its truth)."""

ErrorHandler = Callable[[Any, BaseException], Any | Awaitable[Any]]
"""``.on_error(handler)``: called with ``(score, error)``, sync or async."""

Reporter = Callable[[str, float, Any], Any]
"""``.with_reporter(fn)``: called with ``(note_name, elapsed_seconds, score)``, sync or async."""

Listener = Callable[[Event], Any]
"""A subscriber to a run's event stream (:mod:`cadence.events`)."""


class Controller(Protocol):
    """Awaited before every note, fork, branch and child of a run; may hold the run there.

    A controller may also have ``after_note(point)``: awaited the same way after each note that ended
    well (after its ``note_finished`` event), with an ``after`` waypoint on the score the note left.
    """

    def __call__(self, point: Waypoint, /) -> Awaitable[None] | None: ...
