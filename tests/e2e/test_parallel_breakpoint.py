"""A `.sync` member held at a breakpoint ends after its siblings; its copy's changes stay its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console

from cadence_studio import protocol as p
from cadence_studio.protocol.session import Session
from cadence_studio.ui.client import WorkerClient
from cadence_studio.ui.widgets.merge_view import MergePanel

ROOT = Path(__file__).resolve().parents[2]
ENRICH = "checkout/enrich"
HELD = f"{ENRICH}/fetch_customer"


async def _run_holding(member: str) -> Session:
    """Run examples/shop.py's checkout in a real worker with a breakpoint on ``member``, continue
    once it is held, and feed every message to a session as the studio does."""
    session = Session("examples/shop.py")
    client = WorkerClient("examples/shop.py", cwd=ROOT)
    await client.start()
    try:

        async def drive() -> None:
            async for message in client.messages():
                if isinstance(message, p.Catalog):
                    session.begin_run(1, "checkout")
                    await client.send(p.Run(target="checkout", breakpoints=[member]))
                session.apply(message)
                if isinstance(message, p.Paused) and message.node_id == member:
                    await asyncio.sleep(0.2)  # the siblings run to their end meanwhile
                    session.resumed()
                    await client.send(p.Continue())
                if isinstance(message, p.RunEnded):
                    return

        await asyncio.wait_for(drive(), 30)
    finally:
        await client.close(grace=1.0)
    return session


def _text(session: Session) -> str:
    assert session.run is not None
    console = Console(width=200, record=True, color_system=None)
    console.print(MergePanel.render_merge(ENRICH, session.run.merges[ENRICH]))
    return console.export_text()


async def test_a_held_member_keeps_its_own_changes_in_the_parallel_tab() -> None:
    """fetch_customer, held and so ending last, shows the customer fields; each sibling its own."""
    session = await _run_holding(HELD)
    run = session.run
    assert run is not None
    assert run.status == "done"
    # the held member really ended after its siblings (the case that went wrong)
    members = [n for n in run.finished_order if n.startswith(ENRICH + "/")]
    assert members[-1] == HELD

    merge = run.merges[ENRICH]
    assert merge.tasks == [HELD, f"{ENRICH}/check_inventory", f"{ENRICH}/score_fraud_risk"]
    assert set(merge.changes[HELD]) == {"customer_name", "tier", "email", "log"}
    assert set(merge.changes[f"{ENRICH}/check_inventory"]) == {"in_stock", "warehouse", "log"}
    assert set(merge.changes[f"{ENRICH}/score_fraud_risk"]) == {"risk_score"}
    assert set(merge.snapshots) == set(merge.tasks)

    lines = [line.strip() for line in _text(session).splitlines()]
    assert "fetch_customer: Ada Lovelace" in lines
    assert "fetch_customer: gold" in lines
    assert "check_inventory: True" in lines
    assert "score_fraud_risk: 0.31" in lines
    assert "fetch_customer: ['customer Ada Lovelace (gold)']" in lines
