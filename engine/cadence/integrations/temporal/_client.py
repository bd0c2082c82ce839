"""Starting cadences on Temporal and serving them: ``start``, ``run``, ``create_worker``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from ...exceptions import DefinitionError, NoteError
from ...serialize import restore_score, serialize_score
from . import _registry
from ._activities import cadence_activity
from ._plan import plan, type_ref
from ._workflow import WORKFLOW_TYPE, CadenceWorkflow

__all__ = [
    "DEFAULT_TASK_QUEUE",
    "WorkflowFailed",
    "create_worker",
    "register",
    "run",
    "sandbox_runner",
    "start",
    "workflow_input",
]

S = TypeVar("S")

#: The task queue workers poll and runs are started on when none is given.
DEFAULT_TASK_QUEUE = "cadence"


class WorkflowFailed(NoteError):
    """A cadence's workflow failed on Temporal; the message names the note and how it failed.

    ``node_id`` is the failing node's id, ``error_type`` the note's exception (``module:Qualname``),
    ``kind`` the failure's type (``NoteError``, ``ParallelNoteError``, ``MergeConflict``,
    ``DefinitionChanged``...), ``workflow_id`` the run's workflow, ``details`` the failure's record.
    """

    default_code = "WORKFLOW_FAILED"

    def __init__(
        self,
        message: str,
        *,
        note_name: str,
        node_id: str,
        error_type: str,
        kind: str,
        workflow_id: str,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, note_name=note_name, details=details)
        self.node_id = node_id
        self.error_type = error_type
        self.kind = kind
        self.workflow_id = workflow_id


def workflow_input(
    cadence: Any, score: Any = None, *, started_by: str = "api", node: str | None = None
) -> dict[str, Any]:
    """The ``Cadence`` workflow's input for a run of ``cadence`` on ``score`` (default: its
    construction score), as TEMPORAL.md describes it."""
    if score is None:
        score = cadence.get_score()
        if score is None:
            msg = f"cadence {cadence.name!r} has no score; pass one: run(client, cadence, MyScore(...))"
            raise DefinitionError(msg)
    shape = plan(cadence)
    return {
        "cadence": cadence.name,
        "node": node or shape["id"],
        "score": serialize_score(score),
        "score_type": type_ref(type(score)),
        "fingerprint": shape["fingerprint"],
        "structure": shape["structure"],
        "run": {"started_by": started_by},
    }


async def start(
    client: Client,
    cadence: Any,
    score: Any = None,
    *,
    task_queue: str = DEFAULT_TASK_QUEUE,
    workflow_id: str | None = None,
    id_prefix: str | None = None,
    started_by: str = "api",
    **options: Any,
) -> WorkflowHandle[Any, Any]:
    """Start a run of ``cadence`` on Temporal and return its workflow handle at once.

    The run happens in a worker serving ``cadence`` on ``task_queue`` (:func:`create_worker`, or
    ``cadence-studio worker``). The workflow id is ``workflow_id``, or ``f"{id_prefix or name}-<12 hex>"``.
    ``options`` go to ``Client.start_workflow`` (``execution_timeout=``, ``search_attributes=``...).
    """
    data = workflow_input(cadence, score, started_by=started_by)
    wid = workflow_id or f"{id_prefix or cadence.name}-{uuid.uuid4().hex[:12]}"
    memo = {"cadence": cadence.name, "fingerprint": data["fingerprint"], "score_type": data["score_type"]}
    return await client.start_workflow(
        WORKFLOW_TYPE, data, id=wid, task_queue=task_queue, memo=memo, result_type=dict, **options
    )


def failure_of(error: WorkflowFailureError, workflow_id: str) -> Exception:
    """The error :func:`run` raises for a failed workflow (a :class:`WorkflowFailed`)."""
    cause = error.cause
    if isinstance(cause, ApplicationError):
        record = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
        node = record.get("node") or ""
        text = f"workflow {workflow_id!r} failed: {cause.message}"
        if cause.type == "DefinitionChanged":
            text = f"workflow {workflow_id!r} refused the run: {cause.message}"
        return WorkflowFailed(
            text,
            note_name=record.get("name") or node.rpartition("/")[2],
            node_id=node,
            error_type=record.get("error_type") or "",
            kind=cause.type or "",
            workflow_id=workflow_id,
            details=record,
        )
    text = f"workflow {workflow_id!r} failed: {cause}"
    return WorkflowFailed(
        text, note_name="", node_id="", error_type="", kind=type(cause).__name__, workflow_id=workflow_id
    )


async def result(handle: WorkflowHandle[Any, Any], cadence: Any, score: Any = None) -> Any:
    """Wait for a started run and return its final score, restored to the score's type."""
    try:
        out = await handle.result()
    except WorkflowFailureError as error:
        raise failure_of(error, handle.id) from error
    base = score if score is not None else cadence.get_score()
    return restore_score(type(base), out["score"])


