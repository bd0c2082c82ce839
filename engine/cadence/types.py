"""Type aliases and protocols for code that works with cadences."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from ._runtime import Waypoint
from .events import Event
from .merge import MergeFn

__all__ = ["Condition", "Controller", "ErrorHandler", "Listener", "MergeFn", "NoteFn", "Reporter", "ScoreT"]

ScoreT = TypeVar("ScoreT")
NoteFn = Callable[[Any], Any | Awaitable[Any]]
Condition = Callable[[Any], Any | Awaitable[Any]]
ErrorHandler = Callable[[Any, BaseException], Any | Awaitable[Any]]
Reporter = Callable[[str, float, Any], Any]
Listener = Callable[[Event], Any]


class Controller(Protocol):
    """Awaited before every note, fork, branch and child of a run; may hold the run there."""

    def __call__(self, point: Waypoint, /) -> Awaitable[None] | None: ...
