"""`cadence-studio schedule create|list|delete` on a real dev server: a schedule that fires and whose
run a real `cadence-studio worker` completes, listed, then deleted; a bad cron and a taken id refused."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from temporalio.client import Client

from tests.temporal.cli_tools import SHOP, studio, worker
from tests.temporal.conftest import TemporalServer


async def _fired_run(address: str, schedule_id: str) -> dict[str, Any]:
    """The output of the first workflow the schedule started, once it completed."""
    client = await Client.connect(address)
    handle = client.get_schedule_handle(schedule_id)
    deadline = time.monotonic() + 60  # generous for a loaded machine; not a bound under test
    while True:
        described = await handle.describe()
        actions = described.info.recent_actions
        if actions:
            started = actions[0].action
            workflow_id = getattr(started, "workflow_id", "")
            out: dict[str, Any] = await client.get_workflow_handle(workflow_id).result()
            return out
        assert time.monotonic() < deadline, "the schedule did not fire"
        await asyncio.sleep(0.2)


def test_a_schedule_fires_is_listed_and_is_deleted(temporal_server: TemporalServer, tmp_path: Path) -> None:
    address = temporal_server.address
    with worker(address, tmp_path) as queue:
        made = studio(
            "schedule", "create", SHOP + ":checkout", "--cron", "* * * * *", "--id", "shop-every-minute",
            "--set", "cart_id=c-9", "--now", "--temporal", address, "--task-queue", queue, cwd=tmp_path,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert "schedule shop-every-minute created: checkout on '* * * * *' (and once now)" in made.stdout
        result = asyncio.run(_fired_run(address, "shop-every-minute"))
    assert result["status"] == "done"
    assert result["score"]["cart_id"] == "c-9"  # the --set field, serialised into the schedule's action
    assert result["score"]["order_id"] == "ord-u-42-c-9"
    assert result["score"]["status"] == "completed"

    listed = studio("schedule", "list", "--json", "--temporal", address, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = {row["id"]: row for row in json.loads(listed.stdout)}
    assert rows["shop-every-minute"]["cadence"] == "checkout"
    assert rows["shop-every-minute"]["cron"] == "* * * * *"
    table = studio("schedule", "list", "--temporal", address, cwd=tmp_path)
    assert "shop-every-minute  checkout  * * * * *" in table.stdout

    gone = studio("schedule", "delete", "shop-every-minute", "--temporal", address, cwd=tmp_path)
    assert gone.returncode == 0, gone.stderr
    after = studio("schedule", "list", "--json", "--temporal", address, cwd=tmp_path)
    assert "shop-every-minute" not in {row["id"] for row in json.loads(after.stdout)}
    again = studio("schedule", "delete", "shop-every-minute", "--temporal", address, cwd=tmp_path)
    assert again.returncode == 2
    assert "no schedule 'shop-every-minute'" in again.stderr


def test_a_bad_cron_and_a_taken_id_are_refused(temporal_server: TemporalServer, tmp_path: Path) -> None:
    address = temporal_server.address
    bad = studio(
        "schedule", "create", SHOP + ":checkout", "--cron", "*/99 * * *", "--temporal", address, cwd=tmp_path
    )
    assert bad.returncode == 2
    assert "--cron '*/99 * * *': Temporal refused it: " in bad.stderr
    assert "CronString does not have 5-7 fields" in bad.stderr  # the server's own reason
    first = studio(
        "schedule", "create", SHOP + ":checkout", "--cron", "0 3 * * *", "--id", "nightly",
        "--temporal", address, cwd=tmp_path,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    second = studio(
        "schedule", "create", SHOP + ":checkout", "--cron", "0 4 * * *", "--id", "nightly",
        "--temporal", address, cwd=tmp_path,
    )  # fmt: skip
    assert second.returncode == 2
    assert "a schedule 'nightly' already exists" in second.stderr
    assert "cadence-studio schedule delete nightly" in second.stderr
    assert studio("schedule", "delete", "nightly", "--temporal", address, cwd=tmp_path).returncode == 0
    for done in (bad, second):
        assert "Traceback" not in done.stderr
