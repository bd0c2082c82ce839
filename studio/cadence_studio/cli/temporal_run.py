"""``cadence-studio run --backend temporal``: start the cadence's workflow, then follow its history and
print what a local ``run`` prints (note lines, retries, the final score or the failure; exit 0/1/2).

The studio's worker builds the first score (user code stays out of this process) and draws the final
one; the lines in between come from the workflow's history as it grows (:mod:`.temporal_story`). Ctrl-C
stops following, never the workflow.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from .. import protocol as p
from ..protocol.config import ProjectConfig
from ..protocol.target import parse_target
from .headless import OK_STATUSES, RunOptions
from .run_output import print_end, print_event
from .temporal_common import (
    WORKFLOW,
    Prepared,
    connect,
    memo,
    new_workflow_id,
    prepare,
    workflow_input,
)
from .temporal_story import Story, decode_payloads, failure_details
from .terminal_text import escaped

__all__ = ["NOTICE_AFTER", "run_on_temporal"]

#: seconds without a worker taking the workflow's first task before the command says so
NOTICE_AFTER = 3.0
#: exit code when Ctrl-C stopped following (the workflow goes on)
INTERRUPTED = 130


class _NoWorker(Exception):
    """No worker took the workflow within ``--wait``."""


async def run_on_temporal(
    target: str,
    options: RunOptions,
    config: ProjectConfig,
    *,
    cwd: Path,
    wait: float | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Start ``target`` on Temporal and follow it; the exit code a local run would give."""
    out, err = escaped(out, json=options.as_json), escaped(err)
    client = await connect(config, err)
    if client is None:
        return 2
    prepared = await prepare(target, options, cwd, err)
    if isinstance(prepared, int):
        return prepared
    try:
        start = prepared.start
        workflow_id = new_workflow_id(start.cadence)
        handle: WorkflowHandle[Any, Any] = await client.start_workflow(
            WORKFLOW,
            workflow_input(start, "cli"),
            id=workflow_id,
            task_queue=config.task_queue,
            memo=memo(start),
            static_summary=start.cadence,
        )
        print(
            f"workflow {workflow_id} started on {config.address} "
            f"(namespace {config.namespace}, task queue {config.task_queue!r})",
            file=err,
            flush=True,
        )
        return await _follow_until_done(client, handle, prepared, options, config, wait, out, err)
    finally:
        await prepared.worker.close(grace=1.0)


async def _follow_until_done(
    client: Client,
    handle: WorkflowHandle[Any, Any],
    prepared: Prepared,
    options: RunOptions,
    config: ProjectConfig,
    wait: float | None,
    out: TextIO,
    err: TextIO,
) -> int:
    picked = asyncio.Event()
    follow = asyncio.create_task(_follow(client, handle, prepared, options, picked, out, err))
    spec = parse_target(prepared.entry_target).spec
    watch = asyncio.create_task(_watch(spec, config, picked, wait, err))
    loop = asyncio.get_running_loop()
    interrupted = False

    def stop_following() -> None:
        nonlocal interrupted
        interrupted = True
        follow.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, stop_following)
    later = (
        f"follow it later: cadence-studio history --temporal {config.address}, or "
        f"temporal workflow show --workflow-id {handle.id} --address {config.address} "
        f"--namespace {config.namespace}"
    )
    try:
        await asyncio.wait({follow, watch}, return_when=asyncio.FIRST_COMPLETED)
        if watch.done() and isinstance(watch.exception(), _NoWorker):
            follow.cancel()
            print(
                f"error: no worker took the workflow within --wait {wait:g} s; it stays queued and runs "
                f"when a worker starts ({later})",
                file=err,
            )
            return 1
        return await follow
    except asyncio.CancelledError:
        if not interrupted:
            raise
        print(
            f"\nstopped following (Ctrl-C); the workflow {handle.id} goes on ({later}; "
            f"cancel it: temporal workflow cancel --workflow-id {handle.id} --address {config.address})",
            file=err,
        )
        return INTERRUPTED
    finally:
        watch.cancel()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGINT)
        if not interrupted and follow.done() and not follow.cancelled() and follow.exception() is None:
            print(f"workflow {handle.id}: {later}", file=err)


