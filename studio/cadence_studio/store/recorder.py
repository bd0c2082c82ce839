"""Writes runs into the run history as a worker's messages arrive, on a thread of its own.

Each write batch first checks that the history file is still the one it opened: a file deleted
(or replaced) while the studio runs is made again, the user is told once, and recording goes on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import queue
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from .. import protocol as p
from ..errors import HistoryError
from .lineage import Lineage, Relation
from .writers import writer_identity

__all__ = ["HistoryFile", "Recorder"]


class HistoryFile(Protocol):
    """What a recorder needs of :class:`~cadence_studio.store.history.History` (which makes recorders)."""

    @property
    def path(self) -> Path: ...

    @property
    def keep(self) -> int: ...

    def connect(self, *, create: bool = False) -> sqlite3.Connection: ...


_STOP = object()
_KEPT = (p.RunBegan, p.EventMessage, p.Paused, p.RunEnded, p.WorkerExited)
_GAP = "part of this run was lost: the history file was deleted while it ran"


@dataclasses.dataclass(frozen=True)
class _EndRun:
    """Ask the writer to end the open run with ``status`` (the UI replaced its worker)."""

    status: str
    error: str


class Recorder:
    """Stores the runs of one worker's message stream; call :meth:`observe` for every message.

    :meth:`observe` only queues; a thread writes. A write that fails disables the recorder and sets
    :attr:`error` (the run itself goes on); :meth:`close` writes what is queued and stops the thread.
    ``on_notice`` is called (from the writer thread) with what the user should be told.
    """

    def __init__(
        self,
        history: HistoryFile,
        target: str,
        *,
        on_notice: Callable[[str], None] | None = None,
        lineage: Lineage | None = None,
    ) -> None:
        self.history = history
        self.target = target
        self.error: str | None = None
        self.on_notice = on_notice
        self._pid = os.getpid()
        self._writer = writer_identity()
        self._db = history.connect(create=True)
        self._file = _file_id(history.path)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        if lineage is not None and lineage.parent is not None:
            self._queue.put(lineage)
        self._thread = threading.Thread(target=self._work, name="cadence-history", daemon=True)
        self._thread.start()

    def observe(self, message: p.Message, line: bytes | None = None) -> None:
        """Queue one worker message (``line``: its raw protocol line, to store without re-encoding)."""
        if self.error is None and isinstance(message, _KEPT):
            self._queue.put((message, line))

    def next_run(
        self, *, parent: int | None = None, forked_at: str | None = None, relation: Relation | None = None
    ) -> None:
        """Record the next run that begins as resumed (``forked_at=None``) or re-run from ``forked_at``
        of run ``parent``; call it just before asking the worker for that run. Runs after it are fresh
        unless told again.

        Raises:
            ValueError: the lineage does not fit together (see :meth:`Lineage.of`).
        """
        self._queue.put(Lineage.of(parent, forked_at, relation))

    def end_run(self, status: str, error: str) -> None:
        """End the open run (if any) with ``status``: its worker was replaced before it ended."""
        self._queue.put(_EndRun(status, error))

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
        try:
            while True:
                item = self._queue.get()
                batch = [item]
                with contextlib.suppress(queue.Empty):
                    while len(batch) < 500:
                        batch.append(self._queue.get_nowait())
                if self.error is None:
                    self._check_file(state)
                stop = self._write(self._db, batch, state)
                if stop:
                    return
        finally:
            self._db.close()

    def _check_file(self, state: _Open) -> None:
        """Open the history file again if it was deleted or replaced since the last batch."""
        now = _file_id(self.history.path)
        if now == self._file:
            return
        self._db.close()
        if now is None:  # the -wal and -shm left behind belong to the deleted file
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{self.history.path}{suffix}").unlink()
        try:
            self._db = self.history.connect(create=True)
        except HistoryError as error:
            self._db = sqlite3.connect(":memory:", check_same_thread=False)  # closed by _work
            self.error = f"run history disabled: {error}"
            self._notify(self.error)
            return
        self._file = _file_id(self.history.path)
        if state.run_id is not None and state.began is not None:
            self._begin(self._db, *state.began, state=state, seq=state.seq)
            state.gap = True
        what = "deleted" if now is None else "replaced"
        self._notify(
            f"the run history {self.history.path} was {what} while the studio ran; "
            "it was made again and later runs are recorded there (earlier runs are gone)"
        )

    def _notify(self, text: str) -> None:
        if self.on_notice is not None:
            with contextlib.suppress(Exception):  # telling the user must never stop the recording
                self.on_notice(text)

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
                elif self.error is not None:
                    continue
                elif isinstance(item, _EndRun):
                    if state.run_id is not None:
                        _close_run(db, state, item.status, None, item.error)
                elif isinstance(item, Lineage):
                    state.next_lineage = item
                else:
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
            self._notify(self.error)
        for event in waiting:
            event.set()
        return stop

    def _begin(
        self, db: sqlite3.Connection, message: p.RunBegan, body: bytes, *, state: _Open, seq: int
    ) -> None:
        """Insert the run's row and its first line (``RunBegan``); later lines follow from ``seq``."""
        lineage = state.lineage
        cursor = db.execute(
            "INSERT INTO runs (target, entry, started, graph, args, score, pid, writer, "
            "parent, forked_at, relation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.target,
                message.target,
                state.started,
                "",  # the graph is in the first line: encoding it again took 7 ms of a 1,000-note run's
                # start (70 ms for 10,000) with the interpreter held, the screen waiting (issue 18)
                json.dumps(message.args, default=str),
                None if message.score is None else json.dumps(message.score, default=str),
                self._pid,
                self._writer,
                lineage.parent,
                lineage.forked_at,
                lineage.relation,
            ),
        )
        state.run_id = cursor.lastrowid
        db.execute(
            "INSERT INTO lines (run, seq, body) VALUES (?, 0, ?)", (state.run_id, zlib.compress(body, 1))
        )
        state.seq = max(seq, 1)

    def _store(self, db: sqlite3.Connection, message: p.Message, line: bytes | None, state: _Open) -> None:
        if isinstance(message, p.WorkerExited):
            if state.run_id is not None:
                _close_run(db, state, "crashed", None, f"the worker exited ({message.returncode})")
            return
        body = line.rstrip(b"\n") if line is not None else message.model_dump_json().encode()
        if isinstance(message, p.RunBegan):
            if state.run_id is not None:  # the worker was replaced before the last run ended
                _close_run(db, state, "unfinished", None, None)
            state.worker_run, state.started, state.gap = message.run, time.time(), False
            state.began = (message, body)
            state.lineage, state.next_lineage = state.next_lineage, Lineage()
            self._begin(db, message, body, state=state, seq=0)
            self._prune(db)
            return
        if state.run_id is None or getattr(message, "run", None) != state.worker_run:
            return
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
    if state.gap:
        error = f"{error} ({_GAP})" if error else _GAP
    db.execute(
        "UPDATE runs SET status = ?, ended = ?, duration = ?, error = ?, messages = ? WHERE id = ?",
        (status, time.time(), duration, error, state.seq, state.run_id),
    )
    state.run_id, state.began, state.gap = None, None, False


def _file_id(path: Path) -> tuple[int, int] | None:
    """Which file ``path`` names now (device, inode); ``None`` when there is none."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


@dataclasses.dataclass
class _Open:
    """The run being written: the worker's number for it, its history id, the next line number,
    its first message (to write it again into a history file made anew while it ran) and its lineage."""

    worker_run: int | None = None
    run_id: int | None = None
    seq: int = 0
    started: float = 0.0
    began: tuple[p.RunBegan, bytes] | None = None
    gap: bool = False
    #: where the open run came from, and where the next run to begin comes from
    lineage: Lineage = dataclasses.field(default_factory=Lineage)
    next_lineage: Lineage = dataclasses.field(default_factory=Lineage)
