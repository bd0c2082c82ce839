"""A long run stays alive on screen (issue 18): the studio coalesces a fast run's events, loses none.

Real worker, real run history. The run's events are taken as the worker sent them (the client's
queue) and replayed into a fresh :class:`Session`: the screen's graph, Gantt rows, event list and the
recorded run must match them one for one, however the screen batched its redraws; the run history
must hold exactly the messages the worker sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import TabbedContent

from cadence_studio import protocol as p
from cadence_studio.protocol.session import Session
from cadence_studio.store.history import History
from cadence_studio.ui.app import StudioApp, make_app
from cadence_studio.ui.client import WorkerClient
from cadence_studio.ui.widgets.gantt import Gantt
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from cadence_studio.ui.widgets.timeline import Timeline
from tests.e2e.test_studio_app import SIZE, screen, status, until

# One run of the 10,000 notes is checked whole; the stop and breakpoint tests use 3,000 trivial
# notes (still thousands of events, batched many to a redraw), which keeps the file's time down.
LONG = 10_000
NOTES = 3000

FLAT = """
import time
from dataclasses import dataclass
from cadence import Cadence, Score


@dataclass
class Tally(Score):
    count: int = 0


async def bump(score: Tally) -> None:
    score.count += 1
    end = time.perf_counter() + {busy}  # busy, never waiting: it gives the worker's loop nothing back
    while time.perf_counter() < end:
        pass


flat = Cadence("flat", Tally())
for _i in range({n}):
    flat.then(f"n{{_i:05d}}", bump)
"""


class Recording(WorkerClient):
    """The real worker client, keeping every message the worker sent, as it was queued."""

    def __init__(self, target: str, *, cwd: Path) -> None:
        super().__init__(target, cwd=cwd)
        self.sent: list[p.Message] = []
        put = self._queue.put_nowait

        def keep(message: p.Message) -> None:
            self.sent.append(message)
            put(message)

        self._queue.put_nowait = keep  # type: ignore[method-assign]


def studio_on(
    tmp_path: Path, notes: int = NOTES, *, history: bool = True, busy: float = 0.0
) -> tuple[StudioApp, Recording]:
    """The studio on ``notes`` notes of ``busy`` seconds each, with a client keeping what the worker sent."""
    (tmp_path / "flat.py").write_text(FLAT.format(n=notes, busy=busy))
    client = Recording("flat.py", cwd=tmp_path)
    return make_app("flat.py", cwd=tmp_path, client=client, watch=False, history=history), client


def sent_for(client: Recording, number: int) -> list[p.Message]:
    """What the worker sent of run ``number`` that the run history keeps (its began, events, pauses, end)."""
    kept = (p.RunBegan, p.EventMessage, p.Paused, p.RunEnded)
    return [m for m in client.sent if isinstance(m, kept) and m.run == number]


def count_of(score: Any) -> str:
    """The ``count`` field of an encoded ``Tally`` score, as its repr."""
    return str(dict(score["c"])["count"]["r"])


def replayed(client: Recording, number: int) -> Session:
    """The worker's messages of run ``number``, applied one by one to a session of their own."""
    session = Session("flat.py")
    session.begin_run(number, "flat")
    for message in client.sent:
        session.apply(message)
    return session


async def settled(app: StudioApp, what: str) -> None:
    """Right after the screen applied what it waited for, the status line says it (no paced redraw
    in between); the rest of the screen follows in the next frame."""
    studio = screen(app)
    await until(lambda: studio.session.run is not None and studio.session.run.status != "running", what)
    run = studio.session.run
    assert run is not None
    assert f" {run.status}" in status(app) or (run.status == "paused" and "⏸ paused" in status(app)), (
        f"{what}: applied ({run.status}) but the status line still says {status(app)!r}"
    )
    await until(lambda: studio.up_to_date, f"{what}: drawn")


def assert_screen_matches(app: StudioApp, client: Recording) -> dict[str, Any]:
    studio = screen(app)
    run = studio.session.run
    assert run is not None
    truth = replayed(client, run.number).run
    assert truth is not None
    graph = studio.query_one(MeasureGraph)
    statuses = {node: s["status"] for node, s in graph.statuses.items()}
    assert statuses == {node: s["status"] for node, s in truth.statuses().items()}
    assert run.finished_order == truth.finished_order
    gantt = studio.query_one("#timeline", Gantt)
    assert gantt.spans is run.spans
    assert [(r.node, r.status) for r in run.spans.rows] == [(r.node, r.status) for r in truth.spans.rows]
    events = studio.query_one("#events", Timeline)
    assert events.shown == len(run.timeline) == len(truth.timeline)
    assert run.timeline == truth.timeline
    assert run.score == truth.score
    return statuses


