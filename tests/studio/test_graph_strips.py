"""The graph keeps rendered lines only near its view: scrolling a big cadence does not keep every line."""

from __future__ import annotations

from cadence import Cadence
from cadence_studio import protocol as p
from cadence_studio.ui.app import make_app
from cadence_studio.ui.screens.studio import StudioScreen
from cadence_studio.ui.widgets import measure_graph
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from tests.studio.scripted import Order, ScriptedClient, entry, load

NOTES = 400  # four rows a note: far more lines than the strips the graph keeps


def _big() -> Cadence[Order]:
    cadence = Cadence("big", Order())
    for index in range(NOTES):
        cadence.then(f"n{index:03d}", load)
    return cadence


async def test_scrolling_a_big_graph_keeps_few_lines_and_draws_them_again_the_same() -> None:
    client = ScriptedClient(entries=[entry(_big(), "big")])
    app = make_app("tests", client=client, watch=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StudioScreen)
        graph = app.screen.query_one(MeasureGraph)
        assert graph.drawing is not None
        lines = len(graph.drawing.lines)
        assert lines > 2 * measure_graph._KEPT_STRIPS
        first = [graph.render_line(y).text for y in range(graph.size.height)]
        for top in range(0, lines, graph.size.height):
            graph.scroll_to(y=top, animate=False, force=True)
            await pilot.pause()
            for y in range(graph.size.height):
                graph.render_line(y)
        assert len(graph._strips) <= max(measure_graph._KEPT_STRIPS, 4 * graph.size.height)
        graph.scroll_to(y=0, animate=False, force=True)
        await pilot.pause()
        assert [graph.render_line(y).text for y in range(graph.size.height)] == first


async def test_a_graph_taller_than_its_pane_is_centred_in_the_width_its_scrollbar_leaves() -> None:
    """From the first screen, the width the graph is drawn for is the one left by its scrollbar: the first
    step of a big cadence finds the same width and lays out nothing again (issue 18: the first n)."""
    client = ScriptedClient(entries=[])  # the catalog comes once the screen is laid out, as a worker's does
    app = make_app("tests", client=client, watch=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        client.push(p.Catalog(entries=[entry(_big(), "big")]))
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, StudioScreen)
        graph = app.screen.query_one(MeasureGraph)
        assert graph.drawing is not None
        assert graph.drawing._scene is not None
        assert graph.show_vertical_scrollbar
        assert not graph.show_horizontal_scrollbar
        assert graph.drawing._scene.width == graph.scrollable_content_region.width
