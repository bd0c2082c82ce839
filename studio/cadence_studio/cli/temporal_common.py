"""What ``run --backend temporal`` and ``schedule create`` share: reaching Temporal, and the workflow's
input built by the studio's worker (user code never runs in the command line's process).

Imported only when a command needs Temporal: ``temporalio`` is the optional extra ``temporal``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .. import protocol as p
from ..protocol.config import ProjectConfig
from ..ui.client import WorkerClient, exit_reason
from .headless import RunOptions, _catalog, _pick, _refusal
from .run_output import where

if TYPE_CHECKING:
    from temporalio.client import Client

__all__ = [
    "EXTRA",
    "WORKFLOW",
    "Prepared",
    "connect",
    "has_temporalio",
    "memo",
    "new_workflow_id",
    "prepare",
    "workflow_input",
]

EXTRA = "pip install 'cadence-studio[temporal]'"
#: the one workflow type that runs any cadence (TEMPORAL.md)
WORKFLOW = "Cadence"
#: how long connecting to Temporal may take before the command says it cannot
CONNECT_TIMEOUT = 5.0


def has_temporalio(err: TextIO) -> bool:
    """Whether ``temporalio`` is installed; if not, say how to install it."""
    if importlib.util.find_spec("temporalio") is not None:
        return True
    print(f"error: running on Temporal needs the Temporal SDK: {EXTRA}", file=err)
    return False


def where_from(config: ProjectConfig) -> str:
    """`` (from …)`` naming where the Temporal address was set, for messages about it."""
    return f"{config.address} (from {config.source('temporal')})"


async def connect(config: ProjectConfig, err: TextIO) -> Client | None:
    """A client of the configured Temporal, or None after saying why it cannot be reached."""
    from temporalio.client import Client

    try:
        return await asyncio.wait_for(
            Client.connect(config.address, namespace=config.namespace), CONNECT_TIMEOUT
        )
    except (RuntimeError, OSError, TimeoutError, ValueError) as error:
        why = str(error).strip() or type(error).__name__
        print(
            f"error: cannot reach Temporal at {where_from(config)}: {why}\n"
            "hint: start a dev server (temporal server start-dev), or point --temporal HOST:PORT "
            "(CADENCE_TEMPORAL, [tool.cadence] temporal) at yours",
            file=err,
        )
        return None


@dataclass
class Prepared:
    """A run's start, as the studio's worker built it; ``worker`` stays open to draw the end."""

    worker: WorkerClient
    entry: p.CadenceEntry
    start: p.StartPrepared
    entry_target: str  # TARGET as given (its module part names what a worker must load)


async def prepare(target: str, options: RunOptions, cwd: Path, err: TextIO) -> Prepared | int:
    """Load TARGET in a worker, pick the cadence, build its first score as a local run does.

    Returns the exit code (2: bad input, 1: the user's code failed) after saying why when it cannot.
    """
    client, catalog = await _catalog(target, cwd, err)
    if catalog is None:
        return 2
    entry = _pick(catalog, target, err)
    problem = None if entry is None else _refusal(entry, options)
    if entry is None or problem is not None:
        await client.close()
        if problem is not None:
            print(f"error: {problem}", file=err)
        return 2
    await client.send(p.PrepareStart(target=entry.name, args=options.args, score=options.score))
    async for message in client.messages():
        if isinstance(message, p.StartPrepared):
            if message.error is None:
                return Prepared(client, entry, message, target)
            await client.close()
            print(f"error: {message.error.message}{where(message.error)}", file=err)
            return 2 if message.refused else 1
        if isinstance(message, p.Log):
            err.write(message.text)
        elif isinstance(message, p.WorkerExited):
            print(f"error: the worker {exit_reason(message.returncode)} while building the score", file=err)
            return 1
    return 1  # pragma: no cover (the messages end with WorkerExited)


def new_workflow_id(cadence: str) -> str:
    return f"{cadence}-{uuid.uuid4().hex[:12]}"


def workflow_input(start: p.StartPrepared, started_by: str) -> dict[str, Any]:
    """The ``Cadence`` workflow's input (TEMPORAL.md "Workflow input / output")."""
    return {
        "cadence": start.cadence,
        "node": start.graph.get("id") or start.cadence,
        "score": start.score,
        "fingerprint": start.fingerprint,
        "structure": start.structure,
        "run": {"started_by": started_by},
    }


def memo(start: p.StartPrepared) -> dict[str, Any]:
    """The memo every cadence workflow carries (TEMPORAL.md "Names")."""
    return {"cadence": start.cadence, "fingerprint": start.fingerprint, "score_type": start.score_type}