async def _watch(
    spec: str, config: ProjectConfig, picked: asyncio.Event, wait: float | None, err: TextIO
) -> None:
    """Say so when no worker takes the workflow's first task; raise ``_NoWorker`` after ``wait``."""
    first = NOTICE_AFTER if wait is None else min(NOTICE_AFTER, wait)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(picked.wait(), first)
        return
    # A polling worker takes a new workflow task at once: none took it, so none is polling.
    print(
        f"no worker is polling task queue {config.task_queue!r} on {config.address}; start one: "
        f"cadence-studio worker {spec} --temporal {config.address}"
        + (f" --namespace {config.namespace}" if config.namespace != "default" else "")
        + (f" --task-queue {config.task_queue}" if config.task_queue != "cadence" else "")
        + (" (waiting for it; Ctrl-C stops waiting)" if wait is None else f" (waiting {wait:g} s)"),
        file=err,
        flush=True,
    )
    if wait is None:
        return
    try:
        await asyncio.wait_for(picked.wait(), max(0.0, wait - first))
    except TimeoutError:
        raise _NoWorker from None


async def _follow(
    client: Client,
    handle: WorkflowHandle[Any, Any],
    prepared: Prepared,
    options: RunOptions,
    picked: asyncio.Event,
    out: TextIO,
    err: TextIO,
) -> int:
    story = Story(prepared.start.graph)
    closing = await _tell(client, handle, story, options, picked, out)
    return await _ending(closing, story, prepared, options, out, err)


async def _tell(
    client: Client,
    handle: WorkflowHandle[Any, Any],
    story: Story,
    options: RunOptions,
    picked: asyncio.Event,
    out: TextIO,
) -> Any:
    """Print one workflow's history as it grows (a child workflow's inline, indented); its last event."""
    closing = None
    async for event in handle.fetch_history_events(wait_new_event=True):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            picked.set()
        for item in story.feed(event):
            print_event(p.EventMessage(run=1, event=item), options.as_json, out)
        out.flush()
        while story.child_workflows:
            child = story.child_workflows.pop(0)
            inner = story.child()
            await _tell(client, client.get_workflow_handle(child), inner, options, picked, out)
        if story.ended_at is not None:
            closing = event
            break
    return closing


async def _ending(
    closing: Any, story: Story, prepared: Prepared, options: RunOptions, out: TextIO, err: TextIO
) -> int:
    """Print how the workflow ended, as a local run's end; the exit code."""
    if closing is None:
        print("error: the workflow's history ended before the workflow did", file=err)
        return 1
    kind = closing.event_type
    duration = story.duration()
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        values = decode_payloads(closing.workflow_execution_completed_event_attributes.result)
        result = values[0] if values and isinstance(values[0], dict) else {}
        status = str(result.get("status") or "done")
        tree = await _render(prepared, options.args, result.get("score"), err)
        print_end(p.RunEnded(run=1, status=status, score=tree, duration=duration), options.as_json, out, err)
        return 0 if status in OK_STATUSES else 1
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        failure = closing.workflow_execution_failed_event_attributes.failure
        details = failure_details(failure)
        kind_name = str(details.get("error_type") or failure.application_failure_info.type or "Error")
        error = p.ErrorInfo(
            type=kind_name.rsplit(":", 1)[-1].rsplit(".", 1)[-1],
            message=str(details.get("message") or failure.message),
            traceback=str(details.get("traceback") or ""),
        )
        print_end(
            p.RunEnded(run=1, status="failed", error=error, duration=duration), options.as_json, out, err
        )
        return 1
    status = EventType.Name(kind).removeprefix("EVENT_TYPE_WORKFLOW_EXECUTION_").lower()
    error = p.ErrorInfo(type="Workflow", message=f"the workflow {status.replace('_', ' ')} on Temporal")
    print_end(p.RunEnded(run=1, status=status, error=error, duration=duration), options.as_json, out, err)
    return 1


async def _render(prepared: Prepared, args: dict[str, Any], score: Any, err: TextIO) -> Any:
    """The final score as a value tree, drawn by the studio's worker (which knows the score type)."""
    if not isinstance(score, dict):
        return None
    worker = prepared.worker
    await worker.send(p.RenderScore(target=prepared.entry.name, args=args, score=score))
    async for message in worker.messages():
        if isinstance(message, p.ScoreRendered):
            if message.error:
                print(f"warning: cannot draw the final score: {message.error}", file=err)
            return message.tree
        if isinstance(message, p.WorkerExited):
            return None
    return None  # pragma: no cover