async def run(
    client: Client,
    cadence: Any,
    score: S | None = None,
    *,
    task_queue: str = DEFAULT_TASK_QUEUE,
    workflow_id: str | None = None,
    **options: Any,
) -> S:
    """Run ``cadence`` on Temporal and return the final score (a new object of the score's type;
    ``score`` itself is not changed, unlike a local run).

    Raises:
        WorkflowFailed: the run failed; the message names the note (``.node_id``) and its error.
    """
    handle = await start(client, cadence, score, task_queue=task_queue, workflow_id=workflow_id, **options)
    return await result(handle, cadence, score)  # type: ignore[no-any-return]


def register(cadences: Any | Iterable[Any], *, task_queue: str = DEFAULT_TASK_QUEUE) -> list[dict[str, Any]]:
    """Make ``cadences`` (one or a list, their children too) known to the ``Cadence`` workflow in this
    process for runs on ``task_queue``; returns their plans. :func:`create_worker` does it; a
    ``temporalio.worker.Replayer`` of a history needs it too (with the history's task queue).

    Raises:
        DefinitionError: no cadence, or two different cadences with one name on the queue.
    """
    if isinstance(cadences, (list, tuple, set, frozenset)):
        chosen = list(cadences)
    else:
        chosen = [cadences]
    if not chosen:
        msg = "no cadence to serve: pass one or a list of cadences"
        raise DefinitionError(msg)
    return [_registry.register(task_queue, cadence) for cadence in chosen]


def sandbox_runner() -> SandboxedWorkflowRunner:
    """The workflow sandbox the ``Cadence`` workflow runs in: the default one, with ``cadence``
    passed through (the workflow reads the plans the worker registered). For a ``Replayer`` too."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules("cadence")
    return SandboxedWorkflowRunner(restrictions=restrictions)


def create_worker(
    client: Client,
    cadences: Any | Iterable[Any],
    *,
    task_queue: str = DEFAULT_TASK_QUEUE,
    heartbeat_timeout: float = 2.0,
    sticky_timeout: float = 1.0,
    default_timeout: float = 3600.0,
    lost_worker_limit: int = 10,
    **worker_options: Any,
) -> Worker:
    """A Temporal worker that runs ``cadences`` (one or a list; their child cadences too) on ``task_queue``.

    Run it with ``async with worker: ...`` or ``await worker.run()``. Each note runs as an activity
    in this process: its ``@retry`` becomes the activity's retry policy, its ``@timeout`` Temporal's
    start-to-close (or schedule-to-close) timeout, its ``@fallback`` is applied by the workflow when the
    activity finally fails. ``@circuit_breaker`` stays in the activity worker: every worker process has
    its own breakers (state is not shared between workers). Hooks and reporters run here too.

    Args:
        heartbeat_timeout: seconds without a heartbeat after which a note's worker counts as lost and
            the note is run again on another worker (notes heartbeat every 0.5 s while they run).
        sticky_timeout: seconds a run's next workflow task waits for this worker before any worker
            may take it (short, so that another worker takes over soon after a crash).
        default_timeout: start-to-close timeout of a note without ``@timeout``.
        lost_worker_limit: how often a note is run again after its worker was lost before the run fails.
        worker_options: more ``temporalio.worker.Worker`` arguments (``max_concurrent_activities``...).
    """
    register(cadences, task_queue=task_queue)
    settings = _registry.settings
    settings.heartbeat_timeout = heartbeat_timeout
    settings.default_timeout = default_timeout
    settings.lost_worker_limit = lost_worker_limit
    worker_options.setdefault("workflow_runner", sandbox_runner())
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CadenceWorkflow],
        activities=[cadence_activity],
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=sticky_timeout),
        **worker_options,
    )
