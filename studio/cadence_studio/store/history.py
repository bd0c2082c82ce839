"""Run history: every message of every run, in a SQLite file in the project's ``.cadence/`` folder.

The worker's messages are the record (one event stream): a run is stored as the protocol lines its
worker sent, from :class:`~cadence_studio.protocol.RunBegan` (which carries the graph and the input)
to :class:`~cadence_studio.protocol.RunEnded`, so opening a past run replays those lines through the
same :class:`~cadence_studio.protocol.session.Session` the live studio uses, and every step of it can be
inspected again even after the code changed.

Writes happen on a thread of their own (:class:`~cadence_studio.store.recorder.Recorder`); the UI
never waits on the disk. The newest ``keep`` runs are kept. Lines are stored zlib-compressed (score
trees repeat a lot). Each run names the process that records it, so a run whose process was killed
is marked ``unknown`` the next time the history is opened, instead of staying "running" forever.
A row that cannot be read (written by hand, a broken disk) is listed as unreadable, with why.
Each run also names the run it came from, if any (resumed, or re-run from a note: see
:mod:`~cadence_studio.store.lineage`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .. import protocol as p
from ..errors import HistoryError
from ..protocol.session import RunRecord, Session
from .lineage import RELATIONS, Lineage, Relation
from .writers import writer_gone

if TYPE_CHECKING:
    from .recorder import Recorder

__all__ = [
    "DEFAULT_KEEP",
    "STOPPED_BY_RELOAD",
    "UNKNOWN",
    "History",
    "HistoryError",
    "RunSummary",
]

DEFAULT_KEEP = 200
#: A run whose recording process died before it ended: how it ended is unknown.
UNKNOWN = "unknown"
#: A run the studio threw away when it reloaded the module (the user saved it mid-run).
STOPPED_BY_RELOAD = "stopped by reload"

_SCHEMA_VERSION = 3
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
    graph TEXT NOT NULL,  -- '' since the graph is kept once, in the run's first line (its RunBegan)
    args TEXT NOT NULL DEFAULT '{}',
    score TEXT,
    messages INTEGER NOT NULL DEFAULT 0,
    pid INTEGER,
    writer TEXT,
    parent INTEGER,
    forked_at TEXT,
    relation TEXT
);
CREATE TABLE IF NOT EXISTS lines (
    run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (run, seq)
) WITHOUT ROWID;
"""
# What each older format lacks; its files gain the columns, empty, when opened (one format at a time).
# Format 1 had no pid/writer columns; format 2 no lineage (a run's parent is not a foreign key: the
# parent may be pruned while its children are kept).
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE runs ADD COLUMN pid INTEGER", "ALTER TABLE runs ADD COLUMN writer TEXT"),
    2: (
        "ALTER TABLE runs ADD COLUMN parent INTEGER",
        "ALTER TABLE runs ADD COLUMN forked_at TEXT",
        "ALTER TABLE runs ADD COLUMN relation TEXT",
    ),
}


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """One stored run, without its messages; ``unreadable`` says why a damaged row cannot be shown."""

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
    unreadable: str | None = None
    #: the run this one came from (resumed or re-run), its fork point (node id; ``None`` for a resume)
    parent: int | None = None
    forked_at: str | None = None
    relation: Relation | None = None
    #: whether the parent is still in the history (``None`` when there is no parent)
    parent_kept: bool | None = None

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
        """An open connection; ``create`` makes the folder and the tables when missing.

        Runs left "running" by a process that is gone are marked ``unknown`` on the way.
        """
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
            if create and version == 0:
                db.execute("PRAGMA journal_mode = WAL")
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
            elif 0 < version < _SCHEMA_VERSION:
                _migrate(db)
            db.execute("PRAGMA synchronous = NORMAL")
            _mark_orphans(db)
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
        """The newest ``limit`` runs, newest first (a damaged one has ``unreadable`` set)."""
        with self._reading() as db:
            rows = db.execute(f"{_select(db)} ORDER BY r.id DESC LIMIT ?", (limit,)).fetchall()
        return [_summary(row) for row in rows]

    def get(self, run_id: int) -> RunSummary:
        with self._reading() as db:
            return _find(db, run_id)

    def graph(self, run_id: int) -> dict[str, Any]:
        """The graph (``describe()``) of the cadence as it was when the run started: from the run's
        first line (its ``RunBegan``), or from the ``graph`` column that files written before kept."""
        with self._reading() as db:
            _readable(_find(db, run_id))
            (text,) = db.execute("SELECT graph FROM runs WHERE id = ?", (run_id,)).fetchone()
            first = None
            if not text:
                first = db.execute("SELECT body FROM lines WHERE run = ? AND seq = 0", (run_id,)).fetchone()
        if not text:
            began = _decode_line(run_id, 0, first[0]) if first is not None else None
            if not isinstance(began, p.RunBegan):
                raise HistoryError(_damaged(run_id, "its first message is not the run's start (RunBegan)"))
            return began.graph
        try:
            graph = json.loads(text)
        except (TypeError, ValueError) as error:
            raise HistoryError(_damaged(run_id, f"its graph is not JSON ({error})")) from None
        if not isinstance(graph, dict):
            raise HistoryError(_damaged(run_id, "its graph is not a JSON object"))
        return graph

    def load(self, run_id: int) -> tuple[RunSummary, list[p.Message]]:
        """The run and its messages in the order the worker sent them, from ``RunBegan`` on.

        Raises:
            HistoryError: no such run, or it is damaged (the message says which part).
        """
        with self._reading() as db:
            summary = _readable(_find(db, run_id))
            rows = db.execute("SELECT seq, body FROM lines WHERE run = ? ORDER BY seq", (run_id,)).fetchall()
        return summary, [_decode_line(run_id, seq, body) for seq, body in rows]

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
            # how it ended is what the studio wrote in its row (e.g. "stopped": x replaced the worker)
            record.status = summary.status if summary.status != "running" else "unfinished"
        return record

    # ------------------------------------------------------------------ writing

    def recorder(
        self,
        target: str,
        *,
        on_notice: Callable[[str], None] | None = None,
        parent: int | None = None,
        forked_at: str | None = None,
        relation: Relation | None = None,
    ) -> Recorder:
        """A recorder of ``target``'s runs (opens, and if needed creates, the history file).

        ``on_notice`` is told (from the writer thread) what the user should know, such as the
        history file having been deleted and made again. ``parent`` (a run id), ``forked_at`` (the
        node id it is re-run from; none for a resume) and ``relation`` are the lineage of the first
        run it records; :meth:`Recorder.next_run` gives a later run one.

        Raises:
            ValueError: the lineage does not fit together (see :meth:`Lineage.of`).
        """
        from .recorder import Recorder

        lineage = Lineage.of(parent, forked_at, relation)
        return Recorder(self, target, on_notice=on_notice, lineage=lineage)


