"""Saving a run as it goes and planning its resume: the glue between a run and a checkpoint store.

A run with a store carries one :class:`RunState` on its levels. After every measure it hands the store
the fields of the score that changed since the last checkpoint of that scope (a value is compared with
what was last saved: the same immutable object is not even serialised again; a mutable one is
serialised and compared as text). Writes happen on the store's own thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import importlib
import json
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from ._fingerprint import code_hashes, first_difference, shape, structure
from ._fork import is_immutable
from ._measures import segment
from .checkpoint import CheckpointError, CheckpointStore, CheckpointWrite, SavedRun
from .serialize import TRANSIENT, restore_score, restore_value, serialize_value

__all__ = ["Durability", "RunState", "code_hashes", "structure"]

log = logging.getLogger("cadence")
Durability = Literal["sync", "async", "exit"]
MODES = ("sync", "async", "exit")
#: Measures whose run saves scopes below their own id (a child's score, members' copies), cleared once merged.
_NESTED = frozenset({"child", "sync", "split"})


# ---------------------------------------------------------------- score fields


_names_cache: dict[type, tuple[str, ...]] = {}


def saved_names(cls: type) -> tuple[str, ...]:
    """The fields of a score class a checkpoint saves: its dataclass fields not marked TRANSIENT."""
    names = _names_cache.get(cls)
    if names is None:
        if not dataclasses.is_dataclass(cls):
            msg = (
                f"a checkpointed run needs a dataclass score; {cls.__qualname__} is not one "
                "(make it a @dataclass subclass of cadence.Score)"
            )
            raise CheckpointError(msg)
        marks = TRANSIENT.items()
        names = tuple(
            f.name for f in dataclasses.fields(cls) if not all(f.metadata.get(k) == v for k, v in marks)
        )
        _names_cache[cls] = names
    return names


def _type_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _find_type(path: str) -> type:
    module, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[no-any-return]


def _dumps(value: Any, path: str) -> str:
    return json.dumps(serialize_value(value, path=path), separators=(",", ":"), ensure_ascii=False)


def restore_scope(saved: Mapping[str, str]) -> Any:
    """The score saved in one scope."""
    cls = _find_type(json.loads(saved["$type"]))
    data = {name: json.loads(text) for name, text in saved.items() if not name.startswith("$")}
    return restore_score(cls, data)


def restore_fields(saved: Mapping[str, str]) -> dict[str, Any]:
    return {name: restore_value(json.loads(text)) for name, text in saved.items() if not name.startswith("$")}


# ---------------------------------------------------------------- writing


class _Writer:
    """The store's writer thread: checkpoints are written in the order they were handed over."""

    def __init__(self, store: CheckpointStore) -> None:
        self.store = store
        self.queue: queue.SimpleQueue[tuple[CheckpointWrite, concurrent.futures.Future[None]]] = (
            queue.SimpleQueue()
        )
        self.thread = threading.Thread(target=self._loop, name="cadence-checkpoints", daemon=True)
        self.thread.start()

    def submit(self, batch: CheckpointWrite) -> concurrent.futures.Future[None]:
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.queue.put((batch, done))
        return done

    def _loop(self) -> None:
        while True:
            batch, done = self.queue.get()
            done.set_running_or_notify_cancel()  # written even if no one waits for it any more
            try:
                self.store.write(batch)
            except BaseException as error:
                if not done.cancelled():
                    done.set_exception(error)
            else:
                if not done.cancelled():
                    done.set_result(None)


_writers: weakref.WeakKeyDictionary[Any, _Writer] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def writer_for(store: CheckpointStore) -> _Writer:
    with _writers_lock:
        writer = _writers.get(store)
        if writer is None:
            writer = _writers[store] = _Writer(store)
        return writer


class _Batch:
    """Checkpoints gathered before they are written (one checkpoint, or a whole run in ``exit`` mode)."""

    __slots__ = ("done", "drop", "fields", "header", "status")

    def __init__(self) -> None:
        self.fields: dict[str, dict[str, str]] = {}
        self.done: list[str] = []
        self.drop: list[str] = []
        self.header: tuple[str, str] | None = None
        self.status: str | None = None

    def dropped(self, node_id: str) -> None:
        prefix = node_id + "/"
        for scope in [s for s in self.fields if s == node_id or s.startswith(prefix)]:
            del self.fields[scope]
        self.done = [d for d in self.done if not d.startswith(prefix)]
        self.drop.append(node_id)

    def freeze(self, run_id: str) -> CheckpointWrite:
        cadence, meta = self.header if self.header is not None else (None, None)
        return CheckpointWrite(
            run_id=run_id,
            cadence=cadence,
            meta=meta,
            status=self.status,
            fields=self.fields,
            done=tuple(self.done),
            drop=tuple(self.drop),
        )


