"""``cadence-studio schedule create|list|delete``: cadences started by Temporal Schedules (cron).

A schedule's action starts the ``Cadence`` workflow with the input a ``run --backend temporal`` would
give it; the score is built by the studio's worker when the schedule is created (``--arg``, ``--set``)
and serialised into the action, so every firing starts on the same score.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleSpec,
)
from temporalio.service import RPCError, RPCStatusCode

from ..protocol.config import ProjectConfig
from ..protocol.target import parse_target
from .headless import RunOptions
from .temporal_common import WORKFLOW, connect, memo, prepare, where_from, workflow_input
from .terminal_text import escaped

__all__ = ["create_schedule", "delete_schedule", "list_schedules"]


async def create_schedule(
    target: str,
    cron: str,
    options: RunOptions,
    config: ProjectConfig,
    *,
    cwd: Path,
    schedule_id: str | None = None,
    now: bool = False,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Create a schedule that starts TARGET's cadence on ``cron``; 2 for bad input (cron, id, score)."""
    out, err = escaped(out), escaped(err)
    client = await connect(config, err)
    if client is None:
        return 2
    prepared = await prepare(target, options, cwd, err)
    if isinstance(prepared, int):
        return prepared
    await prepared.worker.close(grace=1.0)
    start = prepared.start
    schedule_id = schedule_id or f"{start.cadence}-{uuid.uuid4().hex[:8]}"
    the_input = workflow_input(start, "schedule")
    the_input["run"]["schedule"] = schedule_id
    action = ScheduleActionStartWorkflow(
        WORKFLOW,
        the_input,
        id=f"{start.cadence}-{schedule_id}",  # Temporal appends the firing's time
        task_queue=config.task_queue,
        memo=memo(start),
        static_summary=start.cadence,
    )
    schedule = Schedule(action=action, spec=ScheduleSpec(cron_expressions=[cron]))
    try:
        await client.create_schedule(
            schedule_id, schedule, trigger_immediately=now, memo=memo(start) | {"cron": cron}
        )
    except ScheduleAlreadyRunningError:
        print(
            f"error: a schedule {schedule_id!r} already exists on {where_from(config)}: pick another --id, "
            f"or delete it first (cadence-studio schedule delete {schedule_id})",
            file=err,
        )
        return 2
    except RPCError as error:
        if error.status == RPCStatusCode.INVALID_ARGUMENT:
            print(f"error: --cron {cron!r}: Temporal refused it: {error.message}", file=err)
            return 2
        raise
    when = " (and once now)" if now else ""
    print(f"schedule {schedule_id} created: {start.cadence} on {cron!r}{when}", file=out)
    print(
        f"task queue {config.task_queue!r} on {config.address}: a worker must listen there "
        f"(cadence-studio worker {parse_target(target).spec} --temporal {config.address})",
        file=err,
    )
    return 0


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


async def list_schedules(
    config: ProjectConfig, *, as_json: bool = False, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Print the schedules that start cadences: id, cadence, cron, next and last firing."""
    out, err = escaped(out, json=as_json), escaped(err)
    client = await connect(config, err)
    if client is None:
        return 2
    rows = await _rows(client)
    if as_json:
        print(json.dumps(rows, indent=2, default=str), file=out)
        return 0
    if not rows:
        print(f"no cadence schedules on {config.address} (namespace {config.namespace})", file=out)
        return 0
    widths = [max(len(str(r[key])) for r in [*rows, _HEADER]) for key in _HEADER]
    for row in [_HEADER, *rows]:
        print(
            "  ".join(str(row[key]).ljust(width) for key, width in zip(_HEADER, widths, strict=True)),
            file=out,
        )
    return 0


_HEADER = {"id": "ID", "cadence": "CADENCE", "cron": "CRON", "next": "NEXT (UTC)", "last": "LAST (UTC)"}


async def _rows(client: Client) -> list[dict[str, Any]]:
    rows = []
    async for entry in await client.list_schedules():
        action = entry.schedule.action if entry.schedule else None
        if getattr(action, "workflow", None) != WORKFLOW:
            continue  # not a cadence's schedule
        notes = await entry.memo()
        info = entry.info
        spec = entry.schedule.spec if entry.schedule else None
        recent = info.recent_actions if info else []
        rows.append(
            {
                "id": entry.id,
                "cadence": notes.get("cadence", "?"),
                # Temporal keeps a cron as calendar specs: the text given is in the memo
                "cron": notes.get("cron") or (", ".join(spec.cron_expressions) if spec else "") or "-",
                "next": _when(info.next_action_times[0] if info and info.next_action_times else None),
                "last": _when(recent[-1].started_at if recent else None),
            }
        )
    return rows


async def delete_schedule(config: ProjectConfig, schedule_id: str, *, err: TextIO = sys.stderr) -> int:
    """Delete a schedule; 2 when there is none by that id."""
    err = escaped(err)
    client = await connect(config, err)
    if client is None:
        return 2
    try:
        await client.get_schedule_handle(schedule_id).delete()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            print(
                f"error: no schedule {schedule_id!r} on {where_from(config)} (namespace {config.namespace}); "
                "`cadence-studio schedule list` lists them",
                file=err,
            )
            return 2
        raise
    print(f"schedule {schedule_id} deleted", file=err)
    return 0
