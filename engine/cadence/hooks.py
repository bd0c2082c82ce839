"""Hooks: objects told about each cadence and note as a run goes (built on the event stream).

A hook may implement any of the :class:`CadenceHooks` methods, sync or async, and ``on_event(event)``
to receive every event of the run (:mod:`cadence.events`) before the classic methods are called.
A hook that raises never changes a run's outcome: it is logged once and ignored for the rest of
that run.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
import sys
import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import IO, Any

from . import events as ev
from ._spans import SpanBuilder
from .exceptions import Skip

__all__ = [
    "CadenceHooks",
    "DebugHooks",
    "HooksManager",
    "LoggingHooks",
    "MetricsHooks",
    "TimingHooks",
    "TracingHooks",
    "current_run_id",
]

log = logging.getLogger("cadence.hooks")

_run_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("cadence_run_id", default=None)


def current_run_id() -> str | None:
    """The id of the run the calling code belongs to (for hooks that keep per-run state)."""
    return _run_id.get()


class CadenceHooks:
    """Base class of hooks; override what you need (``def`` or ``async def``)."""

    def before_cadence(self, name: str, score: Any) -> Any:
        return None

    def after_cadence(
        self, name: str, score: Any, duration: float, error: BaseException | None = None
    ) -> Any:
        return None

    def before_note(self, name: str, score: Any) -> Any:
        return None

    def after_note(self, name: str, score: Any, duration: float, error: BaseException | None = None) -> Any:
        return None

    def on_error(self, name: str, score: Any, error: BaseException) -> Any:
        return None

    def on_retry(self, name: str, score: Any, attempt: int, max_attempts: int, error: BaseException) -> Any:
        return None

    # ``on_event(event)`` (sync or async) is optional too: define it to receive every event of a
    # run. It is not defined here so that plain hooks cost nothing per event.


class HooksManager:
    """Calls a list of hooks for the events of one run; a hook that raises is dropped for that run."""

    def __init__(self, hooks: Iterable[Any] = ()) -> None:
        self.hooks = list(hooks)
        self._failed: set[int] = set()

    def add(self, hooks: Any) -> None:
        self.hooks.append(hooks)

    async def call(self, method: str, *args: Any) -> None:
        """Call ``method(*args)`` on every hook that has it."""
        for i, hook in enumerate(self.hooks):
            if i in self._failed:
                continue
            fn = getattr(hook, method, None)
            if fn is None:
                continue
            try:
                result = fn(*args)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                self._failed.add(i)
                log.exception("hook %r raised in %s; it is disabled for the rest of this run", hook, method)

    async def handle(self, event: ev.Event) -> None:
        """Give the event to every hook's ``on_event`` and translate it into the classic hook calls."""
        await self.call("on_event", event)
        if isinstance(event, ev.NoteStarted):
            await self.call("before_note", event.name, event.score)
        elif isinstance(event, ev.NoteFinished):
            await self.call("after_note", event.name, event.score, event.duration, event.error)
            if event.error is not None and event.status == "failed" and not isinstance(event.error, Skip):
                await self.call("on_error", event.name, event.score, event.error)
        elif isinstance(event, ev.RetryAttempt) and event.error is not None:
            await self.call(
                "on_retry", event.name, event.score, event.attempt, event.max_attempts, event.error
            )
        elif isinstance(event, ev.RunStarted):
            await self.call("before_cadence", event.cadence, event.score)
        elif isinstance(event, ev.RunFinished):
            await self.call("after_cadence", event.cadence, event.score, event.duration, event.error)


