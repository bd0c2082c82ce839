"""One definition, many runs: no per-run state lives in a Cadence."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from cadence import Cadence, MergeStrategy, Score


@dataclass
class Req(Score):
    user: str = ""
    trail: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    total: int = 0


@dataclass
class Sub(Score):
    picked: list[str] = field(default_factory=list)


async def _hop(s: Req) -> None:
    await asyncio.sleep(random.random() / 1000)
    s.trail.append(s.user)


async def _tag(s: Req) -> None:
    await asyncio.sleep(random.random() / 1000)
    s.tags.append(f"tag-{s.user}")


async def _add(s: Req) -> None:
    s.total += len(s.user)


async def _pick(s: Sub) -> None:
    await asyncio.sleep(random.random() / 1000)
    s.picked.append("one")


def _merge(parent: Req, child: Sub) -> None:
    parent.trail.extend(child.picked)


SUB = Cadence("sub", Sub()).then("pick", _pick)
CONSTRUCTION = Req(user="construction")
DEFINITION = (
    Cadence("iso", CONSTRUCTION)
    .then("hop", _hop)
    .sync("fan", [_tag, _add], merge_strategy=MergeStrategy.smart_merge)
    .split("route", lambda s: len(s.user) % 2 == 0, [_hop], [_add])
    .child("sub", SUB, _merge)
)


async def test_concurrent_runs_on_different_scores_are_fully_isolated() -> None:
    """200 concurrent runs of one definition each end with exactly their own data."""
    scores = [Req(user=f"user{i}") for i in range(200)]
    results = await asyncio.gather(*(DEFINITION.run(s) for s in scores))
    for i, (given, got) in enumerate(zip(scores, results, strict=True)):
        user = f"user{i}"
        assert got is given
        even = len(user) % 2 == 0
        assert got.trail == ([user, user, "one"] if even else [user, "one"])
        assert got.tags == [f"tag-{user}"]
        assert got.total == len(user) * (1 if even else 2)
    assert CONSTRUCTION == Req(user="construction")
    assert SUB.get_score() == Sub()


def test_repeated_runs_start_from_their_own_score() -> None:
    """Running again on a fresh score gives the same result as the first time."""
    first = DEFINITION.run_sync(Req(user="ab"))
    second = DEFINITION.run_sync(Req(user="ab"))
    assert first == second
    assert first is not second


async def test_run_without_score_uses_the_construction_score_in_place() -> None:
    """`run()` with no score mutates and returns the construction score."""
    own = Req(user="xy")
    cad = Cadence("own", own).then("hop", _hop)
    assert await cad.run() is own
    assert own.trail == ["xy"]
    assert cad.get_score() is own
