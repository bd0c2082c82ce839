"""Follow a cadence's workflow while it runs: its history, read again as it grows, told as a local run.

The history is read by the same reader the studio and ``history --temporal`` use
(:func:`cadence.integrations.temporal.history.read_history`, then
:func:`~cadence_studio.store.temporal_runs.run_messages`: one event stream), every ``POLL`` seconds,
with the histories of its child workflows; the events not printed yet are handed on, in order.

An event that may still change meaning waits for the run to end: a note that failed or timed out is
shown once its ``@fallback`` has taken over (or the run ended without one), so a live run prints what
the finished run's history says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from cadence.integrations.temporal.history import RunHistory, read_history

from .. import protocol as p
from ..store.temporal_runs import run_messages
from ..store.temporal_server import sync_groups

__all__ = ["POLL", "follow_history"]

#: seconds between two reads of a running workflow's history
POLL = 0.1


def _conflicts(event: Mapping[str, Any]) -> list[str]:
    """The fields several ``.sync`` members changed to different values (a local run's ``conflicts``:
    the merge strategy combined or chose them)."""
    seen: dict[str, set[str]] = {}
    for changes in event.get("changes") or []:
        for field, shown in changes.items():
            seen.setdefault(field, set()).add(repr(shown))
    counts: dict[str, int] = {}
    for changes in event.get("changes") or []:
        for field in changes:
            counts[field] = counts.get(field, 0) + 1
    return [field for field, values in seen.items() if counts[field] > 1 and len(values) > 1]


def _held(event: Mapping[str, Any], settled: set[str]) -> bool:
    """Whether ``event`` waits: a failed note's end or a timeout, until its node is settled."""
    kind = event.get("kind")
    unsettled = kind == "timed_out" or (kind == "note_finished" and event.get("status") == "failed")
    return unsettled and str(event.get("node_id")) not in settled


class _Printed:
    """The events handed on so far, by (kind, node, depth, attempt, occurrence)."""

    def __init__(self, emit: Callable[[p.EventMessage], None]) -> None:
        self.emit = emit
        self.seen: set[tuple[Any, ...]] = set()

    def update(self, messages: list[p.Message], *, final: bool) -> None:
        events = [m for m in messages if isinstance(m, p.EventMessage)]
        settled = {
            str(m.event.get("node_id"))
            for m in events
            if m.event.get("kind") == "note_finished" and m.event.get("status") != "failed"
        }
        occurrences: dict[tuple[Any, ...], int] = {}
        fresh: list[p.EventMessage] = []
        for message in events:
            event = message.event
            base = (event.get("kind"), event.get("node_id"), event.get("depth"), event.get("attempt"))
            occurrences[base] = occurrences.get(base, -1) + 1
            key = (*base, occurrences[base])
            if key in self.seen or (not final and _held(event, settled)):
                continue
            self.seen.add(key)
            if event.get("kind") == "merged" and not event.get("conflicts"):
                message = message.model_copy(update={"event": {**event, "conflicts": _conflicts(event)}})
            fresh.append(message)
        for message in _merges_last(fresh):
            self.emit(message)


def _merges_last(messages: list[p.EventMessage]) -> list[p.EventMessage]:
    """A ``.sync`` group's ``merged`` after its members' ends, as a local run tells it (the history's
    clock may put the workflow's merge a hair before the last activity's recorded end)."""
    out = list(messages)
    for message in [m for m in messages if m.event.get("kind") == "merged"]:
        tasks = set(message.event.get("tasks") or ())
        ends = [
            i
            for i, m in enumerate(out)
            if m.event.get("kind") == "note_finished" and m.event.get("node_id") in tasks
        ]
        here = out.index(message)
        if ends and ends[-1] > here:
            out.insert(ends[-1], out.pop(here))
    return out


async def _read(client: Client, workflow_id: str, syncs: tuple[str, ...]) -> tuple[RunHistory, bool]:
    """A workflow's history as read so far, and whether a worker has taken its first task."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    picked = any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED for e in history.events)
    return read_history(history.to_json_dict(), syncs=syncs), picked


async def follow_history(
    client: Client,
    handle: WorkflowHandle[Any, Any],
    graph: Mapping[str, Any],
    emit: Callable[[p.EventMessage], None],
    picked: asyncio.Event,
) -> RunHistory:
    """Hand each event of the run to ``emit`` as the history shows it; the history once it ended.

    ``picked`` is set once a worker took the workflow's first task."""
    syncs = sync_groups(graph)
    printed = _Printed(emit)
    ended: dict[str, RunHistory] = {}  # child workflows that ended: their histories stay as they are
    while True:
        run, started = await _read(client, handle.id, syncs)
        if started:
            picked.set()
        children: dict[str, RunHistory] = {}
        waiting = [c.workflow_id for c in run.children]
        while waiting:
            child_id = waiting.pop()
            child = ended.get(child_id) or (await _read(client, child_id, syncs))[0]
            if child.status != "running":
                ended[child_id] = child
            children[child_id] = child
            waiting.extend(c.workflow_id for c in child.children if c.workflow_id not in children)
        done = run.status != "running"
        printed.update(run_messages(run, graph=graph, children=children), final=done)
        if done:
            return run
        await asyncio.sleep(POLL)
