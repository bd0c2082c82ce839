"""The measures a cadence is made of, how each runs, and how each describes itself."""

from __future__ import annotations

import abc
import copy
from collections.abc import Awaitable, Callable, Sequence
from types import CoroutineType
from typing import Any, ClassVar, NoReturn, Protocol

from . import events as ev
from ._describe import callable_info
from ._fork import copy_value, is_immutable
from ._note import callable_name
from ._parallel import run_parallel, run_plain
from ._runtime import Level, Stop, Task, call_task, carry, is_awaitable, make_caller, note_error
from .exceptions import DefinitionError, Skip
from .merge import MergeFn, MergeStrategy, strategy_name

__all__ = [
    "BranchMeasure",
    "ChildMeasure",
    "Definition",
    "Measure",
    "NoteMeasure",
    "ParallelMeasure",
    "SequenceMeasure",
]


def segment(name: str) -> str:
    """A node id segment: the name with ``/`` (the path separator) replaced."""
    return name.replace("/", "∕")


def check_task(where: str, task: Any) -> Any:
    if not callable(task):
        msg = f"{where}: {task!r} is not callable; pass a function, a Note, a method, a partial or a lambda"
        raise DefinitionError(msg)
    return task


def named_tasks(where: str, tasks: Any) -> tuple[Task, ...]:
    """The group's tasks; a name used twice in a group gets the segment ``name#2``, ``name#3``."""
    if callable(tasks):
        tasks = [tasks]
    if tasks is None:
        tasks = []
    if not isinstance(tasks, (list, tuple)):
        msg = f"{where}: expected a callable or a list of callables, got {tasks!r}"
        raise DefinitionError(msg)
    seen: dict[str, int] = {}
    out = []
    for task in tasks:
        base = segment(callable_name(check_task(where, task)))
        seen[base] = seen.get(base, 0) + 1
        out.append(Task(base if seen[base] == 1 else f"{base}#{seen[base]}", task))
    return tuple(out)


def _raise_note_error(name: str, error: Exception) -> NoReturn:
    wrapped = note_error(name, error)
    if wrapped is error:
        raise error
    raise wrapped from error


class Measure(abc.ABC):
    """One step of a cadence."""

    kind: ClassVar[str] = "measure"
    name: str
    seg: str
    #: The notes the unobserved fast path calls inline: fixed ones (a note, a sequence), or
    #: ``pick(score)`` giving them (or an awaitable of them) once the score is known (a split).
    fixed: tuple[Task, ...] | None = None
    pick: Callable[[Any], tuple[Task, ...] | Awaitable[tuple[Task, ...]] | None] | None = None
    can_interrupt: bool = False

    @abc.abstractmethod
    def run(self, level: Level, score: Any) -> Awaitable[Any]:
        """Run on ``score``; the awaitable gives the score after this measure."""

    @abc.abstractmethod
    def describe(self, parent_id: str) -> dict[str, Any]:
        """This measure as a describe() node under ``parent_id``."""

    def node_id(self, level: Level) -> str:
        return "" if level.plain else f"{level.node_id}/{self.seg}"


class NoteMeasure(Measure):
    """``.then(name, task)``: one note."""

    kind = "note"

    def __init__(self, name: str, task: Any, can_interrupt: bool) -> None:
        self.name = name
        self.seg = segment(name)
        self.task = check_task(f".then({name!r})", task)
        self.fixed = (Task(self.seg, task, name),)
        self.call = self.fixed[0].call
        self.can_interrupt = can_interrupt

    async def run(self, level: Level, score: Any) -> Any:
        nid = self.node_id(level)
        try:
            result = await call_task(level, nid, self.name, self.call, score)
        except Stop:
            raise
        except Exception as error:
            _raise_note_error(self.name, error)
        if self.can_interrupt and result is True:
            await level.emit(ev.Interrupted, nid, name=self.name)
            raise Stop("interrupted", score)
        return carry(score, result)

    def describe(self, parent_id: str) -> dict[str, Any]:
        return note_node(f"{parent_id}/{self.seg}", self.name, self.task, can_interrupt=self.can_interrupt)


