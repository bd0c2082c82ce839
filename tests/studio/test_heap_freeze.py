"""Once the catalog is drawn, the screen's objects are left out of the garbage collector's scans
(issue 18: a full collection of a 1,000-note screen took 50-100 ms in the middle of a step)."""

from __future__ import annotations

import gc

from cadence_studio import protocol as p
from cadence_studio.ui.screens.studio import StudioScreen
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from tests.studio.scripted import ScriptedClient, entry
from tests.studio.test_app import SIZE, app_with
from tests.studio.test_app import long_entry as _long


def scanned(obj: object) -> bool:
    """Whether the collector's generations hold ``obj`` (a frozen object is in none of them)."""
    return any(o is obj for o in gc.get_objects())


async def test_the_drawn_screen_is_frozen_and_so_is_the_next_one_after_a_reload() -> None:
    client = ScriptedClient(entries=[entry()])
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, StudioScreen)
        graph = app.screen.query_one(MeasureGraph)
        assert graph.drawing is not None
        # the drawing's canvas (its cells: the bulk of a big graph) and the catalog's graph
        first = graph.drawing.lines._canvas
        assert gc.get_freeze_count() > 0
        assert not scanned(first)
        assert isinstance(app.screen, StudioScreen)
        assert app.screen.session.entry is not None
        assert not scanned(app.screen.session.entry.graph)

        client.push(p.Catalog(entries=[_long(40)]))  # a reload: another module, another drawing
        await pilot.pause()
        await pilot.pause()
        assert graph.drawing is not None
        assert graph.drawing.lines._canvas is not first
        assert not scanned(graph.drawing.lines._canvas)
