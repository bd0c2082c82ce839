"""Hook plumbing: the base class, the manager that calls hooks for a run, and the run context.

Public through :mod:`cadence.hooks`.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
from collections.abc import Iterable
from typing import Any

from . import events as ev
from .exceptions import Skip

__all__ = ["CadenceHooks", "HooksManager", "current_run_id"]

log = logging.getLogger("cadence.hooks")

_run_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("cadence_run_id", default=None)


def current_run_id() -> str | None:
    """The id of the run the calling code belongs to (for hooks that keep per-run state)."""
    return _run_id.get()


# The event a HooksManager is handing to its hooks: classic hook methods, which are not given the
# event, read its run id and node id from here.
_dispatching: contextvars.ContextVar[ev.Event | None] = contextvars.ContextVar(
    "cadence_hook_event", default=None
)


def _where(name: str) -> tuple[str | None, str, int]:
    """``(run id, node id, depth)`` of the event being handed to the hook calling this; for a
    method called some other way, the current run id (if any), ``name`` and 0."""
    event = _dispatching.get()
    if event is not None:
        return event.run_id or None, event.node_id, event.depth
    return _run_id.get() or None, name, 0


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
        token = _dispatching.set(event)
        try:
            await self._handle(event)
        finally:
            _dispatching.reset(token)

    async def _handle(self, event: ev.Event) -> None:
        if self._failed and type(event) is ev.RunFinished:
            # A built-in hook disabled for this run (a subclass raised) still learns that its
            # cadence ended, so it does not hold that run's record open for ever.
            for i in self._failed:
                ended = getattr(self.hooks[i], "_cadence_ended", None)
                if ended is not None:
                    try:
                        ended(event)
                    except Exception:  # already logged as disabled for this run
                        pass
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