def _migrate(db: sqlite3.Connection) -> None:
    """An older format → this one, when the file can be written (a read-only one is read as it is)."""

    def upgrade() -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if 0 < version < _SCHEMA_VERSION:
            for step in range(version, _SCHEMA_VERSION):
                for statement in _MIGRATIONS[step]:
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    _in_transaction(db, upgrade)


def _in_transaction(db: sqlite3.Connection, work: Callable[[], None]) -> None:
    """Run ``work`` in a write transaction; give up quietly when the file is read-only or busy."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return
    try:
        work()
        db.execute("COMMIT")
    except sqlite3.OperationalError:
        db.execute("ROLLBACK")


def _unreadable(path: Path, error: BaseException) -> str:
    return f"the run history {path} is unreadable ({error}); move it away or delete it to start a new one"


def _damaged(run_id: int, why: str) -> str:
    return (
        f"run {run_id} in the run history is unreadable: {why}; "
        "the other runs are fine (`cadence-studio history` lists them)"
    )


# ---------------------------------------------------------------------------- rows

_COLUMNS = ", ".join(
    f"r.{name}"
    for name in (
        "id",
        "target",
        "entry",
        "started",
        "ended",
        "status",
        "duration",
        "error",
        "args",
        "score",
        "messages",
    )
)
_LINEAGE = (
    ", r.parent, r.forked_at, r.relation,"
    " r.parent IS NOT NULL AND EXISTS (SELECT 1 FROM runs AS p WHERE p.id = r.parent)"
)


def _select(db: sqlite3.Connection) -> str:
    """The query of a run's summary columns (``FROM runs AS r``); a file of an older format that could
    not be upgraded (read-only) has no lineage columns: its runs have no parent."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    lineage = _LINEAGE if "parent" in columns else ", NULL, NULL, NULL, 0"
    return f"SELECT {_COLUMNS}{lineage} FROM runs AS r"


def _find(db: sqlite3.Connection, run_id: int) -> RunSummary:
    row = db.execute(f"{_select(db)} WHERE r.id = ?", (run_id,)).fetchone()
    if row is None:
        ids = [r[0] for r in db.execute("SELECT id FROM runs ORDER BY id DESC LIMIT 5")]
        known = ", ".join(map(str, ids)) if ids else "none yet"
        msg = f"no run {run_id} in the run history (newest: {known}); `cadence-studio history` lists them"
        raise HistoryError(msg)
    return _summary(row)


