"""Checkpoint stores: per-field deltas, the durability modes, several processes on one SQLite file."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import cadence._durable as durable_glue
from cadence import Cadence, CheckpointStore, InMemoryCheckpointStore, Score, SQLiteCheckpointStore
from cadence.checkpoint import CheckpointWrite

ROOT = Path(__file__).resolve().parents[2]
BIG = "x" * 1_000_000


@dataclasses.dataclass
class Doc(Score):
    big: str = ""
    n: int = 0
    items: list[int] = dataclasses.field(default_factory=list)


def bump(score: Doc) -> None:
    score.n += 1


def add(score: Doc) -> None:
    score.items.append(score.n)


doc = Cadence("doc", Doc()).then("a", bump).then("b", add).then("c", bump).then("d", add)


def _log_writes(path: Path) -> sqlite3.Connection:
    """Triggers in the real file record every field row inserted or rewritten, with its size."""
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(
        """
        CREATE TABLE writes (name TEXT, bytes INTEGER);
        CREATE TRIGGER w_ins AFTER INSERT ON cadence_fields
            BEGIN INSERT INTO writes VALUES (new.name, length(new.value)); END;
        CREATE TRIGGER w_upd AFTER UPDATE ON cadence_fields
            BEGIN INSERT INTO writes VALUES (new.name, length(new.value)); END;
        """
    )
    return db


async def test_an_untouched_1mb_field_is_written_once_and_not_serialised_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four measures change `n` and `items`; `big` (1 MB, same object) is in the first checkpoint only."""
    path = tmp_path / "c.db"
    store = SQLiteCheckpointStore(path)
    db = _log_writes(path)
    dumped: list[str] = []
    real = durable_glue._dumps

    def counting(value: Any, where: str) -> str:
        dumped.append(where)
        return real(value, where)

    monkeypatch.setattr(durable_glue, "_dumps", counting)
    await doc.run(Doc(big=BIG), checkpoint=store, run_id="d1")
    writes = db.execute("SELECT name, bytes FROM writes").fetchall()
    assert [w for w in writes if w[0] == "big"] == [("big", 1_000_002)]  # the start only
    assert sum(b for name, b in writes if name != "big") < 200
    assert dumped.count("score.big") == 1
    assert [name for name, _ in writes if name == "n"] == ["n", "n", "n"]  # start, after a, after c
    assert [name for name, _ in writes if name == "items"] == ["items", "items", "items"]  # start, b, d


async def test_a_resume_does_not_rewrite_what_is_saved(tmp_path: Path) -> None:
    """After a resume, the first checkpoint compares with the saved rows: `big` is not rewritten."""
    path = tmp_path / "c.db"
    store = SQLiteCheckpointStore(path)

    def fail(score: Doc) -> None:
        raise RuntimeError("down")

    broken = Cadence("doc", Doc()).then("a", bump).then("b", fail).then("c", bump).then("d", add)
    with pytest.raises(Exception, match="down"):
        await broken.run(Doc(big=BIG), checkpoint=store, run_id="d2")
    db = _log_writes(path)
    fixed = Cadence("doc", Doc()).then("a", bump).then("b", add).then("c", bump).then("d", add)
    score = await fixed.resume("d2", store)
    assert score.n == 2
    assert score.big == BIG
    assert "big" not in {name for (name,) in db.execute("SELECT name FROM writes")}


class Recording(InMemoryCheckpointStore):
    """An in-memory store that also keeps each write, and can be held (to stand for a slow disk)."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[CheckpointWrite] = []
        self.gate = threading.Event()
        self.gate.set()

    def write(self, batch: CheckpointWrite) -> None:
        self.gate.wait(10)
        super().write(batch)
        self.batches.append(batch)


async def test_sync_durability_waits_for_each_write() -> None:
    """sync: the run's checkpoints are all written by the time each next measure starts."""
    store = Recording()
    written_when: list[int] = []

    def look(score: Doc) -> None:
        written_when.append(len(store.batches))

    c = Cadence("s", Doc()).then("a", look).then("b", look).then("c", look)
    await c.run(Doc(), checkpoint=store, run_id="s", durability="sync")
    assert written_when == [1, 2, 3]  # the start, then one per finished measure
    assert len(store.batches) == 5  # ... and the end


