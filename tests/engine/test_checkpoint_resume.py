"""Checkpointed runs resume from the first measure not completed, on the saved score (real SQLite files)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

import cadence
from cadence import Cadence, CheckpointError, Score, SQLiteCheckpointStore
from cadence import events as ev

from . import durable_app as app


@pytest.fixture
def store(tmp_path: Path) -> SQLiteCheckpointStore:
    return SQLiteCheckpointStore(tmp_path / "checkpoints.db")


@pytest.fixture(autouse=True)
def no_failures() -> Iterator[None]:
    app.FAIL.clear()
    yield
    app.FAIL.clear()


def ran(log: Path) -> list[str]:
    return log.read_text().split()


async def test_resume_after_a_failure_at_note_5_runs_notes_5_to_10_only(
    store: SQLiteCheckpointStore, tmp_path: Path
) -> None:
    """Notes 1-4 completed and were saved; the resume runs 5-10 on the saved score."""
    log = tmp_path / "log"
    app.FAIL.add("n5")
    with pytest.raises(cadence.NoteError, match="n5 failed on purpose"):
        await app.ten.run(app.Tally(path=str(log)), checkpoint=store, run_id="r1")
    assert ran(log) == ["n1", "n2", "n3", "n4", "n5"]
    assert [(i.run_id, i.status) for i in cadence.pending(store)] == [("r1", "failed")]
    app.FAIL.clear()
    events: list[ev.Event] = []
    score = await app.ten.resume("r1", store, listeners=[events.append])
    assert ran(log) == ["n1", "n2", "n3", "n4", "n5", "n5", "n6", "n7", "n8", "n9", "n10"]
    assert score.total == 10
    assert score.seen == [f"n{i}" for i in range(1, 11)]
    resumed = [e for e in events if isinstance(e, ev.Resumed)]
    assert [e.completed for e in resumed] == [("ten/n1", "ten/n2", "ten/n3", "ten/n4")]
    assert [e.node_id for e in events if isinstance(e, ev.NoteStarted)] == [f"ten/n{i}" for i in range(5, 11)]
    assert cadence.pending(store) == []


async def test_a_finished_run_is_not_resumed(store: SQLiteCheckpointStore, tmp_path: Path) -> None:
    """Resuming a run that ended says so and runs nothing."""
    log = tmp_path / "log"
    await app.ten.run(app.Tally(path=str(log)), checkpoint=store, run_id="done-run")
    with pytest.raises(CheckpointError, match=r"run 'done-run' already ended \(done\)"):
        await app.ten.resume("done-run", store)
    assert len(ran(log)) == 10


async def test_an_unknown_run_is_refused_with_the_way_to_list_runs(store: SQLiteCheckpointStore) -> None:
    with pytest.raises(CheckpointError, match=r"no checkpoints of run 'nope'.*cadence\.pending\(store\)"):
        await app.ten.resume("nope", store)


@dataclasses.dataclass
class Count(Score):
    calls: list[str] = dataclasses.field(default_factory=list)


FAILING = {"second"}


def first(score: Count) -> None:
    score.calls.append("first")


def second(score: Count) -> None:
    score.calls.append("second")
    if "second" in FAILING:
        raise RuntimeError("second failed")


async def test_duplicate_names_do_not_make_a_failed_step_look_done(store: SQLiteCheckpointStore) -> None:
    """Two measures named "step": the second fails; its id is step#2, so the resume runs it."""
    c = Cadence("dupes", Count()).then("step", first).then("step", second)
    assert [n["id"] for n in c.describe()["children"]] == ["dupes/step", "dupes/step#2"]
    with pytest.raises(cadence.NoteError):
        await c.run(Count(), checkpoint=store, run_id="d")
    FAILING.clear()
    score = await c.resume("d", store)
    assert score.calls == ["first", "second"]  # the failed attempt's write was not saved


async def test_a_changed_structure_is_refused_naming_the_node(store: SQLiteCheckpointStore) -> None:
    """Measures reordered since the checkpoint: refused before any note runs, naming the node id."""
    calls: list[str] = []
    c = Cadence("shape", Count()).then("a", lambda s: calls.append("a")).then("b", lambda s: 1 / 0)
    with pytest.raises(cadence.NoteError):
        await c.run(Count(), checkpoint=store, run_id="s")
    changed = Cadence("shape", Count()).then("b", lambda s: calls.append("b")).then("a", first)
    with pytest.raises(CheckpointError, match=r"'shape/a' \(note\).*is 'shape/b' \(note\) now"):
        await changed.resume("s", store)
    assert calls == ["a"]


