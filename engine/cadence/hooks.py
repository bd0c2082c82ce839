"""Hooks: objects told about each cadence and note as a run goes (built on the event stream).

A hook may implement any of the :class:`CadenceHooks` methods, sync or async, and ``on_event(event)``
to receive every event of the run (:mod:`cadence.events`) before the classic methods are called.
A hook that raises never changes a run's outcome: it is logged once and ignored for the rest of
that run.

The built-in hooks serve concurrent runs: one instance may be attached to a cadence that runs many
times at once, in one event loop or in several threads. What they keep per run is keyed by the run
id every event carries (a child cadence's events carry its parent's run id, so a run's record covers
its children), and only the last ``keep_runs`` finished runs are kept.

For a hook that is one function, :func:`before_note`, :func:`after_note` and :func:`on_error` build
the :class:`CadenceHooks` from it (``cadence.with_hooks(before_note(log_start))``; they work as
decorators too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from ._builtin_hooks import DebugHooks, LoggingHooks, MetricsHooks, RunCounts, TimingHooks, TracingHooks
from ._hook_base import CadenceHooks, HooksManager, current_run_id
from ._note import callable_name

__all__ = [
    "CadenceHooks",
    "DebugHooks",
    "HooksManager",
    "LoggingHooks",
    "MetricsHooks",
    "RunCounts",
    "TimingHooks",
    "TracingHooks",
    "after_note",
    "before_note",
    "current_run_id",
    "on_error",
]


class _FunctionHook(CadenceHooks):
    """A :class:`CadenceHooks` whose one method calls ``fn`` (made by :func:`before_note` & co.)."""

    method: ClassVar[str]

    def __init__(self, fn: Callable[..., Any]) -> None:
        if not callable(fn):
            msg = f"{self.method}() takes a function (def or async def), got {fn!r}; pass the function itself"
            raise TypeError(msg)
        self.fn = fn

    def __repr__(self) -> str:
        return f"{self.method}({callable_name(self.fn)})"


class _BeforeNote(_FunctionHook):
    method = "before_note"

    def before_note(self, name: str, score: Any) -> Any:
        return self.fn(name, score)


class _AfterNote(_FunctionHook):
    method = "after_note"

    def after_note(self, name: str, score: Any, duration: float, error: BaseException | None = None) -> Any:
        return self.fn(name, score, duration, error)


class _OnError(_FunctionHook):
    method = "on_error"

    def on_error(self, name: str, score: Any, error: BaseException) -> Any:
        return self.fn(name, score, error)


def before_note(fn: Callable[[str, Any], Any]) -> CadenceHooks:
    """Hooks that call ``fn(note_name, score)`` (sync or async) before every note."""
    return _BeforeNote(fn)


def after_note(fn: Callable[[str, Any, float, BaseException | None], Any]) -> CadenceHooks:
    """Hooks that call ``fn(note_name, score, duration, error)`` (sync or async) after every note;
    ``error`` is ``None`` when the note succeeded."""
    return _AfterNote(fn)


def on_error(fn: Callable[[str, Any, BaseException], Any]) -> CadenceHooks:
    """Hooks that call ``fn(note_name, score, error)`` (sync or async) when a note fails (not for
    :class:`~cadence.Skip`)."""
    return _OnError(fn)
