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

from temporalio.client import Client, WorkflowHandle

from cadence.integrations.temporal.history import RunHistory

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
from .temporal_follow import follow_history
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
    def emit(message: p.EventMessage) -> None:
        print_event(message, options.as_json, out)
        out.flush()

    run = await follow_history(client, handle, prepared.start.graph, emit, picked)
    return await _ending(run, prepared, options, out, err)


async def _ending(run: RunHistory, prepared: Prepared, options: RunOptions, out: TextIO, err: TextIO) -> int:
    """Print how the workflow ended, as a local run's end (the final score drawn by the studio's
    worker, from the user's own classes); the exit code."""
    duration = run.duration or 0.0
    if run.error is None and run.status in (*OK_STATUSES, "handled"):
        tree = await _render(prepared, options.args, run.score, err)
        print_end(
            p.RunEnded(run=1, status=run.status, score=tree, duration=duration), options.as_json, out, err
        )
        return 0 if run.status in OK_STATUSES else 1
    info = run.error or {}
    error = p.ErrorInfo(
        type=str(info.get("type") or "Error"),
        message=str(info.get("message") or f"the workflow {run.status} on Temporal"),
        traceback=str(info.get("traceback") or ""),
    )
    status = "failed" if run.status in ("timed out", "terminated") else run.status
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