def note_node(node_id: str, name: str, task: Any, *, can_interrupt: bool = False) -> dict[str, Any]:
    return {
        "kind": "note",
        "name": name,
        "id": node_id,
        "note": callable_info(task),
        "can_interrupt": can_interrupt,
        "children": [],
    }


async def run_in_order(level: Level, group_id: str, tasks: Sequence[Task], score: Any) -> Any:
    if level.plain:
        for task in tasks:
            try:
                result = task.call(score)
                if type(result) is CoroutineType or is_awaitable(result):
                    result = await result
            except Skip as skip:
                raise Stop("skipped", score, skip.reason) from None
            except Exception as error:
                _raise_note_error(task.name, error)
            if result is not None:
                score = carry(score, result)
        return score
    for task in tasks:
        nid = "" if level.plain else f"{group_id}/{task.seg}"
        try:
            result = await call_task(level, nid, task.name, task.call, score)
        except Stop:
            raise
        except Exception as error:
            _raise_note_error(task.name, error)
        score = carry(score, result)
    return score


class SequenceMeasure(Measure):
    """``.sequence(name, tasks)``: notes one after another under one name."""

    kind = "sequence"

    def __init__(self, name: str, tasks: Any) -> None:
        self.name = name
        self.seg = segment(name)
        self.tasks = self.fixed = named_tasks(f".sequence({name!r})", tasks)

    def run(self, level: Level, score: Any) -> Awaitable[Any]:
        return run_in_order(level, self.node_id(level), self.tasks, score)

    def describe(self, parent_id: str) -> dict[str, Any]:
        nid = f"{parent_id}/{self.seg}"
        children = [note_node(f"{nid}/{t.seg}", t.name, t.fn) for t in self.tasks]
        return {"kind": "sequence", "name": self.name, "id": nid, "children": children}


class ParallelMeasure(Measure):
    """``.sync(name, tasks)``: tasks at once, each on an isolated copy, merged afterwards."""

    kind = "sync"

    def __init__(self, name: str, tasks: Any, merge_strategy: MergeFn) -> None:
        self.name = name
        self.seg = segment(name)
        self.tasks = named_tasks(f".sync({name!r})", tasks)
        if not self.tasks:
            msg = f".sync({name!r}) needs at least one task"
            raise DefinitionError(msg)
        if not callable(merge_strategy):
            msg = f".sync({name!r}): merge_strategy {merge_strategy!r} is not callable; use MergeStrategy.*"
            raise DefinitionError(msg)
        self.merge_strategy = merge_strategy

    def run(self, level: Level, score: Any) -> Awaitable[Any]:
        if level.plain:
            return run_plain(self.name, self.tasks, score, self.merge_strategy)
        return run_parallel(level, self.node_id(level), self.name, self.tasks, score, self.merge_strategy)

    def describe(self, parent_id: str) -> dict[str, Any]:
        nid = f"{parent_id}/{self.seg}"
        return {
            "kind": "sync",
            "name": self.name,
            "id": nid,
            "merge_strategy": strategy_name(self.merge_strategy),
            "children": [note_node(f"{nid}/{t.seg}", t.name, t.fn) for t in self.tasks],
        }