class RunState:
    """What a checkpointed (or resumed, or started-elsewhere) run carries on its levels."""

    __slots__ = ("batch", "cadence", "inflight", "meta", "mode", "run_id", "saved", "seen", "skip", "writer")

    def __init__(
        self,
        *,
        run_id: str,
        cadence: str,
        store: CheckpointStore | None,
        mode: Durability,
        meta: Mapping[str, Any],
        skip: Iterable[str] = (),
        saved: SavedRun | None = None,
    ) -> None:
        if mode not in MODES:
            msg = f"durability={mode!r}; use one of {', '.join(map(repr, MODES))}"
            raise CheckpointError(msg, run_id=run_id)
        self.run_id = run_id
        self.cadence = cadence
        self.mode = mode
        self.meta = meta
        self.writer = writer_for(store) if store is not None else None
        self.skip = frozenset(skip)  # node ids not to run: completed, or before start_at
        self.saved = saved
        self.seen: dict[
            str, dict[str, tuple[Any, str, bool]]
        ] = {}  # scope -> name -> (value, text, immutable)
        self.inflight: list[concurrent.futures.Future[None]] = []
        self.batch = _Batch()
        if saved is not None:  # what is in the store counts as saved: the next checkpoint writes only changes
            for scope, values in saved.fields.items():
                self.seen[scope] = {name: (None, text, False) for name, text in values.items()}

    # -------------------------------------------------------- what to restore

    def restored_score(self, scope: str) -> Any | None:
        """The score saved in ``scope`` (a child's, on resume), or None."""
        if self.saved is None or scope not in self.saved.fields or "$type" not in self.saved.fields[scope]:
            return None
        return restore_scope(self.saved.fields[scope])

    def member_changes(self, member_id: str) -> dict[str, Any] | None:
        """The fields a finished ``.sync`` member changed (on resume), or None if it must run."""
        if member_id not in self.skip or self.saved is None:
            return None
        return restore_fields(self.saved.fields.get(member_id, {}))

    # -------------------------------------------------------- saving

    def _delta(self, scope: str, score: Any, names: Iterable[str] | None = None) -> dict[str, str]:
        seen = self.seen.get(scope)
        if seen is None:
            seen = self.seen[scope] = {}
        out: dict[str, str] = {}
        if "$type" not in seen:
            out["$type"] = text = json.dumps(_type_path(score.__class__))
            seen["$type"] = (None, text, False)
        for name in saved_names(score.__class__) if names is None else names:
            value = getattr(score, name)
            last = seen.get(name)
            if last is not None and last[0] is value and last[2]:
                continue  # the same immutable object: unchanged, and not serialised again
            text = _dumps(value, f"score.{name}")
            seen[name] = (value, text, is_immutable(value))
            if last is None or last[1] != text:
                out[name] = text
        return out

    async def begin(self, root: str, score: Any) -> None:
        """The run's header, its whole score (only what changed, on resume) and the measures skipped."""
        if self.writer is None:
            return
        batch = self.batch
        if self.saved is None:  # a new run under an id the store may know: nothing of the old one stays
            batch.dropped(root)
        batch.header = (self.cadence, json.dumps(self.meta, separators=(",", ":")))
        batch.status = "running"
        batch.fields[root] = self._delta(root, score)
        batch.done.extend(sorted(self.skip))
        await self._flush()

    async def measure_done(self, scope: str, node_id: str, kind: str, score: Any) -> None:
        if self.writer is None:
            return
        batch = self.batch
        if kind in _NESTED:
            batch.dropped(node_id)
            for key in [s for s in self.seen if s == node_id or s.startswith(node_id + "/")]:
                del self.seen[key]
        changed = self._delta(scope, score)
        if changed:
            batch.fields.setdefault(scope, {}).update(changed)
        batch.done.append(node_id)
        await self._flush()

    async def member_done(self, member_id: str, changes: Mapping[str, Any]) -> None:
        """A ``.sync`` member finished: its changed fields are saved on their own, under its id."""
        if self.writer is None:
            return
        fields = {"$member": "1"}
        for name, value in changes.items():
            fields[name] = _dumps(value, f"score.{name}")
        self.batch.fields.setdefault(member_id, {}).update(fields)
        self.batch.done.append(member_id)
        await self._flush()

    async def finish(self, root: str, score: Any, status: str) -> None:
        """The run ended: its last score and its status. On a failure, a write that fails too is
        logged, so that it never hides the run's own error."""
        if self.writer is None:
            return
        batch = self.batch
        if status in ("done", "skipped", "interrupted"):  # an ended run's last score
            changed = self._delta(root, score)
            if changed:
                batch.fields.setdefault(root, {}).update(changed)
        # A failed or cancelled run keeps the score of its last completed measure: what a failed
        # note half-wrote is not saved, so the resume runs that note again on a clean score.
        batch.status = status
        try:
            await self._flush(final=True)
        except Exception:
            if status == "done":
                raise
            log.exception("run %r: its end (%s) could not be saved", self.run_id, status)

    async def _flush(self, *, final: bool = False) -> None:
        assert self.writer is not None
        if self.mode == "exit" and not final:
            return
        batch, self.batch = self.batch, _Batch()
        future = self.writer.submit(batch.freeze(self.run_id))
        if self.mode == "sync":
            # Shielded: a .sync member cancelled while its copy is being saved keeps the copy saved.
            await asyncio.shield(asyncio.wrap_future(future))
            return
        self.inflight = [f for f in self.inflight if not f.done() or f.exception() is not None]
        self.inflight.append(future)
        failed = next((f for f in self.inflight if f.done() and f.exception() is not None), None)
        if failed is not None or final:
            pending, self.inflight = self.inflight, []
            for f in pending:
                await asyncio.wrap_future(f)  # raises a failed write's error


