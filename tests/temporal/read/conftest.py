"""One run of examples/shop.py on the session's Temporal dev server, exported as the users export it.

``temporal workflow show --workflow-id ID --output json`` writes the histories (the run's and its
``payment`` child's) the read side's tests read; the SDK's ``fetch_history()`` gives the third form.
The local run of the same cadence, with the score after each note, is what they are compared with.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from examples import shop
from temporalio.client import Client

from cadence import serialize_score
from cadence.events import ChildLeft, Event, Merged, NoteFinished
from cadence.integrations.temporal import create_worker, start
from tests.temporal.conftest import TemporalServer, temporal_binary


@dataclasses.dataclass(frozen=True)
class ShopRun:
    """The workflow of one checkout on Temporal, its exported histories and the local run's scores."""

    address: str
    workflow_id: str
    task_queue: str
    exported: Path  # `temporal workflow show --output json` of the run
    child_exported: Path  # ... of its `payment` child workflow
    sdk: dict[str, Any]  # WorkflowHandle.fetch_history().to_json_dict()
    #: node id -> the encoded score after it in a local run (notes outside .sync, merges, the child)
    local_after: dict[str, dict[str, Any]]
    local_final: dict[str, Any]


def export(address: str, workflow_id: str, path: Path) -> Path:
    """What a user runs to export a history: `temporal workflow show ... --output json`."""
    binary = temporal_binary()
    assert binary is not None
    done = subprocess.run(
        [binary, "workflow", "show", "--workflow-id", workflow_id, "--output", "json", "--address", address],
        capture_output=True,
        check=True,
        timeout=60,
    )
    path.write_bytes(done.stdout)
    return path


async def _local() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    after: dict[str, dict[str, Any]] = {}

    def listen(event: Event) -> None:
        if isinstance(event, NoteFinished | Merged | ChildLeft) and event.depth == 0:
            if "/enrich/" in event.node_id or "/fulfilment/" in event.node_id:
                return  # a .sync copy: compared through its group's merge
            # serialize_score does not copy plain lists: dump it before the score changes again
            after[event.node_id] = json.loads(json.dumps(serialize_score(event.score)))

    final = await shop.create_checkout_cadence().run(listeners=[listen])
    return after, serialize_score(final)


async def connect(address: str) -> Client:
    """A client, once the dev server's frontend is healthy: it accepts connections a moment before
    ("Frontend is not healthy yet"), which a loaded machine makes longer."""
    for _ in range(300):  # up to 30 s
        try:
            return await Client.connect(address)
        except RuntimeError as error:
            if "not healthy" not in str(error):
                raise
            await asyncio.sleep(0.1)
    return await Client.connect(address)


async def _remote(address: str) -> tuple[str, str, dict[str, Any]]:
    client = await connect(address)
    cadence = shop.create_checkout_cadence()
    queue = f"shop-read-{uuid.uuid4().hex[:8]}"
    async with create_worker(client, [cadence], task_queue=queue):
        handle = await start(client, cadence, task_queue=queue)
        await handle.result()
    history = await handle.fetch_history()
    return handle.id, queue, history.to_json_dict()


@pytest.fixture(scope="session")
def shop_run(temporal_server: TemporalServer, tmp_path_factory: pytest.TempPathFactory) -> ShopRun:
    folder = tmp_path_factory.mktemp("shop-history")
    try:
        workflow_id, queue, sdk = asyncio.run(_remote(temporal_server.address))
        local_after, local_final = asyncio.run(_local())
    finally:
        gc.collect()  # the client, before the session's event loops come and go
    exported = export(temporal_server.address, workflow_id, folder / "checkout.json")
    child = export(temporal_server.address, f"{workflow_id}/payment", folder / "payment.json")
    assert json.loads(exported.read_text())["events"], "the export has no events"
    return ShopRun(
        temporal_server.address, workflow_id, queue, exported, child, sdk, local_after, local_final
    )
