"""A big cadence's first screen: its drawing's rows are built when the graph shows them, not all at once.

Laying out places every node (its box is known at once) and paints nothing: the part of the canvas
under a row is painted when that row is first read, so the rows must come out the same whatever is
read first, and whatever was restyled before it was read.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from cadence import Cadence, Score
from cadence_studio.ui import layout_elements
from cadence_studio.ui.app import make_app
from cadence_studio.ui.layout import layout
from cadence_studio.ui.layout_elements import Canvas, NoteBox
from cadence_studio.ui.screens.studio import StudioScreen
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from tests.studio.scripted import ScriptedClient, entry
from tests.studio.test_layout import every_kind, order_cadence


@dataclass
class Tally(Score):
    count: int = 0


async def bump(score: Tally) -> None:
    score.count += 1


def long_cadence(notes: int) -> Cadence[Tally]:
    cadence = Cadence("flat", Tally())
    for i in range(notes):
        cadence.then(f"n{i:05d}", bump)
    return cadence


def test_laying_out_builds_no_row_until_one_is_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    """2,000 notes are some 8,000 rows; laying them out builds none, showing one builds that one."""
    built: list[int] = []
    line = Canvas.line

    def counted(self: Canvas, row: int, left: int, right: int) -> object:
        built.append(row)
        return line(self, row, left, right)

    monkeypatch.setattr(Canvas, "line", counted)
    drawing = layout(long_cadence(2000).describe(), width=120)
    assert len(drawing.lines) > 8000
    assert built == [], f"{len(built)} rows built by the layout alone"
    box = drawing.boxes["flat/n01500"]
    assert "n01500" in drawing.lines[box.y + 1].plain
    assert built == [box.y + 1]
    drawing.lines[box.y + 1]  # a row is built once
    assert built == [box.y + 1]


def test_laying_out_paints_only_the_notes_whose_rows_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every node is placed (its box is known), but cells are written only under the rows read."""
    written: list[int] = []
    put = Canvas.put

    def counted(self: Canvas, x: int, y: int, text: str, style: str) -> int:
        if not getattr(self, "placing", False):
            written.append(y)
        return put(self, x, y, text, style)

    drawn: list[str] = []
    draw = NoteBox.draw

    def walked(self: NoteBox, canvas: Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        drawn.append(self.node_id)
        draw(self, canvas, x, y, tail, dim)

    monkeypatch.setattr(Canvas, "put", counted)
    monkeypatch.setattr(NoteBox, "draw", walked)
    drawing = layout(long_cadence(2000).describe(), width=120)
    assert len(drawing.boxes) == 2001
    assert len(written) < 20, f"{len(written)} writes by the layout alone"
    assert drawn == [], f"{len(drawn)} notes walked to place them"  # a note's box needs no drawing
    box = drawing.boxes["flat/n01500"]
    assert "n01500" in drawing.lines[box.y + 1].plain
    assert set(written) <= set(range(box.y - 1, box.y + 3))  # that note's rows and its connector


def test_a_restyled_drawing_rebuilds_only_the_rows_painted_again() -> None:
    tree = long_cadence(50).describe()
    before = layout(tree, width=120, selected="flat/n00010")
    after = layout(tree, width=120, selected="flat/n00011", previous=before)
    changed = {y for y in range(len(after.lines)) if not after.lines.same_row(before.lines, y)}
    old, new = after.boxes["flat/n00010"], after.boxes["flat/n00011"]
    assert changed == set(range(old.y, old.y + old.height)) | set(range(new.y, new.y + new.height))
    assert after.lines == layout(tree, width=120, selected="flat/n00011").lines


@pytest.mark.parametrize("seed", range(6))
def test_rows_read_in_any_order_are_the_rows_read_in_order(seed: int) -> None:
    """Every kind of measure (frames, lanes, branches, a collapsed child) and a long sequence."""
    rng = random.Random(seed)
    cadence = [every_kind, order_cadence, lambda: long_cadence(120)][seed % 3]()
    tree = cadence.describe()
    collapsed = {"shop/prepare"} if seed == 3 else set()
    in_order = [line.plain for line in layout(tree, width=100, collapsed=collapsed).lines]
    drawing = layout(tree, width=100, collapsed=collapsed)
    rows = list(range(len(drawing.lines)))
    rng.shuffle(rows)
    shuffled = {row: drawing.lines[row] for row in rows}
    assert [shuffled[row].plain for row in range(len(rows))] == in_order
    fresh = layout(tree, width=100, collapsed=collapsed).lines
    assert [shuffled[row] for row in range(len(rows))] == list(fresh)


def test_a_node_restyled_before_its_rows_were_read_shows_its_new_looks() -> None:
    """A run reaches a note far down before the graph scrolled there: its rows show the run's state."""
    tree = long_cadence(2000).describe()
    before = layout(tree, width=120)
    assert "n00000" in before.lines[before.boxes["flat/n00000"].y + 1].plain  # the top was read
    statuses = {"flat/n01500": {"status": "done", "duration": 0.004}, "flat/n01501": {"status": "paused"}}
    after = layout(tree, width=120, statuses=statuses, selected="flat/n01501", previous=before)
    fresh = layout(tree, width=120, statuses=statuses, selected="flat/n01501")
    box = after.boxes["flat/n01500"]
    rows = range(box.y - 4, box.y + 12)
    assert [after.lines[y] for y in rows] == [fresh.lines[y] for y in rows]
    assert "✓ 4 ms" in after.lines[box.y].plain
    assert "┏" in after.lines[after.boxes["flat/n01501"].y].plain  # the selection's heavy border


async def test_the_graph_of_ten_thousand_notes_shows_the_notes_it_is_scrolled_to() -> None:
    """Scrolled to the middle and to the end, the graph pane shows those notes, boxed as at the top."""
    client = ScriptedClient(entries=[entry(long_cadence(10_000), "flat")])
    app = make_app("tests", client=client, watch=False, history=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StudioScreen)
        graph = app.screen.query_one(MeasureGraph)
        assert graph.drawing is not None
        assert len(graph.drawing.boxes) == 10_001
        top = [graph.render_line(y).text for y in range(graph.size.height)]
        assert any("n00000" in line for line in top)
        for name in ("n05000", "n09998"):  # (the last note has no stem below it)
            box = graph.drawing.boxes[f"flat/{name}"]
            graph.scroll_to(y=box.y - 2, animate=False, force=True)
            await pilot.pause()
            at = box.y - graph.scroll_offset.y  # the end cannot scroll to the top of the pane
            assert at >= 2
            shown = [graph.render_line(y).text for y in range(graph.size.height)]
            assert name in shown[at + 1], shown[at : at + 3]
            # the same box as the first note's, one row for one row (a note is three rows)
            first = graph.drawing.boxes["flat/n00000"]
            assert shown[at : at + 3] == [line.replace("n00000", name) for line in top[first.y : first.y + 3]]


def test_another_width_centres_the_drawing_again_without_laying_it_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The graph's pane may get its width after the first layout (a catalog drawn before the first
    frame), and a terminal is resized: the same drawing is centred anew, its nodes are not built again."""
    from cadence_studio.ui import layout as layout_module

    tree = long_cadence(300).describe()
    looks = {"statuses": {"flat/n00002": {"status": "done", "duration": 0.01}}, "selected": "flat/n00003"}
    first = layout(tree, width=40, **looks)
    built: list[str] = []
    build = layout_module._build

    def counted(node: object, ctx: object) -> object:
        built.append(str(node))
        return build(node, ctx)  # type: ignore[arg-type]

    monkeypatch.setattr(layout_module, "_build", counted)
    wider = layout(tree, width=120, previous=first, **looks)
    assert built == []
    monkeypatch.undo()
    fresh = layout(tree, width=120, **looks)
    assert (wider.width, wider.height, wider.boxes, wider.order) == (
        fresh.width,
        fresh.height,
        fresh.boxes,
        fresh.order,
    )
    assert wider.lines == fresh.lines
    narrower = layout(tree, width=30, previous=wider, statuses={}, selected="flat/n00100")
    assert narrower.lines == layout(tree, width=30, statuses={}, selected="flat/n00100").lines


def test_another_width_centres_the_drawing_anew_without_a_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The graph's scrollbar appears once a 10,000-note graph is shown, and its width shrinks by two
    columns: the next redraw (the run's start) laid the whole graph out again (0.6-0.8 s)."""
    tree = long_cadence(300).describe()
    before = layout(tree, width=94)
    built: list[str] = []
    box = layout_elements.NoteBox.__init__

    def counted(self: layout_elements.NoteBox, node_id: str, *args: object, **kwargs: object) -> None:
        built.append(node_id)
        box(self, node_id, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(layout_elements.NoteBox, "__init__", counted)
    statuses = {"flat/n00000": {"status": "running"}}
    after = layout(tree, width=92, statuses=statuses, previous=before)
    assert built == [], f"{len(built)} notes laid out again for a new width"
    fresh = layout(tree, width=92, statuses=statuses)
    assert after.lines == fresh.lines
    assert (after.width, after.boxes, after.order) == (fresh.width, fresh.boxes, fresh.order)
    assert after.boxes["flat/n00000"].x == before.boxes["flat/n00000"].x - 1


def test_a_restyle_paints_a_node_again_only_when_its_rows_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fast run changes thousands of notes between two redraws of the graph, which shows a few: each
    is painted again when a row of it is read, not all of them at each redraw (0.1-0.3 s at 10,000)."""
    tree = long_cadence(2000).describe()
    before = layout(tree, width=120)
    painted: list[str] = []
    draw = layout_elements.NoteBox.draw

    def counted(self: layout_elements.NoteBox, *args: object) -> None:
        painted.append(self.node_id)
        draw(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(layout_elements.NoteBox, "draw", counted)
    statuses = {f"flat/n{i:05d}": {"status": "done", "duration": 0.001} for i in range(1500)}
    after = layout(tree, width=120, statuses=statuses, previous=before)
    assert painted == [], f"{len(painted)} notes painted again before any was shown"
    box = after.boxes["flat/n00010"]
    assert "✓ 1 ms" in after.lines[box.y].plain
    assert painted == ["flat/n00010"]
    assert after.lines == layout(tree, width=120, statuses=statuses).lines
