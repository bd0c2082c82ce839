"""The status line follows the selected cadence: its name and its state, not another cadence's run."""

from __future__ import annotations

from cadence_studio import protocol as p
from cadence_studio.ui.app import make_app
from cadence_studio.ui.screens.studio import StudioScreen
from tests.studio.scripted import PAY, ScriptedClient, entry, order_tree


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
