"""examples/shop.py on a real Temporal dev server: the same final score as a local run."""

from __future__ import annotations

import uuid

from examples import shop
from temporalio.client import Client
from temporalio.worker import Replayer

from cadence import serialize_score
from cadence.integrations.temporal import CadenceWorkflow, create_worker, run, sandbox_runner, start
from tests.temporal.conftest import TemporalServer


async def test_shop_checkout_on_temporal_gives_the_local_score(temporal_server: TemporalServer) -> None:
    """Every measure kind of the example (sync with smart_merge, split, sequence with a timed-out note
    and its fallback, a child with score factory and merge, retries) ends on the score a local run gives."""
    local = await shop.create_checkout_cadence().run()
    cadence = shop.create_checkout_cadence()
    client = await Client.connect(temporal_server.address)
    queue = f"shop-{uuid.uuid4().hex[:8]}"
    async with create_worker(client, [cadence], task_queue=queue):
        remote = await run(client, cadence, task_queue=queue)
    assert type(remote) is shop.CheckoutScore
    assert serialize_score(remote) == serialize_score(local)
    assert remote.status == "completed"
    assert remote.shipping == 3900  # quote_shipping timed out on Temporal; its fallback set the flat rate


async def test_the_workflow_replays_its_own_history(temporal_server: TemporalServer) -> None:
    """The workflow is deterministic: the SDK's Replayer replays a finished shop run's history."""
    cadence = shop.create_checkout_cadence()
    client = await Client.connect(temporal_server.address)
    queue = f"shop-replay-{uuid.uuid4().hex[:8]}"
    async with create_worker(client, [cadence], task_queue=queue):
        handle = await start(client, cadence, task_queue=queue)
        await handle.result()
    history = await handle.fetch_history()
    replayer = Replayer(workflows=[CadenceWorkflow], workflow_runner=sandbox_runner())
    replayed = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert replayed.replay_failure is None
