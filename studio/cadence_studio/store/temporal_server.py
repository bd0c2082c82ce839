"""Cadence runs on a Temporal server: list them, and fetch one's history with its child workflows'.

Needs the ``temporal`` extra (temporalio). Runs no user code: histories are read as JSON
(:mod:`cadence.integrations.temporal.history`). An address that does not answer is a
:class:`TemporalUnavailable` with the address and what to check, found by a plain TCP connection first
(quick, and it spares temporalio's client a failed connection).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import gc
import socket
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from cadence.integrations.temporal.history import WORKFLOW_TYPE, HistoryFormatError, RunHistory, read_history

from ..errors import HistoryError

T = TypeVar("T")

__all__ = ["TemporalRun", "TemporalUnavailable", "fetch_run", "list_runs", "run_sync", "sync_groups"]

CONNECT_TIMEOUT = 5.0


class TemporalUnavailable(HistoryError):
    """The Temporal server could not be reached, or temporalio is not installed."""


@dataclasses.dataclass(frozen=True)
class TemporalRun:
    """One cadence run on a Temporal server, as listed (no history read yet)."""

    workflow_id: str
    run_id: str
    cadence: str
    status: str
    started: float | None
    ended: float | None
    address: str
    namespace: str

    @property
    def duration(self) -> float | None:
        return None if self.started is None or self.ended is None else max(0.0, self.ended - self.started)

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "duration": self.duration, "source": "temporal"}


_STATUSES = {
    "RUNNING": "running",
    "COMPLETED": "done",
    "FAILED": "failed",
    "CANCELED": "cancelled",
    "TERMINATED": "terminated",
    "CONTINUED_AS_NEW": "continued",
    "TIMED_OUT": "timed out",
}


def run_sync(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(work)``, then collect the client it made: a temporalio client left for the
    interpreter's exit to free aborts Python now and then ("PyGILState_Release ... finalizing")."""
    try:
        return asyncio.run(work)
    finally:
        gc.collect()


def _probe(address: str) -> None:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        msg = f"the Temporal address {address!r} is not HOST:PORT (e.g. localhost:7233)"
        raise TemporalUnavailable(msg)
    try:
        with socket.create_connection((host.strip("[]") or "localhost", int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as error:
        msg = (
            f"no Temporal server answers at {address} ({error.strerror or error}); start one "
            "(`temporal server start-dev`) or check the address (--temporal, [tool.cadence] temporal, "
            "CADENCE_TEMPORAL)"
        )
        raise TemporalUnavailable(msg) from None


async def _client(address: str, namespace: str) -> Any:
    try:
        from temporalio.client import Client
    except ImportError:
        msg = "reading runs from a Temporal server needs temporalio: pip install 'cadence-studio[temporal]'"
        raise TemporalUnavailable(msg) from None
    _probe(address)
    try:
        return await asyncio.wait_for(Client.connect(address, namespace=namespace), CONNECT_TIMEOUT)
    except (RuntimeError, TimeoutError) as error:
        msg = f"could not connect to the Temporal server at {address}: {error}; check the address"
        raise TemporalUnavailable(msg) from None


def _seconds(when: datetime.datetime | None) -> float | None:
    return None if when is None else when.timestamp()


async def list_runs(address: str, namespace: str = "default", *, limit: int = 50) -> list[TemporalRun]:
    """The newest ``limit`` cadence runs (workflow type ``Cadence``, child workflows left out), newest
    first.

    Raises:
        TemporalUnavailable: the server does not answer (or temporalio is missing).
    """
    from temporalio.service import RPCError

    client = await _client(address, namespace)
    runs: list[TemporalRun] = []
    try:
        async for execution in client.list_workflows(f"WorkflowType = '{WORKFLOW_TYPE}'"):
            if execution.parent_id:
                continue  # a .child's workflow: shown inside its parent's run
            memo = await execution.memo()
            status = execution.status.name if execution.status is not None else "RUNNING"
            runs.append(
                TemporalRun(
                    workflow_id=execution.id,
                    run_id=execution.run_id,
                    cadence=str(memo.get("cadence") or "?"),
                    status=_STATUSES.get(status, status.lower()),
                    started=_seconds(execution.start_time),
                    ended=_seconds(execution.close_time),
                    address=address,
                    namespace=namespace,
                )
            )
            if len(runs) >= limit:
                break
    except RPCError as error:
        msg = f"the Temporal server at {address} refused to list workflows: {error}"
        raise TemporalUnavailable(msg) from None
    runs.sort(key=lambda r: r.started or 0.0, reverse=True)
    return runs


async def fetch_run(
    address: str, workflow_id: str, namespace: str = "default", *, syncs: tuple[str, ...] = ()
) -> tuple[RunHistory, dict[str, RunHistory]]:
    """The history of workflow ``workflow_id`` and those of its child workflows (by workflow id, at
    every depth).

    Raises:
        TemporalUnavailable: the server does not answer.
        HistoryError: no such workflow, or its history cannot be read.
    """
    client = await _client(address, namespace)
    run = await _history(client, address, workflow_id, syncs)
    children: dict[str, RunHistory] = {}
    waiting = [c.workflow_id for c in run.children]
    while waiting:
        child_id = waiting.pop()
        child = await _history(client, address, child_id, syncs)
        children[child_id] = child
        waiting.extend(c.workflow_id for c in child.children if c.workflow_id not in children)
    return run, children


async def _history(client: Any, address: str, workflow_id: str, syncs: tuple[str, ...]) -> RunHistory:
    from temporalio.service import RPCError

    try:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
    except RPCError as error:
        msg = (
            f"no workflow {workflow_id!r} on the Temporal server at {address} ({error}); "
            f"`cadence-studio history --temporal {address}` lists the cadence runs"
        )
        raise HistoryError(msg) from None
    try:
        return read_history(history.to_json_dict(), syncs=syncs)
    except HistoryFormatError as error:
        raise HistoryError(f"workflow {workflow_id!r}: {error}") from None


def sync_groups(graph: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The node ids of a graph's ``.sync`` groups (so a one-note group is still read as a group)."""
    if not graph:
        return ()
    own = (str(graph["id"]),) if graph.get("kind") == "sync" else ()
    return own + tuple(g for child in graph.get("children") or () for g in sync_groups(child))
