"""The run controller: hold a run before a chosen note, let it go, step through a `.sync` group."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from cadence import Cadence, Score, StepController, Waypoint


@dataclass
class Trace(Score):
    log: list[str] = field(default_factory=list)
    a: int = 0
    b: int = 0
    c: int = 0


def _append(name: str) -> object:
    async def step(s: Trace) -> None:
        s.log.append(name)

    step.__name__ = name
    return step


async def fa(s: Trace) -> None:
    s.a = 1


async def fb(s: Trace) -> None:
    s.b = 2


async def fc(s: Trace) -> None:
    s.c = 3


async def _next_pause(ctl: StepController, run: asyncio.Task[Trace]) -> Waypoint | None:
    """The next held waypoint, or None once the run has ended."""
    waiter = asyncio.ensure_future(ctl.wait_paused())
    done, _ = await asyncio.wait({waiter, run}, timeout=2, return_when=asyncio.FIRST_COMPLETED)
    if waiter in done:
        return waiter.result()
    waiter.cancel()
    assert run.done(), "the run neither paused nor finished"
    return None


CHILD = Cadence("inner", Trace()).then("deep", _append("deep"))
FLOW = (
    Cadence("flow", Trace())
    .then("first", _append("first"))
    .sync("fan", [fa, fb, fc])
    .then("charge", _append("charge"))
    .child("sub", CHILD, lambda p, c: p.log.extend(c.log))
    .then("last", _append("last"))
)


async def test_holds_before_a_chosen_note_then_lets_it_go() -> None:
    """A breakpoint holds the run before the note, with the score as it is; resume finishes."""
    ctl = StepController(breakpoints={"flow/charge"})
    score = Trace()
    run = asyncio.create_task(FLOW.run(score, controller=ctl))
    point = await ctl.wait_paused(timeout=2)
    assert (point.kind, point.node_id, point.name) == ("note", "flow/charge", "charge")
    assert point.score is score
    assert score.log == ["first"]
    assert (score.a, score.b, score.c) == (1, 2, 3)
    await asyncio.sleep(0.01)
    assert not run.done()  # really held
    ctl.resume()
    result = await asyncio.wait_for(run, 2)
    assert result.log == ["first", "charge", "deep", "last"]


async def test_steps_note_by_note_through_a_sync_group() -> None:
    """Stepping pauses at the fork, then at each parallel note one at a time, then after the merge."""
    ctl = StepController(pause_at_start=True)
    score = Trace()
    run = asyncio.create_task(FLOW.run(score, controller=ctl))
    visited: list[tuple[str, str]] = []
    while (point := await _next_pause(ctl, run)) is not None:
        visited.append((point.kind, point.node_id))
        if point.node_id == "flow/fan/fb":
            # inside the group: fa has run on its own copy, fc is held too, nothing merged yet
            assert [p.node_id for p in ctl.held] == ["flow/fan/fb", "flow/fan/fc"]
            assert score.a == 0
        ctl.step()
    await asyncio.wait_for(run, 2)
    assert visited == [
        ("note", "flow/first"),
        ("fork", "flow/fan"),
        ("note", "flow/fan/fa"),
        ("note", "flow/fan/fb"),
        ("note", "flow/fan/fc"),
        ("note", "flow/charge"),
        ("child", "flow/sub"),
        ("note", "flow/sub/deep"),
        ("note", "flow/last"),
    ]
    assert (score.a, score.b, score.c) == (1, 2, 3)


async def test_step_over_runs_a_group_or_child_whole() -> None:
    """step_over at a fork or child runs it without pausing inside, then pauses at the next note."""
    ctl = StepController(pause_at_start=True)
    run = asyncio.create_task(FLOW.run(Trace(), controller=ctl))
    visited = []
    while (point := await _next_pause(ctl, run)) is not None:
        visited.append(point.node_id)
        ctl.step_over()
    await asyncio.wait_for(run, 2)
    assert visited == ["flow/first", "flow/fan", "flow/charge", "flow/sub", "flow/last"]


async def test_a_plain_callable_controller_sees_every_waypoint() -> None:
    """Any callable works as controller; it is awaited before every note, fork, branch and child."""
    points: list[Waypoint] = []

    async def controller(point: Waypoint) -> None:
        points.append(point)

    cad = (
        Cadence("flow", Trace())
        .child("sub", CHILD, lambda p, c: None)
        .split("route", lambda s: True, [_append("yes")], [_append("no")])
    )
    await cad.run(Trace(), controller=controller)
    kinds = [(p.kind, p.node_id) for p in points]
    assert ("branch", "flow/route") in kinds
    assert ("note", "flow/route/true/yes") in kinds
    assert ("child", "flow/sub") in kinds
    assert [p.depth for p in points if p.node_id == "flow/sub/deep"] == [1]


async def test_without_a_controller_nothing_is_awaited() -> None:
    """A run without controller or listeners takes the plain path (no run id, no events)."""
    score = await FLOW.run(Trace())
    assert score.log == ["first", "charge", "deep", "last"]


async def test_seen_keeps_every_waypoint_passed_unless_told_not_to() -> None:
    kept = StepController()
    await FLOW.run(Trace(), controller=kept)
    assert [point.node_id for point in kept.seen][:3] == ["flow/first", "flow/fan", "flow/fan/fa"]
    assert "flow/last" in [point.node_id for point in kept.seen]
    forgetful = StepController(keep_seen=False, breakpoints={"flow/charge"})
    run = asyncio.ensure_future(FLOW.run(Trace(), controller=forgetful))
    point = await _next_pause(forgetful, run)
    assert point is not None
    assert point.node_id == "flow/charge", "it still holds at its breakpoints"
    forgetful.resume()
    assert (await run).log == ["first", "charge", "deep", "last"]
    assert forgetful.seen == []
