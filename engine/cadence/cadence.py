"""The :class:`Cadence` definition: a named list of measures over a score, and how it runs."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from types import CoroutineType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import _durable
from . import events as ev
from ._hook_base import HooksManager, _run_id
from ._measures import (
    BranchMeasure,
    ChildMeasure,
    Measure,
    NoteMeasure,
    ParallelMeasure,
    SequenceMeasure,
    segment,
)
from ._runtime import (
    Level,
    SafeListener,
    Sink,
    Stop,
    Waypoint,
    carry,
    is_awaitable,
    make_caller,
    note_error,
)
from .checkpoint import pending
from .exceptions import DefinitionError, Skip
from .merge import MergeFn, MergeStrategy

if TYPE_CHECKING:
    from ._durable import Durability
    from .checkpoint import CheckpointStore, RunInfo

__all__ = ["Cadence", "Controller", "Listener"]

S = TypeVar("S")
Controller = Callable[[Waypoint], Awaitable[None] | None]
Listener = Callable[[ev.Event], Awaitable[None] | None]


class _ReporterSink:
    """Calls a reporter after every note and once per cadence with the total time."""

    def __init__(self, reporter: Callable[..., Any]) -> None:
        self.safe = SafeListener(self._report)
        self.reporter = reporter

    def _report(self, event: ev.Event) -> Any:
        if isinstance(event, ev.NoteFinished):
            return self.reporter(event.name, event.duration, event.score)
        if isinstance(event, ev.RunFinished):
            return self.reporter(event.cadence, event.duration, event.score)
        return None


def _no_handler(score: Any, error: BaseException) -> None:
    raise error


class Cadence(Generic[S]):
    """A definition of service logic: measures run in order over a score.

    A definition holds no per-run state: run it as often and as concurrently as you like, each
    run on its own score.
    """

    def __init__(self, name: str, score: S | None = None) -> None:
        if not isinstance(name, str) or not name.strip():
            msg = f"a cadence needs a non-empty name, got {name!r}"
            raise DefinitionError(msg)
        self.name = name
        self._score = score
        self._measures: list[Measure] = []
        self._segs: set[str] = set()  # the measures' id segments, kept unique by _add
        self._hooks: list[Any] = []
        self._reporters: list[Callable[..., Any]] = []
        self._error_handler: tuple[Callable[..., Any], bool] | None = None
        self._handle_error: Callable[..., Any] = _no_handler
        self._plain: Level | None = None
        self._store: CheckpointStore | None = None
        self._durability: Durability = "sync"
        #: Whether this definition has hooks or reporters of its own.
        self.has_observers = False

    # ------------------------------------------------------------------ building

    def then(self, name: str, task: Callable[..., Any], *, can_interrupt: bool = False) -> Cadence[S]:
        """Run one note; with ``can_interrupt`` a note returning ``True`` ends the cadence cleanly."""
        self._add(NoteMeasure(self._check_name(name), task, can_interrupt))
        return self

    def sequence(self, name: str, tasks: Sequence[Callable[..., Any]]) -> Cadence[S]:
        """Run notes one after another as one named measure."""
        self._add(SequenceMeasure(self._check_name(name), tasks))
        return self

    def sync(
        self,
        name: str,
        tasks: Sequence[Callable[..., Any]],
        *,
        merge_strategy: MergeFn = MergeStrategy.fail_on_conflict,
    ) -> Cadence[S]:
        """Run notes at once, each on an isolated copy of the score, then merge their changes."""
        self._add(ParallelMeasure(self._check_name(name), tasks, merge_strategy))
        return self

    def split(
        self,
        name: str,
        condition: Callable[..., Any],
        if_true: Callable[..., Any] | Sequence[Callable[..., Any]],
        if_false: Callable[..., Any] | Sequence[Callable[..., Any]] | None = None,
        *,
        parallel: bool = False,
    ) -> Cadence[S]:
        """Run ``if_true`` or ``if_false`` (one callable or a list) by the condition's truth."""
        self._add(BranchMeasure(self._check_name(name), condition, if_true, if_false, parallel))
        return self

    def child(
        self,
        name: str,
        cadence: Cadence[Any],
        merge: Callable[..., Any],
        *,
        score: Callable[[S], Any] | None = None,
    ) -> Cadence[S]:
        """Run another cadence as one measure, then ``merge(parent_score, child_score)``.

        The child runs on a fresh deep copy of its construction score each time, or on
        ``score(parent_score)`` when that hook is given.
        """
        if cadence is self:
            msg = f".child({name!r}): a cadence cannot contain itself"
            raise DefinitionError(msg)
        name = self._check_name(name)
        if not isinstance(cadence, Cadence):
            msg = f".child({name!r}): {cadence!r} is not a Cadence; build one with Cadence(name, score)"
            raise DefinitionError(msg)
        self._add(ChildMeasure(name, cadence, merge, score))
        return self

    def on_error(self, handler: Callable[..., Any], *, stop: bool = True) -> Cadence[S]:
        """Send failures to ``handler(score, error)``; ``stop=False`` goes on with the next measure."""
        if not callable(handler):
            msg = f".on_error: handler {handler!r} is not callable"
            raise DefinitionError(msg)
        self._error_handler = (handler, stop)
        self._handle_error = make_caller(handler)  # a sync handler runs in the shared pool
        return self

    def with_hooks(self, hooks: Any | Iterable[Any]) -> Cadence[S]:
        """Add hooks (one object or a list); each call appends."""
        if isinstance(hooks, (list, tuple)):
            self._hooks.extend(hooks)
        else:
            self._hooks.append(hooks)
        self.has_observers = bool(self._hooks or self._reporters)
        return self

    def with_reporter(self, reporter: Callable[..., Any]) -> Cadence[S]:
        """Call ``reporter(note_name, elapsed_seconds, score)`` after each note and each run."""
        if not callable(reporter):
            msg = f".with_reporter: {reporter!r} is not callable"
            raise DefinitionError(msg)
        self._reporters.append(reporter)
        self.has_observers = True
        return self

    def with_checkpoint(self, store: CheckpointStore, *, durability: Durability = "sync") -> Cadence[S]:
        """Checkpoint every run of this definition into ``store`` (``run(checkpoint=...)`` for all runs)."""
        if durability not in _durable.MODES:
            modes = ", ".join(map(repr, _durable.MODES))
            msg = f".with_checkpoint: durability={durability!r}; use one of {modes}"
            raise DefinitionError(msg)
        self._store = store
        self._durability = durability
        return self

    def _add(self, measure: Measure) -> None:
        # A name used twice gets the id segment ``name#2``, ``name#3`` (as inside a group), so
        # that node ids stay unique: a checkpoint of one never marks the other done.
        used = self._segs
        if measure.seg in used:
            n = 2
            while f"{measure.seg}#{n}" in used:
                n += 1
            measure.seg = f"{measure.seg}#{n}"
        used.add(measure.seg)
        self._measures.append(measure)

    def _check_name(self, name: str) -> str:
        if not isinstance(name, str) or not name.strip():
            msg = f"cadence {self.name!r}: a measure needs a non-empty name, got {name!r}"
            raise DefinitionError(msg)
        return name

    # ------------------------------------------------------------------ inspecting

    @property
    def measures(self) -> tuple[Measure, ...]:
        return tuple(self._measures)

    @property
    def hooks(self) -> tuple[Any, ...]:
        return tuple(self._hooks)

    def get_score(self) -> S | None:
        """The score given at construction."""
        return self._score

    def score_type_name(self) -> str | None:
        if self._score is None:
            return None
        t = type(self._score)
        return f"{t.__module__}.{t.__qualname__}"

    def describe(self) -> dict[str, Any]:
        """The definition as a plain, JSON-serialisable tree; node ids are stable paths."""
        root = segment(self.name)
        return {
            "kind": "cadence",
            "name": self.name,
            "id": root,
            "score_type": self.score_type_name(),
            "hooks": [type(h).__qualname__ for h in self._hooks],
            "reporters": [getattr(r, "__qualname__", repr(r)) for r in self._reporters],
            "error_handler": (
                {
                    "handler": getattr(self._error_handler[0], "__qualname__", repr(self._error_handler[0])),
                    "stop": self._error_handler[1],
                }
                if self._error_handler
                else None
            ),
            "children": [m.describe(root) for m in self._measures],
        }

    def __repr__(self) -> str:
        return f"<Cadence {self.name!r} measures={len(self._measures)}>"

    # ------------------------------------------------------------------ running

    def sinks(self, skip: frozenset[int] = frozenset()) -> tuple[list[Sink], frozenset[int]]:
        """Listeners for one run made of this definition's hooks and reporters (those not in
        ``skip``, by object id), and the ids of the objects used."""
        hooks = [h for h in self._hooks if id(h) not in skip]
        reporters = [r for r in self._reporters if id(r) not in skip]
        out: list[Sink] = []
        if hooks:
            out.append(HooksManager(hooks).handle)
        out.extend(_ReporterSink(r).safe for r in reporters)
        return out, frozenset(map(id, (*hooks, *reporters)))

    def plain_level(self) -> Level:
        """The level of an unobserved run: it holds no per-run state, so one serves every run."""
        level = self._plain
        if level is None:
            level = self._plain = Level(
                run_id="",
                cadence=self.name,
                node_id=segment(self.name),
                depth=0,
                sinks=(),
                active=frozenset(),
                controller=None,
            )
        return level

    def run(
        self,
        score: S | None = None,
        *,
        controller: Controller | None = None,
        listeners: Iterable[Listener] = (),
        checkpoint: CheckpointStore | None = None,
        run_id: str | None = None,
        durability: Durability | None = None,
        start_at: str | None = None,
    ) -> Coroutine[Any, Any, S]:
        """Run on ``score`` (or the construction score), mutating it in place, and return it.

        ``await cadence.run(score)``; the coroutine is made at once (a missing score is reported
        at the call), so the run itself costs one coroutine less.

        Args:
            controller: awaited with a :class:`Waypoint` before every note, fork, branch and
                child; it may hold the run there (breakpoints, stepping).
            listeners: called (sync or async) with every event of the run, children included.
            checkpoint: a :class:`~cadence.checkpoint.CheckpointStore` to save the score into after
                every measure (default: the one given to :meth:`with_checkpoint`), so that
                :meth:`resume` can go on after a crash.
            run_id: the run's id in the store (default: a new random one).
            durability: ``"sync"`` (default: the next measure starts once the checkpoint is written),
                ``"async"`` (written on a background thread; a crash may lose the last one) or
                ``"exit"`` (written once, when the run ends or fails).
            start_at: a top-level measure's node id (``"checkout/charge"``, or just ``"charge"``):
                the measures before it are not run.
        """
        if score is None:
            score = self._score
            if score is None:
                msg = f"cadence {self.name!r} has no score; pass one: await cadence.run(MyScore(...))"
                raise DefinitionError(msg)
        store = checkpoint if checkpoint is not None else self._store
        if (
            controller is None
            and not listeners
            and not self.has_observers
            and self._error_handler is None
            and store is None
            and start_at is None
        ):
            return self._fast(self._plain or self.plain_level(), score)
        durable = None
        if store is not None or start_at is not None:
            durable = _durable.run_state(self, store, run_id, durability or self._durability, start_at)
            run_id = durable.run_id
        return self.execute(self._root_level(controller, listeners, run_id, durable), score)

    def _root_level(
        self, controller: Controller | None, listeners: Iterable[Listener], run_id: str | None, durable: Any
    ) -> Level:
        wrapped: list[Sink] = [SafeListener(fn) for fn in listeners]
        own, ids = self.sinks()
        observed = bool(wrapped or own or controller)
        return Level(
            run_id=run_id or (os.urandom(12).hex() if observed else ""),
            cadence=self.name,
            node_id=segment(self.name),
            depth=0,
            sinks=(*wrapped, *own),
            active=ids,
            controller=controller,
            durable=durable,
        )

    async def resume(
        self,
        run_id: str,
        store: CheckpointStore | None = None,
        *,
        durability: Durability | None = None,
        controller: Controller | None = None,
        listeners: Iterable[Listener] = (),
    ) -> S:
        """Go on with a run that did not finish, from the first measure it had not completed.

        The score is the one saved at its last checkpoint; completed measures (and the finished
        members of a ``.sync`` group, and the completed measures of a child) are not run again.
        A :class:`~cadence.events.Resumed` event says what was kept and which notes' code changed.

        Raises:
            CheckpointError: the run is unknown, already ended, or this definition's structure
                changed since the checkpoint (the message names the first node that differs).
        """
        store = store if store is not None else self._store
        if store is None:
            msg = f"resume({run_id!r}): pass the store the run was checkpointed into"
            raise DefinitionError(msg)
        saved = await asyncio.to_thread(store.load, run_id)
        durable, score, changed = _durable.resume_state(self, run_id, store, saved, durability)
        level = self._root_level(controller, listeners, run_id, durable)
        completed = tuple(sorted(durable.skip))
        await level.emit(ev.Resumed, level.node_id, changed_notes=changed, completed=completed)
        return await self.execute(level, score)  # type: ignore[no-any-return]

    def pending(self, store: CheckpointStore | None = None) -> list[RunInfo]:
        """This cadence's runs in ``store`` that did not finish (see :func:`cadence.pending`)."""
        store = store if store is not None else self._store
        if store is None:
            msg = f"pending(): cadence {self.name!r} has no checkpoint store; pass one"
            raise DefinitionError(msg)
        return [info for info in pending(store) if info.cadence == self.name]

    def run_sync(
        self,
        score: S | None = None,
        *,
        controller: Controller | None = None,
        listeners: Iterable[Listener] = (),
        **durable: Any,
    ) -> S:
        """Blocking twin of :meth:`run` (starts an event loop; not for use inside one); takes the
        same ``checkpoint``, ``run_id``, ``durability`` and ``start_at``."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.run(score, controller=controller, listeners=listeners, **durable))
        msg = (
            f"run_sync() of cadence {self.name!r} was called inside a running event loop; "
            "use `await cadence.run()` there"
        )
        raise RuntimeError(msg)

    def execute(self, level: Level, score: Any) -> Coroutine[Any, Any, Any]:
        """Run the measures at ``level`` (the root, or as a child); the core of :meth:`run`."""
        if level.plain and self._error_handler is None:
            return self._fast(level, score)
        return self._with_run_id(level, score)

    async def _with_run_id(self, level: Level, score: Any) -> Any:
        token = _run_id.set(level.run_id) if _run_id.get() != level.run_id else None
        try:
            return await self._observed(level, score)
        finally:
            if token is not None:
                _run_id.reset(token)

    async def _fast(self, level: Level, score: Any) -> Any:
        """Nothing listens, nothing steps, no handler: notes of single measures, sequences and
        splits are called inline; only parallel groups and children run as measures."""
        try:
            for measure in self._measures:
                tasks = measure.fixed
                if tasks is None:
                    pick = measure.pick
                    if pick is None:
                        score = await measure.run(level, score)
                        continue
                    picked = pick(score)
                    tasks = picked if type(picked) is tuple else await picked  # type: ignore[misc]
                for task in tasks:
                    try:
                        result = task.call(score)
                        if result is None:
                            continue
                        if type(result) is CoroutineType or is_awaitable(result):
                            result = await result
                            if result is None:
                                continue
                    except Skip:
                        return score
                    except Exception as error:
                        wrapped = note_error(task.name, error)
                        if wrapped is error:
                            raise
                        raise wrapped from error
                    if result is True and measure.can_interrupt:
                        return score
                    score = carry(score, result)
        except Stop as stop:
            return stop.score
        return score

    async def _observed(self, level: Level, score: Any) -> Any:
        start = level.now()
        durable = level.durable
        root = durable is not None and level.depth == 0
        if root:
            await durable.begin(level.node_id, score)
        await level.emit(ev.RunStarted, level.node_id, score=score)
        status = "done"
        error: BaseException | None = None
        try:
            for measure in self._measures:
                if durable is not None:
                    nid = f"{level.node_id}/{measure.seg}"
                    if nid in durable.skip:
                        continue
                try:
                    score = await measure.run(level, score)
                except Stop as stop:
                    status, score = stop.status, stop.score
                    break
                except Exception as exc:
                    if self._error_handler is None:
                        raise
                    stop_run = self._error_handler[1]
                    await level.emit(ev.ErrorHandled, level.node_id, error=exc, stop=stop_run)
                    result = self._handle_error(score, exc)
                    if is_awaitable(result):
                        result = await result
                    score = carry(score, result)
                    if stop_run:
                        status, error = "failed", exc
                        break
                if durable is not None:  # handled with stop=False counts as done too
                    await durable.measure_done(level.node_id, nid, measure.kind, score)
        except BaseException as exc:
            status, error = ("cancelled" if isinstance(exc, asyncio.CancelledError) else "failed"), exc
            raise
        finally:  # also on failure and cancellation: every after_cadence hook and reporter runs
            if root:
                await durable.finish(level.node_id, score, status)
            duration = level.now() - start
            await level.emit(
                ev.RunFinished, level.node_id, score=score, duration=duration, status=status, error=error
            )
        return score
