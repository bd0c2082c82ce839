"""What a step redraws (issue 18, step latency), real worker: after many steps, each drawn only in part,
the graph, the inspector, the timeline and the hidden Events pane still show the run as it is.

A step's answer is painted first (the status line with the graph and the score) and the timeline in the
frame after it; the Events pane, in a hidden tab, asks for no repaint at all until it is opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import TabbedContent

from cadence_studio.ui.app import StudioApp, make_app
from cadence_studio.ui.widgets.gantt import Gantt
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from cadence_studio.ui.widgets.score_tree import ScoreTree
from cadence_studio.ui.widgets.timeline import Timeline
from tests.e2e.test_studio_app import SIZE, screen, status, until

NOTES = 120  # taller than the graph's pane: the steps scroll it
STEPS = 30
STATUS_ROW = 1  # the screen row of the status line (under the header)

FLAT = """
from dataclasses import dataclass
from cadence import Cadence, Score


@dataclass
class Tally(Score):
    count: int = 0


async def bump(score: Tally) -> None:
    score.count += 1


flat = Cadence("flat", Tally())
for _i in range({n}):
    flat.then(f"n{{_i:05d}}", bump)
"""


def painted_rows(app: StudioApp) -> list[set[int]]:
    """The screen rows each frame painted from now on (a headless app still composes its frames)."""
    frames: list[set[int]] = []
    display = app._display

    def recorded(target: Any, update: Any) -> None:
        if update is not None:
            spans = getattr(update, "spans", None)
            frames.append({y for y, _, _ in spans} if spans is not None else set(range(SIZE[1])))
        display(target, update)

    app._display = recorded  # type: ignore[method-assign]
    return frames


def node_rows(graph: MeasureGraph, node: str) -> set[int]:
    """The screen rows of ``node``'s box in the graph pane, as scrolled now."""
    assert graph.drawing is not None
    box = graph.drawing.boxes[node]
    top = graph.content_region.y - int(graph.scroll_y)
    return {top + y for y in range(box.y, box.y + box.height)}


def counted_refreshes(widget: Any) -> list[str]:
    """A list that gets "refresh" each time ``widget`` asks to be repainted from now on."""
    repaints: list[str] = []
    refresh = widget.refresh

    def counted(*regions: Any, **options: Any) -> Any:
        repaints.append("refresh")
        return refresh(*regions, **options)

    widget.refresh = counted
    return repaints


async def test_after_many_steps_the_screen_shows_the_run_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "flat.py").write_text(FLAT.format(n=NOTES))
    app = make_app("flat.py", cwd=tmp_path, watch=False, history=False)
    async with app.run_test(size=SIZE) as pilot:
        studio = screen(app)
        graph = studio.query_one(MeasureGraph)
        await until(lambda: graph.drawing is not None, "the graph")
        await until(lambda: studio.up_to_date, "the first screen drawn")
        await pilot.pause(0.2)  # and painted: the frames recorded below are the steps' own
        events = studio.query_one("#events", Timeline)
        repaints = counted_refreshes(events)
        frames = painted_rows(app)
        node = None
        for step in range(STEPS):
            frames.clear()
            await pilot.press("n")
            node = f"flat/n{step:05d}"
            await until(
                lambda node=node: studio.session.run is not None and studio.session.run.paused_at == node,
                f"the pause before {node}",
            )
            await until(lambda: studio.up_to_date, f"step {step + 1} drawn")
            await pilot.pause()
            # the status line is painted no later than the paused node's box in the graph
            first_status = next(i for i, rows in enumerate(frames) if STATUS_ROW in rows)
            box = node_rows(graph, node)
            first_box = next(i for i, rows in enumerate(frames) if rows & box)
            assert first_status <= first_box, (step, frames)
            assert f"paused before {node}" in status(app)
        assert node == f"flat/n{STEPS - 1:05d}"
        run = studio.session.run
        assert run is not None

        # the graph: every note run so far is done, the next one is paused, selected and in view
        statuses = {n: s["status"] for n, s in graph.statuses.items()}
        assert {n for n, s in statuses.items() if s == "done"} == {f"flat/n{i:05d}" for i in range(STEPS - 1)}
        assert statuses[node] == "paused"
        assert graph.selected == node
        shown = "\n".join(graph.render_line(y).text for y in range(graph.size.height))
        assert f"n{STEPS - 1:05d}" in shown

        # the inspector: the score before the paused note
        tree = studio.query_one(ScoreTree)
        assert f"score before {node}" in str(tree.root.label)
        assert any(str(child.label).split() == ["count", "=", str(STEPS - 1)] for child in tree.root.children)

        # the timeline: a row per note run, the last one in view
        gantt = studio.query_one("#timeline", Gantt)
        assert gantt.spans is run.spans
        assert [span.node for span in gantt.spans.rows] == [f"flat/n{i:05d}" for i in range(STEPS - 1)]
        rows = [gantt.render_line(y).text for y in range(gantt.size.height)]
        assert rows[0].startswith("own time")
        assert any(f"n{STEPS - 2:05d}" in row for row in rows[1:])

        # the Events pane, hidden all along: its lines kept, no repaint asked for; opened, it shows them
        assert events.shown == len(run.timeline)
        assert repaints == []
        studio.query_one("#inspector", TabbedContent).active = "tab-events"
        await until(lambda: events.size.height > 0 and not events._behind, "the Events pane shown")
        await pilot.pause()
        lines = [events.render_line(y).text.rstrip() for y in range(events.size.height)]
        last = run.timeline[-1][1]
        assert any(line == last for line in lines), (last, lines)
        assert events.scroll_y == events.max_scroll_y


async def test_a_hidden_timeline_asks_for_no_repaint_and_is_right_when_shown(tmp_path: Path) -> None:
    """80×24: the timeline is a toggle (t). Steps taken while it is hidden ask it for no repaint; shown,
    it has a row per note run and the last one in view."""
    (tmp_path / "flat.py").write_text(FLAT.format(n=NOTES))
    app = make_app("flat.py", cwd=tmp_path, watch=False, history=False)
    async with app.run_test(size=(80, 24)) as pilot:
        studio = screen(app)
        graph = studio.query_one(MeasureGraph)
        await until(lambda: graph.drawing is not None, "the graph")
        gantt = studio.query_one("#timeline", Gantt)
        assert not studio.timeline_shown
        repaints = counted_refreshes(gantt)
        steps = 15
        for step in range(steps):
            await pilot.press("n")
            node = f"flat/n{step:05d}"
            await until(
                lambda node=node: studio.session.run is not None and studio.session.run.paused_at == node,
                f"the pause before {node}",
            )
            await until(lambda: studio.up_to_date, f"step {step + 1} drawn")
        assert repaints == []
        run = studio.session.run
        assert run is not None
        assert gantt.spans is run.spans

        await pilot.press("t")
        await until(lambda: studio.timeline_shown and gantt.size.height > 0, "the timeline shown")
        await pilot.pause()
        await pilot.pause()
        assert [span.node for span in run.spans.rows] == [f"flat/n{i:05d}" for i in range(steps - 1)]
        rows = [gantt.render_line(y).text for y in range(gantt.size.height)]
        assert rows[0].startswith("own time")
        assert any(f"n{steps - 2:05d}" in row for row in rows[1:]), rows
        assert gantt.scroll_y == gantt.max_scroll_y
