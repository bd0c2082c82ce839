"""How a history's activities and child workflows become steps with the score after each (for
:mod:`cadence.integrations.temporal.history`): groups, fallbacks, merges, lost workers."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ._records import ChildRun, MergeStep, Step

__all__ = ["Activity", "Child", "Steps", "as_dict", "error_of"]

_ROLES = {"fallback": "fallback", "merge": "merge", "score": "score", "on_error": "on_error"}
_HOOKS = ("started", "ended")


@dataclasses.dataclass
class Activity:
    scheduled_id: int
    type: str
    summary: str | None
    input: dict[str, Any]
    batch: int
    scheduled: float | None
    max_attempts: int | None
    timeout: float | None
    activity_id: str
    attempt: int = 1
    last_failure: dict[str, Any] | None = None
    started: float | None = None
    closed_id: int = 0
    ended: float | None = None
    outcome: str = "running"  # completed, failed, timed out, cancelled, running
    output: Any = None
    failure: dict[str, Any] | None = None


@dataclasses.dataclass
class Child:
    initiated_id: int
    workflow_id: str
    input: dict[str, Any]
    started: float | None
    run_id: str | None = None
    closed_id: int = 0
    ended: float | None = None
    outcome: str = "running"
    output: Any = None
    failure: dict[str, Any] | None = None


def as_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def error_of(info: dict[str, Any] | None, *, run: bool = False) -> dict[str, Any] | None:
    """A failure as the engine describes errors: ``{type, message, traceback}`` (plus ``error_type``,
    the exception's ``module:Qualname``, and ``node`` when the Cadence activity or workflow said).

    A note's failure is its exception (its type and message, from the details); a run's (``run``) is
    the workflow's own error, as a local run ends with ``NoteError`` around the note's exception.
    """
    if info is None:
        return None
    details = info.get("details")
    out = {"type": info["type"], "message": info["message"], "traceback": info.get("traceback", "")}
    if isinstance(details, Mapping):
        if details.get("error_type"):
            out["error_type"] = str(details["error_type"])
            if not run:
                out["type"] = str(details["error_type"]).rpartition(":")[2] or out["type"]
        if details.get("message") and not run:
            out["message"] = str(details["message"])
        if details.get("node"):
            out["node"] = str(details["node"])
    return out


class Steps:
    """Activities and child workflows → steps in the order they were scheduled, with scores."""

    def __init__(
        self,
        activities: dict[int, Activity],
        children: dict[int, Child],
        score: dict[str, Any],
        final: dict[str, Any] | None,
        syncs: set[str],
        status: str,
    ) -> None:
        self.activities = sorted(activities.values(), key=lambda a: a.scheduled_id)
        self.children = sorted(children.values(), key=lambda c: c.initiated_id)
        self.start_score = score
        self.final = final
        self.syncs = syncs
        self.status = status
        # (event id, the workflow's score then): every activity carries the score it starts on
        self.observed = [
            (a.scheduled_id, as_dict(a.input["score"]), a)
            for a in self.activities
            if isinstance(a.input.get("score"), Mapping)
        ]

    def _groups(self) -> dict[int, str]:
        """Scheduled event id → ``.sync`` group id, for notes scheduled side by side under one parent."""
        batches: dict[tuple[int, str], list[Activity]] = {}
        for a in self.activities:
            if "#" not in a.type and "/" in a.type:
                batches.setdefault((a.batch, a.type.rsplit("/", 1)[0]), []).append(a)
        out: dict[int, str] = {}
        for (_, parent), members in batches.items():
            if len(members) > 1 or parent in self.syncs:
                out.update((m.scheduled_id, parent) for m in members)
        return out

    def _next_score(self, after: int, skip: set[int]) -> dict[str, Any] | None:
        """The workflow's score as the first activity scheduled after event ``after`` saw it."""
        for event_id, score, activity in self.observed:
            if event_id > after and event_id not in skip and activity.type.rpartition("#")[2] not in _HOOKS:
                return score
        return self.final

    def build(self) -> tuple[Step | MergeStep | ChildRun, ...]:
        groups = self._groups()
        steps: list[Step | MergeStep | ChildRun] = []
        handled = {a.type.partition("#")[0] for a in self.activities if a.type.endswith("#fallback")}
        for a in self.activities:
            node, _, suffix = a.type.partition("#")
            if suffix in _HOOKS:
                continue
            step = self._step(a, node, suffix, groups.get(a.scheduled_id), node in handled)
            lost = next(
                (
                    s
                    for s in steps
                    if isinstance(s, Step) and s.node == node and s.role == step.role and _lost(s)
                ),
                None,
            )
            if lost is not None:  # the same note again after its worker was lost: one step
                steps.remove(lost)
                step = dataclasses.replace(step, lost_workers=lost.lost_workers + 1)
            steps.append(step)
        steps = self._fallbacks(steps)
        steps.extend(self._merges(steps, groups))
        steps.extend(self._child(c) for c in self.children)
        steps.sort(key=lambda s: s.order)
        return tuple(steps)

    def _step(self, a: Activity, node: str, suffix: str, group: str | None, handled: bool) -> Step:
        output = as_dict(a.output)
        role = _ROLES.get(suffix, "note")
        if role == "note" and "value" in output:
            role = "condition"
        before = as_dict(a.input.get("score"))
        changes = as_dict(output.get("changes"))
        error = error_of(a.failure)
        status = {"completed": "done", "failed": "failed", "timed out": "timed out"}.get(a.outcome, a.outcome)
        timeout = None
        if a.outcome == "timed out" and a.failure is not None:
            kind = a.failure.get("timeout") or "StartToClose"
            cause = a.failure.get("cause")
            if kind == "Heartbeat":
                message = "the worker running it was lost (no heartbeat)"
            else:
                timeout = a.timeout
                limit = f" within {timeout:g}s" if timeout else ""
                message = f"did not finish{limit} ({kind} timeout)"
            error = {"type": "TimeoutError", "message": f"{a.summary or node} {message}", "traceback": ""}
            if isinstance(cause, Mapping):
                error["cause"] = error_of(dict(cause))
        if output.get("skip") is not None:
            status = "skipped"
        elif a.outcome in ("failed", "timed out") and (
            handled or (isinstance(a.failure, Mapping) and _flag(a.failure, "fallback"))
        ):
            status = "fallback"
        elif a.outcome == "running" and self.status not in ("running",):
            status = "cancelled"
        value = output.get("value")
        return Step(
            node=node,
            role=role,
            name=str(a.summary or node.rsplit("/", 1)[-1]),
            status=status,
            attempts=a.attempt,
            max_attempts=a.max_attempts,
            scheduled=a.scheduled,
            started=a.started,
            ended=a.ended,
            duration=_duration(output.get("duration"), a),
            score_before=before if before or "score" in a.input else None,
            score={**before, **changes} if a.outcome == "completed" else None,
            changes=changes,
            error=error,
            last_failure=error_of(a.last_failure) if a.attempt > 1 else None,
            value=value,
            branch=("true" if value else "false")
            if role == "condition" and a.outcome == "completed"
            else None,
            skip=None if output.get("skip") is None else str(output["skip"]),
            result=output.get("result"),
            group=group,
            timeout=timeout,
            activity_id=a.activity_id,
            order=(a.scheduled_id, a.closed_id or a.scheduled_id),
        )

    def _fallbacks(self, steps: list[Step | MergeStep | ChildRun]) -> list[Step | MergeStep | ChildRun]:
        """A note whose failure the workflow went past (its ``@fallback`` gave the value): status
        "fallback", its score the one the workflow went on with."""
        out: list[Step | MergeStep | ChildRun] = []
        for i, step in enumerate(steps):
            if isinstance(step, Step) and step.role == "note" and step.status in ("failed", "timed out"):
                if self._went_on(step, steps[i + 1 :]):
                    step = dataclasses.replace(step, status="fallback")
            if isinstance(step, Step) and step.role == "note" and step.status == "fallback":
                step = self._fallen_back(step, steps)
            out.append(step)
        return out

    def _went_on(self, step: Step, later: list[Step | MergeStep | ChildRun]) -> bool:
        """Whether the workflow went on past ``step``'s failure by itself (not by its error handler)."""
        others = [
            s
            for s in later
            if isinstance(s, Step) and s.node != step.node and (step.group is None or s.group != step.group)
        ]
        if others:
            return others[0].role != "on_error"
        ended_well = self.status in ("done", "skipped", "interrupted")
        children_after = any(c.initiated_id > step.order[1] for c in self.children)
        return ended_well or children_after

    def _fallen_back(self, step: Step, steps: list[Step | MergeStep | ChildRun]) -> Step:
        skip = {s.order[0] for s in steps if isinstance(s, Step) and s.node == step.node}
        fallback = next(
            (s for s in steps if isinstance(s, Step) and s.node == step.node and s.role == "fallback"), None
        )
        after = fallback.order[1] if fallback is not None else step.order[1]
        score: dict[str, Any] | None
        if step.group is not None:  # the copy's score: the value lands when the group merges
            score = {**(step.score_before or {}), **(fallback.changes if fallback else {})}
        else:
            score = as_dict(self._next_score(after, skip)) or None
        return dataclasses.replace(step, score=score)

    def _merges(self, steps: list[Step | MergeStep | ChildRun], groups: dict[int, str]) -> list[MergeStep]:
        members: dict[str, list[Step]] = {}
        for step in steps:
            if isinstance(step, Step) and step.role == "note" and step.group is not None:
                members.setdefault(step.group, []).append(step)
        out = []
        for group, notes in members.items():
            if any(n.status in ("failed", "timed out", "cancelled", "running") for n in notes):
                continue  # nothing was merged: the group failed (its error is the run's)
            last = max(n.order[1] for n in notes)
            merge = next(
                (s for s in steps if isinstance(s, Step) and s.node == group and s.role == "merge"), None
            )
            if merge is not None:
                last = merge.order[1]
            member_ids = {n.order[0] for n in notes}
            score = (
                merge.score
                if merge is not None and merge.score is not None
                else self._next_score(last, member_ids)
            )
            out.append(
                MergeStep(
                    node=group,
                    tasks=tuple(n.node for n in notes),
                    changes=tuple(n.changes for n in notes),
                    snapshots=tuple(n.score for n in notes),
                    score=score,
                    started=min((n.scheduled for n in notes if n.scheduled is not None), default=None),
                    ended=max((n.ended for n in notes if n.ended is not None), default=None),
                    order=(max(n.order[0] for n in notes), last),  # after its notes,
                )
            )
        return out

    def _child(self, c: Child) -> ChildRun:
        status = {"completed": "done"}.get(c.outcome, c.outcome)
        output = c.output
        if isinstance(output, Mapping) and output.get("status"):
            status = str(output["status"]) if c.outcome == "completed" else status
        before = self._score_at(c.initiated_id)
        merge = next(
            (
                a
                for a in self.activities
                if a.type == f"{_child_node(c)}#merge" and a.scheduled_id > c.initiated_id
            ),
            None,
        )
        after: dict[str, Any] | None = None
        if merge is not None and merge.outcome == "completed":
            after = {**as_dict(merge.input.get("score")), **as_dict(as_dict(merge.output).get("changes"))}
        elif c.outcome == "completed":
            after = as_dict(self._next_score(c.closed_id, set())) or None
        return ChildRun(
            node=_child_node(c),
            workflow_id=c.workflow_id,
            run_id=c.run_id,
            status=status,
            started=c.started,
            ended=c.ended,
            input=c.input,
            output=output,
            error=error_of(c.failure),
            score_before=before,
            score=after,
            order=(
                c.initiated_id,
                merge.closed_id if merge is not None and merge.closed_id else c.closed_id or c.initiated_id,
            ),
        )

    def _score_at(self, event_id: int) -> dict[str, Any] | None:
        seen = [score for eid, score, _ in self.observed if eid < event_id]
        return seen[-1] if seen else self.start_score


def _child_node(c: Child) -> str:
    return str(c.input.get("node") or c.workflow_id)


def _lost(step: Step) -> bool:
    return step.status == "timed out" and step.error is not None and "was lost" in step.error["message"]


def _flag(failure: Mapping[str, Any], name: str) -> bool:
    details = failure.get("details")
    if isinstance(details, Mapping) and details.get(name):
        return True
    cause = failure.get("cause")
    return isinstance(cause, Mapping) and _flag(cause, name)


def _duration(measured: Any, a: Activity) -> float | None:
    if isinstance(measured, int | float) and not isinstance(measured, bool):
        return float(measured)
    if a.started is not None and a.ended is not None:
        return max(0.0, a.ended - a.started)
    return None
