"""A cadence's Temporal workflow history as plain records: what each note did, and the score after it.

:func:`read_history` takes the history of one ``Cadence`` workflow in any of the forms Temporal gives it:
the JSON ``temporal workflow show --workflow-id ID --output json`` prints, the Temporal UI's download (the
same proto-JSON, with ``ActivityTaskStarted`` or ``EVENT_TYPE_ACTIVITY_TASK_STARTED``, lowerCamel or
snake_case fields), a parsed dict or list of events, or the SDK's ``WorkflowHistory`` (from
``WorkflowHandle.fetch_history()``). It runs no user code and imports neither temporalio nor the user's
module: payloads are read as JSON (encoding ``json/plain``), score values stay encoded as the
checkpoints encode them (``cadence.serialize_score``).

Each activity is a :class:`Step` (a note, a ``.split`` condition, a fallback handler, a custom merge);
Temporal records no event per failed attempt, so a step's ``attempts`` is the last
``ACTIVITY_TASK_STARTED``'s ``attempt`` and ``last_failure`` its ``lastFailure``. A ``.sync`` group's
concurrent notes share a ``group`` and are followed by a :class:`MergeStep`; a ``.child`` is a
:class:`ChildRun`, whose own history (workflow id ``ChildRun.workflow_id``) is read the same way.
Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ._proto_json import (
    HistoryFormatError,
    as_int,
    attributes,
    decode_payload,
    decode_payloads,
    enum_name,
    event_type,
    failure_info,
    field,
    seconds,
    timestamp,
)
from ._records import WORKFLOW_TYPE, ChildRun, MergeStep, RunHistory, Step
from ._steps import Activity, Child, Steps, as_dict, error_of

# Plain sorted order (tests/engine/test_exports.py), not ruff's constants-first one.
__all__ = [  # noqa: RUF022
    "ChildRun",
    "HistoryFormatError",
    "MergeStep",
    "RunHistory",
    "Step",
    "WORKFLOW_TYPE",
    "read_history",
]


def _events(history: Any) -> list[Mapping[str, Any]]:
    """The list of events of any accepted form of a history."""
    if hasattr(history, "to_json_dict"):  # temporalio.client.WorkflowHistory
        history = history.to_json_dict()
    if isinstance(history, bytes | bytearray):
        history = history.decode("utf-8", "replace")
    if isinstance(history, str):
        try:
            history = json.loads(history)
        except ValueError as error:
            msg = (
                f"a workflow history must be JSON ({error}); "
                "export one with `temporal workflow show --output json`"
            )
            raise HistoryFormatError(msg) from None
    if (
        isinstance(history, Mapping)
        and "events" not in history
        and isinstance(history.get("history"), Mapping)
    ):
        history = history["history"]  # GetWorkflowExecutionHistoryResponse
    events = history.get("events") if isinstance(history, Mapping) else history
    if not isinstance(events, list) or not all(isinstance(e, Mapping) for e in events):
        msg = (
            'not a workflow history: expected {"events": [...]} (what `temporal workflow show --output json` '
            "and the Temporal UI's download write)"
        )
        raise HistoryFormatError(msg)
    if not events:
        raise HistoryFormatError("the workflow history has no events")
    return events


def _first(payloads: Any) -> Any:
    values = decode_payloads(payloads)
    return values[0] if values else None


def read_history(history: Any, *, syncs: Iterable[str] = ()) -> RunHistory:
    """Read one ``Cadence`` workflow's history (see the module docstring for the forms accepted).

    ``syncs``: node ids known to be ``.sync`` groups (from ``describe()``), so that a group whose notes
    did not run side by side (one note, or a worker slot at a time) is still read as one.

    Raises:
        HistoryFormatError: not a history, or a payload this reader cannot decode.
    """
    events = _events(history)
    first = events[0]
    if event_type(first) != "WorkflowExecutionStarted":
        msg = f"a workflow history starts with WorkflowExecutionStarted, not {event_type(first) or '?'}"
        raise HistoryFormatError(msg)
    start = attributes(first)
    workflow_type = str(field(field(start, "workflowType"), "name") or "")
    workflow_input = as_dict(_first(field(start, "input")))
    memo = {str(k): decode_payload(v) for k, v in as_dict(field(field(start, "memo"), "fields")).items()}
    activities: dict[int, Activity] = {}
    children: dict[int, Child] = {}
    end: tuple[str, Mapping[str, Any], float | None, int] | None = None
    for event in events:
        kind, attrs = event_type(event), attributes(event)
        at, event_id = timestamp(field(event, "eventTime")), as_int(field(event, "eventId"))
        if kind == "ActivityTaskScheduled":
            retry = field(attrs, "retryPolicy") or {}
            summary = field(field(event, "userMetadata"), "summary")
            activities[event_id] = Activity(
                scheduled_id=event_id,
                type=str(field(field(attrs, "activityType"), "name") or ""),
                summary=decode_payload(summary) if summary else None,
                input=as_dict(_first(field(attrs, "input"))),
                batch=as_int(field(attrs, "workflowTaskCompletedEventId")),
                scheduled=at,
                max_attempts=as_int(field(retry, "maximumAttempts")) or None,
                timeout=seconds(field(attrs, "startToCloseTimeout"))
                or seconds(field(attrs, "scheduleToCloseTimeout")),
                activity_id=str(field(attrs, "activityId") or ""),
            )
        elif kind.startswith("ActivityTask"):
            activity = activities.get(as_int(field(attrs, "scheduledEventId")))
            if activity is None:
                continue
            if kind == "ActivityTaskStarted":
                activity.attempt = as_int(field(attrs, "attempt"), 1) or 1
                activity.last_failure = failure_info(field(attrs, "lastFailure"))
                activity.started = at
            elif kind in (
                "ActivityTaskCompleted",
                "ActivityTaskFailed",
                "ActivityTaskTimedOut",
                "ActivityTaskCanceled",
            ):
                activity.closed_id, activity.ended = event_id, at
                activity.outcome = {
                    "ActivityTaskCompleted": "completed",
                    "ActivityTaskFailed": "failed",
                    "ActivityTaskTimedOut": "timed out",
                    "ActivityTaskCanceled": "cancelled",
                }[kind]
                activity.output = _first(field(attrs, "result"))
                activity.failure = failure_info(field(attrs, "failure"))
        elif kind == "StartChildWorkflowExecutionInitiated":
            children[event_id] = Child(
                initiated_id=event_id,
                workflow_id=str(field(attrs, "workflowId") or ""),
                input=as_dict(_first(field(attrs, "input"))),
                started=at,
            )
        elif kind.startswith(("ChildWorkflowExecution", "StartChildWorkflowExecutionFailed")):
            child = children.get(as_int(field(attrs, "initiatedEventId")))
            if child is None:
                continue
            if kind == "ChildWorkflowExecutionStarted":
                child.run_id = field(field(attrs, "workflowExecution"), "runId")
            else:
                child.closed_id, child.ended = event_id, at
                child.outcome = _CHILD_OUTCOMES.get(kind, "failed")
                child.output = _first(field(attrs, "result"))
                child.failure = failure_info(field(attrs, "failure"))
                if kind == "StartChildWorkflowExecutionFailed":
                    cause = enum_name(field(attrs, "cause"), "START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_")
                    child.failure = {"type": "StartChildFailed", "message": cause, "traceback": ""}
        elif kind.startswith("WorkflowExecution") and kind not in (
            "WorkflowExecutionStarted",
            "WorkflowExecutionSignaled",
            "WorkflowExecutionCancelRequested",
            "WorkflowExecutionUpdateAccepted",
            "WorkflowExecutionUpdateCompleted",
            "WorkflowExecutionUpdateAdmitted",
            "WorkflowExecutionOptionsUpdated",
        ):
            end = (kind, attrs, at, event_id)
    started = timestamp(field(first, "eventTime"))
    status, output, error, ended, reason = _ending(end)
    score_before = as_dict(workflow_input.get("score"))
    final = as_dict(output.get("score")) if isinstance(output, Mapping) and "score" in output else None
    cadence = str(workflow_input.get("cadence") or memo.get("cadence") or "")
    steps = Steps(activities, children, score_before, final, set(syncs), status).build()
    return RunHistory(
        workflow_id=str(field(start, "workflowId") or workflow_input.get("workflow_id") or ""),
        run_id=field(start, "originalExecutionRunId") or field(start, "firstExecutionRunId"),
        workflow_type=workflow_type,
        cadence=cadence,
        node=str(workflow_input.get("node") or cadence),
        fingerprint=workflow_input.get("fingerprint") or memo.get("fingerprint"),
        score_type=memo.get("score_type"),
        task_queue=field(field(start, "taskQueue"), "name"),
        status=status,
        started=started,
        ended=ended,
        input=workflow_input,
        score_before=score_before,
        score=final,
        output=output,
        error=error,
        steps=steps,
        memo=memo,
        reason=reason,
    )


_CHILD_OUTCOMES = {
    "ChildWorkflowExecutionCompleted": "completed",
    "ChildWorkflowExecutionFailed": "failed",
    "ChildWorkflowExecutionCanceled": "cancelled",
    "ChildWorkflowExecutionTimedOut": "timed out",
    "ChildWorkflowExecutionTerminated": "terminated",
    "StartChildWorkflowExecutionFailed": "failed",
}
_ENDINGS = {
    "WorkflowExecutionFailed": "failed",
    "WorkflowExecutionTimedOut": "timed out",
    "WorkflowExecutionCanceled": "cancelled",
    "WorkflowExecutionTerminated": "terminated",
    "WorkflowExecutionContinuedAsNew": "continued",
}


def _ending(
    end: tuple[str, Mapping[str, Any], float | None, int] | None,
) -> tuple[str, Any, dict[str, Any] | None, float | None, str | None]:
    """(status, output, error, end time, reason) of the workflow."""
    if end is None:
        return "running", None, None, None, None
    kind, attrs, at, _ = end
    if kind == "WorkflowExecutionCompleted":
        output = _first(field(attrs, "result"))
        status = str(output.get("status") or "done") if isinstance(output, Mapping) else "done"
        reason = output.get("reason") if isinstance(output, Mapping) else None
        return status, output, None, at, reason
    error = failure_info(field(attrs, "failure"))
    if kind == "WorkflowExecutionTerminated":
        why = str(field(attrs, "reason") or "")
        error = {"type": "Terminated", "message": why or "the workflow was terminated", "traceback": ""}
    elif kind == "WorkflowExecutionTimedOut":
        error = {"type": "Timeout", "message": "the workflow ran past its execution timeout", "traceback": ""}
    elif kind == "WorkflowExecutionCanceled":
        error = {"type": "Cancelled", "message": "the workflow was cancelled", "traceback": ""}
    return _ENDINGS.get(kind, "failed"), None, error_of(error, run=True), at, None
