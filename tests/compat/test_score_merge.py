"""`from cadence.score import merge_snapshots`: the same function as `cadence.merge.merge_snapshots`,
merging copies of a score changed by parallel work back into it."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import pytest

import cadence.merge
from cadence import MergeConflict, MergeStrategy, Score
from cadence.score import merge_snapshots


@dataclass
class Basket(Score):
    items: list[str] = field(default_factory=list)
    total: int = 0
    status: str = "new"


def test_it_is_the_merge_module_function() -> None:
    """One function, two import paths."""
    assert merge_snapshots is cadence.merge.merge_snapshots


def test_it_merges_copies_with_a_strategy() -> None:
    """Two copies changed apart are merged back: lists extended, numbers summed (smart_merge)."""
    original = Basket(items=["a"], total=10)
    first, second = copy.deepcopy(original), copy.deepcopy(original)
    first.items.append("b")
    first.total += 5
    second.items.append("c")
    second.total += 1
    merged = merge_snapshots(original, [first, second], MergeStrategy.smart_merge)
    assert merged is original
    assert (original.items, original.total) == (["a", "b", "c"], 16)


def test_conflicts_are_reported_by_the_default_strategy() -> None:
    """fail_on_conflict (the default) names the field two copies set differently."""
    original = Basket()
    first, second = copy.deepcopy(original), copy.deepcopy(original)
    first.status, second.status = "paid", "cancelled"
    with pytest.raises(MergeConflict, match="status"):
        merge_snapshots(original, [first, second])
