"""The activities around the notes: a split's condition, fallbacks, merges, a child's score, the
error handler, and the run's start and end for hooks and reporters."""

from __future__ import annotations

import copy
import time
from typing import Any

from ... import events as ev
from ..._measures import segment
from ..._runtime import carry, is_awaitable, make_caller
from ..._scope import NoteScope, current_scope
from ...exceptions import CadenceError, NoteError, ParallelNoteError
from ...merge import Snapshot, apply_fields
from ...resilience import _wants_score
from ...serialize import (
    SerializationError,
    restore_score,
    restore_value,
    serialize_score,
    serialize_value,
)
from ._entries import Entry, changes_of, import_type, restore
from ._plan import type_ref

__all__ = [
    "child_merge",
    "child_score",
    "condition",
    "ended",
    "fallback",
    "on_error",
    "rebuild_error",
    "started",
    "sync_merge",
]


async def _call(fn: Any, *args: Any) -> Any:
    result = make_caller(fn)(*args)
    return (await result) if is_awaitable(result) else result


def rebuild_error(error: dict[str, Any] | None) -> BaseException | None:
    """An exception like the one a note raised in another process: its class (found by
    ``module:Qualname``) with its message; ``Exception(message)`` when the class cannot be rebuilt."""
    if not error:
        return None
    ref, message = error.get("type") or "builtins:Exception", error.get("message") or ""
    try:
        cls = import_type(ref)
    except Exception:
        return Exception(message)
    if isinstance(cls, type) and issubclass(cls, CadenceError):
        text = message.removeprefix(f"[{cls.default_code}] ")
        made = cls.__new__(cls)
        Exception.__init__(made, text)
        made.message, made.code, made.details = text, cls.default_code, {}
        for attr in ("seconds", "note_name", "attempts", "last_error", "original_error", "reason"):
            if not hasattr(made, attr):
                setattr(made, attr, None)
        return made
    args = error.get("args")
    try:
        made = cls(*restore_value(args)) if isinstance(args, list) else cls(message)
    except Exception:
        return Exception(message)
    return made if isinstance(made, BaseException) else Exception(message)


def _failure(error: dict[str, Any] | None) -> BaseException | None:
    """The error a cadence's handler (or ``after_cadence``) sees: the NoteError a local run raises."""
    if not error:
        return None
    original = rebuild_error(
        {"type": error.get("type"), "message": error.get("error_message"), "args": error.get("args")}
    )
    kind = error.get("kind")
    if kind == "NoteError":
        return NoteError(error["message"], note_name=error.get("name") or "", original_error=original)
    if kind == "ParallelNoteError":
        return ParallelNoteError(
            error["message"],
            note_name=error.get("name") or "",
            group_name=error.get("group") or "",
            task_index=-1,
            original_error=original,
        )
    return original


async def fallback(entry: Entry, data: dict[str, Any]) -> dict[str, Any]:
    """A ``@fallback`` after the note's activity finally failed: the handler's value, or the default."""
    assert entry.fallback is not None
    policy = entry.fallback
    score = restore(entry, data)
    level = entry.level(data["workflow_id"])
    error = rebuild_error(data.get("error"))
    assert error is not None
    start = time.perf_counter()
    if policy.handler is not None:
        args = (score, error) if _wants_score(policy.handler) else (error,)
        value = await _call(policy.handler, *args)
    else:
        value = copy.deepcopy(policy.default)
    placed = policy._place((score,), value)
    after = carry(score, placed)
    scope = level.scope(entry.node_id, entry.name, after)
    token = current_scope.set(scope)
    try:
        await _send(scope, ev.FallbackUsed, error=error, value=value)
    finally:
        current_scope.reset(token)
    duration = time.perf_counter() - start
    await level.emit(
        ev.NoteFinished, entry.node_id, name=entry.name, score=after, duration=duration, status="done"
    )
    try:
        encoded = serialize_value(value)
    except SerializationError:
        encoded = None
    return {"changes": changes_of(data["score"], after), "result": None, "skip": None, "value": encoded}


