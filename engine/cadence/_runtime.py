"""Per-run machinery shared by the measures: the event emitter, the controller, note calls."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import logging
import os
import time
import types
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from . import events as ev
from ._clock import RunClock
from ._note import Note, callable_name, is_async_callable
from ._scope import NoteScope, current_scope, offload
from .exceptions import NoteError, Skip
from .score import Score

__all__ = [
    "Level",
    "Stop",
    "Task",
    "Waypoint",
    "call_task",
    "carry",
    "is_awaitable",
    "make_caller",
    "note_error",
]

log = logging.getLogger("cadence")


@dataclasses.dataclass(frozen=True, slots=True)
class Waypoint:
    """Where a run is about to go: a note, a fork (``.sync``), a branch (``.split``) or a child."""

    kind: str
    node_id: str
    name: str
    cadence: str
    depth: int
    run_id: str
    score: Any


class Stop(Exception):
    """Ends a cadence cleanly (a ``Skip`` or an interrupt); carries the status and the score."""

    def __init__(self, status: str, score: Any, reason: str = "") -> None:
        super().__init__(status)
        self.status = status
        self.score = score
        self.reason = reason


Sink = Callable[[ev.Event], Awaitable[None]]


class SafeListener:
    """Wraps a user listener: sync or async, and a raising one is logged once and dropped for the run."""

    __slots__ = ("fn", "ok")

    def __init__(self, fn: Callable[[ev.Event], Any]) -> None:
        self.fn = fn
        self.ok = True

    async def __call__(self, event: ev.Event) -> None:
        if not self.ok:
            return
        try:
            result = self.fn(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            self.ok = False
            log.exception("event listener %r raised; it is disabled for the rest of this run", self.fn)


class Level:
    """One cadence being run: the root, or a child at ``depth`` > 0."""

    __slots__ = (
        "active",
        "cadence",
        "clock",
        "controller",
        "depth",
        "durable",
        "node_id",
        "now",
        "plain",
        "run_id",
        "sinks",
    )

    def __init__(
        self,
        *,
        run_id: str,
        cadence: str,
        node_id: str,
        depth: int,
        sinks: Sequence[Sink],
        active: frozenset[int],
        controller: Callable[[Waypoint], Any] | None,
        clock: RunClock | None = None,
        durable: Any = None,
    ) -> None:
        self.run_id = run_id
        self.cadence = cadence
        self.node_id = node_id
        self.depth = depth
        self.sinks = tuple(sinks)
        self.active = active  # ids of the hook and reporter objects already listening
        self.controller = controller
        # With a controller, durations are read on the run's clock, which stops while the run is
        # held; without one, on perf_counter itself.
        if controller is not None and clock is None:
            clock = RunClock()
        self.clock = clock
        self.now: Callable[[], float] = time.perf_counter if clock is None else clock.now
        self.durable = durable  # a _durable.RunState: checkpoints, resume, start_at
        # Nothing listens, nothing steps, nothing is saved: measures take their fast path.
        self.plain = not self.sinks and controller is None and durable is None

    def child(self, definition: Any, node_id: str) -> Level:
        """The level a child cadence runs at: everything listening to the parent, plus the
        child's own hooks and reporters (each object once, even if both cadences have it)."""
        if self.plain and not definition.has_observers:
            return definition.plain_level()  # type: ignore[no-any-return]
        own, ids = definition.sinks(skip=self.active)
        return Level(
            run_id=self.run_id or (os.urandom(12).hex() if own else ""),
            cadence=definition.name,
            node_id=node_id,
            depth=self.depth + 1,
            sinks=(*self.sinks, *own),
            active=self.active | ids,
            controller=self.controller,
            clock=self.clock,
            durable=self.durable,
        )

    async def emit(self, event_type: type[ev.Event], node_id: str, **fields: Any) -> None:
        if not self.sinks:
            return
        event = event_type(
            run_id=self.run_id,
            cadence=self.cadence,
            node_id=node_id,
            depth=self.depth,
            at=time.time(),
            **fields,
        )
        for sink in self.sinks:
            await sink(event)

    async def waypoint(self, kind: str, node_id: str, name: str, score: Any) -> None:
        if self.controller is None:
            return
        result = self.controller(Waypoint(kind, node_id, name, self.cadence, self.depth, self.run_id, score))
        if inspect.isawaitable(result):
            await self._hold(result)

    async def after_note(self, node_id: str, name: str, score: Any) -> None:
        """A note ended well: a controller with an ``after_note`` method is called with an ``after``
        waypoint on the score the note left (data breakpoints hold the run right after a write)."""
        after = getattr(self.controller, "after_note", None)
        if after is not None:
            result = after(Waypoint("after", node_id, name, self.cadence, self.depth, self.run_id, score))
            if inspect.isawaitable(result):
                await self._hold(result)

    async def _hold(self, result: Awaitable[Any]) -> None:
        clock = self.clock
        assert clock is not None
        clock.hold()  # time held here is no one's duration
        try:
            await result
        finally:
            clock.release()

    def scope(self, node_id: str, name: str, score: Any) -> NoteScope:
        return NoteScope(
            emit=self._emit_event,
            run_id=self.run_id,
            cadence=self.cadence,
            node_id=node_id,
            depth=self.depth,
            name=name,
            score=score,
        )

    async def _emit_event(self, event: ev.Event) -> None:
        for sink in self.sinks:
            await sink(event)


