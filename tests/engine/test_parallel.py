"""`.sync`: isolated copies per task, merged after; failures cancel siblings and merge nothing."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from cadence import (
    AtomicList,
    Cadence,
    MergeConflict,
    MergeStrategy,
    ParallelNoteError,
    Score,
)
from cadence._scope import shared_pool


@dataclass
class Doc(Score):
    items: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    a: int = 0
    b: int = 0
    seen: list[str] = field(default_factory=list)
    shared: AtomicList[str] = field(default_factory=AtomicList)


async def test_tasks_never_see_each_others_writes_including_in_place_and_nested() -> None:
    """Each task sees the fork-time score; appends and nested dict edits of a sibling stay invisible."""
    observed: dict[str, Any] = {}
    first_wrote = asyncio.Event()

    async def writer(s: Doc) -> None:
        s.items.append("w")
        s.meta.setdefault("nested", {})["k"] = 1
        s.a = 5
        first_wrote.set()

    async def reader(s: Doc) -> None:
        await first_wrote.wait()
        observed.update(items=list(s.items), meta=dict(s.meta), a=s.a)

    doc = Doc(meta={"nested": {}})
    await Cadence("c", Doc()).sync("g", [writer, reader]).run(doc)
    assert observed == {"items": [], "meta": {"nested": {}}, "a": 0}
    assert doc.items == ["w"]
    assert doc.meta == {"nested": {"k": 1}}
    assert doc.a == 5


async def test_merge_takes_each_tasks_own_fields() -> None:
    """Tasks writing different fields are all merged."""

    async def fa(s: Doc) -> None:
        s.a = 1

    def fb(s: Doc) -> None:
        s.b = 2

    doc = await Cadence("c", Doc()).sync("g", [fa, fb]).run(Doc())
    assert (doc.a, doc.b) == (1, 2)


async def test_conflicting_writes_raise_merge_conflict_naming_field_tasks_values() -> None:
    """Two tasks setting one field to different values is a MergeConflict (default strategy)."""

    async def one(s: Doc) -> None:
        s.a = 1

    async def two(s: Doc) -> None:
        s.a = 2

    doc = Doc()
    with pytest.raises(MergeConflict) as info:
        await Cadence("c", Doc()).sync("g", [one, two]).run(doc)
    assert info.value.field == "a"
    assert info.value.tasks == ("one", "two")
    assert info.value.values == (1, 2)
    assert doc.a == 0


async def test_nested_conflicting_writes_are_detected() -> None:
    """In-place edits of one nested key to different values conflict too."""

    async def one(s: Doc) -> None:
        s.meta["user"]["name"] = "ann"

    async def two(s: Doc) -> None:
        s.meta["user"]["name"] = "bob"

    doc = Doc(meta={"user": {"name": ""}})
    with pytest.raises(MergeConflict) as info:
        await Cadence("c", Doc()).sync("g", [one, two]).run(doc)
    assert info.value.field == "meta"
    assert doc.meta == {"user": {"name": ""}}

    with pytest.raises(MergeConflict) as smart:
        await Cadence("c", Doc()).sync("g", [one, two], merge_strategy=MergeStrategy.smart_merge).run(doc)
    assert "name" in smart.value.field


async def test_same_value_from_two_tasks_is_no_conflict() -> None:
    """Agreeing writes merge silently."""

    async def one(s: Doc) -> None:
        s.a = 3

    doc = await Cadence("c", Doc()).sync("g", [one, lambda s: setattr(s, "a", 3)]).run(Doc())
    assert doc.a == 3


async def test_failure_cancels_siblings_merges_nothing_and_raises_after_all_ended() -> None:
    """A failing task cancels async siblings, waits for sync ones, merges nothing, then raises."""
    cancelled = asyncio.Event()
    sync_done = threading.Event()

    async def slow(s: Doc) -> None:
        s.a = 1
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    def blocking(s: Doc) -> None:
        time.sleep(0.05)
        s.b = 2
        sync_done.set()

    async def fail(s: Doc) -> None:
        await asyncio.sleep(0.01)
        raise ValueError("no stock")

    doc = Doc()
    with pytest.raises(ParallelNoteError) as info:
        await Cadence("c", Doc()).sync("g", [slow, blocking, fail]).run(doc)
    assert cancelled.is_set()
    assert sync_done.is_set()  # the error came after the sync task had ended
    assert (doc.a, doc.b) == (0, 0)
    err = info.value
    assert (err.note_name, err.group_name, err.task_index) == ("fail", "g", 2)
    assert isinstance(err.original_error, ValueError)
    assert err.__cause__ is err.original_error


async def test_sync_notes_never_stall_the_loop_and_share_one_pool() -> None:
    """Sync notes in `.sync` run in the shared pool (created once) while the loop keeps ticking."""
    threads: set[str] = set()
    ticks = 0

    def blocking(s: Doc) -> None:
        threads.add(threading.current_thread().name)
        time.sleep(0.05)

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    pool = shared_pool()
    tick = asyncio.create_task(ticker())
    cad = Cadence("c", Doc()).sync("g", [blocking, blocking, blocking])
    started = time.perf_counter()
    await cad.run(Doc())
    await cad.run(Doc())
    elapsed = time.perf_counter() - started
    tick.cancel()
    assert ticks >= 10
    assert elapsed < 0.3  # three 50 ms notes ran side by side, twice
    assert shared_pool() is pool
    assert threads
    assert all(name.startswith("cadence-note") for name in threads)


async def test_atomic_fields_are_shared_not_copied() -> None:
    """Atomic containers are written concurrently by all tasks and are not merge changes."""

    def add(s: Doc) -> None:
        s.shared.append(threading.current_thread().name)

    doc = await Cadence("c", Doc()).sync("g", [add, add, add]).run(Doc())
    assert len(doc.shared) == 3


async def test_a_plain_object_score_is_shared() -> None:
    """A score that is not a Score is shared by every task (documented: no isolation)."""

    class Bag:
        def __init__(self) -> None:
            self.hits: list[int] = []

    bag = Bag()
    await Cadence("c", bag).sync("g", [lambda s: s.hits.append(1), lambda s: s.hits.append(2)]).run(bag)
    assert sorted(bag.hits) == [1, 2]


async def test_untouched_big_fields_are_not_copied() -> None:
    """A field no task reads is never copied: the merged score keeps the very same object."""

    @dataclass
    class Big(Score):
        blob: list[int] = field(default_factory=lambda: list(range(100_000)))
        x: int = 0

    async def touch(s: Big) -> None:
        s.x = 1

    score = Big()
    blob = score.blob
    await Cadence("c", Big()).sync("g", [touch, touch]).run(score)
    assert score.blob is blob
    assert score.x == 1


async def test_task_score_is_instance_of_score_class() -> None:
    """A task's copy passes isinstance checks and dataclass helpers."""
    import dataclasses

    seen: list[Any] = []

    async def look(s: Doc) -> None:
        seen.append((isinstance(s, Doc), s.__class__ is Doc, dataclasses.asdict(s)["a"]))

    await Cadence("c", Doc()).sync("g", [look]).run(Doc(a=4))
    assert seen == [(True, True, 4)]


