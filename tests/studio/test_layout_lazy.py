"""A big cadence's first screen: its drawing's rows are built when the graph shows them, not all at once."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cadence import Cadence, Score
from cadence_studio.ui import layout_elements
from cadence_studio.ui.layout import layout
from cadence_studio.ui.layout_elements import Canvas


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


def test_a_restyled_drawing_rebuilds_only_the_rows_painted_again() -> None:
    tree = long_cadence(50).describe()
    before = layout(tree, width=120, selected="flat/n00010")
    after = layout(tree, width=120, selected="flat/n00011", previous=before)
    changed = {y for y in range(len(after.lines)) if not after.lines.same_row(before.lines, y)}
    old, new = after.boxes["flat/n00010"], after.boxes["flat/n00011"]
    assert changed == set(range(old.y, old.y + old.height)) | set(range(new.y, new.y + new.height))
    assert after.lines == layout(tree, width=120, selected="flat/n00011").lines


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
