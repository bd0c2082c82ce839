"""Merge strategies for `.sync` and `merge_snapshots`."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from cadence import Cadence, MergeConflict, MergeStrategy, Score, Snapshot, merge_snapshots


@dataclass
class Tally(Score):
    count: int = 10
    total: float = 1.5
    tags: list[str] = field(default_factory=lambda: ["base"])
    seen: set[str] = field(default_factory=lambda: {"x"})
    info: dict[str, Any] = field(default_factory=lambda: {"a": 1, "deep": {"k": 0}})
    label: str = ""


def _copies(score: Tally, *edits: Any) -> list[Tally]:
    out = []
    for edit in edits:
        c = copy.deepcopy(score)
        edit(c)
        out.append(c)
    return out


def test_smart_merge_sums_numbers() -> None:
    """Numbers: base + the sum of every task's delta."""
    base = Tally()

    def add3(s: Tally) -> None:
        s.count += 3
        s.total += 1.0

    def add4(s: Tally) -> None:
        s.count += 4
        s.total += 0.5

    merged = merge_snapshots(base, _copies(base, add3, add4), MergeStrategy.smart_merge)
    assert merged.count == 17
    assert merged.total == 3.0


def test_smart_merge_lists_append_in_declaration_order_without_duplicating_base() -> None:
    """Lists: the base plus each task's additions in declaration order."""
    base = Tally()
    merged = merge_snapshots(
        base,
        _copies(base, lambda s: s.tags.extend(["a1", "a2"]), lambda s: s.tags.append("b1")),
        MergeStrategy.smart_merge,
    )
    assert merged.tags == ["base", "a1", "a2", "b1"]


def test_smart_merge_sets_union_and_dicts_per_key() -> None:
    """Sets: union; dicts: per-key merge, nested dicts merged key by key."""
    base = Tally()

    def one(s: Tally) -> None:
        s.seen.add("y")
        s.info["b"] = 2
        s.info["deep"]["k1"] = 1

    def two(s: Tally) -> None:
        s.seen.add("z")
        s.info["c"] = 3
        s.info["deep"]["k2"] = 2

    merged = merge_snapshots(base, _copies(base, one, two), MergeStrategy.smart_merge)
    assert merged.seen == {"x", "y", "z"}
    assert merged.info == {"a": 1, "b": 2, "c": 3, "deep": {"k": 0, "k1": 1, "k2": 2}}


def test_smart_merge_conflicts_on_same_dict_key_and_scalars() -> None:
    """Conflicting dict keys and other conflicting values raise MergeConflict."""
    base = Tally()
    with pytest.raises(MergeConflict) as info:
        merge_snapshots(
            base,
            _copies(base, lambda s: s.info.update(a=2), lambda s: s.info.update(a=3)),
            MergeStrategy.smart_merge,
        )
    assert info.value.field == "info['a']"
    with pytest.raises(MergeConflict):
        merge_snapshots(
            base,
            _copies(base, lambda s: setattr(s, "label", "x"), lambda s: setattr(s, "label", "y")),
            MergeStrategy.smart_merge,
        )


def test_last_write_wins_by_declaration_order() -> None:
    """The later task in declaration order wins, whatever finished last."""
    base = Tally()
    merged = merge_snapshots(
        base,
        _copies(base, lambda s: setattr(s, "label", "first"), lambda s: setattr(s, "label", "second")),
        MergeStrategy.last_write_wins,
    )
    assert merged.label == "second"


def test_fail_on_conflict_message_names_field_tasks_values_and_fix() -> None:
    """The conflict message says which field, which tasks, which values and what to do."""
    base = Tally()
    with pytest.raises(MergeConflict) as info:
        merge_snapshots(
            base, _copies(base, lambda s: setattr(s, "count", 1), lambda s: setattr(s, "count", 2))
        )
    text = str(info.value)
    assert text.startswith("[MERGE_CONFLICT]")
    assert "'count'" in text
    assert "snapshot[0]" in text
    assert "merge_strategy" in text


async def test_custom_strategy_receives_original_snapshots_and_changes() -> None:
    """A custom strategy is a callable (original, snapshots, changes) returning fields to set."""
    calls: list[Any] = []

    def keep_max(original: Tally, snapshots: list[Snapshot], changes: list[dict[str, Any]]) -> dict[str, Any]:
        calls.append(([s.task for s in snapshots], changes))
        return {"count": max(c.get("count", original.count) for c in changes)}

    async def five(s: Tally) -> None:
        s.count = 5

    async def seven(s: Tally) -> None:
        s.count = 7

    score = await Cadence("c", Tally()).sync("g", [five, seven], merge_strategy=keep_max).run(Tally())
    assert score.count == 7
    assert calls == [(["five", "seven"], [{"count": 5}, {"count": 7}])]


async def test_smart_merge_in_a_cadence() -> None:
    """smart_merge applied by `.sync` sums counters written by parallel tasks."""

    async def inc(s: Tally) -> None:
        s.count += 1

    score = await (
        Cadence("c", Tally())
        .sync("g", [inc, inc, inc], merge_strategy=MergeStrategy.smart_merge)
        .run(Tally())
    )
    assert score.count == 13
