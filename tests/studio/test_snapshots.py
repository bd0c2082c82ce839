"""Snapshots of the studio at fixed sizes: every measure kind, a paused run, a merge view, an error."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from cadence_studio import protocol as p
from cadence_studio.ui.app import make_app
from cadence_studio.ui.screens.studio import StudioScreen
from cadence_studio.ui.widgets.measure_graph import MeasureGraph
from tests.studio.scripted import ScriptedClient, event, order_tree


def studio(client: ScriptedClient) -> Any:
    return make_app("tests/order.py", client=client, watch=False)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until the screen has drawn everything it received (it paces its redraws)."""
    for _ in range(100):
        await pilot.pause(0.01)
        screen = pilot.app.screen
        if not isinstance(screen, StudioScreen) or screen.up_to_date:
            break
    await pilot.pause()


def test_graph_with_every_measure_kind(snap_compare: Any) -> None:
    """then, sync, split and child drawn before any run."""
    assert snap_compare(studio(ScriptedClient()), terminal_size=(120, 36), run_before=settle)


def test_paused_run(snap_compare: Any) -> None:
    """A run held before a note: the note marked paused, the score as it is there."""
    client = ScriptedClient()

    async def pause(pilot: Pilot[Any]) -> None:
        await pilot.press("n")
        client.push(
            event(
                1, "note_finished", "order/load", order_tree(items=["book"]), status="done", duration=0.0021
            ),
            p.Paused(
                run=1,
                kind="fork",
                node_id="order/enrich",
                name="enrich",
                held=["order/enrich"],
                score=order_tree(items=["book"]),
            ),
        )
        await settle(pilot)

    assert snap_compare(studio(client), terminal_size=(120, 36), run_before=pause)


def test_sync_merge_view(snap_compare: Any) -> None:
    """After a .sync group: each task's changes and the merged values, side by side."""
    client = ScriptedClient()

    async def merged(pilot: Pilot[Any]) -> None:
        await pilot.press("r")
        client.push(
            event(
                1, "note_finished", "order/enrich/price", order_tree(total=12), status="done", duration=0.001
            ),
            event(
                1,
                "note_finished",
                "order/enrich/stock",
                order_tree(items=["pen"]),
                status="done",
                duration=0.002,
            ),
            event(
                1,
                "merged",
                "order/enrich",
                order_tree(items=["pen"], total=12),
                tasks=["order/enrich/price", "order/enrich/stock"],
                changes=[{"total": 12}, {"items": ["pen"]}],
                conflicts={},
                strategy="fail_on_conflict",
            ),
        )
        await settle(pilot)
        pilot.app.screen.query_one(MeasureGraph).select("order/enrich")
        pilot.app.screen.query_one("#inspector").active = "tab-parallel"  # type: ignore[attr-defined]
        await settle(pilot)

    assert snap_compare(studio(client), terminal_size=(120, 36), run_before=merged)


def test_failed_note(snap_compare: Any) -> None:
    """A failing note: marked in the graph, its error and traceback in the Note tab."""
    client = ScriptedClient()
    error = {
        "type": "ValueError",
        "message": "no stock for 'pen'",
        "traceback": 'Traceback (most recent call last):\n  File "order.py", line 12, in stock\n'
        "ValueError: no stock for 'pen'\n",
    }

    async def failed(pilot: Pilot[Any]) -> None:
        await pilot.press("r")
        client.push(
            event(
                1, "note_finished", "order/load", order_tree(items=["book"]), status="done", duration=0.001
            ),
            event(
                1,
                "note_finished",
                "order/enrich/stock",
                order_tree(),
                status="failed",
                duration=0.003,
                error=error,
            ),
            p.RunEnded(
                run=1,
                status="failed",
                score=order_tree(items=["book"]),
                duration=0.004,
                error=p.ErrorInfo(
                    type="ParallelNoteError",
                    message="parallel task 'stock' failed",
                    traceback=error["traceback"],
                    file="order.py",
                    line=12,
                ),
            ),
        )
        await settle(pilot)
        pilot.app.screen.query_one(MeasureGraph).select("order/enrich/stock")
        pilot.app.screen.query_one("#inspector").active = "tab-note"  # type: ignore[attr-defined]
        await settle(pilot)

    assert snap_compare(studio(client), terminal_size=(120, 36), run_before=failed)


def test_narrow_terminal(snap_compare: Any) -> None:
    """80×24: the graph on top, the inspector under it."""
    assert snap_compare(studio(ScriptedClient()), terminal_size=(80, 24), run_before=settle)


def test_narrow_terminal_timeline(snap_compare: Any) -> None:
    """80×24, t pressed during a paused run: the timeline in the inspector's place, the footer whole."""
    client = ScriptedClient()

    async def paused_with_timeline(pilot: Pilot[Any]) -> None:
        await pilot.press("n")
        client.push(
            p.Paused(
                run=1, kind="note", node_id="order/load", name="load", held=["order/load"], score=order_tree()
            ),
            event(
                1, "note_finished", "order/load", order_tree(items=["book"]), status="done", duration=0.0021
            ),
            p.Paused(
                run=1,
                kind="fork",
                node_id="order/enrich",
                name="enrich",
                held=["order/enrich"],
                score=order_tree(items=["book"]),
            ),
        )
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)

    assert snap_compare(studio(client), terminal_size=(80, 24), run_before=paused_with_timeline)
