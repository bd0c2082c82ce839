"""Score types: Score, Atomic containers, pydantic dataclasses, Result."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pydantic
import pytest

from cadence import Atomic, AtomicDict, AtomicList, Cadence, Err, Ok, Score


@dataclass
class Counted(Score):
    n: int = 0
    hits: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.hits = list(self.hits)


def test_post_init_is_safe_to_call_twice() -> None:
    """Score.__post_init__ exists and can run any number of times."""
    s = Counted(hits=[1])
    s.__post_init__()
    s.__post_init__()
    assert s.hits == [1]


def test_atomic_value_operations() -> None:
    """Atomic: get, set, update(fn), compare_and_swap."""
    a = Atomic(1)
    a.set(2)
    assert a.update(lambda v: v * 10) == 20
    assert a.compare_and_swap(20, 21) is True
    assert a.compare_and_swap(20, 99) is False
    assert a.get() == 21


def test_atomic_list_and_dict_operations() -> None:
    """AtomicList and AtomicDict offer the documented methods, `in` and `len`."""
    items: AtomicList[int] = AtomicList([1])
    items.append(2)
    items.extend([3, 4])
    assert items.get_all() == [1, 2, 3, 4]
    assert len(items) == 4
    assert list(items) == [1, 2, 3, 4]
    items.clear()
    assert len(items) == 0
    d: AtomicDict[str, int] = AtomicDict({"a": 1})
    d.set("b", 2)
    d["c"] = 3
    d.update({"d": 4})
    assert d.pop("a") == 1
    assert "b" in d
    assert "a" not in d
    assert d.get("zz", 0) == 0
    assert d.get_all() == {"b": 2, "c": 3, "d": 4}
    assert len(d) == 3


def test_atomics_are_thread_safe() -> None:
    """Eight threads updating one Atomic and one AtomicList lose no write."""
    counter = Atomic(0)
    items: AtomicList[int] = AtomicList()

    def work() -> None:
        for i in range(2000):
            counter.update(lambda v: v + 1)
            items.append(i)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.get() == 16000
    assert len(items) == 16000


async def test_pydantic_dataclass_scores_work() -> None:
    """A pydantic dataclass Score runs, forks in `.sync` and merges."""

    @pydantic.dataclasses.dataclass
    class Checked(Score):
        name: str = "x"
        tags: list[str] = pydantic.Field(default_factory=list)
        size: int = 0

    async def tag(s: Checked) -> None:
        s.tags.append("t")

    async def size(s: Checked) -> None:
        s.size = 3

    score = Checked(name="n")
    result = await Cadence("p", Checked()).sync("g", [tag, size]).then("done", lambda s: None).run(score)
    assert (result.tags, result.size, result.name) == (["t"], 3, "n")


def test_result_ok_and_err() -> None:
    """Ok/Err: ok(), err(), is_ok, is_err, unwrap, unwrap_or, map."""
    ok = Ok(2)
    assert ok.is_ok
    assert not ok.is_err
    assert (ok.ok(), ok.err(), ok.unwrap(), ok.unwrap_or(9)) == (2, None, 2, 2)
    assert ok.map(lambda v: v + 1) == Ok(3)
    err = Err(ValueError("nope"))
    assert err.is_err
    assert not err.is_ok
    assert err.ok() is None
    assert isinstance(err.err(), ValueError)
    assert err.unwrap_or(9) == 9
    assert err.map(lambda v: v) is err
    with pytest.raises(ValueError, match="nope"):
        err.unwrap()