async def test_only_code_changed_the_resume_goes_on_and_names_the_notes(store: SQLiteCheckpointStore) -> None:
    """Same structure, a note's body changed: resumed, and the Resumed event lists that note."""
    c = Cadence("code", Count()).then("a", first).then("b", second)
    FAILING.add("second")
    with pytest.raises(cadence.NoteError):
        await c.run(Count(), checkpoint=store, run_id="c")

    def second_fixed(score: Count) -> None:
        score.calls.append("fixed")

    new = Cadence("code", Count()).then("a", first).then("b", second_fixed)
    events: list[ev.Event] = []
    score = await new.resume("c", store, listeners=[events.append])
    assert score.calls == ["first", "fixed"]
    assert [e.changed_notes for e in events if isinstance(e, ev.Resumed)] == [("code/b",)]


async def test_resume_inside_a_sync_runs_only_the_unfinished_member(
    store: SQLiteCheckpointStore, tmp_path: Path
) -> None:
    """Two of three members finished (saved on their own), the third failed: the resume runs the
    third only, then the merge, and the final score holds all three."""
    log = tmp_path / "log"
    app.FAIL.add("mail")
    with pytest.raises(cadence.NoteError, match="mail failed on purpose"):
        await app.fan.run(app.Pay(path=str(log)), checkpoint=store, run_id="f")
    assert sorted(ran(log)) == ["card", "mail", "prep", "stock"]
    saved = store.load("f")
    assert saved is not None
    assert {"fan/pay/card", "fan/pay/stock"} <= saved.done
    assert "fan/pay/mail" not in saved.done
    app.FAIL.clear()
    score = await app.fan.resume("f", store)
    assert ran(log)[4:] == ["mail", "after"]
    assert score.after == "card-done+stock-done+mail-done"
    done = store.load("f")
    assert done is not None
    assert done.status == "done"
    assert not [s for s in done.fields if s.startswith("fan/pay/")]  # members' copies cleared after the merge


async def test_resume_inside_a_child_goes_on_with_the_saved_child_score(
    store: SQLiteCheckpointStore, tmp_path: Path
) -> None:
    """The child's score is saved with the child's node ids; the resume runs c3, the merge and p2."""
    log = tmp_path / "log"
    app.FAIL.add("c3")
    with pytest.raises(cadence.NoteError):
        await app.outer.run(app.Tally(path=str(log)), checkpoint=store, run_id="o")
    saved = store.load("o")
    assert saved is not None
    assert {"outer/p1", "outer/sub/c1", "outer/sub/c2"} <= saved.done
    assert "outer/sub" in saved.fields  # the child's own score
    app.FAIL.clear()
    score = await app.outer.resume("o", store)
    assert ran(log) == ["p1", "c1", "c2", "c3", "c3", "p2"]
    assert score.seen == ["p1", "c1", "c2", "c3", "p2"]


async def test_start_at_skips_the_measures_before(tmp_path: Path) -> None:
    """start_at names a top-level measure (full id or its name); a .sync group starts as a whole."""
    log = tmp_path / "log"
    await app.fan.run(app.Pay(path=str(log)), start_at="fan/pay")
    assert sorted(ran(log)) == ["after", "card", "mail", "stock"]
    log.unlink()
    score = await app.ten.run(app.Tally(path=str(log)), start_at="n9")
    assert ran(log) == ["n9", "n10"]
    assert score.total == 2


async def test_start_at_an_unknown_id_names_the_valid_ones() -> None:
    with pytest.raises(CheckpointError, match=r"start_at='fan/pay/card'.*fan/prep, fan/pay, fan/after"):
        await app.fan.run(app.Pay(), start_at="fan/pay/card")


async def test_start_at_is_saved_so_a_resume_does_not_run_the_skipped_measures(
    store: SQLiteCheckpointStore, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    app.FAIL.add("n9")
    with pytest.raises(cadence.NoteError):
        await app.ten.run(app.Tally(path=str(log)), checkpoint=store, run_id="late", start_at="n8")
    app.FAIL.clear()
    await app.ten.resume("late", store)
    assert ran(log) == ["n8", "n9", "n9", "n10"]


async def test_with_checkpoint_saves_every_run(store: SQLiteCheckpointStore, tmp_path: Path) -> None:
    """`.with_checkpoint(store)` is `run(checkpoint=store)` for every run of the definition."""
    c = Cadence("w", Count()).then("a", first).with_checkpoint(store)
    await c.run(Count(), run_id="w1")
    assert [(i.run_id, i.status) for i in store.runs()] == [("w1", "done")]
    assert c.pending() == []


async def test_a_new_run_under_a_used_id_starts_clean(store: SQLiteCheckpointStore, tmp_path: Path) -> None:
    """Reusing a run id: the old run's completed marks are dropped, so its resume runs every note it must."""
    log = tmp_path / "log"
    await app.ten.run(app.Tally(path=str(log)), checkpoint=store, run_id="again")
    app.FAIL.add("n2")
    with pytest.raises(cadence.NoteError):
        await app.ten.run(app.Tally(path=str(log)), checkpoint=store, run_id="again")
    saved = store.load("again")
    assert saved is not None
    assert saved.done == {"ten/n1"}
    app.FAIL.clear()
    score = await app.ten.resume("again", store)
    assert score.total == 10
