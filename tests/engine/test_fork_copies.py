"""What a `.sync` task gets when it reads a field of its fork: the base's object only when nothing in it
can change, a shallow copy for a list/dict/set of immutable items, a deep copy otherwise. And how a
group waits for its tasks: every task ends before the group does, the first failure wins, nothing of a
failed or cancelled group is merged."""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field
from typing import Any

import pytest

from cadence import Cadence, MergeStrategy, ParallelNoteError, RunRecorder, Score
from cadence._fork import copy_value, fork, is_immutable


class Colour(enum.Enum):
    # A member with a mutable value is still a singleton: deepcopy returns it too.
    RED = [1]  # noqa: RUF012
    BLUE = [2]  # noqa: RUF012


@dataclass(frozen=True)
class Frozen:
    name: str
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FrozenScalars:
    name: str
    qty: int


class Token:
    """Hashable, yet mutable."""

    def __init__(self) -> None:
        self.hits: list[int] = []

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and other.hits == self.hits

    def __hash__(self) -> int:
        return 0


class Items(list[int]):
    pass


@dataclass
class Bag(Score):
    pair: tuple[Any, ...] = ()
    ints: list[int] = field(default_factory=list)
    lines: list[tuple[str, int]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    ids: set[int] = field(default_factory=set)
    nested: list[list[int]] = field(default_factory=list)
    frozen: Any = None
    tokens: frozenset[Any] = frozenset()
    colour: Colour = Colour.RED
    text: str = ""
    total: int = 0


async def _sync(score: Bag, tasks: list[Any], **kw: Any) -> Bag:
    return await Cadence("c", Bag()).sync("g", tasks, **kw).run(score)


async def _handoff(writer_body: Any, reader_body: Any, score: Bag) -> tuple[Bag, dict[str, Any]]:
    """The writer runs first and changes its fork; the reader reads after it and records what it saw."""
    seen: dict[str, Any] = {}
    wrote = asyncio.Event()

    async def writer(s: Bag) -> None:
        writer_body(s)
        wrote.set()

    async def reader(s: Bag) -> None:
        await wrote.wait()
        seen.update(reader_body(s))

    merged = await _sync(score, [writer, reader])
    return merged, seen


# ---------------------------------------------------------------------------- the rule itself


@pytest.mark.parametrize(
    "value",
    [
        1,
        2.5,
        "s",
        b"b",
        None,
        True,
        range(3),
        (),
        (1, "a", None, b"x"),
        (("a", 1), ("b", (2, 3))),
        frozenset({1, "a", (2, 3)}),
        Colour.RED,
        ("red", Colour.BLUE),
    ],
)
def test_immutable_values_are_handed_out_as_they_are(value: Any) -> None:
    """Nothing reachable from these can change: sharing is as good as a deep copy."""
    assert is_immutable(value)
    assert copy_value(value) is value


@pytest.mark.parametrize(
    "value",
    [
        ([],),
        (1, (2, [3])),
        ({"k": 1},),
        frozenset({Token()}),
        Frozen("a"),
        FrozenScalars("a", 1),
        [1, 2],
        {"a": 1},
        {1},
    ],
)
def test_anything_that_can_change_is_not_immutable(value: Any) -> None:
    """Containers that hold (or are) something mutable, and any frozen dataclass, count as mutable."""
    assert not is_immutable(value)
    assert copy_value(value) is not value


def test_a_tuple_holding_a_list_is_deep_copied() -> None:
    value = (1, (2, [3]))
    copied = copy_value(value)
    assert copied == value
    copied[1][1].append(4)
    assert value == (1, (2, [3]))


def test_lists_dicts_and_sets_of_immutables_get_a_shallow_copy_sharing_the_items() -> None:
    line = ("sku", 2, 499)
    lines = [line, ("other", 1, 10)]
    copied = copy_value(lines)
    assert copied == lines
    assert copied is not lines
    assert type(copied) is list
    assert copied[0] is line  # the tuple itself needs no copy
    counts = {"a": 1, ("k", 2): (3, 4)}
    assert copy_value(counts) == counts
    assert copy_value(counts) is not counts
    ids = {1, 2, (3, 4)}
    assert copy_value(ids) == ids
    assert copy_value(ids) is not ids


def test_containers_of_mutable_items_are_deep_copied_keeping_their_aliases() -> None:
    inner = [1]
    value = [inner, inner]
    copied = copy_value(value)
    assert copied == value
    assert copied[0] is not inner
    assert copied[0] is copied[1]  # one object twice in the original: one copy twice
    holder = {"a": [1]}
    assert copy_value(holder)["a"] is not holder["a"]


def test_subclasses_of_containers_are_deep_copied_with_their_type() -> None:
    items = Items([1, 2])
    items.note = "extra"  # type: ignore[attr-defined]
    copied = copy_value(items)
    assert type(copied) is Items
    assert copied == items
    assert copied is not items
    assert copied.note == "extra"  # type: ignore[attr-defined]


def test_very_deep_tuples_fall_back_to_a_deep_copy() -> None:
    value: Any = (1,)
    for _ in range(40):
        value = (value,)
    assert not is_immutable(value)
    assert copy_value(value) == value


# ---------------------------------------------------------------------------- through .sync


async def test_reading_a_tuple_of_scalars_gives_the_same_object_and_no_change() -> None:
    """A tuple of scalars is handed out as it is, and reading it is not a change."""
    pair = ("a", 1)
    got: list[Any] = []

    async def read(s: Bag) -> None:
        got.append(s.pair)

    score = Bag(pair=pair)
    await _sync(score, [read, read])
    assert got == [pair, pair]
    assert all(g is pair for g in got)
    assert score.pair is pair


async def test_a_tuple_containing_a_list_is_isolated() -> None:
    """An in-place write into a list inside a tuple stays in the writing task's copy until the merge."""
    score = Bag(pair=("a", [1]))
    merged, seen = await _handoff(
        lambda s: s.pair[1].append(2), lambda s: {"pair": (s.pair[0], list(s.pair[1]))}, score
    )
    assert seen == {"pair": ("a", [1])}
    assert merged.pair == ("a", [1, 2])


async def test_a_list_of_ints_read_by_one_task_and_appended_by_another_is_isolated() -> None:
    base = [1, 2]
    score = Bag(ints=base)
    merged, seen = await _handoff(lambda s: s.ints.append(3), lambda s: {"ints": list(s.ints)}, score)
    assert seen == {"ints": [1, 2]}
    assert merged.ints == [1, 2, 3]


async def test_a_reader_first_then_a_writer_still_do_not_share_the_list() -> None:
    """The reader's copy is taken before the writer's append: it must not be the writer's list."""
    seen: list[list[int]] = []
    read_done = asyncio.Event()

    async def reader(s: Bag) -> None:
        mine = s.ints
        read_done.set()
        await asyncio.sleep(0.01)
        seen.append(list(mine))

    async def writer(s: Bag) -> None:
        await read_done.wait()
        s.ints.append(99)

    score = Bag(ints=[1])
    await _sync(score, [reader, writer])
    assert seen == [[1]]
    assert score.ints == [1, 99]


async def test_a_list_of_tuples_is_isolated_and_unchanged_by_reads() -> None:
    lines = [("a", 1), ("b", 2)]
    score = Bag(lines=lines)
    merged, seen = await _handoff(
        lambda s: s.lines.append(("c", 3)), lambda s: {"lines": list(s.lines)}, score
    )
    assert seen == {"lines": [("a", 1), ("b", 2)]}
    assert merged.lines == [("a", 1), ("b", 2), ("c", 3)]

    async def only_read(s: Bag) -> None:
        assert sum(q for _, q in s.lines) == 6

    grown = merged.lines
    again = await _sync(merged, [only_read, only_read])
    assert again.lines is grown  # nothing changed: the score keeps its own list


async def test_dict_and_set_of_scalars_are_isolated() -> None:
    score = Bag(counts={"a": 1}, ids={1})

    def write(s: Bag) -> None:
        s.counts["a"] += 1
        s.counts["b"] = 5
        s.ids.add(2)

    merged, seen = await _handoff(write, lambda s: {"counts": dict(s.counts), "ids": set(s.ids)}, score)
    assert seen == {"counts": {"a": 1}, "ids": {1}}
    assert merged.counts == {"a": 2, "b": 5}
    assert merged.ids == {1, 2}


async def test_nested_lists_are_isolated() -> None:
    score = Bag(nested=[[1], [2]])
    merged, seen = await _handoff(
        lambda s: s.nested[0].append(9), lambda s: {"nested": [list(x) for x in s.nested]}, score
    )
    assert seen == {"nested": [[1], [2]]}
    assert merged.nested == [[1, 9], [2]]


async def test_a_frozen_dataclass_with_a_mutable_field_is_isolated() -> None:
    score = Bag(frozen=Frozen("x", ["t"]))
    merged, seen = await _handoff(
        lambda s: s.frozen.tags.append("new"), lambda s: {"tags": list(s.frozen.tags)}, score
    )
    assert seen == {"tags": ["t"]}
    assert merged.frozen == Frozen("x", ["t", "new"])


async def test_a_frozen_dataclass_written_through_object_setattr_is_isolated() -> None:
    score = Bag(frozen=FrozenScalars("x", 1))
    merged, seen = await _handoff(
        lambda s: object.__setattr__(s.frozen, "qty", 2), lambda s: {"qty": s.frozen.qty}, score
    )
    assert seen == {"qty": 1}
    assert merged.frozen == FrozenScalars("x", 2)


async def test_a_frozenset_of_mutable_objects_is_isolated() -> None:
    token = Token()
    score = Bag(tokens=frozenset({token}))
    merged, seen = await _handoff(
        lambda s: next(iter(s.tokens)).hits.append(1),
        lambda s: {"hits": list(next(iter(s.tokens)).hits)},
        score,
    )
    assert seen == {"hits": []}
    assert token.hits == []  # the base's object was never written
    assert next(iter(merged.tokens)).hits == [1]


async def test_enum_and_str_fields_are_shared_and_replaced_not_mutated() -> None:
    score = Bag(colour=Colour.RED, text="a")

    def write(s: Bag) -> None:
        s.colour = Colour.BLUE
        s.text += "b"

    merged, seen = await _handoff(write, lambda s: {"colour": s.colour, "text": s.text}, score)
    assert seen == {"colour": Colour.RED, "text": "a"}
    assert (merged.colour, merged.text) == (Colour.BLUE, "ab")


async def test_smart_merge_of_appends_to_a_shallow_copied_list() -> None:
    async def one(s: Bag) -> None:
        s.lines.append(("x", 1))

    async def two(s: Bag) -> None:
        s.lines.append(("y", 2))

    score = Bag(lines=[("a", 0)])
    merged = await _sync(score, [one, two], merge_strategy=MergeStrategy.smart_merge)
    assert merged.lines == [("a", 0), ("x", 1), ("y", 2)]


def test_a_fork_read_outside_a_run_copies_the_same_way() -> None:
    score = Bag(ints=[1], pair=("a", 1))
    view = fork(score)
    assert view.pair is score.pair
    view.ints.append(2)
    assert score.ints == [1]


# ---------------------------------------------------------------------------- how a group waits

OBSERVED = pytest.mark.parametrize("observed", [False, True], ids=["plain", "observed"])


async def _run(score: Bag, tasks: list[Any], observed: bool) -> Bag:
    cad = Cadence("c", Bag()).sync("g", tasks)
    return await cad.run(score, listeners=[RunRecorder()] if observed else [])


@OBSERVED
async def test_notes_that_never_suspend_and_notes_that_do_are_all_merged(observed: bool) -> None:
    async def at_once(s: Bag) -> None:
        s.total += 1

    async def later(s: Bag) -> None:
        await asyncio.sleep(0)
        await asyncio.sleep(0.001)
        s.text = "later"

    def in_thread(s: Bag) -> None:
        s.ints.append(1)

    score = await _run(Bag(), [at_once, later, in_thread], observed)
    assert (score.total, score.text, score.ints) == (1, "later", [1])


@OBSERVED
async def test_tasks_failing_at_their_first_step_report_the_first_declared(observed: bool) -> None:
    async def ok(s: Bag) -> None:
        s.total = 1

    async def first(s: Bag) -> None:
        raise ValueError("first")

    async def second(s: Bag) -> None:
        raise KeyError("second")

    score = Bag()
    with pytest.raises(ParallelNoteError) as info:
        await _run(score, [ok, first, second], observed)
    assert (info.value.note_name, info.value.task_index) == ("first", 1)
    assert isinstance(info.value.original_error, ValueError)
    assert score.total == 0


@OBSERVED
async def test_a_late_failure_after_siblings_ended_merges_nothing(observed: bool) -> None:
    async def ok(s: Bag) -> None:
        s.total = 1

    async def late(s: Bag) -> None:
        await asyncio.sleep(0.001)
        raise ValueError("late")

    score = Bag()
    with pytest.raises(ParallelNoteError) as info:
        await _run(score, [ok, late], observed)
    assert (info.value.note_name, info.value.task_index) == ("late", 1)
    assert score.total == 0


@OBSERVED
async def test_the_first_failure_in_time_wins_over_a_later_one(observed: bool) -> None:
    gate = asyncio.Event()

    async def slow_fail(s: Bag) -> None:
        await gate.wait()
        raise KeyError("second in time")

    async def fast_fail(s: Bag) -> None:
        await asyncio.sleep(0)
        gate.set()
        raise ValueError("first in time")

    with pytest.raises(ParallelNoteError) as info:
        await _run(Bag(), [slow_fail, fast_fail], observed)
    assert (info.value.note_name, info.value.task_index) == ("fast_fail", 1)


@OBSERVED
async def test_a_failure_at_the_first_step_cancels_a_pending_sibling(observed: bool) -> None:
    cancelled = asyncio.Event()

    async def slow(s: Bag) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def fail(s: Bag) -> None:
        raise ValueError("boom")

    with pytest.raises(ParallelNoteError):
        await _run(Bag(), [slow, fail], observed)
    assert cancelled.is_set()


@OBSERVED
async def test_a_task_cancelled_from_inside_cancels_the_group(observed: bool) -> None:
    """As with ``asyncio.gather``: a cancelled task cancels its siblings and the run raises CancelledError."""
    cancelled = asyncio.Event()

    async def slow(s: Bag) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def quits(s: Bag) -> None:
        s.total = 1
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(0)

    score = Bag()
    with pytest.raises(asyncio.CancelledError):
        await _run(score, [slow, quits], observed)
    assert cancelled.is_set()
    assert score.total == 0


@OBSERVED
@pytest.mark.parametrize("when", ["at_once", "while_running"])
async def test_cancelling_the_run_cancels_every_task_and_merges_nothing(observed: bool, when: str) -> None:
    started = asyncio.Event()
    ended: list[str] = []

    async def waits(s: Bag) -> None:
        s.total = 1
        started.set()
        try:
            await asyncio.sleep(10)
        finally:
            ended.append("waits")

    async def also_waits(s: Bag) -> None:
        s.text = "x"
        try:
            await asyncio.sleep(10)
        finally:
            ended.append("also_waits")

    score = Bag()
    run = asyncio.ensure_future(_run(score, [waits, also_waits], observed))
    if when == "while_running":
        await started.wait()
    else:
        await asyncio.sleep(0)  # the run has forked; its tasks have not started
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert (score.total, score.text) == (0, "")
    if when == "while_running":
        assert sorted(ended) == ["also_waits", "waits"]


async def test_skip_at_the_first_step_cancels_a_pending_sibling_and_ends_cleanly() -> None:
    from cadence import Skip

    cancelled = asyncio.Event()

    async def slow(s: Bag) -> None:
        s.total = 1
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def skip(s: Bag) -> None:
        raise Skip("nothing to do")

    score = await _run(Bag(), [slow, skip], observed=False)
    assert score.total == 0
    assert cancelled.is_set()


# ---------------------------------------------------------------------------- merging a group


def _write_after(task: str, delay: float, **fields: Any) -> Any:
    """An async note named ``task`` that sets ``fields`` (after ``delay`` seconds when > 0)."""

    async def write(s: Bag) -> None:
        if delay:
            await asyncio.sleep(delay)
        for name, value in fields.items():
            setattr(s, name, value)

    write.__name__ = write.__qualname__ = task
    return write


@OBSERVED
async def test_last_write_wins_follows_declaration_order_not_finishing_order(observed: bool) -> None:
    slow = _write_after("slow", 0.01, text="declared first", total=1)
    fast = _write_after("fast", 0, text="declared second")
    cad = Cadence("c", Bag()).sync("g", [slow, fast], merge_strategy=MergeStrategy.last_write_wins)
    score = await cad.run(Bag(), listeners=[RunRecorder()] if observed else [])
    assert (score.text, score.total) == ("declared second", 1)


@OBSERVED
async def test_fail_on_conflict_accepts_equal_writes_and_names_disagreeing_tasks(observed: bool) -> None:
    from cadence import MergeConflict

    one = _write_after("one", 0, text="same", total=1)
    two = _write_after("two", 0.001, text="same", ints=[1])
    score = await _run(Bag(), [one, two], observed)
    assert (score.text, score.total, score.ints) == ("same", 1, [1])

    three = _write_after("three", 0, total=3)
    score = Bag()
    with pytest.raises(MergeConflict) as info:
        await _run(score, [one, two, three], observed)
    assert info.value.field == "total"
    assert info.value.tasks == ("one", "three")
    assert info.value.values == (1, 3)
    assert (score.text, score.total) == ("", 0)


@OBSERVED
async def test_a_custom_strategy_gets_snapshots_in_declaration_order(observed: bool) -> None:
    seen: list[tuple[str, int, int]] = []

    def keep(original: Bag, snapshots: Any, changes: Any) -> dict[str, Any]:
        seen.extend((snap.task, snap.position, snap.score.total) for snap in snapshots)
        return {"total": max(c.get("total", 0) for c in changes)}

    async def low(s: Bag) -> None:
        await asyncio.sleep(0.005)
        s.total = 2

    async def high(s: Bag) -> None:
        s.total = 7

    cad = Cadence("c", Bag()).sync("g", [low, high], merge_strategy=keep)
    score = await cad.run(Bag(), listeners=[RunRecorder()] if observed else [])
    assert score.total == 7
    assert seen == [("low", 0, 2), ("high", 1, 7)]


@OBSERVED
async def test_tasks_that_change_nothing_leave_the_score_as_it_was(observed: bool) -> None:
    lines = [("a", 1)]

    async def reads(s: Bag) -> None:
        assert s.lines == [("a", 1)]

    score = Bag(lines=lines, total=4)
    assert await _run(score, [reads, reads], observed) is score
    assert score.lines is lines
    assert score.total == 4


# ---------------------------------------------------------------------------- views themselves


@dataclass
class Extra(Score):
    items: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cache: dict[str, int] = {"hits": 0}  # not a dataclass field


async def test_attributes_beyond_the_fields_are_copied_lazily_and_isolated() -> None:
    seen: dict[str, Any] = {}
    wrote = asyncio.Event()

    async def writer(s: Extra) -> None:
        s.cache["hits"] += 1
        wrote.set()

    async def reader(s: Extra) -> None:
        await wrote.wait()
        seen.update(s.cache)

    score = Extra()
    await Cadence("c", Extra()).sync("g", [writer, reader]).run(score)
    assert seen == {"hits": 0}
    assert score.cache == {"hits": 1}


def test_a_view_copies_into_a_real_score_with_every_field() -> None:
    import copy
    import dataclasses

    score = Extra(items=[1])
    view = fork(score)
    view.items.append(2)
    for copied in (copy.copy(view), copy.deepcopy(view)):
        assert type(copied) is Extra
        assert copied.items == [1, 2]
        assert copied.cache == {"hits": 0}
        assert dataclasses.asdict(copied) == {"items": [1, 2]}
    assert score.items == [1]
    nested = fork(fork(score))  # a view of a view (a .sync inside a .sync task)
    assert copy.deepcopy(nested).items == [1]
    assert copy.deepcopy(nested).cache == {"hits": 0}


async def test_a_sync_inside_a_sync_task_is_isolated_and_merged_up() -> None:
    inner_seen: list[list[int]] = []

    async def inner_write(s: Bag) -> None:
        s.ints.append(1)

    async def inner_read(s: Bag) -> None:
        await asyncio.sleep(0.001)
        inner_seen.append(list(s.ints))

    inner = Cadence("inner", Bag()).sync("g", [inner_write, inner_read])

    async def outer_nested(s: Bag) -> None:
        await inner.run(s)

    async def outer_other(s: Bag) -> None:
        s.total = 5

    score = Bag(ints=[0])
    await Cadence("c", Bag()).sync("g", [outer_nested, outer_other]).run(score)
    assert inner_seen == [[0]]
    assert (score.ints, score.total) == ([0, 1], 5)


async def test_scores_that_refuse_setattr_can_still_be_forked() -> None:
    from cadence import ImmutableScore

    @dataclass(frozen=True)
    class Settings(ImmutableScore):
        region: str = ""
        retries: int = 0

    async def region(s: Settings) -> Settings:
        return s.replace(region="eu")

    async def retries(s: Settings) -> Settings:
        return s.replace(retries=3)

    got = await Cadence("c", Settings()).sync("g", [region, retries]).run(Settings())
    assert (got.region, got.retries) == ("eu", 3)


# ---------------------------------------------------------------------------- what counts as awaitable


def test_is_awaitable_agrees_with_inspect_before_and_after_a_type_is_remembered() -> None:
    import inspect
    import types

    from cadence._runtime import is_awaitable

    class Plain:
        pass

    class Awaits:
        def __await__(self) -> Any:
            yield

    def gen() -> Any:
        yield

    @types.coroutine
    def gen_coro() -> Any:
        yield

    async def coro() -> None:
        pass

    loop = asyncio.new_event_loop()
    try:
        values = [None, 1, "s", (), Plain(), Awaits(), gen(), gen_coro(), coro(), loop.create_future()]
        for _ in range(2):  # the second time, types found not awaitable are remembered
            assert [is_awaitable(v) for v in values] == [inspect.isawaitable(v) for v in values]
        assert [is_awaitable(v) for v in values][4:] == [False, True, False, True, True, True]
    finally:
        for v in values:
            if inspect.iscoroutine(v) or inspect.isgenerator(v):
                v.close()
        loop.close()


async def test_a_child_score_factory_may_be_sync_or_async() -> None:
    @dataclass
    class Child(Score):
        seed: int = 0
        out: int = 0

    async def double(c: Child) -> None:
        c.out = c.seed * 2

    child = Cadence("child", Child()).then("double", double)

    def merge(parent: Bag, c: Child) -> None:
        parent.total += c.out

    async def async_factory(parent: Bag) -> Child:
        return Child(seed=parent.total)

    cad = (
        Cadence("c", Bag())
        .child("sync", child, merge, score=lambda parent: Child(seed=parent.total))
        .child("async", child, merge, score=async_factory)
    )
    assert (await cad.run(Bag(total=1))).total == 9  # 1 + 2, then 3 + 6


async def test_each_child_run_gets_its_own_copy_of_every_mutable_part_of_the_construction_score() -> None:
    @dataclass
    class Child(Score):
        lines: list[tuple[str, int]] = field(default_factory=list)
        nested: list[list[int]] = field(default_factory=list)
        tokens: frozenset[Any] = frozenset()
        pair: tuple[Any, ...] = ()
        label: str = ""

    template = Child(lines=[("a", 1)], nested=[[1]], tokens=frozenset({Token()}), pair=("p", [0]), label="t")
    gate = asyncio.Event()

    async def scribble(c: Child) -> None:
        c.lines.append(("b", 2))
        c.nested[0].append(2)
        next(iter(c.tokens)).hits.append(1)
        c.pair[1].append(1)
        await gate.wait()

    seen: list[Any] = []

    def merge(parent: Bag, c: Child) -> None:
        seen.append((c.lines, c.nested, next(iter(c.tokens)).hits, c.pair, c.label))

    child = Cadence("child", template).then("scribble", scribble)
    parent = Cadence("p", Bag()).child("sub", child, merge)
    runs = [asyncio.ensure_future(parent.run(Bag())) for _ in range(3)]
    await asyncio.sleep(0.01)
    gate.set()
    await asyncio.gather(*runs)
    assert seen == [([("a", 1), ("b", 2)], [[1, 2]], [1], ("p", [0, 1]), "t")] * 3
    assert template == Child(
        lines=[("a", 1)], nested=[[1]], tokens=frozenset({Token()}), pair=("p", [0]), label="t"
    )
