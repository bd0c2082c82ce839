"""A `.sync` task reading a field whose value cannot be copied (a lock, a generator, an open file, an object
holding a lock) gets the base's own object, shared by every task like an `Atomic`; the run completes and the
tasks' other writes merge as usual."""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cadence import Cadence, Score


def _count() -> Iterator[int]:
    yield from range(100)


@dataclass
class Guarded(Score):
    lock: Any = field(default_factory=threading.Lock)
    ids: Iterator[int] = field(default_factory=_count)
    log: IO[str] | None = None
    ready: threading.Condition = field(default_factory=threading.Condition)
    items: list[int] = field(default_factory=list)
    first: int = -1
    second: int = -1


async def test_a_lock_field_read_in_two_sync_members_is_one_shared_lock() -> None:
    """Both plain `def` members hold the same lock (so it excludes); their writes merge."""
    score = Guarded()
    seen: list[Any] = []

    def first(s: Guarded) -> None:
        with s.lock:
            seen.append(s.lock)
            s.first = 1
            s.items.append(1)

    def second(s: Guarded) -> None:
        with s.lock:
            seen.append(s.lock)
            s.second = 2

    out = await Cadence("c", Guarded()).sync("guarded", [first, second]).run(score)
    assert seen == [score.lock, score.lock]
    assert out.lock is score.lock
    assert not out.lock.locked()
    assert (out.first, out.second, out.items) == (1, 2, [1])


async def test_a_generator_field_is_shared_and_advanced_by_every_member() -> None:
    """Each member takes the next id of the one generator; a copy per task would be impossible."""
    score = Guarded()
    taken: dict[str, int] = {}

    # `async def` members: one generator must not run in two threads at once (that needs a lock).
    async def first(s: Guarded) -> None:
        await asyncio.sleep(0)
        taken["first"] = next(s.ids)

    async def second(s: Guarded) -> None:
        await asyncio.sleep(0)
        taken["second"] = next(s.ids)

    out = await Cadence("c", Guarded()).sync("ids", [first, second]).run(score)
    assert sorted(taken.values()) == [0, 1]
    assert out.ids is score.ids
    assert next(out.ids) == 2


async def test_an_open_file_field_is_written_by_every_member(tmp_path: Path) -> None:
    """Both members write through the one open file; the score still holds that file."""
    with (tmp_path / "log.txt").open("w") as log:
        score = Guarded(log=log)

        def first(s: Guarded) -> None:
            assert s.log is not None
            with s.lock:
                s.log.write("first\n")

        def second(s: Guarded) -> None:
            assert s.log is not None
            with s.lock:
                s.log.write("second\n")

        out = await Cadence("c", Guarded()).sync("log", [first, second]).run(score)
        assert out.log is log
    assert sorted((tmp_path / "log.txt").read_text().splitlines()) == ["first", "second"]


async def test_an_object_holding_a_lock_is_shared_and_a_view_copies_around_it() -> None:
    """A `Condition` (copyable on its face, holding a lock) is shared; `copy.copy` of a task's view works."""
    score = Guarded()
    conditions: list[Any] = []
    copies: list[Guarded] = []

    def first(s: Guarded) -> None:
        with s.ready:
            conditions.append(s.ready)
            s.first = 1
            s.ready.notify_all()

    def second(s: Guarded) -> None:
        copies.append(copy.copy(s))  # nothing read yet: every field comes from the base
        s.second = 2

    out = await Cadence("c", Guarded()).sync("ready", [first, second]).run(score)
    assert conditions == [score.ready]
    assert copies[0].lock is score.lock
    assert copies[0].ids is score.ids
    assert copies[0].items == []
    assert copies[0].items is not score.items
    assert (out.first, out.second) == (1, 2)
