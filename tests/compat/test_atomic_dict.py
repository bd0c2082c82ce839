"""`AtomicDict[T]` (one parameter: the value type, `str` keys) is accepted at run time as well as
`AtomicDict[K, V]`: in annotations resolved by `get_type_hints`, in a score that runs and round-trips."""

from __future__ import annotations

import typing
from dataclasses import dataclass, field

import pytest

from cadence import Cadence, Score, restore_score, serialize_score
from cadence.score import AtomicDict

T = typing.TypeVar("T")


@dataclass
class Cache(Score):
    hits: AtomicDict[int] = field(default_factory=AtomicDict)
    names: AtomicDict[str, str] = field(default_factory=AtomicDict)


def count_a(score: Cache) -> None:
    score.hits.update({"a": 1})


def count_b(score: Cache) -> None:
    score.hits.set("b", 2)


def test_one_parameter_means_str_keys() -> None:
    """`AtomicDict[int]` is `AtomicDict[str, int]`; two parameters are unchanged."""
    assert AtomicDict[int] == AtomicDict[str, int]
    assert typing.get_args(AtomicDict[int]) == (str, int)
    assert typing.get_args(AtomicDict[int, bytes]) == (int, bytes)
    assert typing.get_origin(AtomicDict[int]) is AtomicDict
    assert AtomicDict[T][float] == AtomicDict[str, float]


def test_too_many_parameters_are_still_refused() -> None:
    """Three parameters are an error, as for any two-parameter generic."""
    with pytest.raises(TypeError, match="Too many arguments"):
        AtomicDict[int, int, int]  # type: ignore[misc]


def test_a_score_annotated_with_the_one_parameter_form_runs() -> None:
    """The annotation resolves, `.sync` notes share the dict, and the score round-trips."""
    hints = typing.get_type_hints(Cache)
    assert hints["hits"] == AtomicDict[str, int]
    score = Cadence("cache", Cache()).sync("count", [count_a, count_b]).run_sync(Cache())
    assert score.hits.get_all() == {"a": 1, "b": 2}
    back = restore_score(Cache, serialize_score(score))
    assert isinstance(back.hits, AtomicDict)
    assert back.hits.get_all() == {"a": 1, "b": 2}