@pytest.mark.parametrize("observed", [False, True])
async def test_skip_in_a_task_ends_the_cadence_cleanly_without_merging(observed: bool) -> None:
    """Skip raised by a parallel task ends the run cleanly; the group merges nothing."""
    from cadence import RunRecorder, Skip

    async def write(s: Doc) -> None:
        s.a = 1

    async def skip(s: Doc) -> None:
        raise Skip("out of stock")

    after: list[str] = []
    rec = RunRecorder()
    cad = Cadence("c", Doc()).sync("g", [write, skip]).then("after", lambda s: after.append("ran"))
    doc = await cad.run(Doc(), listeners=[rec] if observed else [])
    assert doc.a == 0
    assert after == []
    if observed:
        assert rec.events[-1].status == "skipped"  # type: ignore[attr-defined]


async def test_failure_with_listeners_reports_each_task() -> None:
    """Observed: the failing task's note_finished is 'failed', the cancelled sibling's 'cancelled'."""
    from cadence import RunRecorder

    async def slow(s: Doc) -> None:
        await asyncio.sleep(10)

    async def fail(s: Doc) -> None:
        raise ValueError("boom")

    rec = RunRecorder()
    with pytest.raises(ParallelNoteError) as info:
        await Cadence("c", Doc()).sync("g", [slow, fail]).run(Doc(), listeners=[rec])
    assert info.value.task_index == 1
    assert rec.statuses["c/g/slow"]["status"] == "cancelled"
    assert rec.statuses["c/g/fail"]["status"] == "failed"
