"""After a run, the graph marks a note that retried (↻N: N attempts) or fell back (↪), moving no box."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cadence import Cadence, Score, fallback, note, retry
from cadence.events import Event
from cadence_studio import protocol as p
from cadence_studio.protocol.session import RunRecord, Session
from cadence_studio.ui.app import make_app
from cadence_studio.ui.layout import Drawing, layout
from tests._tools.renderers import dot_labels, run_dot
from tests.studio.scripted import ScriptedClient, event, order_tree


@dataclass
class Job(Score):
    calls: list[str] = field(default_factory=list)
    price: int = 0


@retry(3, delay=0)
@note
def flaky(job: Job) -> None:
    """Fails the first time only."""
    job.calls.append("flaky")
    if job.calls.count("flaky") == 1:
        msg = "dropped"
        raise ConnectionError(msg)


@fallback(99, field="price")
@note
def quote(job: Job) -> None:
    """Always fails: the fallback's 99 is the price."""
    msg = "no carrier"
    raise TimeoutError(msg)


@retry(3, delay=0)
@note
def steady(job: Job) -> None:
    """Works the first time."""


def job_cadence() -> Cadence[Job]:
    return Cadence("job", Job()).then("flaky", flaky).then("quote", quote).then("steady", steady)


def real_run(cadence: Cadence[Any]) -> RunRecord:
    """Run ``cadence`` for real and feed its events to a session, as the worker's messages would."""
    events: list[Event] = []
    cadence.run_sync(listeners=[events.append])
    session = Session("tests")
    session.begin_run(1, cadence.name)
    for emitted in events:
        session.apply(p.EventMessage(run=1, event=emitted.as_dict()))
    assert session.run is not None
    return session.run


def top(drawing: Drawing, node: str) -> str:
    box = drawing.boxes[node]
    return drawing.lines[box.y].plain[box.x : box.x + box.width]


def test_statuses_carry_attempts_and_fallback() -> None:
    """The session's statuses say how many attempts a note took and whether it fell back."""
    statuses = real_run(job_cadence()).statuses()
    assert statuses["job/flaky"]["attempts"] == 2
    assert statuses["job/quote"]["fallback"] is True
    assert "attempts" not in statuses["job/steady"]
    assert "fallback" not in statuses["job/flaky"]


def test_graph_marks_a_retried_and_a_fallen_back_note() -> None:
    """↻2 and ↪ sit in the status tab of the top border, beside ✓ and the duration."""
    tree = job_cadence().describe()
    drawing = layout(tree, statuses=real_run(job_cadence()).statuses())
    flaky_top, quote_top, steady_top = (top(drawing, f"job/{n}") for n in ("flaky", "quote", "steady"))
    assert flaky_top.startswith("╭─ ✓ ")
    assert " ↻2 ─" in flaky_top
    assert quote_top.startswith("╭─ ✓ ")
    assert " ↪ ─" in quote_top
    assert "↻" not in steady_top
    assert "↪" not in steady_top
    # the box's own line keeps the decorators it is set up with
    assert "flaky ↻3" in drawing.lines[drawing.boxes["job/flaky"].y + 1].plain
    # the marks are styled apart from the status
    box = drawing.boxes["job/flaky"]
    line = drawing.lines[box.y]
    at = line.plain.index("↻2")
    assert any(s.start <= at < s.end and "yellow" in str(s.style) for s in line.spans)


def test_marks_move_no_box() -> None:
    """A run's marks fit the room kept for them: the boxes are where the pending graph has them."""
    tree = job_cadence().describe()
    assert layout(tree, statuses=real_run(job_cadence()).statuses()).boxes == layout(tree).boxes


async def test_studio_export_carries_the_marks(tmp_path: Path) -> None:
    """`e` after a run writes the diagram with the same marks (the real ``dot`` accepts it)."""
    client = ScriptedClient()
    app = make_app("tests", client=client, watch=False)
    target = tmp_path / "order.dot"
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        client.push(
            event(1, "note_started", "order/load", order_tree()),
            event(1, "retry_attempt", "order/load", attempt=1, max_attempts=3, error={"message": "reset"}),
            event(1, "note_finished", "order/load", order_tree(), status="done", duration=0.002),
            event(1, "fallback_used", "order/enrich/price", value=0),
            event(1, "note_finished", "order/enrich/price", order_tree(), status="done", duration=0.001),
            p.RunEnded(run=1, status="done", score=order_tree(), duration=0.01),
        )
        session = app.screen.session  # type: ignore[attr-defined]
        for _ in range(50):  # until the run has ended (it does at once): `e` then exports its statuses
            await pilot.pause(0.02)
            if session.run is not None and session.run.finished:
                break
        await pilot.press("E")
        await pilot.pause()
        app.screen.query_one("#format").value = "dot"  # type: ignore[attr-defined]
        await pilot.pause()
        app.screen.query_one("#path").value = str(target)  # type: ignore[attr-defined]
        await pilot.click("#ok")
        for _ in range(40):
            await pilot.pause(0.05)
            if target.exists():
                break
    labels = {lines[0]: lines for lines in dot_labels(run_dot(target.read_text())).values() if lines}
    assert labels["load"][-1] == "2 ms ↻2"
    assert labels["price"][-1] == "1 ms ↪"