class BranchMeasure(Measure):
    """``.split(name, condition, if_true, if_false)``: one of two branches, by the condition's value."""

    kind = "split"

    def __init__(self, name: str, condition: Any, if_true: Any, if_false: Any, parallel: bool) -> None:
        self.name = name
        self.seg = segment(name)
        self.condition = check_task(f".split({name!r}) condition", condition)
        self.decide = make_caller(condition)  # a sync condition runs in the shared pool too
        self.branches = {
            True: named_tasks(f".split({name!r}) if_true", if_true),
            False: named_tasks(f".split({name!r}) if_false", if_false),
        }
        self.parallel = parallel
        if not parallel:
            self.pick = self._pick

    def _pick(self, score: Any) -> tuple[Task, ...] | Awaitable[tuple[Task, ...]]:
        try:
            value = self.decide(score)
        except Exception as error:
            _raise_note_error(self.name, error)
        if is_awaitable(value):
            return self._pick_awaited(value)
        return self.branches[bool(value)]

    async def _pick_awaited(self, value: Awaitable[Any]) -> tuple[Task, ...]:
        try:
            return self.branches[bool(await value)]
        except Exception as error:
            _raise_note_error(self.name, error)

    def run(self, level: Level, score: Any) -> Awaitable[Any]:
        # Unobserved with a sync condition: decide now and hand back the branch's coroutine.
        if not level.plain:
            return self._observed(level, score)
        try:
            value = self.decide(score)
        except Exception as error:
            _raise_note_error(self.name, error)
        if is_awaitable(value):
            return self._awaited(level, value, score)
        return self._branch(level, "", value, score)

    async def _awaited(self, level: Level, value: Awaitable[Any], score: Any) -> Any:
        try:
            decided = await value
        except Exception as error:
            _raise_note_error(self.name, error)
        return await self._branch(level, "", decided, score)

    async def _observed(self, level: Level, score: Any) -> Any:
        sid = self.node_id(level)
        await level.waypoint("branch", sid, self.name, score)
        try:
            value = self.decide(score)
            if is_awaitable(value):
                value = await value
        except Exception as error:
            _raise_note_error(self.name, error)
        label = "true" if value else "false"
        await level.emit(ev.BranchTaken, sid, name=self.name, value=value, branch=label)
        return await self._branch(level, sid, value, score)

    def _branch(self, level: Level, sid: str, value: Any, score: Any) -> Awaitable[Any]:
        label = "true" if value else "false"
        tasks = self.branches[bool(value)]
        bid = "" if level.plain else f"{sid}/{label}"
        if self.parallel and len(tasks) > 1:
            strategy = MergeStrategy.fail_on_conflict
            return run_parallel(level, bid, f"{self.name}/{label}", tasks, score, strategy)
        return run_in_order(level, bid, tasks, score)

    def describe(self, parent_id: str) -> dict[str, Any]:
        nid = f"{parent_id}/{self.seg}"
        branches = []
        for value, label in ((True, "true"), (False, "false")):
            bid = f"{nid}/{label}"
            notes = [note_node(f"{bid}/{t.seg}", t.name, t.fn) for t in self.branches[value]]
            branches.append({"kind": "branch", "name": label, "id": bid, "value": value, "children": notes})
        return {
            "kind": "split",
            "name": self.name,
            "id": nid,
            "condition": callable_info(self.condition),
            "parallel": self.parallel,
            "children": branches,
        }


class FreshCopier:
    """Makes deep copies of one template score quickly: fields that cannot change in place are
    shared, and only the others are copied (the template itself is never handed out)."""

    __slots__ = ("cls", "copied", "shared", "template")

    def __init__(self, template: Any) -> None:
        self.template = copy.deepcopy(template)
        self.cls = type(template)
        try:
            fields = vars(self.template)
        except TypeError:  # __slots__ score: deep-copy it whole
            self.shared: dict[str, Any] | None = None
            self.copied: tuple[str, ...] = ()
            return
        self.shared = {k: v for k, v in fields.items() if is_immutable(v)}
        self.copied = tuple(k for k in fields if k not in self.shared)

    def __call__(self) -> Any:
        if self.shared is None:
            return copy.deepcopy(self.template)
        new = object.__new__(self.cls)
        target = new.__dict__
        target.update(self.shared)
        if self.copied:
            source = self.template.__dict__
            for key in self.copied:
                target[key] = copy_value(source[key])
        return new


class Definition(Protocol):
    """What a ``.child`` measure needs of the cadence it runs (:class:`cadence.Cadence` is one).

    Measures sit below the definition that holds them, so they see it through this protocol.
    """

    @property
    def name(self) -> str: ...

    @property
    def measures(self) -> Sequence[Measure]: ...

    def get_score(self) -> Any: ...

    def score_type_name(self) -> str | None: ...

    def execute(self, level: Level, score: Any) -> Awaitable[Any]: ...


