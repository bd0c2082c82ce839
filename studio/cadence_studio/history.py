"""Run history: every message of every run, in a SQLite file in the project's ``.cadence/`` folder.

The worker's messages are the record (one event stream): a run is stored as the protocol lines its
worker sent, from :class:`~cadence_studio.protocol.RunBegan` (which carries the graph and the input)
to :class:`~cadence_studio.protocol.RunEnded`, so opening a past run replays those lines through the
same :class:`~cadence_studio.session.Session` the live studio uses, and every step of it can be
inspected again even after the code changed.

Writes happen on a thread of their own (:class:`Recorder`); the UI never waits on the disk. The
newest ``keep`` runs are kept. Lines are stored zlib-compressed (score trees repeat a lot).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import queue
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import protocol as p
from .errors import StudioError
from .session import RunRecord, Session

__all__ = ["DEFAULT_KEEP", "History", "HistoryError", "Recorder", "RunSummary"]

DEFAULT_KEEP = 200
_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    entry TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    status TEXT NOT NULL DEFAULT 'running',
    duration REAL,
    error TEXT,
    graph TEXT NOT NULL,
    args TEXT NOT NULL DEFAULT '{}',
    score TEXT,
    messages INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS lines (
    run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (run, seq)
) WITHOUT ROWID;
"""


class HistoryError(StudioError):
    """The run history cannot be read or written; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """One stored run, without its messages."""

    id: int
    target: str
    entry: str
    started: float
    ended: float | None
    status: str
    duration: float | None
    error: str | None
    args: dict[str, Any]
    score: Any
    messages: int

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class History:
    """The run history of the project in ``project`` (``project/.cadence/history.sqlite3``)."""

    def __init__(self, project: Path, *, keep: int = DEFAULT_KEEP) -> None:
        if keep < 1:
            msg = f"keep must be at least 1 run, not {keep}"
            raise ValueError(msg)
        self.project = project.resolve()
        self.keep = keep
        self.path = self.project / ".cadence" / "history.sqlite3"

    # ------------------------------------------------------------------ connections

    def connect(self, *, create: bool = False) -> sqlite3.Connection:
        """An open connection; ``create`` makes the folder and the tables when missing."""
        if not create and not self.path.exists():
            msg = (
                f"no run history in {self.project} yet: "
                "runs are recorded by the studio and by `cadence-studio run`"
            )
            raise HistoryError(msg)
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                ignore = self.path.parent / ".gitignore"
                if not ignore.exists():
                    ignore.write_text("# run history of Cadence Studio (local, not for version control)\n*\n")
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as error:
            msg = f"cannot open the run history {self.path}: {error}; check the folder is writable"
            raise HistoryError(msg) from None
        try:
            db.execute("PRAGMA foreign_keys = ON")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA_VERSION:
                msg = (
                    f"the run history {self.path} was written by a newer Cadence Studio "
                    f"(format {version}); upgrade, or move the file away to start a new one"
                )
                raise HistoryError(msg)
            if create and version < _SCHEMA_VERSION:
                db.execute("PRAGMA journal_mode = WAL")
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
            db.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as error:
            db.close()
            raise HistoryError(_unreadable(self.path, error)) from None
        except HistoryError:
            db.close()
            raise
        return db

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        db = self.connect()
        try:
            yield db
        except sqlite3.DatabaseError as error:
            raise HistoryError(_unreadable(self.path, error)) from None
        finally:
            db.close()

    # ------------------------------------------------------------------ reading

    def runs(self, limit: int = 50) -> list[RunSummary]:
        """The newest ``limit`` runs, newest first."""
        with self._reading() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [_summary(row) for row in rows]

    def get(self, run_id: int) -> RunSummary:
        with self._reading() as db:
            return _find(db, run_id)

    def graph(self, run_id: int) -> dict[str, Any]:
        """The graph (``describe()``) of the cadence as it was when the run started."""
        with self._reading() as db:
            _find(db, run_id)
            (text,) = db.execute("SELECT graph FROM runs WHERE id = ?", (run_id,)).fetchone()
        graph: dict[str, Any] = json.loads(text)
        return graph

    def load(self, run_id: int) -> tuple[RunSummary, list[p.Message]]:
        """The run and its messages in the order the worker sent them, from ``RunBegan`` on."""
        with self._reading() as db:
            summary = _find(db, run_id)
            rows = db.execute("SELECT body FROM lines WHERE run = ? ORDER BY seq", (run_id,)).fetchall()
        return summary, [p.decode_message(zlib.decompress(body)) for (body,) in rows]

    def replay(self, run_id: int) -> RunRecord:
        """The run as the studio saw it live, rebuilt from its messages."""
        summary, messages = self.load(run_id)
        session = Session(summary.target)
        worker_run = next((m.run for m in messages if isinstance(m, p.RunBegan)), 0)
        session.begin_run(worker_run, summary.entry)
        for message in messages:
            session.apply(message)
        record = session.run
        assert record is not None
        if record.status in ("running", "paused"):  # it never ended: the worker died or was replaced
            record.status = "crashed" if summary.status == "crashed" else "unfinished"
        return record

    # ------------------------------------------------------------------ writing

    def recorder(self, target: str) -> Recorder:
        """A recorder of ``target``'s runs (opens, and if needed creates, the history file)."""
        return Recorder(self, target)


