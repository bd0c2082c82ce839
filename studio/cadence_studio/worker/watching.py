"""Data breakpoints, evaluated here in the worker after each note, never in the UI.

:class:`WatchingController` is the engine's :class:`~cadence.StepController` plus watches: before a
note it keeps the watched fields' values, after it (the engine's ``after_note`` waypoint) it compares
them and evaluates the watch expressions over the score the note left. A field that changed, or an
expression that turned true, holds the run right there, so the pause shows the note that wrote and
old → new. An expression that raises is reported once a run (``on_failed``) and the run goes on.

Watches read the top-level cadence's score (its notes, ``.sync`` members and branches); a ``.child``
runs on a score of its own type, whose notes they do not read.

A run of notes that never wait (``async def`` notes with no real ``await``) would hold the worker's
event loop from its first note to its last: the UI's commands (``stop``, ``breakpoints``) are read on
the loop, so ``x`` would only be heard when the run is over. A waypoint of the run's own task lets the
loop run once if the run has held it ``YIELD_EVERY`` or longer (never one of a ``.sync``'s tasks: they
reach their waypoints in the order they were declared, and that order is what stepping shows).
"""

from __future__ import annotations

import asyncio
import builtins
import copy
import reprlib
import time
from collections.abc import Callable, Iterable
from typing import Any

from cadence import StepController, Waypoint

from ..errors import StudioError
from ..protocol.watches import Watch, WatchHit, compile_watch, normalised, watch_problem

__all__ = ["YIELD_EVERY", "WatchingController", "check_watches"]

#: Seconds a run may hold the worker's event loop before a waypoint lets the loop run (commands, the
#: stall watch's beat): a stop is heard within about twice this.
YIELD_EVERY = 0.005

_MISSING = object()
_GLOBALS = {"__builtins__": builtins}
_short = reprlib.Repr()
_short.maxstring = 60
_short.maxother = 60


def check_watches(watches: Iterable[Watch], score: Any) -> list[Watch]:
    """The watches, normalised; raises :class:`StudioError` naming a broken one (a field the score
    does not have, an expression that does not compile), before any note runs."""
    out = []
    for watch in map(normalised, watches):
        problem = watch_problem(watch)
        if problem is None and watch.kind == "field" and score is not None:
            if _read(score, watch.text) is _MISSING:
                fields = ", ".join(vars(score)) if hasattr(score, "__dict__") else "none"
                problem = f"the score ({type(score).__name__}) has no field {watch.text!r} (fields: {fields})"
        if problem is not None:
            msg = f"watch refused: {problem}"
            raise StudioError(msg)
        out.append(watch)
    return out


def _read(score: Any, path: str) -> Any:
    value = score
    for part in path.split("."):
        value = getattr(value, part, _MISSING)
        if value is _MISSING:
            return _MISSING
    return value


def _kept(value: Any) -> Any:
    """The value as it is now (a note may change it in place), or itself when it cannot be copied."""
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


def _differs(old: Any, new: Any) -> bool:
    try:
        return bool(old != new)
    except Exception:  # a value whose == is no bool (an array): changed when it is another object
        return old is not new


class WatchingController(StepController):
    """Stepping, breakpoints and data breakpoints for one run."""

    def __init__(
        self,
        *,
        breakpoints: Iterable[str] = (),
        pause_at_start: bool = False,
        on_pause: Callable[[Waypoint], Any] | None = None,
        watches: Iterable[Watch] = (),
        on_failed: Callable[[Watch, str, str], None] | None = None,
    ) -> None:
        # The waypoints passed are not kept: the studio is told of each as it comes (a 10,000-note
        # run's would hold 1.5 MB until the next run, issue 18).
        super().__init__(
            breakpoints=breakpoints, pause_at_start=pause_at_start, on_pause=on_pause, keep_seen=False
        )
        self.on_failed = on_failed
        self.hits: dict[str, list[WatchHit]] = {}  # node id -> why the run is held after it
        self._watches: list[tuple[Watch, Any]] = []
        self._truth: dict[Watch, bool] = {}  # each expression's value after the last note
        self._failed: set[Watch] = set()
        self._before: dict[str, dict[str, Any]] = {}  # node id -> watched field -> value before it
        self._score: Any = None  # the top-level score last seen
        self._yielded = time.perf_counter()  # when the run last let the loop run
        self._run_task: asyncio.Task[Any] | None = None  # the task of the run's first waypoint
        self.watches = list(watches)

    @property
    def watches(self) -> list[Watch]:
        return [watch for watch, _ in self._watches]

    @watches.setter
    def watches(self, watches: list[Watch]) -> None:
        """Replace the watches (already checked); an expression added mid-run starts from its value now."""
        self._watches = [(watch, compile_watch(watch)) for watch in watches]
        kept = {watch for watch, _ in self._watches}
        self._truth = {w: t for w, t in self._truth.items() if w in kept}
        if self._score is not None:
            self._baseline(self._score, "")

    def _baseline(self, score: Any, node_id: str) -> None:
        for watch, code in self._watches:
            if code is not None and watch not in self._truth:
                value = self._evaluate(watch, code, score, node_id)
                self._truth[watch] = bool(value)

    def _evaluate(self, watch: Watch, code: Any, score: Any, node_id: str) -> Any:
        try:
            return bool(eval(code, _GLOBALS, {"score": score}))
        except Exception as error:
            if watch not in self._failed:
                self._failed.add(watch)
                if self.on_failed is not None:
                    self.on_failed(watch, node_id, f"{type(error).__name__}: {error}")
            return None

    async def __call__(self, point: Waypoint) -> None:
        await self._let_the_loop_run()
        if self._watches and point.depth == 0:
            self._score = point.score
            self._baseline(point.score, "")
            if point.kind == "note":
                self._before[point.node_id] = {
                    w.text: _kept(_read(point.score, w.text)) for w, code in self._watches if code is None
                }
        await super().__call__(point)

    async def _let_the_loop_run(self) -> None:
        """Let the loop run once (the commands waiting on it are read) if the run held it long enough."""
        task = asyncio.current_task()
        if self._run_task is None:
            self._run_task = task
        now = time.perf_counter()
        if task is self._run_task and now - self._yielded >= YIELD_EVERY:
            self._yielded = now
            await asyncio.sleep(0)

    def after_note(self, point: Waypoint) -> Any:
        """Held right after ``point``'s note when a watched field changed or an expression turned true."""
        if not self._watches or point.depth != 0:
            return None
        self._score = score = point.score
        before = self._before.pop(point.node_id, {})
        hits: list[WatchHit] = []
        for watch, code in self._watches:
            if code is None:
                old, new = before.get(watch.text, _MISSING), _read(score, watch.text)
                if old is not _MISSING and _differs(old, new):
                    hits.append(
                        WatchHit(
                            watch=watch, node_id=point.node_id, old=_short.repr(old), new=_short.repr(new)
                        )
                    )
                continue
            value = self._evaluate(watch, code, score, point.node_id)
            if value is None:
                continue
            if value and not self._truth.get(watch, False):
                hits.append(WatchHit(watch=watch, node_id=point.node_id, old="False", new="True"))
            self._truth[watch] = value
        if not hits:
            return None
        self.hits[point.node_id] = hits
        return self.hold(point)
