"""The timeline as a Gantt chart, drawn from real runs of a real worker: rows, lanes, lengths and marks.

Geometry is read from the widget (where each bar starts and ends, in cells) and from the rows it draws
(which cells hold a bar, in which colour), not from a picture.
"""

from __future__ import annotations

import asyncio
import shutil
import textwrap
from pathlib import Path

from textual.strip import Strip

from cadence_studio.protocol.spans import Span
from cadence_studio.ui.app import StudioApp, make_app
from cadence_studio.ui.widgets.gantt import Gantt
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from cadence_studio.ui.widgets.timeline import Timeline

from .test_studio_app import ROOT, screen, status, until

BLOCKS = frozenset("█▏▎▍▌▋▊▉▐▕")


def gantt(app: StudioApp) -> Gantt:
    return screen(app).query_one("#timeline", Gantt)


def span(app: StudioApp, node: str) -> Span:
    spans = gantt(app).spans
    assert spans is not None
    return spans.by_node[node]


def bar_cells(app: StudioApp, node: str) -> list[tuple[int, str]]:
    """(cell, colour) of each cell of ``node``'s row that draws its bar."""
    widget = gantt(app)
    label, _ = widget.columns()
    strip = widget.draw_row(span(app, node))
    out, x = [], 0
    for segment in strip:
        for char in segment.text:
            if x > label and char in BLOCKS and segment.style is not None and segment.style.color:
                out.append((x - label - 1, segment.style.color.name))
            x += 1
    return out


def row_text(app: StudioApp, node: str) -> str:
    strip: Strip = gantt(app).draw_row(span(app, node))
    return strip.text


async def ran(app: StudioApp, pilot: object) -> None:
    await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
    await pilot.press("r")  # type: ignore[attr-defined]
    await until(lambda: "done in" in status(app), "the run to end")
    await until(lambda: screen(app).up_to_date, "the screen drawn")