class LoggingHooks(CadenceHooks):
    """Logs each cadence and note start, end, failure and retry."""

    def __init__(self, logger: logging.Logger | None = None, level: int = logging.INFO) -> None:
        self.logger = logger or logging.getLogger("cadence")
        self.level = level

    def before_cadence(self, name: str, score: Any) -> None:
        self.logger.log(self.level, "cadence %s started", name)

    def after_cadence(
        self, name: str, score: Any, duration: float, error: BaseException | None = None
    ) -> None:
        if error is None:
            self.logger.log(self.level, "cadence %s finished in %.1f ms", name, duration * 1000)
        else:
            self.logger.warning("cadence %s failed after %.1f ms: %s", name, duration * 1000, error)

    def before_note(self, name: str, score: Any) -> None:
        self.logger.log(self.level, "note %s started", name)

    def after_note(self, name: str, score: Any, duration: float, error: BaseException | None = None) -> None:
        if error is None:
            self.logger.log(self.level, "note %s finished in %.1f ms", name, duration * 1000)

    def on_error(self, name: str, score: Any, error: BaseException) -> None:
        self.logger.error("note %s failed: %s", name, error)

    def on_retry(self, name: str, score: Any, attempt: int, max_attempts: int, error: BaseException) -> None:
        self.logger.warning("note %s attempt %d/%d failed: %s", name, attempt, max_attempts, error)


class TimingHooks(CadenceHooks):
    """Collects note and cadence durations (seconds) across runs: ``timings[name] -> [durations]``."""

    def __init__(self) -> None:
        self.timings: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()

    def after_note(self, name: str, score: Any, duration: float, error: BaseException | None = None) -> None:
        with self._lock:
            self.timings[name].append(duration)

    def after_cadence(
        self, name: str, score: Any, duration: float, error: BaseException | None = None
    ) -> None:
        with self._lock:
            self.timings[name].append(duration)

    def summary(self) -> dict[str, dict[str, float]]:
        """``{name: {count, total, mean, max}}``."""
        with self._lock:
            return {
                name: {"count": len(d), "total": sum(d), "mean": sum(d) / len(d), "max": max(d)}
                for name, d in self.timings.items()
                if d
            }


class MetricsHooks(CadenceHooks):
    """Counts calls, failures and retries per note, and runs per cadence."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.retries: dict[str, int] = defaultdict(int)
        self.runs: dict[str, int] = defaultdict(int)
        self.failed_runs: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def after_note(self, name: str, score: Any, duration: float, error: BaseException | None = None) -> None:
        with self._lock:
            self.calls[name] += 1

    def on_error(self, name: str, score: Any, error: BaseException) -> None:
        with self._lock:
            self.errors[name] += 1

    def on_retry(self, name: str, score: Any, attempt: int, max_attempts: int, error: BaseException) -> None:
        with self._lock:
            self.retries[name] += 1

    def after_cadence(
        self, name: str, score: Any, duration: float, error: BaseException | None = None
    ) -> None:
        with self._lock:
            self.runs[name] += 1
            if error is not None:
                self.failed_runs[name] += 1


class DebugHooks(CadenceHooks):
    """Prints the score before and after every note (for quick debugging without the studio)."""

    def __init__(self, file: IO[str] | None = None) -> None:
        self.file = file

    def _print(self, text: str) -> None:
        print(text, file=self.file or sys.stderr)

    def before_note(self, name: str, score: Any) -> None:
        self._print(f"[cadence] → {name}: {score!r}")

    def after_note(self, name: str, score: Any, duration: float, error: BaseException | None = None) -> None:
        outcome = f"failed: {error!r}" if error else f"{duration * 1000:.2f} ms"
        self._print(f"[cadence] ← {name} ({outcome}): {score!r}")


class TracingHooks(CadenceHooks):
    """A span per cadence run, ``.child`` measure and note, built from the event stream (``on_event``).

    With a real OpenTelemetry tracer (``trace.get_tracer(...)``) spans carry the real start and end
    times, notes nest under their cadence span (``.sync`` notes are siblings), a child cadence nests
    under its ``.child`` span, a failure sets an error status and records an exception event, and
    note spans carry ``cadence.node_id`` and ``cadence.retry.attempts``; merges are span events on
    the cadence span, which carries ``cadence.merge.conflicts``. Any object with
    ``start_span(name, attributes=...)`` whose spans have ``end()`` works too (without nesting).

    State is kept per run (by ``run_id``), so one instance serves concurrent runs.
    """

    def __init__(self, tracer: Any) -> None:
        self.tracer = tracer
        self._builder = SpanBuilder(tracer)

    def on_event(self, event: ev.Event) -> None:
        self._builder.on_event(event)