async def test_a_run_of_10000_notes_loses_no_event(tmp_path: Path) -> None:
    """The graph, the Gantt, the Events tab, the final score and the run history all hold every one
    of the worker's events, however the screen batched them."""
    app, client = studio_on(tmp_path, LONG)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph", 60)
        await pilot.press("r")
        await until(lambda: "note " in status(app), "the status line to count notes", 60)
        assert f"/{LONG:,}" in status(app)
        studio = screen(app)
        await until(lambda: studio.session.run is not None and studio.session.run.finished, "the end", 240)
        assert "■ flat: done" in status(app), "the run ended but its end waits for a paced redraw"
        await until(lambda: studio.up_to_date, "the end drawn")
        statuses = assert_screen_matches(app, client)
        assert len(statuses) == LONG + 1  # every note and the cadence
        assert {n for n, s in statuses.items() if s != "done"} == {"flat"}  # the cadence's own node: no note
        run = studio.session.run
        assert run is not None
        assert count_of(run.score) == str(LONG)
        assert len(run.spans.rows) == LONG  # a Gantt row per note
        # the Events tab, opened: its last rows are the run's last events
        studio.query_one("#inspector", TabbedContent).active = "tab-events"
        await pilot.pause()
        events = studio.query_one("#events", Timeline)
        await until(lambda: events.size.height > 0 and events.scroll_y == events.max_scroll_y, "the events")
        await pilot.pause()
        shown = [events.render_line(y).text.strip() for y in range(events.size.height)]
        assert [line for line in shown if line][-2:] == [text for _, text, _ in run.timeline[-2:]]
        assert app.recorder is not None
        app.recorder.flush()
        number = run.number
    sent = sent_for(client, number)
    assert [m.status for m in sent if isinstance(m, p.RunEnded)] == ["done"]
    assert sum(isinstance(m, p.EventMessage) for m in sent) >= 2 * LONG  # a start and an end per note
    history = History(tmp_path)
    (summary,) = history.runs()
    stored_summary, stored = history.load(summary.id)
    assert stored == sent, "the run history does not hold what the worker sent"
    assert stored_summary.messages == len(sent)
    record = history.replay(summary.id)
    truth = replayed(client, number).run
    assert truth is not None
    assert record.status == "done"
    assert record.finished_order == truth.finished_order
    assert {n: s.status for n, s in record.nodes.items()} == {n: s.status for n, s in truth.nodes.items()}
    assert count_of(record.score) == str(LONG)


@pytest.mark.parametrize("history", [True, False], ids=["recorded", "not-recorded"])
async def test_stop_in_the_middle_of_a_fast_run_leaves_a_consistent_screen(
    tmp_path: Path, history: bool
) -> None:
    """x mid-way: every note that finished before the stop is shown done, the rest never ran, and the
    worker itself stopped (not replaced after the grace: its ``stopped`` arrived). The notes never wait
    (a millisecond of work each, so that the run outlasts the screen's lag behind the worker): the
    worker must still hear the stop, also in a run that is not checkpointed."""
    app, client = studio_on(tmp_path, history=history, busy=0.001)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph", 50)
        studio = screen(app)
        await pilot.press("r")
        await until(
            lambda: studio.session.run is not None and len(studio.session.run.finished_order) > 200,
            "200 notes",
            60,
        )
        await pilot.press("x")
        await settled(app, "the stop")
        run = studio.session.run
        assert run is not None
        assert run.status == "stopped", run.status
        assert "■ flat: stopped" in status(app)
        statuses = assert_screen_matches(app, client)
        finished = run.finished_order
        assert 200 < len(finished) < NOTES
        notes = {node: shown for node, shown in statuses.items() if node != "flat"}
        assert {node for node, shown in notes.items() if shown == "done"} == set(finished)
        assert finished == [f"flat/n{i:05d}" for i in range(len(finished))]  # in order, from the first
        assert set(notes) - set(finished) <= {f"flat/n{len(finished):05d}"}  # at most the note cut short
        assert "running" not in statuses.values()  # nothing left half-drawn
        assert count_of(run.score) == str(len(finished))  # the score the stop left: one bump per note done
        if app.recorder is not None:
            app.recorder.flush()
        number = run.number
    sent = sent_for(client, number)
    assert [m.status for m in sent if isinstance(m, p.RunEnded)] == ["stopped"]
    if history:
        store = History(tmp_path)
        (summary,) = store.runs()
        assert store.load(summary.id)[1] == sent
        record = store.replay(summary.id)
        assert record.status == "stopped"
        assert {n: s.status for n, s in record.nodes.items()} == {n: s.status for n, s in run.nodes.items()}


async def test_a_breakpoint_in_a_fast_run_shows_the_paused_note_at_once(tmp_path: Path) -> None:
    app, client = studio_on(tmp_path)
    held = f"flat/n{NOTES * 2 // 3:05d}"
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: screen(app).query_one(MeasureGraph).drawing is not None, "the graph", 50)
        studio = screen(app)
        studio.session.breakpoints.add(held)
        await pilot.press("r")
        await settled(app, "the pause")
        assert f"⏸ paused before {held}" in status(app)
        graph = studio.query_one(MeasureGraph)
        assert graph.statuses[held]["status"] == "paused"
        assert graph.selected == held
        assert_screen_matches(app, client)
        await pilot.press("c")
        await until(lambda: studio.session.run is not None and studio.session.run.finished, "the end", 50)
        assert "■ flat: done" in status(app)
        await until(lambda: studio.up_to_date, "the end drawn")
        statuses = assert_screen_matches(app, client)
        assert {n for n, s in statuses.items() if s != "done"} == {"flat"}