def note_error(name: str, error: BaseException) -> NoteError:
    """The error a failing note is reported as (a ``NoteError`` stays as it is)."""
    if isinstance(error, NoteError):
        return error
    msg = f"note {name!r} failed: {type(error).__name__}: {error}"
    wrapped = NoteError(msg, note_name=name, original_error=error)
    wrapped.__cause__ = error
    return wrapped


def carry(score: Any, result: Any) -> Any:
    """The score after a note: a returned score of the same type (an immutable update) replaces it."""
    if result is not None and result is not score and isinstance(result, Score):
        if result.__class__ is score.__class__:
            return result
    return score


_CORO = types.CoroutineType
# Types whose instances are never awaitable (awaitability is a matter of the type, except for
# generators): the common plain results, then each type found so, up to a bound.
_NOT_AWAITABLE: set[type] = {type(None), bool, int, float, str, bytes, tuple, list, dict}
_NOT_AWAITABLE_MAX = 512


def is_awaitable(value: Any) -> bool:
    """``inspect.isawaitable``, with a fast answer for coroutines and types already found not awaitable."""
    t = type(value)
    if t is _CORO:
        return True
    if t in _NOT_AWAITABLE:
        return False
    if inspect.isawaitable(value):
        return True
    if t is not types.GeneratorType and len(_NOT_AWAITABLE) < _NOT_AWAITABLE_MAX:
        _NOT_AWAITABLE.add(t)
    return False


class Task:
    """A callable of a measure, ready to call: its id segment, name, and caller."""

    __slots__ = ("call", "fn", "name", "seg")

    def __init__(self, seg: str, fn: Any, name: str | None = None) -> None:
        self.seg = seg
        self.fn = fn
        self.name = name or callable_name(fn)
        self.call = make_caller(fn)


def make_caller(fn: Any) -> Callable[..., Any]:
    """``f(*args)`` returning a value or an awaitable: an async callable as it is, a sync one (a
    plain ``def``) run in the shared pool, so that user code never blocks the event loop."""
    if isinstance(fn, Note):
        return fn.caller(in_thread=True)
    if not is_async_callable(fn):
        return functools.partial(_in_thread, fn)
    return fn  # type: ignore[no-any-return]


async def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    result = await offload(fn, *args)
    return (await result) if is_awaitable(result) else result  # a coroutine made in the thread


async def call_task(level: Level, node_id: str, name: str, call: Callable[[Any], Any], score: Any) -> Any:
    """Run one note with its waypoint, events and error reporting; returns what the note returned.

    Raises :class:`Stop` for ``Skip`` and the note's exception (unwrapped) otherwise.
    """
    if level.plain:
        try:
            result = call(score)
            return (await result) if is_awaitable(result) else result
        except Skip as skip:
            raise Stop("skipped", score, skip.reason) from None
    await level.waypoint("note", node_id, name, score)
    await level.emit(ev.NoteStarted, node_id, name=name, score=score)
    token = current_scope.set(level.scope(node_id, name, score)) if level.sinks else None
    now = level.now
    start = now()
    try:
        result = call(score)
        if is_awaitable(result):
            result = await result
    except Skip as skip:
        duration = now() - start
        await level.emit(
            ev.NoteFinished, node_id, name=name, score=score, duration=duration, status="skipped"
        )
        await level.emit(ev.Skipped, node_id, name=name, reason=skip.reason)
        raise Stop("skipped", score, skip.reason) from None
    except BaseException as error:
        status = "cancelled" if isinstance(error, asyncio.CancelledError) else "failed"
        duration = now() - start
        await level.emit(
            ev.NoteFinished, node_id, name=name, score=score, duration=duration, status=status, error=error
        )
        raise
    finally:
        if token is not None:
            current_scope.reset(token)
    duration = now() - start
    await level.emit(ev.NoteFinished, node_id, name=name, score=score, duration=duration, status="done")
    if level.controller is not None:
        await level.after_note(node_id, name, carry(score, result))
    return result