def _unreadable(path: Path, error: BaseException) -> str:
    return f"the run history {path} is unreadable ({error}); move it away or delete it to start a new one"


_COLUMNS = "id, target, entry, started, ended, status, duration, error, args, score, messages"


def _find(db: sqlite3.Connection, run_id: int) -> RunSummary:
    row = db.execute(f"SELECT {_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        ids = [r[0] for r in db.execute("SELECT id FROM runs ORDER BY id DESC LIMIT 5")]
        known = ", ".join(map(str, ids)) if ids else "none yet"
        msg = f"no run {run_id} in the run history (newest: {known}); `cadence-studio history` lists them"
        raise HistoryError(msg)
    return _summary(row)


def _summary(row: tuple[Any, ...]) -> RunSummary:
    run_id, target, entry, started, ended, status, duration, error, args, score, messages = row
    return RunSummary(
        id=run_id,
        target=target,
        entry=entry,
        started=started,
        ended=ended,
        status=status,
        duration=duration,
        error=error,
        args=json.loads(args) if args else {},
        score=json.loads(score) if score else None,
        messages=messages,
    )


_STOP = object()


class Recorder:
    """Stores the runs of one worker's message stream; call :meth:`observe` for every message.

    :meth:`observe` only queues; a thread writes. A write that fails disables the recorder and sets
    :attr:`error` (the run itself goes on); :meth:`close` writes what is queued and stops the thread.
    """

    def __init__(self, history: History, target: str) -> None:
        self.history = history
        self.target = target
        self.error: str | None = None
        self._db = history.connect(create=True)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="cadence-history", daemon=True)
        self._thread.start()

    def observe(self, message: p.Message, line: bytes | None = None) -> None:
        """Queue one worker message (``line``: its raw protocol line, to store without re-encoding)."""
        if self.error is None and isinstance(message, _KEPT):
            self._queue.put((message, line))

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued so far is written."""
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)

    def close(self) -> None:
        """Write what is queued (a run still open is marked unfinished) and stop the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout=30)

    # ------------------------------------------------------------------ the writer thread

    def _work(self) -> None:
        state = _Open()
        db = self._db
        try:
            while True:
                item = self._queue.get()
                batch = [item]
                with contextlib.suppress(queue.Empty):
                    while len(batch) < 500:
                        batch.append(self._queue.get_nowait())
                stop = self._write(db, batch, state)
                if stop:
                    return
        finally:
            db.close()

    def _write(self, db: sqlite3.Connection, batch: list[Any], state: _Open) -> bool:
        waiting: list[threading.Event] = []
        stop = False
        try:
            db.execute("BEGIN")
            for item in batch:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    waiting.append(item)
                elif self.error is None:
                    message, line = item
                    self._store(db, message, line, state)
            if state.run_id is not None:
                if stop:
                    _close_run(db, state, "unfinished", None, None)
                else:
                    db.execute("UPDATE runs SET messages = ? WHERE id = ?", (state.seq, state.run_id))
            db.execute("COMMIT")
        except (sqlite3.Error, OSError) as error:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            self.error = f"run history disabled: writing {self.history.path} failed ({error})"
        for event in waiting:
            event.set()
        return stop

    def _store(self, db: sqlite3.Connection, message: p.Message, line: bytes | None, state: _Open) -> None:
        if isinstance(message, p.RunBegan):
            if state.run_id is not None:  # the worker was replaced before the last run ended
                _close_run(db, state, "unfinished", None, None)
            cursor = db.execute(
                "INSERT INTO runs (target, entry, started, graph, args, score) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    self.target,
                    message.target,
                    time.time(),
                    json.dumps(message.graph),
                    json.dumps(message.args, default=str),
                    None if message.score is None else json.dumps(message.score, default=str),
                ),
            )
            state.worker_run, state.run_id, state.seq = message.run, cursor.lastrowid, 0
            self._prune(db)
        if state.run_id is None:
            return
        if isinstance(message, p.WorkerExited):
            _close_run(db, state, "crashed", None, f"the worker exited ({message.returncode})")
            return
        if getattr(message, "run", None) != state.worker_run:
            return
        body = line.rstrip(b"\n") if line is not None else message.model_dump_json().encode()
        db.execute(
            "INSERT INTO lines (run, seq, body) VALUES (?, ?, ?)",
            (state.run_id, state.seq, zlib.compress(body, 1)),
        )
        state.seq += 1
        if isinstance(message, p.RunEnded):
            error = f"{message.error.type}: {message.error.message}" if message.error else None
            _close_run(db, state, message.status, message.duration, error)

    def _prune(self, db: sqlite3.Connection) -> None:
        db.execute(
            "DELETE FROM runs WHERE id NOT IN (SELECT id FROM runs ORDER BY id DESC LIMIT ?)",
            (self.history.keep,),
        )


def _close_run(
    db: sqlite3.Connection, state: _Open, status: str, duration: float | None, error: str | None
) -> None:
    db.execute(
        "UPDATE runs SET status = ?, ended = ?, duration = ?, error = ?, messages = ? WHERE id = ?",
        (status, time.time(), duration, error, state.seq, state.run_id),
    )
    state.run_id = None


_KEPT = (p.RunBegan, p.EventMessage, p.Paused, p.RunEnded, p.WorkerExited)


@dataclasses.dataclass
class _Open:
    """The run being written: the worker's number for it, its history id, the next line number."""

    worker_run: int | None = None
    run_id: int | None = None
    seq: int = 0
