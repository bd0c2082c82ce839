"""Helpers of the Temporal tests: a worker in this process on its own task queue, and the history."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from cadence import Cadence
from cadence.integrations.temporal import create_worker


@asynccontextmanager
async def serving(client: Client, *cadences: Cadence[Any]) -> AsyncIterator[str]:
    """A worker in this process serving ``cadences`` on a new task queue (yielded)."""
    queue = f"test-{uuid.uuid4().hex[:10]}"
    async with create_worker(client, list(cadences), task_queue=queue):
        yield queue


async def activity_events(handle: WorkflowHandle[Any, Any]) -> list[tuple[str, str, int]]:
    """``(event type, activity type, attempt)`` of the run's activity events, in order (the activity
    type of a started/completed/failed/timed-out event is its scheduled event's)."""
    history = await handle.fetch_history()
    scheduled: dict[int, str] = {}
    out: list[tuple[str, str, int]] = []
    for event in history.events:
        kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        if event.HasField("activity_task_scheduled_event_attributes"):
            attrs = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = attrs.activity_type.name
            out.append((kind, attrs.activity_type.name, 0))
        elif event.HasField("activity_task_started_event_attributes"):
            attrs_s = event.activity_task_started_event_attributes
            out.append((kind, scheduled[attrs_s.scheduled_event_id], attrs_s.attempt))
        else:
            for field in ("completed", "failed", "timed_out", "cancel_requested", "canceled"):
                name = f"activity_task_{field}_event_attributes"
                if event.HasField(name):
                    attrs_e = getattr(event, name)
                    out.append((kind, scheduled.get(attrs_e.scheduled_event_id, "?"), 0))
    return out
