"""Merging the copies of ``.sync`` tasks back into the score.

A merge strategy is a callable ``(original, snapshots, changes) -> Mapping | None``:
``snapshots`` are the tasks' scores (each a :class:`Snapshot`, declaration order) and ``changes``
the fields each task changed (same order). It returns the field values to write to the original
(or ``None`` after writing them itself) and raises :class:`MergeConflict` when it cannot decide.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from numbers import Number
from typing import Any, NamedTuple, cast

from ._fork import changes_of
from ._score import ImmutableScore
from .exceptions import MergeConflict

__all__ = ["MergeFn", "MergeStrategy", "Snapshot", "apply_fields", "merge_snapshots", "overlaps"]


class Snapshot(NamedTuple):
    """One parallel task's result: its name, position and score copy."""

    task: str
    position: int
    score: Any


MergeFn = Callable[[Any, Sequence[Snapshot], Sequence[Mapping[str, Any]]], "Mapping[str, Any] | None"]


def overlaps(
    snapshots: Sequence[Snapshot], changes: Sequence[Mapping[str, Any]]
) -> dict[str, list[tuple[str, Any]]]:
    """Fields that two or more tasks set to different values: ``{field: [(task, value), ...]}``."""
    seen: set[str] = set()
    shared = False
    for changed in changes:
        if not seen.isdisjoint(changed):
            shared = True
            break
        seen.update(changed)
    if not shared:  # the usual case: every task wrote its own fields
        return {}
    writers: dict[str, list[tuple[str, Any]]] = {}
    for snap, changed in zip(snapshots, changes, strict=True):
        for name, value in changed.items():
            writers.setdefault(name, []).append((snap.task, value))
    return {name: ws for name, ws in writers.items() if len(ws) > 1 and not _all_equal([v for _, v in ws])}


def _all_equal(values: Sequence[Any]) -> bool:
    first = values[0]
    try:
        return all(v is first or bool(v == first) for v in values[1:])
    except Exception:
        return False


def fail_on_conflict(
    original: Any, snapshots: Sequence[Snapshot], changes: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Take every change; two tasks setting one field to different values is a :class:`MergeConflict`."""
    for name, writers in overlaps(snapshots, changes).items():
        raise MergeConflict(name, [t for t, _ in writers], [v for _, v in writers])
    merged: dict[str, Any] = {}
    for changed in changes:
        merged.update(changed)
    return merged


def last_write_wins(
    original: Any, snapshots: Sequence[Snapshot], changes: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Take every change; where tasks disagree the later task in declaration order wins."""
    merged: dict[str, Any] = {}
    for changed in changes:
        merged.update(changed)
    return merged


def smart_merge(
    original: Any, snapshots: Sequence[Snapshot], changes: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Combine disagreeing changes by type: lists append, sets union, dicts per key, numbers add deltas."""
    writers: dict[str, list[tuple[str, Any]]] = {}
    for snap, changed in zip(snapshots, changes, strict=True):
        for name, value in changed.items():
            writers.setdefault(name, []).append((snap.task, value))
    merged: dict[str, Any] = {}
    for name, ws in writers.items():
        # Several tasks adding 1 to a counter write equal values: they still add up.
        merged[name] = ws[0][1] if len(ws) == 1 else _combine(name, getattr(original, name, None), ws)
    return merged


def _combine(path: str, base: Any, writers: list[tuple[str, Any]]) -> Any:
    tasks = [t for t, _ in writers]
    values = [v for _, v in writers]

    def conflict(reason: str) -> MergeConflict:
        return MergeConflict(path, tasks, values, reason=reason)

    if _is_number(base) and all(_is_number(v) for v in values):
        return base + sum(v - base for v in values)
    if isinstance(base, list) and all(isinstance(v, list) for v in values):
        result = list(base)
        for v in values:
            if v[: len(base)] != base:
                raise conflict("a task changed the list's existing items; only appends can be merged")
            result.extend(v[len(base) :])
        return result
    if isinstance(base, (set, frozenset)) and all(isinstance(v, (set, frozenset)) for v in values):
        added = set().union(*(v - base for v in values))
        removed = set().union(*(base - v for v in values))
        return type(base)((base - removed) | added)
    if isinstance(base, dict) and all(isinstance(v, dict) for v in values):
        return _merge_dicts(path, base, writers)
    if _all_equal(values):
        return values[0]
    raise conflict(f"{type(base).__name__} values cannot be combined")


_DELETED: Any = object()


def _merge_dicts(path: str, base: dict[Any, Any], writers: list[tuple[str, Any]]) -> dict[Any, Any]:
    result = dict(base)
    keys = set(base).union(*(set(v) for _, v in writers))
    for key in keys:
        edits = [
            (task, value.get(key, _DELETED))
            for task, value in writers
            if value.get(key, _DELETED) is not base.get(key, _DELETED)
            and _neq(value.get(key, _DELETED), base.get(key, _DELETED))
        ]
        if not edits:
            continue
        key_path = f"{path}[{key!r}]"
        if len(edits) == 1 or _all_equal([v for _, v in edits]):
            new = edits[0][1]
        elif isinstance(base.get(key), dict) and all(isinstance(v, dict) for _, v in edits):
            new = _merge_dicts(key_path, base[key], edits)
        else:
            raise MergeConflict(key_path, [t for t, _ in edits], [v for _, v in edits], reason="same key")
        if new is _DELETED:
            result.pop(key, None)
        else:
            result[key] = new
    return result


def _neq(a: Any, b: Any) -> bool:
    try:
        return bool(a != b)
    except Exception:
        return True


def _is_number(v: Any) -> bool:
    return isinstance(v, Number) and not isinstance(v, bool)


class MergeStrategy:
    """The built-in merge strategies (any callable with the same signature works too)."""

    fail_on_conflict = staticmethod(fail_on_conflict)
    last_write_wins = staticmethod(last_write_wins)
    smart_merge = staticmethod(smart_merge)


def apply_fields(score: Any, values: Mapping[str, Any]) -> Any:
    """Write ``values`` into ``score``; an immutable score is replaced, so use the returned one."""
    if not values:
        return score
    if isinstance(score, ImmutableScore):
        init = {f.name for f in dataclasses.fields(cast(Any, score)) if f.init}
        new = score.replace(**{k: v for k, v in values.items() if k in init})
        for k, v in values.items():
            if k not in init:
                object.__setattr__(new, k, v)
        return new
    for name, value in values.items():
        setattr(score, name, value)
    return score


def merge_snapshots(original: Any, snapshots: Sequence[Any], strategy: MergeFn = fail_on_conflict) -> Any:
    """Merge copies of ``original`` (changed by parallel work) back into it with ``strategy``.

    ``snapshots`` may be scores or :class:`Snapshot` objects. Returns the merged score: ``original``
    itself, or a new one for an :class:`ImmutableScore`.
    """
    snaps = [
        s if isinstance(s, Snapshot) else Snapshot(task=f"snapshot[{i}]", position=i, score=s)
        for i, s in enumerate(snapshots)
    ]
    changes = [changes_of(original, s.score) for s in snaps]
    values = strategy(original, snaps, changes)
    return apply_fields(original, values or {})


def strategy_name(strategy: Callable[..., Any]) -> str:
    return getattr(strategy, "__name__", type(strategy).__name__)
