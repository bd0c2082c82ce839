"""The Gantt timeline in the studio screen: a clicked row selects its note; the axis picks round steps."""

from __future__ import annotations

import pytest

from cadence_studio.ui.widgets.gantt import Gantt, axis_step, tick_label
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from tests.studio.scripted import ScriptedClient, order_tree
from tests.studio.test_app import SIZE, app_with, screen

from .scripted import event


async def test_a_clicked_row_selects_its_note_in_the_graph() -> None:
    client = ScriptedClient()
    app = app_with(client)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        gantt = screen(app).query_one("#timeline", Gantt)
        assert "the timeline of a run shows here" in gantt.render_line(0).text
        await pilot.press("r")
        client.push(
            event(1, "run_started", "order", order_tree()),
            event(1, "note_started", "order/load", order_tree()),
            event(1, "note_finished", "order/load", order_tree(), status="done", duration=0.002),
            event(1, "note_started", "order/enrich/price", order_tree()),
        )
        await pilot.pause()
        assert gantt.spans is not None
        assert [s.node for s in gantt.spans.rows] == ["order/load", "order/enrich/price"]
        await pilot.click(gantt, offset=(3, 2))  # the second row under the axis
        await pilot.pause()
        assert screen(app).query_one(MeasureGraph).selected == "order/enrich/price"
        await pilot.click(gantt, offset=(3, 1))
        await pilot.pause()
        assert screen(app).query_one(MeasureGraph).selected == "order/load"


@pytest.mark.parametrize(
    ("extent", "cells", "step", "labels"),
    [
        (0.18, 100, 0.05, ["0 ms", "50 ms", "100 ms"]),
        (0.0025, 60, 0.0005, ["0 µs", "500 µs", "1000 µs"]),
        (12.0, 100, 2.0, ["0 s", "2 s", "4 s"]),
        (0.8, 40, 0.5, ["0 ms", "500 ms", "1000 ms"]),
    ],
)
def test_the_axis_ticks_a_round_step_about_every_twelve_cells(
    extent: float, cells: int, step: float, labels: list[str]
) -> None:
    assert axis_step(extent, cells) == pytest.approx(step)
    assert [tick_label(i * step, step) for i in range(3)] == labels


@pytest.mark.parametrize("cells", [1, 7, 40, 119])
def test_bars_are_drawn_as_rich_draws_them(cells: int) -> None:
    """The chart draws its bars without a console (one segment per bar: issue 18, step latency); they are
    the cells and style Rich's ``Bar`` renders, to an eighth of a cell."""
    from rich.bar import Bar
    from rich.color import Color
    from rich.console import Console

    from cadence_studio.ui.widgets.gantt import _bar_strip, _bar_style

    console = Console(width=200, color_system="truecolor")
    back = Color.parse("#1e1e1e")
    for size, begin, end in [(1.0, 0.0, 1.0), (1.0, 0.0, 0.0), (3.0, 1.0, 2.0), (0.7, 0.33, 0.34)] + [
        (10.0, b / 7, b / 7 + e / 13) for b in range(8) for e in range(9)
    ]:
        bar = Bar(size, begin, end, width=cells, color="green", bgcolor=back)
        lines = console.render_lines(bar, console.options.update_width(cells), pad=False)
        ours = _bar_strip(size, begin, end, cells, _bar_style("green", back))
        assert [(s.text, s.style) for s in ours] == [(s.text, s.style) for s in lines[0]], (size, begin, end)
