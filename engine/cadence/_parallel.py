"""``.sync`` and ``.split(..., parallel=True)``: tasks at once, each on a fork of the score, merged after."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine, Generator, Mapping, Sequence
from types import CoroutineType, coroutine
from typing import Any, NoReturn, cast

from . import events as ev
from ._fork import changes_of, fork_all
from ._runtime import Level, Stop, Task, call_task, carry, is_awaitable
from .exceptions import NoteError, ParallelNoteError, Skip
from .merge import (
    MergeFn,
    Snapshot,
    apply_fields,
    fail_on_conflict,
    last_write_wins,
    overlaps,
    strategy_name,
)
from .score import Score

__all__ = ["run_parallel", "run_plain"]

Running = list["asyncio.Future[Any]"]


def _future(loop: asyncio.AbstractEventLoop, result: Any) -> asyncio.Future[Any]:
    if type(result) is CoroutineType:
        return loop.create_task(result)
    if is_awaitable(result):
        return asyncio.ensure_future(cast("Awaitable[Any]", result))
    done: asyncio.Future[Any] = loop.create_future()
    done.set_result(result)
    return done


@coroutine
def _one_turn() -> Generator[None, None, None]:
    """Let the loop run once (what ``asyncio.sleep(0)`` does)."""
    yield


def _failure(running: Running) -> asyncio.Future[Any] | None:
    """The first ended task (declaration order) that failed or was cancelled."""
    for t in running:
        if t.done() and (t.cancelled() or t.exception() is not None):
            return t
    return None


class _Waiter:
    """Done callback of a group's pending tasks: resolves ``future`` with the first task that fails
    (or is cancelled), or with None once all have ended."""

    __slots__ = ("future", "left")

    def __init__(self, future: asyncio.Future[asyncio.Future[Any] | None], left: int) -> None:
        self.future = future
        self.left = left

    def __call__(self, task: asyncio.Future[Any]) -> None:
        self.left -= 1
        if self.future.done():
            return
        if task.cancelled() or task.exception() is not None:
            self.future.set_result(task)
        elif not self.left:
            self.future.set_result(None)


async def _settle(running: Running) -> asyncio.Future[Any] | None:
    """Wait until every task has ended or one has failed; returns the failed one (None: all ended well).

    What ``asyncio.gather`` does, for less: the tasks were just scheduled, so one turn of the loop
    lets each take its first step; tasks that end there (notes that never suspend) need no
    callback at all, and the rest get one light callback each. (``run_plain`` has this inline.)
    """
    for t in running:
        if not t.done():
            await _one_turn()
            break
    # Tasks that ended in that turn ended in their first step, and first steps run in declaration
    # order: the first failure in that order is the first in time, as gather would have it.
    failed = _failure(running)
    if failed is None:
        pending = [t for t in running if not t.done()]
        if pending:
            failed = await _wait(pending)
    return failed


def _wait(pending: Running) -> asyncio.Future[asyncio.Future[Any] | None]:
    """A future resolved with the first of ``pending`` to fail, or with None once all have ended."""
    future: asyncio.Future[asyncio.Future[Any] | None] = pending[0].get_loop().create_future()
    waiter = _Waiter(future, len(pending))
    for t in pending:
        t.add_done_callback(waiter)
    return future


async def _cancel_all(running: Running) -> None:
    """Cancel the tasks and return once every one has ended (sync ones in threads run to their end)."""
    for t in running:
        t.cancel()
    await asyncio.gather(*running, return_exceptions=True)


async def _fail(
    running: Running, failed: asyncio.Future[Any], tasks: Sequence[Task], group: str, score: Any
) -> NoReturn:
    """Cancel the group, then raise ``failed``'s error as the group's (or stop cleanly for a Skip)."""
    await _cancel_all(running)  # raise once every task has ended
    first = failed.exception()  # a cancelled task raises its CancelledError here
    if not isinstance(first, Exception):
        raise cast(BaseException, first)
    if isinstance(first, (Stop, Skip)):
        raise Stop("skipped", score, getattr(first, "reason", "")) from None
    if isinstance(first, NoteError):
        raise first from None
    index = running.index(failed)
    name = tasks[index].name
    msg = f"parallel task {name!r} of {group!r} failed: {type(first).__name__}: {first}"
    raise ParallelNoteError(
        msg, note_name=name, group_name=group, task_index=index, original_error=first
    ) from first


def _union(changes: list[dict[str, Any]], later_wins: bool) -> dict[str, Any] | None:
    """Every task's changes in one mapping; None when two tasks wrote one field and not ``later_wins``."""
    merged: dict[str, Any] = {}
    for changed in changes:
        if changed:
            if merged and not later_wins and not merged.keys().isdisjoint(changed):
                return None
            merged.update(changed)
    return merged


def run_parallel(
    level: Level,
    group_id: str,
    group_name: str,
    tasks: Sequence[Task],
    score: Any,
    strategy: MergeFn,
) -> Coroutine[Any, Any, Any]:
    """Fork the score, run every task on its own copy at once, then merge (or fail and merge nothing)."""
    if level.plain:
        return run_plain(group_name, tasks, score, strategy)
    return _observed(level, group_id, group_name, tasks, score, strategy)


