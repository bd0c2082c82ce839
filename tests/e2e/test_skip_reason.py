"""A note that raises Skip(reason): the Note tab, the timeline and the status line say why."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console, RenderableType

from cadence_studio import protocol as p
from cadence_studio.protocol.session import Session
from cadence_studio.ui.app import make_app
from cadence_studio.ui.client import WorkerClient
from cadence_studio.ui.widgets.note_details import NoteDetails, find_node
from tests.studio.scripted import ScriptedClient, event, order_tree

ROOT = Path(__file__).resolve().parents[2]
REASON = "cart 'c-empty' is empty; nothing to check out"


def text_of(renderable: RenderableType) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


async def test_a_real_skip_reason_reaches_the_note_tab_and_the_timeline() -> None:
    """examples/shop.py with an empty cart: load_cart skips, and the studio shows the reason."""
    session = Session("examples/shop.py")
    client = WorkerClient("examples/shop.py", cwd=ROOT)
    await client.start()
    try:

        async def drive() -> None:
            async for message in client.messages():
                if isinstance(message, p.Catalog):
                    session.begin_run(1, "create_checkout_cadence")
                    args = {"cart_id": "c-empty"}
                    await client.send(p.Run(target="create_checkout_cadence", args=args))
                session.apply(message)
                if isinstance(message, p.RunEnded):
                    return

        await asyncio.wait_for(drive(), 30)
    finally:
        await client.close(grace=1.0)
    run = session.run
    assert run is not None
    assert run.status == "skipped"
    assert run.skip_reason == REASON
    state = run.nodes["checkout/load_cart"]
    assert state.skip_reason == REASON
    assert ("yellow", f"· checkout/load_cart skipped: {REASON}", "checkout/load_cart") in run.timeline
    entry = next(e for e in session.entries if e.name == "create_checkout_cadence")
    node = find_node(run.graph or entry.graph, "checkout/load_cart")
    assert f"skipped: {REASON}" in text_of(NoteDetails.render_node(node, state, None))


async def test_the_status_line_gives_the_skip_reason() -> None:
    """The run's end in the status line: skipped, how long, and why."""
    client = ScriptedClient()
    app = make_app("tests", client=client, watch=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        client.push(
            event(1, "note_finished", "order/load", order_tree(), status="skipped", duration=0.0123),
            event(1, "skipped", "order/load", reason="nothing to load"),
            p.RunEnded(run=1, status="skipped", score=order_tree(), duration=0.0123),
        )
        status = ""
        for _ in range(50):  # until the run's end is shown (not a time bound: it ends at once)
            await pilot.pause(0.02)
            status = str(app.screen.query_one("#status").render())
            if status.startswith("■"):
                break
    assert status == "■ order: skipped in 12 ms — nothing to load"
