"""Failures, error handlers, Skip and interrupts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from cadence import Cadence, DefinitionError, NoteError, RunRecorder, Score, Skip


@dataclass
class Job(Score):
    done: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _mark(name: str) -> Any:
    def mark(s: Job) -> None:
        s.done.append(name)

    mark.__name__ = name
    return mark


def _boom(s: Job) -> None:
    raise ValueError("bad input")


async def test_failing_note_raises_note_error_chained_from_the_cause() -> None:
    """Without a handler, a failing note raises NoteError with note_name and original_error."""
    with pytest.raises(NoteError) as info:
        await Cadence("c", Job()).then("validate", _boom).then("after", _mark("after")).run(Job())
    err = info.value
    assert err.note_name == "validate"
    assert isinstance(err.original_error, ValueError)
    assert err.__cause__ is err.original_error
    assert str(err) == "[NOTE_ERROR] note 'validate' failed: ValueError: bad input"


@pytest.mark.parametrize(("stop", "expected"), [(True, ["before"]), (False, ["before", "after"])])
async def test_on_error_stop_true_ends_false_continues(stop: bool, expected: list[str]) -> None:
    """`.on_error(handler, stop=True)` ends the run without raising; stop=False goes on."""

    async def handler(s: Job, error: BaseException) -> None:
        assert isinstance(error, NoteError)
        s.errors.append(error.note_name)

    cad = (
        Cadence("c", Job())
        .then("before", _mark("before"))
        .then("fail", _boom)
        .then("after", _mark("after"))
        .on_error(handler, stop=stop)
    )
    job = await cad.run(Job())
    assert job.done == expected
    assert job.errors == ["fail"]


async def test_skip_ends_the_cadence_cleanly_and_is_reported() -> None:
    """Skip stops the cadence without an error; the run finishes with status 'skipped'."""

    def skip(s: Job) -> None:
        raise Skip("nothing to ship")

    rec = RunRecorder()
    job = (
        await Cadence("c", Job())
        .then("a", _mark("a"))
        .then("s", skip)
        .then("b", _mark("b"))
        .run(Job(), listeners=[rec])
    )
    assert job.done == ["a"]
    assert rec.events[-1].kind == "run_finished"
    assert rec.events[-1].status == "skipped"  # type: ignore[attr-defined]
    assert "skipped" in rec.kinds


async def test_interrupt_only_on_exactly_true() -> None:
    """A can_interrupt note returning exactly True stops the cadence; truthy values do not."""
    cad = (
        Cadence("c", Job())
        .then("maybe", lambda s: 1, can_interrupt=True)
        .then("stop", lambda s: True, can_interrupt=True)
        .then("never", _mark("never"))
    )
    rec = RunRecorder()
    job = await cad.run(Job(), listeners=[rec])
    assert job.done == []
    assert rec.events[-1].status == "interrupted"  # type: ignore[attr-defined]
    without_flag = await Cadence("c", Job()).then("t", lambda s: True).then("n", _mark("n")).run(Job())
    assert without_flag.done == ["n"]


def test_bad_definitions_are_refused_with_a_fix() -> None:
    """Non-callable tasks, empty names and empty `.sync` lists fail at definition time."""
    with pytest.raises(DefinitionError, match="not callable"):
        Cadence("c", Job()).then("x", 42)  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="non-empty name"):
        Cadence("c", Job()).then("", _mark("a"))
    with pytest.raises(DefinitionError, match="at least one task"):
        Cadence("c", Job()).sync("g", [])
    with pytest.raises(DefinitionError, match="non-empty name"):
        Cadence("", Job())


async def test_run_without_any_score_says_how_to_pass_one() -> None:
    """A cadence with no construction score needs one passed to run()."""
    with pytest.raises(DefinitionError, match=r"cadence.run\(MyScore"):
        await Cadence("c").then("a", _mark("a")).run()


async def test_run_sync_inside_a_loop_is_refused() -> None:
    """run_sync() in a running loop says to await run() instead."""
    with pytest.raises(RuntimeError, match=r"await cadence\.run"):
        Cadence("c", Job()).then("a", _mark("a")).run_sync(Job())