async def run_plain(group_name: str, tasks: Sequence[Task], score: Any, strategy: MergeFn) -> Any:
    """``run_parallel`` when nothing listens and nothing steps: no events, and the hot parts inline."""
    isolate = isinstance(score, Score)
    views = fork_all(score, len(tasks)) if isolate else [score] * len(tasks)
    loop = asyncio.get_running_loop()
    create_task = loop.create_task
    running: Running = []
    for task, view in zip(tasks, views, strict=True):
        result = task.call(view)
        running.append(create_task(result) if type(result) is CoroutineType else _future(loop, result))
    try:
        for t in running:  # _settle, inline
            if not t.done():
                await _one_turn()
                break
        failed = _failure(running)
        if failed is None:
            pending = [t for t in running if not t.done()]
            if pending:
                failed = await _wait(pending)
    except BaseException:  # this run was cancelled (or worse): so are the tasks
        await _cancel_all(running)
        raise
    if failed is not None:
        await _fail(running, failed, tasks, group_name, score)
    if not isolate:
        return score
    scores = [
        view if (result := t.result()) is None else carry(view, result)
        for view, t in zip(views, running, strict=True)
    ]
    changes = [changes_of(score, s) for s in scores]
    values: Mapping[str, Any] | None = None
    if strategy is fail_on_conflict or strategy is last_write_wins:  # no snapshots unless tasks overlap
        values = _union(changes, strategy is last_write_wins)
    if values is None:
        snaps = [Snapshot(task.name, i, s) for i, (task, s) in enumerate(zip(tasks, scores, strict=True))]
        values = strategy(score, snaps, changes)
    return apply_fields(score, values) if values else score


async def _observed(
    level: Level, group_id: str, group_name: str, tasks: Sequence[Task], score: Any, strategy: MergeFn
) -> Any:
    if level.controller is not None:
        await level.waypoint("fork", group_id, group_name, score)
    start = level.now()
    isolate = isinstance(score, Score)
    views = fork_all(score, len(tasks)) if isolate else [score] * len(tasks)
    ids = [f"{group_id}/{t.seg}" for t in tasks]
    await level.emit(ev.Forked, group_id, name=group_name, tasks=tuple(ids), score=score)
    if level.durable is None:
        running: Running = [
            asyncio.ensure_future(call_task(level, ids[i], t.name, t.call, views[i]))
            for i, t in enumerate(tasks)
        ]
    else:
        running = [_durable_member(level, ids[i], t, views[i], score) for i, t in enumerate(tasks)]
    if level.clock is not None:
        level.clock.fork(running)
    try:
        failed = await _settle(running)
    except BaseException:
        await _cancel_all(running)
        raise
    if failed is not None:
        await _fail(running, failed, tasks, group_name, score)
    if not isolate:
        return score
    snaps = [
        Snapshot(task.name, i, view if (result := t.result()) is None else carry(view, result))
        for i, (task, view, t) in enumerate(zip(tasks, views, running, strict=True))
    ]
    changes = [changes_of(score, s.score) for s in snaps]
    try:
        values = strategy(score, snaps, changes)
    except Exception as error:
        await _emit_merge(level, group_id, group_name, ids, strategy, snaps, changes, {}, score, start, error)
        raise
    if values:
        score = apply_fields(score, values)
    await _emit_merge(
        level, group_id, group_name, ids, strategy, snaps, changes, values or {}, score, start, None
    )
    return score


def _durable_member(level: Level, member_id: str, task: Task, view: Any, base: Any) -> asyncio.Future[Any]:
    """A member of a checkpointed run: a finished one (on resume) is not run again, its saved changes
    stand in for it; a new one saves its changes as soon as it finishes, whatever its siblings do."""
    durable = level.durable
    kept = durable.member_changes(member_id)
    if kept is not None:
        for name, value in kept.items():
            try:
                view.__dict__[name] = value  # a fork's own value shadows the base's
            except AttributeError:  # a __slots__ score's copy
                object.__setattr__(view, name, value)
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def member() -> Any:
        result = await call_task(level, member_id, task.name, task.call, view)
        copy = view if result is None else carry(view, result)
        await durable.member_done(member_id, changes_of(base, copy))
        return result

    return asyncio.ensure_future(member())


async def _emit_merge(
    level: Level,
    group_id: str,
    group_name: str,
    ids: list[str],
    strategy: MergeFn,
    snaps: list[Snapshot],
    changes: list[dict[str, Any]],
    merged: Any,
    score: Any,
    start: float,
    error: BaseException | None,
) -> None:
    if not level.sinks:
        return
    await level.emit(
        ev.Merged,
        group_id,
        name=group_name,
        duration=level.now() - start,
        tasks=tuple(ids),
        strategy=strategy_name(strategy),
        changes=tuple(changes),
        conflicts=overlaps(snaps, changes),
        merged=dict(merged),
        snapshots=tuple(s.score for s in snaps),
        score=score,
        error=error,
    )
