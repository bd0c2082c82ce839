"""Cadences on Temporal: the same definition runs as a durable workflow, each note an activity.

::

    from temporalio.client import Client
    from cadence.integrations.temporal import create_worker, run

    client = await Client.connect("localhost:7233")
    async with create_worker(client, [checkout]):          # in the worker process(es)
        score = await run(client, checkout)                 # anywhere: the final score

One generic workflow (type ``Cadence``) walks the cadence's plan (:func:`plan`); user code runs only in
activities, in the worker that loaded the module (``cadence-studio worker TARGET --temporal HOST:PORT``
runs one). The score crosses as JSON (``cadence.serialize``, the checkpoints' form).

Resilience maps to Temporal: ``@retry`` is the activity's retry policy (``on=`` decides which errors
are retried; the waits are the decorator's), ``@timeout`` Temporal's start-to-close timeout (each
attempt) or schedule-to-close (outside a ``@retry``), ``@fallback`` is applied by the workflow once the
activity finally failed. ``@circuit_breaker`` stays in the activity worker: each worker process has its
own breakers. A note heartbeats while it runs: a lost worker is noticed within seconds and the note
runs again on another worker. Hooks and reporters run in the worker and see a local run's events.

Needs ``pip install 'cadence-studio[temporal]'``.
"""

from __future__ import annotations

try:
    import temporalio  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised in a subprocess by the tests
    msg = f"cadence.integrations.temporal needs temporalio: pip install 'cadence-studio[temporal]' ({error})"
    raise ImportError(msg) from error

from ._client import (
    DEFAULT_TASK_QUEUE,
    WorkflowFailed,
    create_worker,
    register,
    run,
    sandbox_runner,
    start,
    workflow_input,
)
from ._plan import plan
from ._workflow import WORKFLOW_TYPE, CadenceWorkflow

__all__ = [  # noqa: RUF022 - plain sorted order (tests/engine/test_exports.py)
    "CadenceWorkflow",
    "DEFAULT_TASK_QUEUE",
    "WORKFLOW_TYPE",
    "WorkflowFailed",
    "create_worker",
    "plan",
    "register",
    "run",
    "sandbox_runner",
    "start",
    "workflow_input",
]