async def _send(scope: NoteScope, event_type: type[ev.Event], **fields: Any) -> None:
    if scope is not None:
        await scope.send(event_type, name=scope.name, **fields)


async def condition(entry: Entry, data: dict[str, Any]) -> dict[str, Any]:
    """A ``.split``'s condition: which branch to take."""
    score = restore(entry, data)
    value = entry.call(score)
    if is_awaitable(value):
        value = await value
    taken = bool(value)
    level = entry.level(data["workflow_id"])
    label = "true" if taken else "false"
    await level.emit(ev.BranchTaken, entry.node_id, name=entry.name, value=value, branch=label)
    return {"value": taken, "changes": changes_of(data["score"], score)}


async def sync_merge(entry: Entry, data: dict[str, Any]) -> dict[str, Any]:
    """A ``.sync`` group's own merge function, on the members' copies."""
    base = restore(entry, data)
    snaps: list[Snapshot] = []
    changes: list[dict[str, Any]] = []
    for i, member in enumerate(data["snapshots"]):
        copy_data = {**data["score"], **member["changes"]}
        snap_score = restore(entry, {**data, "score": copy_data})
        snaps.append(Snapshot(member["task"], i, snap_score))
        changes.append({k: getattr(snap_score, k) for k in member["changes"]})
    values = entry.fn(base, snaps, changes)
    if is_awaitable(values):
        values = await values
    after = apply_fields(base, values or {})
    return {"changes": changes_of(data["score"], after)}


async def child_score(entry: Entry, data: dict[str, Any]) -> dict[str, Any]:
    """A ``.child``'s score: ``score(parent)``, or a fresh copy of the child's construction score."""
    if entry.fresh is not None:
        made = entry.fresh()
    else:
        parent = restore(entry, data)
        made = entry.call(parent)
        if is_awaitable(made):
            made = await made
    return {"score": serialize_score(made), "score_type": type_ref(type(made))}


async def child_merge(entry: Entry, data: dict[str, Any]) -> dict[str, Any]:
    """A ``.child``'s merge: ``merge(parent, child)`` into the parent's score."""
    parent = restore(entry, data)
    ref = data.get("child_score_type")
    if ref:
        child = restore_score(import_type(ref), data["child_score"])
    else:
        child_def = entry.child[-1][0]
        child = restore_score(type(child_def.get_score()), data["child_score"])
    merged = entry.call(parent, child)
    if is_awaitable(merged):
        merged = await merged
    return {"changes": changes_of(data["score"], carry(parent, merged))}


async def on_error(entry: Entry, data: dict[str, Any]) -> dict[str, Any]:
    """``.on_error(handler)``: the handler on the score and the failure."""
    score = restore(entry, data)
    error = _failure(data.get("error"))
    assert error is not None
    handler, stop = entry.definition._error_handler
    level = entry.level(data["workflow_id"])
    await level.emit(ev.ErrorHandled, entry.node_id, error=error, stop=stop)
    result = await _call(handler, score, error)
    return {"changes": changes_of(data["score"], carry(score, result))}


async def started(entry: Entry, data: dict[str, Any]) -> dict[str, Any]:
    """The cadence starts: ``before_cadence`` hooks (RunStarted)."""
    score = restore(entry, data)
    level = entry.level(data["workflow_id"])
    await level.emit(ev.RunStarted, entry.node_id or segment(entry.name), score=score)
    return {}


async def ended(entry: Entry, data: dict[str, Any]) -> dict[str, Any]:
    """The cadence ended: ``after_cadence`` hooks and reporters (RunFinished)."""
    score = restore(entry, data)
    level = entry.level(data["workflow_id"])
    await level.emit(
        ev.RunFinished,
        entry.node_id,
        score=score,
        duration=float(data.get("duration") or 0.0),
        status=data.get("status") or "done",
        error=_failure(data.get("error")),
    )
    return {}
