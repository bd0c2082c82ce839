"""The plan: a cadence definition as the JSON tree the Temporal workflow walks.

Standard library only (no temporalio): the plan is made from ``Cadence.describe()``'s node ids and
the definition objects (the notes' policies, the merge strategies, the children), once per worker
and starter. The workflow never sees a user callable, only this tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ... import _fingerprint
from ..._measures import (
    BranchMeasure,
    ChildMeasure,
    Measure,
    NoteMeasure,
    ParallelMeasure,
    SequenceMeasure,
    segment,
)
from ..._note import Note
from ..._runtime import Task
from ...exceptions import TimeoutError as CadenceTimeoutError
from ...merge import MergeStrategy
from ...resilience import Fallback, Retry, Timeout
from ...serialize import SerializationError, serialize_score, serialize_value

__all__ = [
    "BUILTIN_MERGES",
    "PLAN_VERSION",
    "Chain",
    "find_node",
    "iter_cadences",
    "note_policies",
    "plan",
    "type_ref",
]

PLAN_VERSION = 1

#: The merge strategies the workflow runs itself (on neutral values); any other is an activity.
BUILTIN_MERGES: dict[Any, str] = {
    MergeStrategy.fail_on_conflict: "fail_on_conflict",
    MergeStrategy.last_write_wins: "last_write_wins",
    MergeStrategy.smart_merge: "smart_merge",
}

#: Seconds past a ``@timeout`` at which the activity abandons a note that Temporal timed out.
TIMEOUT_GRACE = 1.0


def type_ref(tp: type) -> str:
    return f"{tp.__module__}:{tp.__qualname__}"


def note_policies(fn: Any) -> dict[str, Any]:
    """The ``@retry`` / ``@timeout`` / ``@fallback`` of a note as Temporal activity options.

    ``Note.policies`` lists policies innermost first. The first policy of each kind counts.
    """
    policies = fn.policies if isinstance(fn, Note) else ()
    index: dict[str, int] = {}
    for i, p in enumerate(policies):
        if p.kind in ("retry", "timeout", "fallback") and p.kind not in index:
            index[p.kind] = i
    retry: Retry | None = policies[index["retry"]] if "retry" in index else None  # type: ignore[assignment]
    tmo: Timeout | None = policies[index["timeout"]] if "timeout" in index else None  # type: ignore[assignment]
    fb: Fallback | None = policies[index["fallback"]] if "fallback" in index else None  # type: ignore[assignment]
    out: dict[str, Any] = {"retry": None, "timeout": None, "fallback": None}
    if retry is not None:
        exponential = retry.backoff == "exponential" or not isinstance(retry.backoff, str)
        factor = 2.0 if retry.backoff == "exponential" else 1.0
        if not isinstance(retry.backoff, str):
            factor = max(1.0, float(retry.backoff))
        out["retry"] = {
            "max_attempts": retry.max_attempts,
            "initial": max(retry.delay, 0.001),
            "backoff": factor if exponential else 1.0,
            "max_interval": max(retry.max_delay, retry.delay, 0.001),
        }
    if tmo is not None:
        inside = retry is None or index["timeout"] < index["retry"]
        probe = CadenceTimeoutError("probe", seconds=tmo.seconds)
        # Temporal retries its own timeouts: where the note's @retry would not retry a timeout, the
        # activity enforces the timeout itself (a non-retryable failure) and Temporal's is a backstop.
        by_temporal = retry is None or not inside or retry.retries(probe)
        out["timeout"] = {
            "seconds": tmo.seconds,
            "per_attempt": inside,
            "by_temporal": by_temporal,
            "start_to_close": tmo.seconds if by_temporal else tmo.seconds + TIMEOUT_GRACE,
        }
    if fb is not None:
        default: dict[str, Any] | None = None
        if fb.handler is None and fb.field is not None:
            try:
                default = {
                    "value": serialize_value(fb.default, path=f"fallback of {getattr(fn, 'name', '')}")
                }
            except SerializationError:
                default = None  # the #fallback activity makes the value
        timeout_error = CadenceTimeoutError("probe", seconds=tmo.seconds if tmo else 0.0)
        out["fallback"] = {
            "field": fb.field,
            "default": default,
            "handler": fb.handler is not None,
            "inside_retry": retry is not None and index["fallback"] < index["retry"],
            "catches_timeout": tmo is not None
            and index["timeout"] < index["fallback"]
            and fb.catches(timeout_error),
        }
    return out


def _note(node_id: str, task: Task | Any, name: str, *, can_interrupt: bool = False) -> dict[str, Any]:
    fn = task.fn if isinstance(task, Task) else task
    return {
        "kind": "note",
        "id": node_id,
        "name": name,
        "can_interrupt": can_interrupt,
        "policies": note_policies(fn),
    }


def _notes(parent_id: str, tasks: tuple[Task, ...]) -> list[dict[str, Any]]:
    return [_note(f"{parent_id}/{t.seg}", t, t.name) for t in tasks]


def _measure(m: Measure, parent_id: str, observed: bool) -> dict[str, Any]:
    nid = f"{parent_id}/{m.seg}"
    if isinstance(m, NoteMeasure):
        return _note(nid, m.task, m.name, can_interrupt=m.can_interrupt)
    if isinstance(m, SequenceMeasure):
        return {"kind": "sequence", "id": nid, "name": m.name, "notes": _notes(nid, m.tasks)}
    if isinstance(m, ParallelMeasure):
        return {
            "kind": "sync",
            "id": nid,
            "name": m.name,
            "notes": _notes(nid, m.tasks),
            "merge": BUILTIN_MERGES.get(m.merge_strategy),
        }
    if isinstance(m, BranchMeasure):
        return {
            "kind": "split",
            "id": nid,
            "name": m.name,
            "parallel": m.parallel,
            "true": _notes(f"{nid}/true", m.branches[True]),
            "false": _notes(f"{nid}/false", m.branches[False]),
        }
    if isinstance(m, ChildMeasure):
        child: Any = m.child
        score: dict[str, Any] | None = None
        if m.score_factory is None:
            try:
                score = serialize_score(child.get_score())
            except SerializationError:
                score = None  # the #score activity makes a fresh copy instead
        return {
            "kind": "child",
            "id": nid,
            "name": m.name,
            "cadence": _cadence(child, nid, observed),
            "score_factory": m.score_factory is not None,
            "score": score,
        }
    msg = f"measure {m!r} of kind {m.kind!r} cannot run on Temporal"
    raise TypeError(msg)


def _observed(cadence: Any) -> bool:
    if cadence.has_observers:
        return True
    return any(isinstance(m, ChildMeasure) and _observed(m.child) for m in cadence.measures)


def _cadence(cadence: Any, node_id: str, observed_above: bool = False) -> dict[str, Any]:
    """A cadence node; ``observed`` when it, a child, or a cadence around it has hooks or reporters
    (a parent's hooks see a child's start and end too)."""
    handler = cadence._error_handler
    observed = observed_above or _observed(cadence)
    t = type(cadence.get_score()) if cadence.get_score() is not None else None
    return {
        "kind": "cadence",
        "id": node_id,
        "name": cadence.name,
        "score_type": type_ref(t) if t is not None else None,
        "observed": observed,
        "on_error": None if handler is None else {"stop": bool(handler[1])},
        "measures": [_measure(m, node_id, observed) for m in cadence.measures],
    }


def plan(cadence: Any) -> dict[str, Any]:
    """The JSON plan of ``cadence`` (a :class:`cadence.Cadence`) that the ``Cadence`` workflow walks.

    ``{"version", "cadence", "fingerprint", "structure", ...the root cadence node}``; node ids are
    ``describe()``'s. The fingerprint and structure are the checkpoints' (``cadence._fingerprint``).
    """
    shape = _fingerprint.shape(cadence)
    root = _cadence(cadence, segment(cadence.name))
    return {
        "version": PLAN_VERSION,
        "cadence": cadence.name,
        "fingerprint": shape["fingerprint"],
        "structure": [list(s) for s in shape["structure"]],
        **root,
    }


def find_node(node: dict[str, Any], node_id: str) -> dict[str, Any] | None:
    """The cadence node (the root or a child's ``cadence``) with id ``node_id`` in a plan."""
    if node.get("kind") == "cadence" and node["id"] == node_id:
        return node
    for m in node.get("measures", ()):
        if m["kind"] == "child":
            found = find_node(m["cadence"], node_id)
            if found is not None:
                return found
    return None


Chain = list[tuple[Any, str]]


def iter_cadences(cadence: Any) -> Iterator[tuple[str, Any, Chain]]:
    """``(cadence node id, definition, [(definition, node id) from the root])`` of a cadence and
    of every child cadence it runs (at any depth)."""
    root = segment(cadence.name)
    yield from _walk(cadence, root, [(cadence, root)])


def _walk(cadence: Any, node_id: str, chain: Chain) -> Iterator[tuple[str, Any, Chain]]:
    yield node_id, cadence, chain
    for m in cadence.measures:
        if isinstance(m, ChildMeasure):
            cid = f"{node_id}/{m.seg}"
            yield from _walk(m.child, cid, [*chain, (m.child, cid)])