async def test_async_durability_does_not_wait_and_may_lose_the_last_step() -> None:
    """async: with the writer held, the notes run on; the writes land later, in order."""
    store = Recording()
    store.gate.clear()
    written_when: list[int] = []

    def look(score: Doc) -> None:
        written_when.append(len(store.batches))

    c = Cadence("a", Doc()).then("a", look).then("b", look).then("c", look)
    run = asyncio.ensure_future(c.run(Doc(), checkpoint=store, run_id="a", durability="async"))
    for _ in range(200):
        if len(written_when) == 3:
            break
        await asyncio.sleep(0.01)
    assert written_when == [0, 0, 0]  # nothing written yet: a crash now would lose these steps
    assert not run.done()  # the run's end waits for its writes
    store.gate.set()
    await run
    assert [b.status for b in store.batches] == ["running", None, None, None, "done"]


async def test_exit_durability_writes_once_at_the_end() -> None:
    store = Recording()
    c = Cadence("e", Doc()).then("a", bump).then("b", bump)
    await c.run(Doc(), checkpoint=store, run_id="e", durability="exit")
    assert len(store.batches) == 1
    saved = store.load("e")
    assert saved is not None
    assert saved.status == "done"
    assert saved.done == {"e/a", "e/b"}


async def test_exit_durability_writes_on_failure_too() -> None:
    store = Recording()

    def fail(score: Doc) -> None:
        raise RuntimeError("down")

    c = Cadence("e", Doc()).then("a", bump).then("b", fail)
    with pytest.raises(Exception, match="down"):
        await c.run(Doc(), checkpoint=store, run_id="e", durability="exit")
    assert [b.status for b in store.batches] == ["failed"]
    saved = store.load("e")
    assert saved is not None
    assert saved.done == {"e/a"}


def test_stores_follow_the_protocol(tmp_path: Path) -> None:
    assert isinstance(InMemoryCheckpointStore(), CheckpointStore)
    assert isinstance(SQLiteCheckpointStore(tmp_path / "x.db"), CheckpointStore)


def test_a_bad_durability_is_refused() -> None:
    with pytest.raises(Exception, match="durability='later'; use one of 'sync', 'async', 'exit'"):
        doc.run_sync(Doc(), checkpoint=InMemoryCheckpointStore(), durability="later")  # type: ignore[arg-type]


WRITER = """
import asyncio, sys
sys.path.insert(0, {root!r})
from cadence import SQLiteCheckpointStore
from tests.engine.test_checkpoint_store import doc, Doc
store = SQLiteCheckpointStore(sys.argv[1])
async def main():
    ids = [f"{{sys.argv[2]}}-{{i}}" for i in range(20)]
    await asyncio.gather(*(doc.run(Doc(), checkpoint=store, run_id=i) for i in ids))
asyncio.run(main())
"""


def test_several_processes_write_one_sqlite_file(tmp_path: Path) -> None:
    """Four processes, 20 concurrent runs each, one file: every run is saved whole and finished."""
    path = tmp_path / "shared.db"
    SQLiteCheckpointStore(path)  # the schema exists before they start
    script = WRITER.format(root=str(ROOT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path), f"p{n}"], stderr=subprocess.PIPE, text=True
        )
        for n in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    store = SQLiteCheckpointStore(path)
    runs = store.runs()
    assert len(runs) == 80
    assert {r.status for r in runs} == {"done"}
    saved = store.load("p3-7")
    assert saved is not None
    assert saved.done == {"doc/a", "doc/b", "doc/c", "doc/d"}
    assert saved.fields["doc"]["n"] == "2"
