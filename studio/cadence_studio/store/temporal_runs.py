"""A cadence run on Temporal, shown like a past local run: its history read into the studio's messages.

One event stream: :func:`run_messages` turns a workflow history (read by
:func:`cadence.integrations.temporal.history.read_history`) into the protocol messages a local run's
worker sends (``RunBegan``, one ``EventMessage`` per engine event, ``RunEnded``), with the score after
every note as a value tree built from the encoded score (:mod:`~cadence_studio.protocol.encoded_trees`,
no user class imported). :func:`run_record` replays them through the same
:class:`~cadence_studio.protocol.session.Session` as a run from the local history, so the graph, the
inspector, the timeline and ``history show`` need nothing of their own.

Temporal records no event per failed attempt: a retried note gets one ``retry_attempt`` per earlier
attempt, the last with the failure Temporal kept (``lastFailure``), the others saying it was not kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from cadence.integrations.temporal.history import ChildRun, MergeStep, RunHistory, Step

from .. import protocol as p
from ..protocol.encoded_trees import encoded_tree, score_tree
from ..protocol.session import RunRecord, Session

__all__ = ["RUN_NUMBER", "run_messages", "run_record"]

#: The worker's run number the messages of a Temporal run carry (one run per stream).
RUN_NUMBER = 1
_NOT_KEPT = "failed (Temporal keeps the failure of the last attempt before the final one only)"


@dataclasses.dataclass
class _Stream:
    """Events with the time they happened; sorted by time (then by the order they were made) at the end."""

    run_id: str
    events: list[tuple[float, int, p.EventMessage]] = dataclasses.field(default_factory=list)

    def add(
        self,
        kind: str,
        at: float | None,
        where: tuple[str, str, int],
        *,
        score: Any = None,
        snapshots: list[Any] | None = None,
        **fields: Any,
    ) -> None:
        """One event of ``kind`` at time ``at`` about ``where`` (cadence, node id, depth)."""
        when = at or 0.0
        cadence, node, depth = where
        event = {"kind": kind, "run_id": self.run_id, "cadence": cadence, "node_id": node, "depth": depth}
        event |= {"at": when, **fields}
        message = p.EventMessage(run=RUN_NUMBER, event=event, score=score, snapshots=snapshots)
        self.events.append((when, len(self.events), message))


def _error(info: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {
        "type": info.get("type", "Error"),
        "message": info.get("message", ""),
        "traceback": info.get("traceback", ""),
    }


def _find(graph: Mapping[str, Any] | None, node_id: str) -> Mapping[str, Any] | None:
    if not graph:
        return None
    if graph.get("id") == node_id:
        return graph
    for child in graph.get("children") or ():
        found = _find(child, node_id)
        if found is not None:
            return found
    return None


class _Writer:
    """Turns one workflow's steps (and its children's, when their histories are at hand) into events."""

    def __init__(
        self, stream: _Stream, graph: Mapping[str, Any] | None, children: Mapping[str, RunHistory]
    ) -> None:
        self.stream = stream
        self.graph = graph
        self.children = children
        self.fallbacks: dict[str, Step] = {}  # a note's fallback handler's step, by the note's id
        self.order: tuple[str, ...] = ()  # the root score's fields in declaration order, when known
        self.root_type: str | None = None

    def tree(self, score: Mapping[str, Any] | None, score_type: str | None) -> Any:
        order = self.order if score_type == self.root_type else ()
        return score_tree(score, score_type, order=order)

    def workflow(self, run: RunHistory, cadence: str, depth: int, score_type: str | None) -> None:
        add = self.stream.add
        add("run_started", run.started, (cadence, run.node, depth))
        self.fallbacks.update((s.node, s) for s in run.steps if isinstance(s, Step) and s.role == "fallback")
        forked: set[str] = set()
        for step in run.steps:
            if isinstance(step, Step):
                self.step(step, cadence, depth, score_type, forked)
            elif isinstance(step, MergeStep):
                group = _find(self.graph, step.node) or {}
                changes = [{k: encoded_tree(v)["r"] for k, v in c.items()} for c in step.changes]
                add(
                    "merged",
                    step.ended,
                    (cadence, step.node, depth),
                    score=self.tree(step.score, score_type),
                    snapshots=[self.tree(s, score_type) for s in step.snapshots],
                    name=step.node.rsplit("/", 1)[-1],
                    tasks=list(step.tasks),
                    changes=changes,
                    conflicts={},
                    strategy=str(group.get("merge_strategy") or ""),
                    duration=step.duration,
                    error=None,
                )
            else:
                self.child(step, cadence, depth, score_type)
        if run.status != "running":
            status = "failed" if run.status in ("timed out", "terminated") else run.status
            add(
                "run_finished",
                run.ended,
                (cadence, run.node, depth),
                duration=run.duration or 0.0,
                status=status,
                error=_error(run.error),
            )

    def step(self, step: Step, cadence: str, depth: int, score_type: str | None, forked: set[str]) -> None:
        add = self.stream.add
        where = (cadence, step.node, depth)
        if step.role == "condition":
            if step.branch is not None:
                add("branch_taken", step.ended, where, name=step.name, value=step.value, branch=step.branch)
            return
        if step.role == "on_error":
            add("error_handled", step.ended, where, error=None, stop=True)
            return
        if step.role != "note":
            return  # a fallback handler, a merge or a child's score: shown on the note or measure they serve
        if step.group is not None and step.group not in forked:
            forked.add(step.group)
            group = _find(self.graph, step.group)
            tasks = [str(c["id"]) for c in (group or {}).get("children") or ()] or [step.node]
            add(
                "forked",
                step.scheduled,
                (cadence, step.group, depth),
                name=step.group,
                tasks=tasks,
            )
        started = step.started or step.scheduled
        add("note_started", started, where, name=step.name, score=self.tree(step.score_before, score_type))
        for attempt in range(1, step.attempts):
            kept = attempt == step.attempts - 1 and step.last_failure is not None
            failure = (
                _error(step.last_failure) if kept else {"type": "", "message": _NOT_KEPT, "traceback": ""}
            )
            add(
                "retry_attempt",
                started,
                where,
                name=step.name,
                attempt=attempt,
                max_attempts=step.max_attempts or step.attempts,
                error=failure,
                delay=0.0,
            )
        duration = step.duration or 0.0
        after = self.tree(step.score, score_type)
        if step.status in ("done", "skipped", "fallback"):
            if step.status == "skipped":
                add("skipped", step.ended, where, name=step.name, reason=step.skip or "")
            if step.status == "fallback":
                if step.timeout and step.error is not None and step.error.get("type") == "TimeoutError":
                    add("timed_out", step.ended, where, name=step.name, seconds=step.timeout)
                value = self.fallback_value(step)
                add("fallback_used", step.ended, where, name=step.name, error=_error(step.error), value=value)
            status = "skipped" if step.status == "skipped" else "done"
            add(
                "note_finished",
                step.ended,
                where,
                name=step.name,
                score=after,
                duration=duration,
                status=status,
                error=None,
            )
            return
        if step.status == "timed out" and step.timeout:
            add("timed_out", step.ended, where, name=step.name, seconds=step.timeout)
        if step.status != "running":
            status = "cancelled" if step.status == "cancelled" else "failed"
            add(
                "note_finished",
                step.ended,
                where,
                name=step.name,
                score=after,
                duration=duration,
                status=status,
                error=_error(step.error),
            )

    def fallback_value(self, step: Step) -> Any:
        """What a note's ``@fallback`` gave: its handler's value, else the one field it set (shown as a
        repr, like a local run's value), else every field that changed."""
        handler = self.fallbacks.get(step.node)
        if handler is not None and handler.value is not None:
            return encoded_tree(handler.value)["r"]
        before = step.score_before or {}
        changed = {k: encoded_tree(v)["r"] for k, v in (step.score or {}).items() if before.get(k) != v}
        if len(changed) == 1:
            return next(iter(changed.values()))
        return changed or None

    def child(self, step: ChildRun, cadence: str, depth: int, score_type: str | None) -> None:
        add = self.stream.add
        node = _find(self.graph, step.node) or {}
        name = str(node.get("cadence") or step.node.rsplit("/", 1)[-1])
        child_history = self.children.get(step.workflow_id)
        child_type = child_history.score_type if child_history is not None else None
        entered = score_tree(_mapping(step.input.get("score")), child_type)
        add(
            "child_entered",
            step.started,
            (cadence, step.node, depth),
            name=step.node,
            child=name,
            score=entered,
        )
        if child_history is not None:
            self.workflow(child_history, name, depth + 1, child_type)
        if step.status != "running":
            add(
                "child_left",
                step.ended,
                (cadence, step.node, depth),
                score=self.tree(step.score, score_type),
                name=step.node,
                child=name,
                duration=step.duration or 0.0,
                error=_error(step.error),
            )


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _graph_of(run: RunHistory) -> dict[str, Any]:
    """A graph made of the steps alone, for a run whose cadence's ``describe()`` is not at hand."""
    children = []
    for step in run.steps:
        if isinstance(step, Step) and step.role != "note":
            continue
        children.append(
            {"id": step.node, "name": step.node.rsplit("/", 1)[-1], "kind": "note", "children": []}
        )
    return {"id": run.node, "name": run.cadence, "kind": "cadence", "children": children}


def run_messages(
    run: RunHistory,
    *,
    graph: Mapping[str, Any] | None = None,
    children: Mapping[str, RunHistory] | None = None,
    fields: Sequence[str] = (),
) -> list[p.Message]:
    """The messages a local run of the same cadence would have sent, from ``RunBegan`` to ``RunEnded``.

    ``graph``: the cadence's ``describe()`` (the studio's catalog has it); without it, one made of the
    steps. ``children``: the child workflows' histories by workflow id (their notes join the stream
    one level deeper); a child without one shows as a whole. ``fields``: the score's fields in
    declaration order (the catalog's score has it), since JSON crosses Temporal with sorted keys.
    """
    stream = _Stream(run_id=run.workflow_id)
    writer = _Writer(stream, graph, children or {})
    writer.order, writer.root_type = tuple(fields), run.score_type
    writer.workflow(run, run.cadence, 0, run.score_type)
    began = p.RunBegan(
        run=RUN_NUMBER,
        target=run.cadence,
        graph=dict(graph) if graph else _graph_of(run),
        score=run.score_before or None,
    )
    messages: list[p.Message] = [began, *(m for _, _, m in sorted(stream.events, key=lambda e: (e[0], e[1])))]
    if run.status != "running":
        error = None
        if run.error is not None:
            error = p.ErrorInfo(
                type=str(run.error.get("type")),
                message=str(run.error.get("message")),
                traceback=str(run.error.get("traceback") or ""),
            )
        messages.append(
            p.RunEnded(
                run=RUN_NUMBER,
                status=run.status,
                score=score_tree(run.score, run.score_type, order=fields),
                error=error,
                duration=run.duration or 0.0,
            )
        )
    return messages


def run_record(
    run: RunHistory,
    *,
    graph: Mapping[str, Any] | None = None,
    children: Mapping[str, RunHistory] | None = None,
    fields: Sequence[str] = (),
) -> RunRecord:
    """The run as the studio shows a past run (graph statuses, score after every note, the timeline)."""
    session = Session(run.cadence)
    session.begin_run(RUN_NUMBER, run.cadence)
    for message in run_messages(run, graph=graph, children=children, fields=fields):
        session.apply(message)
    record = session.run
    assert record is not None
    record.recorded = f"from Temporal workflow {run.workflow_id}"
    return record
