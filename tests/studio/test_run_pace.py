"""A fast run on screen, and x in the middle of it (issue 18: x → "stopped" within 100 ms).

While a run goes on, the graph and the status line follow it and the costlier panels (score, Gantt,
events) are drawn a few times a second, and always catch up; a run's statuses are made again only for
the nodes that changed; x is heard before the key travels the focused widget's chain, unless there is
nothing to stop or the keys are typed into the open cadence picker.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

from textual.widgets import Select

from cadence_studio import protocol as p
from cadence_studio.protocol.session import RunRecord
from cadence_studio.ui.app import SWITCH_INTERVAL, make_app
from cadence_studio.ui.layout import _changed
from cadence_studio.ui.screens import studio_link
from cadence_studio.ui.screens.studio import StudioScreen
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from cadence_studio.ui.widgets.score_tree import ScoreTree
from cadence_studio.ui.widgets.timeline import Timeline
from tests.studio.scripted import ScriptedClient, event, order_tree

NOTES = ("order/load", "order/enrich/price", "order/enrich/stock", "order/route")


@contextlib.asynccontextmanager
async def studio() -> AsyncIterator[tuple[Any, StudioScreen, ScriptedClient]]:
    """The studio at 160×48 on a scripted worker, its catalog drawn."""
    client = ScriptedClient()
    app = make_app("tests", client=client, watch=False, history=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StudioScreen)
        yield pilot, screen, client


async def press(pilot: Any, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await pilot.pause()


def test_statuses_are_made_again_only_for_the_nodes_that_changed() -> None:
    run = RunRecord(number=1, entry="order")
    run.node("a").status = "done"
    run.node("b").status = "running"
    first = run.statuses()
    assert first == {"a": {"status": "done"}, "b": {"status": "running"}}
    run.node("b").status = "done"
    run.node("b").duration = 0.5
    second = run.statuses()
    assert second["b"] == {"status": "done", "duration": 0.5}
    assert second["a"] is first["a"], "an unchanged node keeps its entry (compared by identity)"
    assert second is not first
    assert first["b"] == {"status": "running"}, "a handed-out dict is not changed"
    run.held = ["b"]
    assert run.statuses()["b"] == {"status": "paused"}
    run.held = []
    assert run.statuses()["b"] == {"status": "done", "duration": 0.5}, "a pause's mark does not stay"
    run.mark_reused(["c"])
    assert run.statuses()["c"] == {"status": "reused"}


def test_changed_compares_by_identity_then_by_value() -> None:
    same = {"status": "done"}
    old = {"a": same, "b": {"status": "running"}, "c": {"status": "done"}, "gone": {"status": "done"}}
    new = {"a": same, "b": {"status": "done"}, "c": {"status": "done"}, "new": {"status": "running"}}
    assert _changed(old, new) == {"b", "new", "gone"}
    assert _changed(new, dict(new)) == set()
    assert _changed({"a": same}, {}) == {"a"}


async def test_the_panels_follow_a_fast_run_a_few_times_a_second_and_catch_up() -> None:
    """Thirty batches 20 ms apart: the graph is drawn at each of many, the panels at most every
    PANELS_EVERY; once the run goes quiet, the panels show everything without another message."""
    async with studio() as (pilot, screen, client):
        graph, panels = [], []
        draw_graph, draw_timeline = screen._draw_graph, screen._draw_timeline
        screen._draw_graph = lambda: (graph.append(time.perf_counter()), draw_graph())[1]  # type: ignore[method-assign]
        screen._draw_timeline = lambda: (panels.append(time.perf_counter()), draw_timeline())[1]  # type: ignore[method-assign]
        await pilot.press("r")
        await pilot.pause(0.05)
        graph.clear()
        panels.clear()
        began = time.perf_counter()
        for i in range(30):
            node = NOTES[i % len(NOTES)]
            client.push(
                event(1, "note_started", node, order_tree(total=i)),
                event(1, "note_finished", node, order_tree(total=i + 1), status="done", duration=0.001),
            )
            await pilot.pause(0.02)
        elapsed = time.perf_counter() - began
        assert len(panels) <= elapsed / studio_link.PANELS_EVERY + 2, (len(panels), elapsed)
        assert len(graph) > len(panels), (len(graph), len(panels))
        run = screen.session.run
        assert run is not None
        events = screen.query_one("#events", Timeline)
        deadline = time.perf_counter() + 2.0
        while events.shown != len(run.timeline) and time.perf_counter() < deadline:
            await pilot.pause(0.05)
        assert events.shown == len(run.timeline) == 30, "the panels put off are drawn with no more messages"
        assert screen.up_to_date
        shown = screen.query_one(ScoreTree)._shown
        assert shown is not None
        assert shown[0] is run.score, "the score tree shows the run's last score"


async def start_a_run(pilot: Any, screen: StudioScreen, client: ScriptedClient) -> None:
    await pilot.press("r")
    client.push(event(1, "note_started", "order/load", order_tree()))
    await pilot.pause(0.1)
    assert screen.session.run is not None
    assert screen.session.run.status == "running"


async def test_x_stops_the_run_wherever_the_focus_is() -> None:
    async with studio() as (pilot, screen, client):
        await start_a_run(pilot, screen, client)
        screen.query_one("#score-tree").focus()
        await press(pilot, "x")
        assert len(client.commands(p.Stop)) == 1


async def test_x_is_typed_into_the_open_cadence_picker_and_stops_nothing() -> None:
    async with studio() as (pilot, screen, client):
        await start_a_run(pilot, screen, client)
        picker = screen.query_one("#cadences", Select)
        picker.focus()
        await press(pilot, "enter")  # opens the list
        assert picker.expanded
        await press(pilot, "x")
        assert client.commands(p.Stop) == []
        await press(pilot, "escape", "x")
        assert not picker.expanded
        assert len(client.commands(p.Stop)) == 1


async def test_x_with_no_run_going_on_does_nothing() -> None:
    async with studio() as (pilot, screen, client):
        screen.query_one(MeasureGraph).focus()
        await press(pilot, "x")
        assert client.commands(p.Stop) == []
        assert "ready" in str(screen.query_one("#status").render())


async def test_the_terminal_threads_get_the_interpreter_within_a_millisecond_while_the_studio_runs() -> None:
    before = sys.getswitchinterval()
    app = make_app("tests", client=ScriptedClient(), watch=False, history=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert sys.getswitchinterval() == SWITCH_INTERVAL
    assert sys.getswitchinterval() == before


async def test_the_end_of_a_long_run_paints_its_status_line_alone_first() -> None:
    """After LONG_RUN_NOTES notes, "done" goes out in a frame of its own; the score, the Gantt chart
    and the events (all at once after a long run: the costliest frame) follow ANSWER_REST_AFTER later."""
    async with studio() as (pilot, screen, client):
        await pilot.press("r")
        for i in range(studio_link.LONG_RUN_NOTES):
            node = NOTES[i % len(NOTES)]
            client.push(event(1, "note_finished", node, order_tree(total=i), status="done", duration=0.001))
        await pilot.pause(0.5)
        said, panels = [], []
        status, draw_timeline = screen._update_status, screen._draw_timeline
        screen._update_status = lambda: (said.append(time.perf_counter()), status())[1]  # type: ignore[method-assign]
        screen._draw_timeline = lambda: (panels.append(time.perf_counter()), draw_timeline())[1]  # type: ignore[method-assign]
        client.push(p.RunEnded(run=1, status="done", score=order_tree(total=1000), duration=1.0))
        await pilot.pause(0)
        client.push(p.Log(stream="stderr", text="a line the worker wrote after its run\n"))  # waits too
        deadline = time.perf_counter() + 2.0
        while not (screen.up_to_date and panels) and time.perf_counter() < deadline:
            await pilot.pause(0.01)
        assert "■ order: done" in str(screen.query_one("#status").render())
        assert said, "the status line was written"
        assert panels, "the rest was drawn"
        assert panels[0] - said[0] >= studio_link.ANSWER_REST_AFTER * 0.9, (said, panels)
        events = screen.query_one("#events", Timeline)
        assert events.shown == len(screen.session.run.timeline)  # type: ignore[union-attr]