def _readable(summary: RunSummary) -> RunSummary:
    if summary.unreadable is not None:
        raise HistoryError(_damaged(summary.id, summary.unreadable))
    return summary


def _summary(row: tuple[Any, ...]) -> RunSummary:
    """A row as a summary; a field of the wrong kind makes it an unreadable one, never an exception."""
    run_id, target, entry, started, ended, status, duration, error, args, score, messages, *lineage = row
    parent, forked_at, relation, parent_kept = lineage
    problems: list[str] = []

    def text(name: str, value: Any, *, optional: bool = False) -> Any:
        if isinstance(value, str) or (optional and value is None):
            return value
        problems.append(f"{name} is not text ({value!r})")
        return None if optional else "?"

    def number(name: str, value: Any, *, optional: bool = False) -> Any:
        if isinstance(value, int | float) or (optional and value is None):
            return value
        problems.append(f"{name} is not a number ({_cut(value)})")
        return None if optional else 0

    def parsed(name: str, value: Any, empty: Any) -> Any:
        if not value:
            return empty
        try:
            return json.loads(value)
        except (TypeError, ValueError) as why:
            problems.append(f"{name} is not JSON ({why}: {_cut(value)})")
            return empty

    summary = RunSummary(
        id=run_id,
        target=text("target", target),
        entry=text("entry", entry),
        started=float(number("started", started)),
        ended=number("ended", ended, optional=True),
        status=text("status", status),
        duration=number("duration", duration, optional=True),
        error=text("error", error, optional=True),
        args=parsed("args", args, {}),
        score=parsed("score", score, None),
        messages=number("messages", messages),
    )
    summary = _with_lineage(summary, parent, forked_at, relation, parent_kept, problems)
    if not isinstance(summary.args, dict):
        problems.append(f"args is not a JSON object ({_cut(args)})")
        summary = dataclasses.replace(summary, args={})
    if problems:
        summary = dataclasses.replace(summary, status="unreadable", unreadable="; ".join(problems))
    return summary


def _with_lineage(
    summary: RunSummary, parent: Any, forked_at: Any, relation: Any, kept: Any, problems: list[str]
) -> RunSummary:
    """``summary`` with its lineage; a parent that is not a run id or an unknown relation is a problem."""
    if parent is not None and (isinstance(parent, bool) or not isinstance(parent, int)):
        problems.append(f"parent is not a run id ({_cut(parent)})")
        return summary
    if forked_at is not None and not isinstance(forked_at, str):
        problems.append(f"forked_at is not text ({_cut(forked_at)})")
        return summary
    if relation is not None and relation not in RELATIONS:
        problems.append(f"relation is not one of {', '.join(RELATIONS)} ({_cut(relation)})")
        return summary
    if parent is None:
        return summary
    return dataclasses.replace(
        summary, parent=parent, forked_at=forked_at, relation=relation, parent_kept=bool(kept)
    )


def _decode_line(run_id: int, seq: int, body: Any) -> p.Message:
    try:
        return p.decode_message(zlib.decompress(body))
    except (zlib.error, TypeError) as error:
        why = f"its message {seq} is not zlib-compressed data ({error})"
    except ValidationError as error:
        first = error.errors()[0]
        what = "valid JSON" if first["type"] == "json_invalid" else "a protocol message"
        why = f"its message {seq} is not {what} ({first['msg']})"
    except ValueError as error:
        why = f"its message {seq} is not valid JSON ({error})"
    raise HistoryError(_damaged(run_id, why)) from None


def _cut(value: Any, limit: int = 40) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _mark_orphans(db: sqlite3.Connection) -> None:
    """Runs still "running" whose recording process is gone end as ``unknown``."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    if "pid" not in columns:  # a format-1 file that could not be upgraded (read-only)
        return
    rows = db.execute("SELECT id, pid, writer FROM runs WHERE status = 'running'").fetchall()
    orphans = [(run_id, pid) for run_id, pid, writer in rows if writer_gone(pid, writer)]
    if not orphans:
        return

    def mark() -> None:
        for run_id, pid in orphans:
            db.execute(
                "UPDATE runs SET status = ?, error = ? WHERE id = ? AND status = 'running'",
                (
                    UNKNOWN,
                    f"the process that recorded it (pid {pid}) ended before the run did "
                    "(killed?); how the run ended is unknown",
                    run_id,
                ),
            )

    _in_transaction(db, mark)  # a read-only file is shown as it is