class ChildMeasure(Measure):
    """``.child(name, cadence, merge)``: a nested cadence on a fresh score, merged into this one."""

    kind = "child"

    def __init__(
        self, name: str, child: Definition, merge: Callable[..., Any], score: Callable[..., Any] | None
    ) -> None:
        self.name = name
        self.seg = segment(name)
        self.child = child
        self.merge = check_task(f".child({name!r}) merge", merge)
        self.merge_call = make_caller(merge)  # sync user callables run in the shared pool
        if score is None and child.get_score() is None:
            msg = (
                f".child({name!r}): cadence {child.name!r} has no score of its own; give it one "
                "(Cadence(name, score)) or pass score=lambda parent: ChildScore(...)"
            )
            raise DefinitionError(msg)
        self.score_factory = score
        self.make_score = None if score is None else make_caller(score)
        # A private copy: the child's construction score may be mutated by runs of the child itself.
        self.fresh = FreshCopier(child.get_score()) if score is None else None

    def run(self, level: Level, score: Any) -> Awaitable[Any]:
        return self._plain(level, score) if level.plain else self._observed(level, score)

    async def _child_score(self, score: Any) -> Any:
        try:
            if self.fresh is not None:
                return self.fresh()
            assert self.make_score is not None
            child_score = self.make_score(score)
            return (await child_score) if is_awaitable(child_score) else child_score
        except Exception as error:
            _raise_note_error(self.name, error)

    async def _merge(self, score: Any, child_score: Any) -> Any:
        try:
            merged = self.merge_call(score, child_score)
            if is_awaitable(merged):
                merged = await merged
        except Exception as error:
            _raise_note_error(self.name, error)
        return carry(score, merged)

    async def _plain(self, level: Level, score: Any) -> Any:
        if self.fresh is not None:
            child_score = self.fresh()
        else:  # as in _child_score, inline
            try:
                child_score = self.make_score(score)  # type: ignore[misc]
                if is_awaitable(child_score):
                    child_score = await child_score
            except Exception as error:
                _raise_note_error(self.name, error)
        child_score = await self.child.execute(level.child(self.child, ""), child_score)
        try:  # as in _merge, inline: this is the hot path of unobserved runs
            merged = self.merge_call(score, child_score)
            if merged is None:
                return score
            if is_awaitable(merged):
                merged = await merged
        except Exception as error:
            _raise_note_error(self.name, error)
        return carry(score, merged)

    async def _observed(self, level: Level, score: Any) -> Any:
        cid = self.node_id(level)
        await level.waypoint("child", cid, self.name, score)
        durable = level.durable
        child_score = durable.restored_score(cid) if durable is not None else None
        if child_score is None:  # the child's saved score, when a resume goes on inside it
            child_score = await self._child_score(score)
        await level.emit(ev.ChildEntered, cid, name=self.name, child=self.child.name, score=child_score)
        start = level.now()
        try:
            child_score = await self.child.execute(level.child(self.child, cid), child_score)
            score = await self._merge(score, child_score)
        except BaseException as error:
            duration = level.now() - start
            await level.emit(
                ev.ChildLeft,
                cid,
                name=self.name,
                child=self.child.name,
                duration=duration,
                error=error,
                score=score,
            )
            raise
        duration = level.now() - start
        await level.emit(
            ev.ChildLeft, cid, name=self.name, child=self.child.name, duration=duration, score=score
        )
        return score

    def describe(self, parent_id: str) -> dict[str, Any]:
        nid = f"{parent_id}/{self.seg}"
        return {
            "kind": "child",
            "name": self.name,
            "id": nid,
            "cadence": self.child.name,
            "merge": callable_info(self.merge),
            "score_type": self.child.score_type_name(),
            "children": [m.describe(nid) for m in self.child.measures],
        }