def new_meta(definition: Any, durability: Durability) -> dict[str, Any]:
    return {**shape(definition), "durability": durability, "started": time.time()}


def top_ids(definition: Any, root: str) -> list[str]:
    return [f"{root}/{m.seg}" for m in definition.measures]


def start_skip(definition: Any, root: str, start_at: str | None) -> list[str]:
    """The top-level measures before ``start_at`` (which must be one of them)."""
    if start_at is None:
        return []
    ids = top_ids(definition, root)
    target = start_at if start_at.startswith(root + "/") else f"{root}/{start_at}"
    if target not in ids:
        msg = (
            f"start_at={start_at!r} is not a measure of cadence {definition.name!r}; a run can start at "
            f"one of its top-level measures (a .sync group or child as a whole): {', '.join(ids)}"
        )
        raise CheckpointError(msg)
    return ids[: ids.index(target)]


def check_resumable(definition: Any, run_id: str, saved: SavedRun | None, store: Any) -> list[str]:
    """Refuse what cannot be resumed; returns the node ids whose code changed since the checkpoint."""
    if saved is None:
        msg = (
            f"no checkpoints of run {run_id!r} in {store!r}; "
            "cadence.pending(store) lists the runs that can be resumed"
        )
        raise CheckpointError(msg, run_id=run_id)
    if saved.finished:
        msg = f"run {run_id!r} already ended ({saved.status}); only unfinished runs are resumed"
        raise CheckpointError(msg, run_id=run_id)
    if saved.cadence != definition.name:
        msg = (
            f"run {run_id!r} is a run of cadence {saved.cadence!r}, not {definition.name!r}; "
            f"resume it with that cadence"
        )
        raise CheckpointError(msg, run_id=run_id)
    now = structure(definition.describe())
    before = [tuple(pair) for pair in saved.meta.get("structure", [])]
    if before != now:
        msg = (
            f"cadence {definition.name!r} changed since run {run_id!r} was checkpointed: "
            f"{first_difference(before, now)}; a run resumes only on the definition it started with "
            "(start a new run, or restore the old definition)"
        )
        raise CheckpointError(msg, run_id=run_id)
    old_code: Mapping[str, str] = saved.meta.get("code", {})
    return [nid for nid, digest in code_hashes(definition, now[0][0]).items() if old_code.get(nid) != digest]


def run_state(
    definition: Any, store: CheckpointStore | None, run_id: str | None, mode: Durability, start_at: str | None
) -> RunState:
    """The state of a new run with a store and/or ``start_at``."""
    root = segment(definition.name)  # describe()["id"], without describing every note
    skip = start_skip(definition, root, start_at)
    if store is not None and run_id is None:
        run_id = os.urandom(12).hex()
    meta = new_meta(definition, mode) if store is not None else {}
    return RunState(
        run_id=run_id or "", cadence=definition.name, store=store, mode=mode, meta=meta, skip=skip
    )


def resume_state(
    definition: Any, run_id: str, store: CheckpointStore, saved: SavedRun | None, mode: Durability | None
) -> tuple[RunState, Any, tuple[str, ...]]:
    """The state, score and changed notes of a resumed run; refuses what cannot be resumed."""
    changed = check_resumable(definition, run_id, saved, store)
    assert saved is not None
    mode = mode or saved.meta.get("durability") or "sync"
    meta = {**new_meta(definition, mode), "resumed_from": saved.meta.get("started")}
    state = RunState(
        run_id=run_id,
        cadence=definition.name,
        store=store,
        mode=mode,
        meta=meta,
        skip=saved.done,
        saved=saved,
    )
    root = segment(definition.name)  # describe()["id"], without describing every note
    score = state.restored_score(root)
    if score is None:
        msg = f"run {run_id!r} has no saved score in {store!r}; it cannot be resumed"
        raise CheckpointError(msg, run_id=run_id)
    return state, score, tuple(changed)
