"""The one dynamic activity: runs a registered cadence's user code for the node its type names.

A note runs through the engine's own ``call_task`` at a level whose sinks are the cadence's hooks
and reporters, so they see the events a local run gives them; its ``@retry``, ``@timeout`` and
``@fallback`` are Temporal's (the activity's retry policy and timeouts, the workflow's fallback),
every other policy (``@circuit_breaker``) runs here, in the worker process. The activity heartbeats
while user code runs, so a lost worker is noticed within seconds.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from ... import events as ev
from ..._runtime import Stop, call_task, carry, is_awaitable
from ..._scope import emit_in_scope
from ...exceptions import Skip
from ...exceptions import TimeoutError as CadenceTimeoutError
from ...serialize import SerializationError, serialize_value
from . import _helpers
from ._entries import Entry, changes_of, entry_for, restore
from ._plan import TIMEOUT_GRACE, type_ref

__all__ = ["HEARTBEAT_EVERY", "cadence_activity", "run_beating"]

#: Seconds between heartbeats while user code runs (the SDK throttles them further).
HEARTBEAT_EVERY = 0.5


async def run_beating(work: Awaitable[Any], details: list[Any] | None = None) -> Any:
    """Await ``work`` while heartbeating (with ``details``, which the work may change); cancelling
    the activity cancels the work."""
    task = asyncio.ensure_future(work)
    details = details if details is not None else []
    try:
        while True:
            activity.heartbeat(*details)
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
            if done:
                return task.result()
    except BaseException:
        task.cancel()
        raise


class _Decision:
    __slots__ = ("delay", "error", "fallback", "retry")

    def __init__(
        self, error: BaseException, *, retry: bool = False, delay: float = 0.0, fallback: bool = False
    ):
        self.error = error
        self.retry = retry
        self.delay = delay
        self.fallback = fallback


def decide(entry: Entry, error: BaseException, attempt: int) -> _Decision:
    """Whether the note's ``@retry`` retries ``error`` at ``attempt``, and whether its ``@fallback``
    will replace the final failure (the error the fallback sees, as in a local run)."""
    retry, fb = entry.retry, entry.fallback
    fb_inside = bool(entry.options.get("fallback") and entry.options["fallback"]["inside_retry"])
    retryable = (
        retry is not None
        and retry.retries(error)
        and not (fb_inside and fb is not None and fb.catches(error))
    )
    if retry is not None and retryable:
        if attempt < retry.max_attempts:
            return _Decision(error, retry=True, delay=retry.wait(attempt))
        exhausted = retry._exhausted(entry.fn, error)
        exhausted.__cause__ = error
        return _Decision(exhausted, fallback=fb is not None and not fb_inside and fb.catches(exhausted))
    return _Decision(error, fallback=fb is not None and fb.catches(error))


def application_error(
    entry: Entry, decision: _Decision, changes: dict[str, Any] | None = None
) -> ApplicationError:
    """The note's failure for Temporal; ``changes`` are what it changed in the score before failing
    (a local run's handler and fallback see them: the score is changed in place)."""
    error = decision.error
    record = {
        "node": entry.node_id,
        "name": entry.name,
        "error_type": type_ref(type(error)),
        "message": str(error),
        "traceback": "".join(traceback.format_exception(error)),
        "fallback": decision.fallback,
        "changes": changes or {},
        "args": _args(error),
    }
    return ApplicationError(
        str(error),
        record,
        type=type(error).__name__,
        non_retryable=not decision.retry,
        next_retry_delay=timedelta(seconds=decision.delay) if decision.retry and decision.delay > 0 else None,
        # A failure that is retried or replaced by the fallback is part of the plan: logged at debug level.
        category=ApplicationErrorCategory.BENIGN
        if decision.retry or decision.fallback
        else ApplicationErrorCategory.UNSPECIFIED,
    )


def _args(error: BaseException) -> Any:
    """The exception's ``args`` as JSON (to build it again in another process), or None."""
    try:
        return serialize_value(list(error.args))
    except SerializationError:
        return None


class _Filter:
    """Keeps a Temporal attempt's events to those of the local run: the note starts once (attempt 1),
    and a failure that is retried or replaced by the fallback is not the note's end."""

    def __init__(self, node_id: str, attempt: int) -> None:
        self.node_id = node_id
        self.drop_start = attempt > 1
        self.drop_failure = False

    def wrap(self, sink: Callable[[ev.Event], Awaitable[None]]) -> Callable[[ev.Event], Awaitable[None]]:
        async def filtered(event: ev.Event) -> None:
            if event.node_id == self.node_id:
                if self.drop_start and isinstance(event, ev.NoteStarted):
                    return
                if self.drop_failure and isinstance(event, ev.NoteFinished) and event.status != "done":
                    return
            await sink(event)

        return filtered


def _carried(info: activity.Info) -> dict[str, Any]:
    """What the note's earlier attempts left in the score (a local ``@retry`` runs every attempt on
    the same score, so an attempt sees what the failed ones changed): kept in heartbeat details."""
    if info.attempt > 1 and info.heartbeat_details:
        first = info.heartbeat_details[0]
        if isinstance(first, dict) and isinstance(first.get("carry"), dict):
            return dict(first["carry"])
    return {}


async def _note(entry: Entry, data: dict[str, Any], beat: list[Any]) -> dict[str, Any]:
    info = activity.info()
    attempt = info.attempt
    carried = _carried(info)
    if carried:
        beat[:] = [{"carry": carried}]
    score = restore(entry, {**data, "score": {**data["score"], **carried}})
    events = _Filter(entry.node_id, attempt)
    level = entry.level(data["workflow_id"], events.wrap)
    decided: list[_Decision] = []
    call = entry.call

    async def guarded(s: Any) -> Any:
        try:
            result = call(s)
            return (await result) if is_awaitable(result) else result
        except Skip:
            raise
        except Exception as error:
            decision = decide(entry, error, attempt)
            decided.append(decision)
            events.drop_failure = decision.retry or decision.fallback
            if decision.retry and entry.retry is not None:
                beat[:] = [{"carry": changes_of(data["score"], s)}]
                activity.heartbeat(*beat)  # the next attempt starts from this attempt's score
                await emit_in_scope(
                    ev.RetryAttempt,
                    attempt=attempt,
                    max_attempts=entry.retry.max_attempts,
                    error=error,
                    delay=decision.delay,
                    score=s,
                )
            raise

    timeout = entry.options.get("timeout")
    limit = None
    if timeout is not None:
        limit = timeout["seconds"] + (TIMEOUT_GRACE if timeout["by_temporal"] else 0.0)
    start = time.perf_counter()
    try:
        async with asyncio.timeout(limit) as window:
            result = await call_task(level, entry.node_id, entry.name, guarded, score)
    except Stop as stop:
        return {"changes": changes_of(data["score"], stop.score), "result": None, "skip": stop.reason}
    except TimeoutError as error:
        if timeout is None or not window.expired():
            decision = decided[-1] if decided else decide(entry, error, attempt)
            raise application_error(entry, decision, changes_of(data["score"], score)) from None
        msg = (
            f"note {entry.name!r} did not finish within {timeout['seconds']}s; "
            "raise the timeout or speed the note up"
        )
        expired = CadenceTimeoutError(msg, seconds=timeout["seconds"], note_name=entry.name)
        decision = decide(entry, expired, attempt)
        raise application_error(entry, decision, changes_of(data["score"], score)) from None
    except Exception as error:
        decision = decided[-1] if decided else decide(entry, error, attempt)
        raise application_error(entry, decision, changes_of(data["score"], score)) from None
    after = carry(score, result)
    return {
        "changes": changes_of(data["score"], after),
        "result": True if result is True else None,
        "skip": None,
        "duration": time.perf_counter() - start,
    }


_KINDS: dict[str, Callable[[Entry, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
    "fallback": _helpers.fallback,
    "condition": _helpers.condition,
    "sync_merge": _helpers.sync_merge,
    "child_score": _helpers.child_score,
    "child_merge": _helpers.child_merge,
    "on_error": _helpers.on_error,
    "started": _helpers.started,
    "ended": _helpers.ended,
}


@activity.defn(dynamic=True)
async def cadence_activity(args: Sequence[RawValue]) -> dict[str, Any]:
    """Every activity of every registered cadence: the activity type is the node id (plus ``#...``)."""
    info = activity.info()
    data = activity.payload_converter().from_payload(args[0].payload, dict)
    entry = entry_for(info.task_queue, data["cadence"], info.activity_type)
    if entry is None:
        msg = (
            f"this worker serves no activity {info.activity_type!r} of cadence {data['cadence']!r} on task "
            f"queue {info.task_queue!r}; start the worker on the module that defines it"
        )
        raise ApplicationError(msg, type="UnknownActivity", non_retryable=True)
    beat: list[Any] = []
    work = _note(entry, data, beat) if entry.kind == "note" else _KINDS[entry.kind](entry, data)
    try:
        out: dict[str, Any] = await run_beating(work, beat)
    except ApplicationError:
        raise
    except Exception as error:  # user code of a helper (condition, merge, handler...): the node's failure
        raise application_error(entry, _Decision(error)) from None
    return out
