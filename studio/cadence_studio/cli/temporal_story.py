"""A cadence's workflow history told as a local run's events, so that ``run --backend temporal`` prints
what a local ``run`` prints (:mod:`.run_output` draws both).

The history holds what Temporal saw: activities (one per note, ``.split`` condition, fallback handler,
custom merge; their type is the node id, see TEMPORAL.md), their results and failures, child workflows
and the workflow's end. :class:`Story` turns each history event into the engine events it stands for
(``note_finished``, ``retry_attempt``, ``branch_taken``, ``merged``, ``timed_out``, ``fallback_used`` ...),
in the engine's ``Event.as_dict()`` form, using the cadence's graph (``describe()``) to know each node.

Temporal keeps no event per failed attempt: the last ``ACTIVITY_TASK_STARTED`` carries ``attempt`` and
the last failure, so a note that needed three attempts shows two ``retry_attempt`` lines, the last one
with its message (the earlier messages are not in the history).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent

__all__ = ["Story", "decode_payloads", "failure_details", "walk_graph"]

Decode = Callable[[Any], list[Any]]


def decode_payloads(payloads: Any) -> list[Any]:
    """The JSON values of a ``Payloads`` message (the SDK's default converter writes JSON)."""
    out: list[Any] = []
    for payload in getattr(payloads, "payloads", []):
        try:
            out.append(json.loads(payload.data) if payload.data else None)
        except (UnicodeDecodeError, json.JSONDecodeError):
            out.append(None)
    return out


def failure_details(failure: Failure) -> dict[str, Any]:
    """``details[0]`` of an application failure (TEMPORAL.md: node, error_type, message, ...), or {}."""
    if failure.HasField("application_failure_info"):
        details = decode_payloads(failure.application_failure_info.details)
        if details and isinstance(details[0], dict):
            return details[0]
    return {}


def _error(failure: Failure) -> dict[str, str]:
    """An engine event's ``error`` ({type, message}) from a Temporal failure."""
    details = failure_details(failure)
    kind = str(details.get("error_type") or "")
    if not kind and failure.HasField("application_failure_info"):
        kind = failure.application_failure_info.type
    if not kind and failure.HasField("timeout_failure_info"):
        kind = "TimeoutError"
    message = str(details.get("message") or failure.message)
    return {"type": kind.rsplit(":", 1)[-1].rsplit(".", 1)[-1] or "Error", "message": message}


def walk_graph(graph: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield graph
    for child in graph.get("children", []):
        yield from walk_graph(child)


def _resilience(node: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for policy in (node.get("note") or {}).get("resilience", []):
        if policy.get("kind") == kind:
            return dict(policy)
    return None


def _seconds(event: HistoryEvent) -> float:
    return event.event_time.seconds + event.event_time.nanos / 1e9


class Story:
    """Turns one workflow's history events into engine events (one ``Story`` per workflow, ``depth``
    the child nesting: a child workflow's notes are indented as a local run indents them)."""

    def __init__(self, graph: dict[str, Any], depth: int = 0) -> None:
        self.nodes = {node["id"]: node for node in walk_graph(graph)}
        self.parent = {
            child["id"]: node["id"] for node in self.nodes.values() for child in node.get("children", [])
        }
        self.depth = depth
        self.scheduled: dict[int, tuple[str, float]] = {}  # scheduled event id → (activity type, when)
        self.started: dict[int, HistoryEvent] = {}  # scheduled event id → its (last) started event
        self.sync_changes: dict[str, dict[str, dict[str, Any]]] = {}  # sync id → member → changes
        #: note id → the error its fallback handler replaces, and when the note was scheduled
        self.failed: dict[str, tuple[dict[str, str], float]] = {}
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.child_workflows: list[str] = []

    def child(self) -> Story:
        """The story of a child workflow of this one: the same graph, one level deeper."""
        inner = Story({"id": ""}, self.depth + 1)
        inner.nodes, inner.parent = self.nodes, self.parent
        return inner

    def _event(self, kind: str, node_id: str, **fields: Any) -> dict[str, Any]:
        node = self.nodes.get(node_id, {})
        return {"kind": kind, "node_id": node_id, "name": node.get("name", ""), "depth": self.depth} | fields

    def feed(self, event: HistoryEvent) -> list[dict[str, Any]]:
        """The engine events ``event`` stands for (often none)."""
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            self.started_at = _seconds(event)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            self.scheduled[event.event_id] = (attrs.activity_type.name, _seconds(event))
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            self.started[event.activity_task_started_event_attributes.scheduled_event_id] = event
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = event.activity_task_completed_event_attributes
            values = decode_payloads(done.result)
            result = values[0] if values and isinstance(values[0], dict) else {}
            return self._completed(done.scheduled_event_id, result, event)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            failed = event.activity_task_failed_event_attributes
            return self._failed(failed.scheduled_event_id, failed.failure, event)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            late = event.activity_task_timed_out_event_attributes
            return self._failed(late.scheduled_event_id, late.failure, event)
        elif kind == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
            self.child_workflows.append(
                event.child_workflow_execution_started_event_attributes.workflow_execution.workflow_id
            )
        elif kind in _CLOSED:
            self.ended_at = _seconds(event)
        return []

    def duration(self) -> float:
        if self.started_at is None or self.ended_at is None:
            return 0.0
        return max(0.0, self.ended_at - self.started_at)

    # ------------------------------------------------------------------ activities

    def _retries(self, scheduled: int, node_id: str) -> list[dict[str, Any]]:
        started = self.started.get(scheduled)
        if started is None:
            return []
        attrs = started.activity_task_started_event_attributes
        retry = _resilience(self.nodes.get(node_id, {}), "retry") or {}
        most = int(retry.get("max_attempts") or attrs.attempt)
        error = _error(attrs.last_failure) if attrs.HasField("last_failure") else None
        return [
            self._event(
                "retry_attempt",
                node_id,
                attempt=attempt,
                max_attempts=most,
                error=error if attempt == attrs.attempt - 1 else {"message": "(not kept in the history)"},
            )
            for attempt in range(1, attrs.attempt)
        ]

    def _took(self, scheduled: int, result: dict[str, Any], event: HistoryEvent) -> float:
        if isinstance(result.get("duration"), int | float):
            return float(result["duration"])
        since = self.scheduled.get(scheduled, ("", _seconds(event)))[1]
        return max(0.0, _seconds(event) - since)

    def _completed(self, scheduled: int, result: dict[str, Any], event: HistoryEvent) -> list[dict[str, Any]]:
        activity, _ = self.scheduled.get(scheduled, ("", 0.0))
        node_id, _, role = activity.partition("#")
        node = self.nodes.get(node_id, {})
        took = self._took(scheduled, result, event)
        out = self._retries(scheduled, node_id)
        if role == "fallback":
            error, since = self.failed.pop(node_id, (None, None))
            if since is not None:  # a local run's note time: the failed note's and its handler's
                took = max(took, _seconds(event) - since)
            out.append(self._event("fallback_used", node_id, error=error))
            out.append(self._event("note_finished", node_id, status="done", duration=took))
        elif role == "merge" and node.get("kind") == "sync":
            out.append(self._merged(node_id, node))
        elif role:
            pass  # a child's score or merge, the error handler, run hooks: no line of their own
        elif node.get("kind") == "split":
            value = result.get("value")
            branch = next(
                (c["name"] for c in node.get("children", []) if c.get("value") == value),
                "true" if value else "false",
            )
            out.append(self._event("branch_taken", node_id, value=value, branch=branch))
        elif node.get("kind") == "note" or not node:
            skip = result.get("skip")
            status = "skipped" if skip else "done"
            out.append(self._event("note_finished", node_id, status=status, duration=took))
            if skip:
                out.append(self._event("skipped", node_id, reason=str(skip)))
            out.extend(self._member_done(node_id, result))
        return out

    def _member_done(self, node_id: str, result: dict[str, Any]) -> list[dict[str, Any]]:
        """A ``.sync`` member ended: the group's ``merged`` line once its last member is in (built-in
        strategies run in the workflow, which leaves no event: the fields several members changed are
        the ones a local run reports as combined)."""
        group_id = self.parent.get(node_id, "")
        group = self.nodes.get(group_id, {})
        if group.get("kind") != "sync":
            return []
        done = self.sync_changes.setdefault(group_id, {})
        done[node_id] = dict(result.get("changes") or {})
        members = [c["id"] for c in group.get("children", [])]
        if set(done) < set(members) or group.get("merge_strategy") not in _BUILT_IN_MERGES:
            return []  # more to come, or a custom merge function: its #merge activity says when
        return [self._merged(group_id, group)]

    def _merged(self, group_id: str, group: dict[str, Any]) -> dict[str, Any]:
        done = self.sync_changes.pop(group_id, {})
        seen: dict[str, list[str]] = {}
        for changes in done.values():
            for field, value in changes.items():
                seen.setdefault(field, []).append(json.dumps(value, sort_keys=True))
        conflicts = [field for field, values in seen.items() if len(values) > 1 and len(set(values)) > 1]
        return self._event("merged", group_id, conflicts=conflicts, strategy=group.get("merge_strategy"))

    def _failed(self, scheduled: int, failure: Failure, event: HistoryEvent) -> list[dict[str, Any]]:
        activity, _ = self.scheduled.get(scheduled, ("", 0.0))
        node_id, _, role = activity.partition("#")
        node = self.nodes.get(node_id, {})
        out = self._retries(scheduled, node_id)
        took = self._took(scheduled, {}, event)
        timed_out = failure.HasField("timeout_failure_info") or failure.cause.HasField("timeout_failure_info")
        if role:
            out.append(
                self._event("note_finished", node_id, status="failed", duration=took, error=_error(failure))
            )
            return out
        if node.get("kind") == "split":
            return out  # the workflow fails naming it (or its error handler takes over)
        heartbeat = timed_out and _timeout_type(failure) == "HEARTBEAT"
        if heartbeat:  # a lost worker: the workflow schedules the note again
            out.append(self._event("worker_lost", node_id))
            return out
        if timed_out:
            out.append(self._event("timed_out", node_id, seconds=_timeout_seconds(node)))
        error = _error(failure)
        fallback = _resilience(node, "fallback")
        catches = bool(failure_details(failure).get("fallback")) or (timed_out and fallback is not None)
        if fallback is not None and catches:
            if fallback.get("handler"):
                since = self.scheduled.get(scheduled, ("", _seconds(event)))[1]
                self.failed[node_id] = (error, since)  # its #fallback activity comes next
                return out
            out.append(self._event("fallback_used", node_id, error=error))
            out.append(self._event("note_finished", node_id, status="done", duration=took))
            out.extend(self._member_done(node_id, {"changes": {fallback.get("field", ""): None}}))
            return out
        out.append(self._event("note_finished", node_id, status="failed", duration=took, error=error))
        return out


def _timeout_type(failure: Failure) -> str:
    for item in (failure, failure.cause):
        if item.HasField("timeout_failure_info"):
            from temporalio.api.enums.v1 import TimeoutType

            return TimeoutType.Name(item.timeout_failure_info.timeout_type).removeprefix("TIMEOUT_TYPE_")
    return ""


def _timeout_seconds(node: dict[str, Any]) -> float:
    policy = _resilience(node, "timeout") or {}
    return float(policy.get("seconds") or 0.0)


_BUILT_IN_MERGES = frozenset({"fail_on_conflict", "last_write_wins", "smart_merge"})
_CLOSED = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }
)
