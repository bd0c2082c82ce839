"""The status line follows the selected cadence: its name and its state, not another cadence's run."""

from __future__ import annotations

import time

from cadence_studio import protocol as p
from cadence_studio.ui.app import make_app
from cadence_studio.ui.screens.studio import StudioScreen
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from tests.studio.scripted import PAY, ScriptedClient, entry, event, order_tree


async def test_selecting_another_cadence_shows_that_cadence_in_the_status() -> None:
    """order is paused; choosing pay says pay is ready (and that order's run is paused), not order's pause."""
    client = ScriptedClient(entries=[entry(), entry(PAY, "pay")])
    app = make_app("tests", client=client, watch=False, history=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StudioScreen)

        def status() -> str:
            return str(screen.query_one("#status").render())

        assert "ready" in status()
        await pilot.press("n")
        client.push(
            p.Paused(
                run=1, kind="note", node_id="order/load", name="load", held=["order/load"], score=order_tree()
            )
        )
        await pilot.pause(0.1)
        assert "paused before order/load" in status()
        screen.query_one("#cadences").value = "pay"  # type: ignore[attr-defined]
        await pilot.pause()
        assert status().startswith("pay: ready"), status()
        assert "order paused" in status()
        assert "paused before order/load" not in status()
        screen.query_one("#cadences").value = "order"  # type: ignore[attr-defined]
        await pilot.pause()
        assert "paused before order/load" in status()


async def test_a_redraw_due_when_x_is_pressed_waits_for_the_stop() -> None:
    """x while a big graph's paced redraw is due: it is called off, and what the worker sent before
    it stopped is drawn with "stopped", in one go (a 10,000-note graph's redraw took 0.1-0.3 s, and
    came between x and "stopped")."""
    client = ScriptedClient()
    app = make_app("tests", client=client, watch=False, history=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StudioScreen)
        graph = screen.query_one(MeasureGraph)
        await pilot.press("r")
        client.push(event(1, "note_started", "order/load", order_tree()))
        await pilot.pause(0.1)
        assert graph.statuses["order/load"]["status"] == "running"
        # As after a redraw that took a while (a big graph): the next one is due in 0.2 s. (The panels'
        # catch-up put off by the last draw is called off: due 0.25 s after it, it drew note_finished
        # before x whenever the pauses below ran late, which is right, but not what is tested here.)
        screen._cancel_draw()
        screen._next_draw = time.perf_counter() + 0.2
        client.push(event(1, "note_finished", "order/load", order_tree(items=["book"]), status="done"))
        await pilot.pause(0.05)
        await pilot.press("x")
        await pilot.pause(0.4)  # past the redraw that was due
        assert graph.statuses["order/load"]["status"] == "running", "drawn before the stop's answer"
        client.push(p.RunEnded(run=1, status="stopped", score=order_tree(items=["book"]), duration=0.2))
        await pilot.pause(0.1)
        assert "■ order: stopped" in str(screen.query_one("#status").render())
        assert graph.statuses["order/load"]["status"] == "done"


async def test_a_running_run_shows_its_count_and_note_whole_at_80_columns() -> None:
    """At 80 columns the status line has some 55: a running run shows the count and the current note,
    not the run's number and cadence (which the picker beside it shows); wide, it shows all of them."""
    for size, head in (((80, 24), "▶ running… · "), ((160, 48), "▶ run 1 of order running… · ")):
        client = ScriptedClient()
        app = make_app("tests", client=client, watch=False, history=False)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, StudioScreen)
            await pilot.press("r")
            client.push(event(1, "note_started", "order/load", order_tree()))
            client.push(event(1, "note_finished", "order/load", order_tree(items=["book"]), status="done"))
            client.push(event(1, "note_started", "order/price", order_tree(items=["book"])))
            await pilot.pause(0.2)
            shown = screen.query_one("#status")
            text = str(shown.render())
            assert text.startswith(head), text
            assert text.endswith("note 1/5 · order/price"), text
            assert shown.content_region.width >= len(text), (size, text)  # nothing cut off
