"""Checkpoints: a run's score saved after every measure, so the run can go on after a crash.

``await cadence.run(score, checkpoint=store, run_id="order-42")`` saves the score after every measure,
keyed by the measure's node id (the ids of :meth:`Cadence.describe`); ``await cadence.resume("order-42",
store)`` goes on from the first measure not completed. A store only keeps what the engine hands it;
the engine decides what to write (only the fields that changed) and when (``durability``).

A store is three methods (:class:`CheckpointStore`). :class:`SQLiteCheckpointStore` is the one to reach
for (one file, standard library, safe for several processes); :class:`InMemoryCheckpointStore` is for
tests. A store of your own is a page of code; Redis, for example (``redis`` is your dependency, not
the engine's)::

    import json, redis
    from cadence.checkpoint import CheckpointWrite, RunInfo, SavedRun

    class RedisCheckpointStore:
        def __init__(self, url: str) -> None:
            self.r = redis.Redis.from_url(url, decode_responses=True)

        def write(self, batch: CheckpointWrite) -> None:
            key = f"cadence:{batch.run_id}"
            with self.r.pipeline(transaction=True) as p:        # MULTI/EXEC: all or nothing
                for node_id in batch.drop:                        # a finished child or .sync group
                    for k in self.r.hkeys(f"{key}:fields"):
                        if k == node_id or k.startswith(node_id + "/"):
                            p.hdel(f"{key}:fields", k)
                    for k in self.r.smembers(f"{key}:done"):
                        if k.startswith(node_id + "/"):
                            p.srem(f"{key}:done", k)
                if batch.cadence is not None:
                    p.hset(key, mapping={"cadence": batch.cadence, "meta": batch.meta or "{}"})
                if batch.status is not None:
                    p.hset(key, "status", batch.status)
                    p.sadd("cadence:runs", batch.run_id)
                for scope, fields in batch.fields.items():     # the scope's JSON is read, updated, put back
                    saved = json.loads(self.r.hget(f"{key}:fields", scope) or "{}")
                    saved.update(fields)
                    p.hset(f"{key}:fields", scope, json.dumps(saved))
                if batch.done:
                    p.sadd(f"{key}:done", *batch.done)
                p.execute()

        def load(self, run_id: str) -> SavedRun | None:
            key = f"cadence:{run_id}"
            head = self.r.hgetall(key)
            if not head:
                return None
            fields = {s: json.loads(v) for s, v in self.r.hgetall(f"{key}:fields").items()}
            return SavedRun(run_id, head["cadence"], head["status"], json.loads(head["meta"]),
                            fields, frozenset(self.r.smembers(f"{key}:done")))

        def runs(self) -> list[RunInfo]:
            out = []
            for run_id in sorted(self.r.smembers("cadence:runs")):
                head = self.r.hgetall(f"cadence:{run_id}")
                out.append(RunInfo(run_id, head["cadence"], head["status"]))
            return out

(A Postgres one is the SQLite one below with ``%s`` placeholders and ``ON CONFLICT ... DO UPDATE``.)

What the engine writes: a run's *header* (its cadence, status, and meta: the definition's fingerprint
and each note's code hash), and per *scope* the score's fields as JSON text. The root score's scope is
the cadence's node id; a child cadence's score is saved under the child's node id while it runs, and a
finished ``.sync`` member's copy (only the fields it changed) under the member's node id. ``done`` holds
the node ids completed; ``drop`` clears a child's or a group's scopes and marks once it has merged.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .exceptions import CadenceError

if TYPE_CHECKING:
    import sqlite3

__all__ = [
    "CheckpointError",
    "CheckpointStore",
    "CheckpointWrite",
    "InMemoryCheckpointStore",
    "RunInfo",
    "SQLiteCheckpointStore",
    "SavedRun",
    "pending",
]

#: Statuses of a run that ended and is not resumed: it finished, a note skipped it, or it was interrupted.
_FINISHED = frozenset({"done", "skipped", "interrupted"})


class CheckpointError(CadenceError):
    """A run cannot be checkpointed or resumed as asked (code ``CHECKPOINT``); the message says why."""

    def __init__(self, message: str, *, run_id: str | None = None) -> None:
        super().__init__(message, code="CHECKPOINT", details={"run_id": run_id})
        self.run_id = run_id


@dataclasses.dataclass(frozen=True, slots=True)
class CheckpointWrite:
    """One checkpoint of one run; a store applies it atomically (all of it or nothing).

    Apply in this order: ``drop``, the header (``cadence``/``meta``, given on a run's first write),
    ``status``, ``fields`` (upsert each ``scope -> name -> JSON text``), ``done`` (add).
    """

    run_id: str
    cadence: str | None = None
    meta: str | None = None
    status: str | None = None
    fields: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    done: tuple[str, ...] = ()
    #: Node ids whose scopes (the id itself and every id below it) and ``done`` marks below it go.
    drop: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class SavedRun:
    """What a store holds for a run: what :meth:`CheckpointStore.load` returns."""

    run_id: str
    cadence: str
    status: str
    meta: Mapping[str, Any]
    fields: Mapping[str, Mapping[str, str]]
    done: frozenset[str]

    @property
    def finished(self) -> bool:
        return self.status in _FINISHED


@dataclasses.dataclass(frozen=True, slots=True)
class RunInfo:
    """One run of a store's listing."""

    run_id: str
    cadence: str
    status: str

    @property
    def finished(self) -> bool:
        return self.status in _FINISHED


@runtime_checkable
class CheckpointStore(Protocol):
    """Where checkpoints go. Methods are called on a worker thread, never on the event loop."""

    def write(self, batch: CheckpointWrite) -> None:
        """Apply one checkpoint atomically (see :class:`CheckpointWrite` for the order)."""

    def load(self, run_id: str) -> SavedRun | None:
        """Everything saved for ``run_id``, or None if the store has never seen it."""

    def runs(self) -> list[RunInfo]:
        """Every run the store holds, finished or not, in run id order."""


def pending(store: CheckpointStore) -> list[RunInfo]:
    """The runs of ``store`` that did not finish: their process died (status ``running``), they
    failed or were cancelled. Each can be resumed with ``await cadence.resume(info.run_id, store)``."""
    return [info for info in store.runs() if not info.finished]


def _under(key: str, node_id: str) -> bool:
    return key == node_id or key.startswith(node_id + "/")


class InMemoryCheckpointStore:
    """A store in this process's memory (tests, and runs that need resume within one process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, dict[str, Any]] = {}

    def write(self, batch: CheckpointWrite) -> None:
        with self._lock:
            run = self._runs.get(batch.run_id)
            if run is None:
                run = self._runs[batch.run_id] = {
                    "cadence": "",
                    "status": "running",
                    "meta": {},
                    "fields": {},
                    "done": set(),
                }
            for node_id in batch.drop:
                for scope in [s for s in run["fields"] if _under(s, node_id)]:
                    del run["fields"][scope]
                run["done"] = {d for d in run["done"] if not d.startswith(node_id + "/")}
            if batch.cadence is not None:
                run["cadence"] = batch.cadence
                run["meta"] = json.loads(batch.meta or "{}")
            if batch.status is not None:
                run["status"] = batch.status
            for scope, values in batch.fields.items():
                run["fields"].setdefault(scope, {}).update(values)
            run["done"].update(batch.done)

    def load(self, run_id: str) -> SavedRun | None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return None
            return SavedRun(
                run_id,
                run["cadence"],
                run["status"],
                run["meta"],
                {scope: dict(values) for scope, values in run["fields"].items()},
                frozenset(run["done"]),
            )

    def runs(self) -> list[RunInfo]:
        with self._lock:
            return [RunInfo(k, v["cadence"], v["status"]) for k, v in sorted(self._runs.items())]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS cadence_runs (
    run_id TEXT PRIMARY KEY, cadence TEXT NOT NULL, status TEXT NOT NULL,
    meta TEXT NOT NULL, updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS cadence_fields (
    run_id TEXT NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
    UNIQUE (run_id, scope, name)
);
CREATE TABLE IF NOT EXISTS cadence_done (
    run_id TEXT NOT NULL, node_id TEXT NOT NULL, UNIQUE (run_id, node_id)
);
"""


class SQLiteCheckpointStore:
    """Checkpoints in one SQLite file (WAL): several threads and processes may share it.

    Each thread has its own connection; each checkpoint is one ``BEGIN IMMEDIATE`` transaction, so a
    reader never sees half of one, and a writer waits up to ``busy_timeout`` seconds for another
    process's write instead of failing.

    Args:
        path: the database file (created with its folder if missing).
        synchronous: SQLite's ``synchronous`` for this store. ``"NORMAL"`` (default) keeps every
            committed checkpoint when the *process* dies (a crash, SIGKILL); ``"FULL"`` also when
            the machine loses power, for an fsync per checkpoint.
        busy_timeout: seconds to wait for another writer.
    """

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL", busy_timeout: float = 30.0) -> None:
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            msg = f"SQLiteCheckpointStore: synchronous={synchronous!r}; use 'NORMAL' or 'FULL'"
            raise ValueError(msg)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.synchronous = synchronous.upper()
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self.connection().executescript(_SCHEMA)  # idempotent: IF NOT EXISTS

    def __repr__(self) -> str:
        return f"SQLiteCheckpointStore({str(self.path)!r})"

    def connection(self) -> sqlite3.Connection:
        """This thread's connection to the file."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            import sqlite3  # here, so that `import cadence` does not load it

            db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute(f"PRAGMA synchronous = {self.synchronous}")
            self._local.db = db
        return db

    def _transaction(self) -> _Transaction:
        return _Transaction(self.connection())

    def write(self, batch: CheckpointWrite) -> None:
        with self._transaction() as db:
            self.write_rows(db, batch)

    def write_rows(self, db: sqlite3.Connection, batch: CheckpointWrite) -> None:
        """Apply ``batch`` with ``db``, inside the transaction :meth:`write` holds.

        A subclass that keeps more per checkpoint extends this (calling it first), so that its rows
        commit in the same transaction as the checkpoint's.
        """
        run_id = batch.run_id
        for node_id in batch.drop:
            db.execute(
                "DELETE FROM cadence_fields WHERE run_id = ? AND (scope = ? OR substr(scope, 1, ?) = ?)",
                (run_id, node_id, len(node_id) + 1, node_id + "/"),
            )
            db.execute(
                "DELETE FROM cadence_done WHERE run_id = ? AND substr(node_id, 1, ?) = ?",
                (run_id, len(node_id) + 1, node_id + "/"),
            )
        if batch.cadence is not None:
            db.execute(
                "INSERT INTO cadence_runs VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET "
                "cadence = excluded.cadence, status = excluded.status, meta = excluded.meta, "
                "updated = excluded.updated",
                (run_id, batch.cadence, batch.status or "running", batch.meta or "{}", time.time()),
            )
        elif batch.status is not None:
            db.execute(
                "UPDATE cadence_runs SET status = ?, updated = ? WHERE run_id = ?",
                (batch.status, time.time(), run_id),
            )
        rows = [
            (run_id, scope, name, text)
            for scope, values in batch.fields.items()
            for name, text in values.items()
        ]
        if rows:
            db.executemany(
                "INSERT INTO cadence_fields VALUES (?, ?, ?, ?) "
                "ON CONFLICT (run_id, scope, name) DO UPDATE SET value = excluded.value",
                rows,
            )
        if batch.done:
            db.executemany(
                "INSERT OR IGNORE INTO cadence_done VALUES (?, ?)", [(run_id, d) for d in batch.done]
            )

    def load(self, run_id: str) -> SavedRun | None:
        db = self.connection()
        db.execute("BEGIN")  # one snapshot of the three tables
        try:
            head = db.execute(
                "SELECT cadence, status, meta FROM cadence_runs WHERE run_id = ?", (run_id,)
            ).fetchone()
            if head is None:
                return None
            fields: dict[str, dict[str, str]] = {}
            for scope, name, text in db.execute(
                "SELECT scope, name, value FROM cadence_fields WHERE run_id = ?", (run_id,)
            ):
                fields.setdefault(scope, {})[name] = text
            done = frozenset(
                row[0] for row in db.execute("SELECT node_id FROM cadence_done WHERE run_id = ?", (run_id,))
            )
        finally:
            db.execute("COMMIT")
        return SavedRun(run_id, head[0], head[1], json.loads(head[2]), fields, done)

    def runs(self) -> list[RunInfo]:
        rows = self.connection().execute("SELECT run_id, cadence, status FROM cadence_runs ORDER BY run_id")
        return [RunInfo(*row) for row in rows]

    def close(self) -> None:
        """Close this thread's connection (other threads' close when their thread ends)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error): takes the write lock at the start,
    so two processes never deadlock upgrading a read lock."""

    __slots__ = ("db",)

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind: object, error: object, tb: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
