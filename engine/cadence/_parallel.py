"""``.sync`` and ``.split(..., parallel=True)``: tasks at once, each on a fork of the score, merged after."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Awaitable, Generator, Sequence
from types import CoroutineType
from typing import Any, cast

from . import events as ev
from ._fork import changes_of, fork_all
from ._runtime import Level, Stop, Task, call_task, carry, is_awaitable
from .exceptions import NoteError, ParallelNoteError, Skip
from .merge import MergeFn, Snapshot, apply_fields, overlaps, strategy_name
from .score import Score

__all__ = ["run_parallel"]


def _future(loop: asyncio.AbstractEventLoop, result: Any) -> asyncio.Future[Any]:
    if type(result) is CoroutineType:
        return loop.create_task(result)
    if is_awaitable(result):
        return asyncio.ensure_future(cast("Awaitable[Any]", result))
    done: asyncio.Future[Any] = loop.create_future()
    done.set_result(result)
    return done


@types.coroutine
def _one_turn() -> Generator[None, None, None]:
    """Let the loop run once (what ``asyncio.sleep(0)`` does)."""
    yield


def _failure(running: list[asyncio.Future[Any]]) -> asyncio.Future[Any] | None:
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


async def _settle(running: list[asyncio.Future[Any]]) -> asyncio.Future[Any] | None:
    """Wait until every task has ended or one has failed; returns the failed one (None: all ended well).

    What ``asyncio.gather`` does, for less: the tasks were just scheduled, so one turn of the loop
    lets each take its first step; tasks that end there (notes that never suspend) need no
    callback at all, and the rest get one light callback each.
    """
    for t in running:
        if not t.done():
            break
    else:
        return _failure(running)
    await _one_turn()
    # Tasks that ended in that turn ended in declaration order: the first failure is the first here.
    failed = _failure(running)
    if failed is not None:
        return failed
    pending = [t for t in running if not t.done()]
    if not pending:
        return None
    future: asyncio.Future[asyncio.Future[Any] | None] = asyncio.get_running_loop().create_future()
    waiter = _Waiter(future, len(pending))
    for t in pending:
        t.add_done_callback(waiter)
    return await future


async def run_parallel(
    level: Level,
    group_id: str,
    group_name: str,
    tasks: Sequence[Task],
    score: Any,
    strategy: MergeFn,
) -> Any:
    """Fork the score, run every task on its own copy at once, then merge (or fail and merge nothing)."""
    plain = level.plain
    if level.controller is not None:
        await level.checkpoint("fork", group_id, group_name, score)
    isolate = isinstance(score, Score)
    views = fork_all(score, len(tasks)) if isolate else [score] * len(tasks)
    names = [t.name for t in tasks]
    if plain:
        loop = asyncio.get_running_loop()
        running = [_future(loop, t.call_in_thread(v)) for t, v in zip(tasks, views, strict=True)]
    else:
        ids = [f"{group_id}/{t.seg}" for t in tasks]
        await level.emit(ev.Forked, group_id, name=group_name, tasks=tuple(ids), score=score)
        running = [
            asyncio.ensure_future(call_task(level, ids[i], names[i], t.call_in_thread, views[i]))
            for i, t in enumerate(tasks)
        ]
    try:
        failed = await _settle(running)
    except BaseException:  # this run was cancelled (or worse): so are the tasks
        for t in running:
            t.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        raise
    if failed is not None:
        for t in running:
            t.cancel()
        await asyncio.gather(*running, return_exceptions=True)  # raise once every task has ended
        first = failed.exception()  # a cancelled task raises its CancelledError here
        if not isinstance(first, Exception):
            raise cast(BaseException, first)
        if isinstance(first, (Stop, Skip)):
            raise Stop("skipped", score, getattr(first, "reason", "")) from None
        if isinstance(first, NoteError):
            raise first from None
        index = running.index(failed)
        msg = f"parallel task {names[index]!r} of {group_name!r} failed: {type(first).__name__}: {first}"
        raise ParallelNoteError(
            msg, note_name=names[index], group_name=group_name, task_index=index, original_error=first
        ) from first
    results = [t.result() for t in running]
    if not isolate:
        return score
    snaps = [
        Snapshot(name, i, view if result is None else carry(view, result))
        for i, (name, view, result) in enumerate(zip(names, views, results, strict=True))
    ]
    changes = [changes_of(score, s.score) for s in snaps]
    try:
        values = strategy(score, snaps, changes)
    except Exception as error:
        if not plain:
            await _emit_merge(level, group_id, group_name, strategy, snaps, changes, {}, score, error)
        raise
    if values:
        score = apply_fields(score, values)
    if not plain:
        await _emit_merge(level, group_id, group_name, strategy, snaps, changes, values or {}, score, None)
    return score


async def _emit_merge(
    level: Level,
    group_id: str,
    group_name: str,
    strategy: MergeFn,
    snaps: list[Snapshot],
    changes: list[dict[str, Any]],
    merged: Any,
    score: Any,
    error: BaseException | None,
) -> None:
    if not level.sinks:
        return
    await level.emit(
        ev.Merged,
        group_id,
        name=group_name,
        strategy=strategy_name(strategy),
        changes=tuple(changes),
        conflicts=overlaps(snaps, changes),
        merged=dict(merged),
        snapshots=tuple(s.score for s in snaps),
        score=score,
        error=error,
    )
