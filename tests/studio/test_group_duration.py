"""A `.sync` group shows its own time after a run: on its header line in the graph and in the timeline."""

from __future__ import annotations

from cadence.diagram import format_duration
from cadence.events import Event, Merged
from cadence_studio import protocol as p
from cadence_studio.protocol.session import RunRecord, Session
from cadence_studio.ui.layout import layout
from tests.studio.scripted import ORDER, Order

ENRICH = "order/enrich"


def real_run() -> tuple[RunRecord, Merged]:
    """The scripted ORDER cadence run by the engine, its events fed to a session as the worker sends them."""
    events: list[Event] = []
    ORDER.run_sync(Order(), listeners=[events.append])
    session = Session("tests")
    session.begin_run(1, "order")
    for item in events:
        session.apply(p.EventMessage(run=1, event=item.as_dict()))
    (merged,) = (item for item in events if isinstance(item, Merged))
    assert session.run is not None
    assert merged.duration is not None
    return session.run, merged


def test_the_sync_header_in_the_graph_shows_the_groups_duration() -> None:
    """``│ ∥ enrich  sync · … ✓ 1.2 ms``: the group's status tab carries its time, as a note's does."""
    run, merged = real_run()
    drawing = layout(ORDER.describe(), statuses=run.statuses())
    (header,) = (line.plain for line in drawing.lines if "∥ enrich" in line.plain)
    assert f"✓ {format_duration(merged.duration or 0)}" in header, header


def test_the_timeline_says_how_long_the_group_took() -> None:
    """The timeline's "merged" line ends with the group's time, like a child cadence's line."""
    run, merged = real_run()
    lines = [text for _, text, node in run.timeline if node == ENRICH]
    assert lines == [f"⇉ {ENRICH} merged {format_duration(merged.duration or 0)}"], lines
