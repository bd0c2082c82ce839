"""The records a Cadence workflow history is read into (:mod:`cadence.integrations.temporal.history`)."""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["WORKFLOW_TYPE", "ChildRun", "MergeStep", "RunHistory", "Step"]

#: The workflow type every cadence runs as.
WORKFLOW_TYPE = "Cadence"


@dataclasses.dataclass(frozen=True, slots=True)
class Step:
    """One activity of the run: a note (``role`` "note"), a ``.split`` condition ("condition"), or a
    note's fallback handler, a custom merge, a child's score factory, the error handler ("fallback",
    "merge", "score", "on_error").

    ``status``: done, failed, timed out, fallback (failed or timed out, then its ``@fallback`` gave the
    value), skipped, interrupted, cancelled or running. ``score`` is the encoded score after it (the
    copy's, inside a ``.sync``); ``changes`` what it changed; ``error`` ``{type, message, traceback,
    error_type?}``; ``last_failure`` the failure of the attempt before the last one (Temporal keeps no
    other); ``value`` a condition's result and ``branch`` the branch it took ("true"/"false").
    """

    node: str
    role: str
    name: str
    status: str
    attempts: int = 1
    max_attempts: int | None = None
    scheduled: float | None = None
    started: float | None = None
    ended: float | None = None
    duration: float | None = None
    score_before: dict[str, Any] | None = None
    score: dict[str, Any] | None = None
    changes: dict[str, Any] = dataclasses.field(default_factory=dict)
    error: dict[str, Any] | None = None
    last_failure: dict[str, Any] | None = None
    value: Any = None
    branch: str | None = None
    skip: str | None = None
    result: Any = None
    group: str | None = None
    timeout: float | None = None
    #: times the note ran again because its worker was lost (a heartbeat timeout)
    lost_workers: int = 0
    activity_id: str = ""
    #: the event ids of its scheduling and of its end, for ordering
    order: tuple[int, int] = (0, 0)

    def as_dict(self) -> dict[str, Any]:
        return {"type": "step", **dataclasses.asdict(self)}


@dataclasses.dataclass(frozen=True, slots=True)
class MergeStep:
    """A ``.sync`` group's merge: its notes' node ids and changes, and the merged score (encoded)."""

    node: str
    tasks: tuple[str, ...]
    changes: tuple[dict[str, Any], ...]
    snapshots: tuple[dict[str, Any] | None, ...]
    score: dict[str, Any] | None
    started: float | None
    ended: float | None
    status: str = "done"
    order: tuple[int, int] = (0, 0)

    @property
    def duration(self) -> float | None:
        return None if self.started is None or self.ended is None else max(0.0, self.ended - self.started)

    def as_dict(self) -> dict[str, Any]:
        return {"type": "merge", **dataclasses.asdict(self), "duration": self.duration}


@dataclasses.dataclass(frozen=True, slots=True)
class ChildRun:
    """A ``.child`` measure: its child workflow (read its own history by ``workflow_id``), the
    parent's score after it (encoded, once merged) and the child's final score."""

    node: str
    workflow_id: str
    run_id: str | None
    status: str
    started: float | None
    ended: float | None
    input: dict[str, Any]
    output: Any = None
    error: dict[str, Any] | None = None
    score_before: dict[str, Any] | None = None
    score: dict[str, Any] | None = None
    order: tuple[int, int] = (0, 0)

    @property
    def duration(self) -> float | None:
        return None if self.started is None or self.ended is None else max(0.0, self.ended - self.started)

    def as_dict(self) -> dict[str, Any]:
        return {"type": "child", **dataclasses.asdict(self), "duration": self.duration}


@dataclasses.dataclass(frozen=True, slots=True)
class RunHistory:
    """One ``Cadence`` workflow run as read from its history.

    ``status``: the workflow output's (done, skipped, interrupted, handled), or failed, timed out,
    cancelled, terminated, continued, running. ``cadence`` is the root cadence's name, ``node`` the
    cadence node this workflow runs (a child workflow's is the ``.child``'s node id).
    """

    workflow_id: str
    run_id: str | None
    workflow_type: str
    cadence: str
    node: str
    fingerprint: str | None
    score_type: str | None
    task_queue: str | None
    status: str
    started: float | None
    ended: float | None
    input: dict[str, Any]
    score_before: dict[str, Any]
    score: dict[str, Any] | None
    output: Any
    error: dict[str, Any] | None
    steps: tuple[Step | MergeStep | ChildRun, ...]
    memo: dict[str, Any]
    reason: str | None = None

    @property
    def duration(self) -> float | None:
        return None if self.started is None or self.ended is None else max(0.0, self.ended - self.started)

    @property
    def children(self) -> tuple[ChildRun, ...]:
        return tuple(s for s in self.steps if isinstance(s, ChildRun))

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "steps"}
        return {**out, "duration": self.duration, "steps": [s.as_dict() for s in self.steps]}


# ---------------------------------------------------------------------------- reading
