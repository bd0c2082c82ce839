"""ImmutableScore: notes return a new score, the engine carries it forward."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from cadence import Cadence, ImmutableScore, MergeConflict


@dataclass(frozen=True)
class Config(ImmutableScore):
    name: str = "svc"
    retries: int = 0
    region: str = "eu"


def test_replace_and_with_field_return_new_objects() -> None:
    """`.replace(**kw)` and `.with_field(name, value)` copy; the original is untouched."""
    base = Config()
    assert base.replace(retries=2) == Config(retries=2)
    assert base.with_field("region", "us").region == "us"
    assert base == Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.retries = 3  # type: ignore[misc]


async def test_notes_returning_a_new_score_carry_it_forward() -> None:
    """Each note sees what the previous note returned; run() returns the last one."""
    seen: list[int] = []

    def bump(s: Config) -> Config:
        return s.replace(retries=s.retries + 1)

    async def record(s: Config) -> None:
        seen.append(s.retries)

    result = await Cadence("c", Config()).then("a", bump).then("b", record).then("c", bump).run(Config())
    assert result.retries == 2
    assert seen == [1]


async def test_immutable_scores_in_sync_and_split() -> None:
    """Parallel tasks return new scores that are merged; branches carry theirs forward."""

    def set_region(s: Config) -> Config:
        return s.with_field("region", "us")

    def set_retries(s: Config) -> Config:
        return s.with_field("retries", 5)

    result = await (
        Cadence("c", Config())
        .sync("both", [set_region, set_retries])
        .split("big", lambda s: s.retries > 3, lambda s: s.replace(name="big"))
        .run(Config())
    )
    assert result == Config(name="big", retries=5, region="us")

    def other_region(s: Config) -> Config:
        return s.with_field("region", "ap")

    with pytest.raises(MergeConflict):
        await Cadence("c", Config()).sync("both", [set_region, other_region]).run(Config())