async def test_the_shop_checkout_as_a_gantt_chart(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    app = make_app("examples/shop.py", cwd=tmp_path, watch=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await ran(app, pilot)
        widget = gantt(app)
        spans = widget.spans
        assert spans is not None
        nodes = [s.node for s in spans.rows]
        # rows in the order the measures started: a group before its members, a child before its notes
        expected = [
            "checkout/load_cart",
            "checkout/enrich",
            "checkout/enrich/fetch_customer",
            "checkout/enrich/check_inventory",
            "checkout/enrich/score_fraud_risk",
            "checkout/risk_review",
            "checkout/risk_review/false/approve_frictionless",
            "checkout/pricing/compute_subtotal",
            "checkout/pricing/apply_discounts",
            "checkout/pricing/quote_shipping",
            "checkout/pricing/compute_total",
            "checkout/payment",
            "checkout/payment/authorize_payment",
            "checkout/payment/capture_payment",
            "checkout/payment/issue_receipt",
            "checkout/fulfilment",
            "checkout/fulfilment/book_shipment",
            "checkout/fulfilment/send_confirmation",
            "checkout/complete_order",
        ]
        assert nodes == expected
        starts = [s.start for s in spans.rows]
        assert starts == sorted(starts)

        # the .sync group's members: a lane each, indented under the group, side by side in time
        group = span(app, "checkout/enrich")
        members = [span(app, n) for n in nodes if n.startswith("checkout/enrich/")]
        assert {m.depth for m in members} == {group.depth + 1}
        assert max(m.start for m in members) < min(m.end or 0 for m in members)
        lanes = [widget.bar_cells(m) for m in members]
        assert max(x0 for x0, _ in lanes) < min(x1 for _, x1 in lanes) + 1  # their bars overlap
        assert group.end is not None
        for m in members:
            assert m.end is not None
            assert group.start - 0.002 <= m.start
            assert m.end <= group.end + 0.002

        # child cadence: its notes nested under it
        child = span(app, "checkout/payment")
        assert child.kind == "child"
        assert span(app, "checkout/payment/capture_payment").depth == child.depth + 1
        assert row_text(app, "checkout/payment/capture_payment").startswith("  capture_payment ")

        # lengths: each bar is its note's own duration on the axis' scale (an eighth of a cell, and
        # the shortest bar is drawn half a cell wide)
        _, cells = widget.columns()
        extent = widget.now()
        for row in spans.rows:
            if row.kind != "note":
                continue
            x0, x1 = widget.bar_cells(row)
            assert row.duration is not None
            assert abs((x1 - x0) - row.duration / extent * cells) < 0.01
            drawn = len(bar_cells(app, row.node))
            assert abs(drawn - max(0.5, x1 - x0)) <= 2, (row.node, drawn, x1 - x0)
        shipping, cart = span(app, "checkout/pricing/quote_shipping"), span(app, "checkout/load_cart")
        assert shipping.duration is not None
        assert cart.duration is not None
        assert len(bar_cells(app, shipping.node)) > len(bar_cells(app, cart.node))  # ~100 ms against ~3 ms

        # retries and fallbacks, marked on the bar
        authorize = row_text(app, "checkout/payment/authorize_payment")
        assert "↻2" in authorize
        colours = [colour for _, colour in bar_cells(app, "checkout/payment/authorize_payment")]
        assert colours[0] == "yellow"  # the failed attempt first
        assert colours[-1] == "green"  # then the attempt that succeeded
        shipping_row = row_text(app, "checkout/pricing/quote_shipping")
        assert "↪" in shipping_row
        assert "◷" in shipping_row
        assert "↻" not in row_text(app, "checkout/load_cart")

        # the time axis, with its scale
        axis = widget.render_line(0).text
        assert axis.startswith("own time, ┆ = ")
        assert "┆0" in axis
        # the event lines are in the inspector's Events tab
        assert screen(app).query_one("#events", Timeline).shown > len(expected)


async def test_at_80x24_labels_are_cut_and_every_row_fits(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    app = make_app("examples/shop.py", cwd=tmp_path, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await ran(app, pilot)
        await pilot.press("t")
        await pilot.pause()
        widget = gantt(app)
        assert widget.display
        width = widget.scrollable_content_region.width
        rows = [widget.render_line(y) for y in range(widget.scrollable_content_region.height)]
        assert all(row.cell_length == width for row in rows)
        label, cells = widget.columns()
        assert cells >= 40
        long_row = row_text(app, "checkout/risk_review/false/approve_frictionless")
        assert long_row[:label].rstrip().endswith("…")  # cut, not wrapped
        assert rows[0].text.startswith("own time")
        assert rows[-1].text.startswith("complete_order ")  # shown by t at the end: the last rows in view


HELD = 1.0  # seconds held at a breakpoint; the run's notes take about 0.2 s of their own

SLOW = """
import asyncio
from dataclasses import dataclass

from cadence import Cadence, Score


@dataclass
class S(Score):
    n: int = 0


async def quick(score: S) -> None:
    score.n += 1


async def slow(score: S) -> None:
    await asyncio.sleep(1.5)


slow_run = Cadence("slow_run", S()).then("quick", quick).then("slow", slow)
"""


async def test_a_held_run_does_not_stretch(tmp_path: Path) -> None:
    """Held at a breakpoint inside the child for a second: no bar and no axis grows meanwhile, and after
    the run the chart's time is the run's own (the engine's duration), not the wall clock's."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    app = make_app("examples/shop.py", cwd=tmp_path, watch=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        screen(app).session.breakpoints = {"checkout/payment/capture_payment"}
        await pilot.press("r")
        await until(lambda: "paused before" in status(app), "the pause")
        await until(lambda: screen(app).up_to_date, "the screen drawn")
        widget = gantt(app)
        before = (widget.now(), widget.bar_cells(span(app, "checkout/payment")))
        assert span(app, "checkout/payment").end is None  # the child is open: the run is inside it
        await asyncio.sleep(HELD)
        await pilot.pause()
        assert (widget.now(), widget.bar_cells(span(app, "checkout/payment"))) == before
        await pilot.press("c")
        await until(lambda: "done in" in status(app), "the run to end")
        await until(lambda: screen(app).up_to_date, "the screen drawn")
        run = screen(app).session.run
        assert run is not None
        assert widget.now() < HELD / 2
        assert abs(widget.now() - run.duration) < 0.2 * run.duration + 0.02


async def test_a_running_bar_grows_until_its_note_ends(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(textwrap.dedent(SLOW))
    app = make_app("slow.py", cwd=tmp_path, watch=False, history=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph")
        await pilot.press("r")
        widget = gantt(app)
        await until(lambda: widget.spans is not None and "slow_run/slow" in widget.spans.by_node, "slow")
        slow = span(app, "slow_run/slow")
        assert slow.end is None
        first = widget.end_of(slow)
        await asyncio.sleep(3 * Gantt.GROW_EVERY)  # the widget redraws itself meanwhile
        grown = widget.end_of(slow)
        assert grown > first
        assert "…" in row_text(app, "slow_run/slow")  # still running
        await until(lambda: "done in" in status(app), "the run to end")
        await until(lambda: screen(app).up_to_date, "the screen drawn")
        assert slow.end is not None
        assert slow.duration is not None
        assert widget.end_of(slow) == slow.end
        assert slow.duration >= 1.4  # the note's own 1.5 s sleep
        assert "…" not in row_text(app, "slow_run/slow")
