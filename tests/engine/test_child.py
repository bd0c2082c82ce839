"""`.child`: a nested cadence on a fresh score every time, merged into the parent."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from cadence import Cadence, DefinitionError, NoteError, Score


@dataclass
class Parent(Score):
    results: list[list[str]] = field(default_factory=list)
    user: str = ""


@dataclass
class Child(Score):
    steps: list[str] = field(default_factory=list)
    meta: dict[str, int] = field(default_factory=dict)


async def _step(s: Child) -> None:
    s.steps.append("step")
    s.meta["n"] = s.meta.get("n", 0) + 1


def _merge(parent: Parent, child: Child) -> None:
    parent.results.append(list(child.steps))


async def test_child_runs_on_a_fresh_score_every_time() -> None:
    """Each run of the parent gives the child a fresh deep copy of its construction score."""
    child_score = Child(steps=["seed"])
    child = Cadence("child", child_score).then("step", _step)
    parent = Cadence("parent", Parent()).child("sub", child, _merge).child("again", child, _merge)
    first = await parent.run(Parent())
    second = await parent.run(Parent())
    assert first.results == [["seed", "step"], ["seed", "step"]]
    assert second.results == first.results
    assert child_score == Child(steps=["seed"])


async def test_child_construction_score_mutated_by_direct_runs_does_not_leak() -> None:
    """Running the child cadence on its own does not change what `.child` hands it."""
    child = Cadence("child", Child()).then("step", _step)
    parent = Cadence("parent", Parent()).child("sub", child, _merge)
    await child.run()  # mutates the child's construction score in place
    result = await parent.run(Parent())
    assert result.results == [["step"]]


async def test_async_merge_and_score_hook() -> None:
    """`merge` may be async; `score=` builds the child's score from the parent's."""

    async def merge(parent: Parent, child: Child) -> None:
        await asyncio.sleep(0)
        parent.results.append(child.steps)

    child = Cadence("child", Child()).then("step", _step)
    parent = Cadence("parent", Parent()).child(
        "sub", child, merge, score=lambda p: Child(steps=[f"for-{p.user}"])
    )
    result = await parent.run(Parent(user="ann"))
    assert result.results == [["for-ann", "step"]]


async def test_child_failure_reaches_the_parent() -> None:
    """A note failing inside the child fails the parent with that note's NoteError."""

    async def boom(s: Child) -> None:
        raise RuntimeError("card declined")

    child = Cadence("child", Child()).then("charge", boom)
    with pytest.raises(NoteError) as info:
        await Cadence("parent", Parent()).child("pay", child, _merge).run(Parent())
    assert info.value.note_name == "charge"


def test_child_needs_a_cadence_and_a_score() -> None:
    """`.child` refuses non-cadences, itself, and children with no score, with a fix in the message."""
    with pytest.raises(DefinitionError, match="not a Cadence"):
        Cadence("p", Parent()).child("x", lambda s: None, _merge)  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="no score of its own"):
        Cadence("p", Parent()).child("x", Cadence("nosc"), _merge)
    me = Cadence("p", Parent())
    with pytest.raises(DefinitionError, match="contain itself"):
        me.child("x", me, _merge)


async def test_child_hooks_fire_even_when_the_parent_has_none() -> None:
    """The child cadence's own hooks see its run even if nothing observes the parent."""
    calls: list[str] = []

    class Spy:
        def before_cadence(self, name: str, score: object) -> None:
            calls.append(f"start {name}")

        def after_note(self, name: str, score: object, duration: float, error: object = None) -> None:
            calls.append(f"note {name}")

    child = Cadence("child", Child()).then("step", _step).with_hooks(Spy())
    await Cadence("parent", Parent()).child("sub", child, _merge).run(Parent())
    assert calls == ["start child", "note step"]


async def test_parent_hooks_see_the_child_once() -> None:
    """A parent's hooks observe its child's cadence and notes; a hook on both is called once."""
    calls: list[str] = []

    class Spy:
        def before_cadence(self, name: str, score: object) -> None:
            calls.append(f"start {name}")

        def after_note(self, name: str, score: object, duration: float, error: object = None) -> None:
            calls.append(f"note {name}")

    spy = Spy()
    child = Cadence("child", Child()).then("step", _step).with_hooks(spy)
    await Cadence("parent", Parent()).child("sub", child, _merge).with_hooks(spy).run(Parent())
    assert calls == ["start parent", "start child", "note step"]
