"""A run that fails on Temporal, read back: the failed note with its attempts and error, the run's error,
and `history show --temporal` printing both like a failed local run."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cadence import Cadence, Score, Skip, note, retry
from cadence.integrations.temporal import WorkflowFailed, create_worker, run
from cadence.integrations.temporal.history import RunHistory, Step, read_history
from tests.temporal.conftest import TemporalServer
from tests.temporal.read.conftest import connect

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Ledger(Score):
    n: int = 0
    log: list[str] = field(default_factory=list)


class RefusedError(Exception):
    """The ledger service refused the entry."""


@note
def count(ledger: Ledger) -> None:
    ledger.n += 1
    ledger.log.append(f"counted {ledger.n}")


@retry(2, delay=0.001)
@note
def refuse(ledger: Ledger) -> None:
    msg = f"refused at {ledger.n}"
    raise RefusedError(msg)


BROKEN = Cadence("broken", Ledger()).then("count", count).then("refuse", refuse).then("never", count)


@note
def closed(ledger: Ledger) -> None:
    msg = f"the ledger is closed after {ledger.n}"
    raise Skip(msg)


SKIPPING = Cadence("skipping", Ledger()).then("count", count).then("closed", closed).then("never", count)


async def _failed_run(address: str) -> tuple[str, RunHistory]:
    client = await connect(address)
    queue = f"broken-{uuid.uuid4().hex[:8]}"
    workflow_id = f"broken-{uuid.uuid4().hex[:12]}"
    async with create_worker(client, [BROKEN], task_queue=queue):
        with pytest.raises(WorkflowFailed):
            await run(client, BROKEN, task_queue=queue, workflow_id=workflow_id)
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return workflow_id, read_history(history)


@pytest.fixture(scope="module")
def failed(temporal_server: TemporalServer) -> tuple[str, RunHistory]:
    try:
        return asyncio.run(_failed_run(temporal_server.address))
    finally:
        gc.collect()


def test_the_failed_note_and_the_run_error(failed: tuple[str, RunHistory]) -> None:
    """As a local run tells it: refuse failed with RetryExhaustedError after its 2 attempts (the first
    one's RefusedError is the failure Temporal kept), the run failed with NoteError naming the note,
    the note after it never ran, and the score after count is the one it left."""
    _, history = failed
    notes = {s.node: s for s in history.steps if isinstance(s, Step)}
    assert list(notes) == ["broken/count", "broken/refuse"]
    refused = notes["broken/refuse"]
    assert (refused.status, refused.attempts, refused.max_attempts) == ("failed", 2, 2)
    assert refused.error is not None
    assert refused.error["type"] == "RetryExhaustedError"
    assert "last error: RefusedError: refused at 1" in refused.error["message"]
    assert refused.last_failure is not None
    assert (refused.last_failure["type"], refused.last_failure["message"]) == ("RefusedError", "refused at 1")
    assert "raise RefusedError(msg)" in refused.last_failure["traceback"]
    assert notes["broken/count"].score == {"n": 1, "log": ["counted 1"]}
    assert history.status == "failed"
    assert history.error is not None
    assert history.error["type"] == "NoteError"
    assert history.error["message"].startswith("note 'refuse' failed: RetryExhaustedError: ")
    assert history.error["node"] == "broken/refuse"


def test_history_show_prints_the_failure(
    failed: tuple[str, RunHistory], temporal_server: TemporalServer
) -> None:
    """✗ on the note with its error, the retry before it, "run failed", the error on stderr; exit 0
    (the command worked: the run is what failed)."""
    workflow_id, _ = failed
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cadence_studio",
            "history",
            "show",
            workflow_id,
            "--temporal",
            temporal_server.address,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "↻ broken/refuse attempt 1/2 failed: refused at 1" in done.stdout
    assert "✗ broken/refuse" in done.stdout
    assert "RetryExhaustedError: [RETRY_EXHAUSTED] note 'refuse' failed 2 times" in done.stdout
    assert "run failed in" in done.stdout
    assert done.stderr.startswith("error: NoteError: note 'refuse' failed: RetryExhaustedError: ")


async def _skipped_run(address: str) -> RunHistory:
    client = await connect(address)
    queue = f"skipping-{uuid.uuid4().hex[:8]}"
    workflow_id = f"skipping-{uuid.uuid4().hex[:12]}"
    async with create_worker(client, [SKIPPING], task_queue=queue):
        await run(client, SKIPPING, task_queue=queue, workflow_id=workflow_id)
    return read_history(await client.get_workflow_handle(workflow_id).fetch_history())


def test_a_skip_ends_the_run_skipped_with_its_reason(temporal_server: TemporalServer) -> None:
    """A note that raises Skip is "skipped" with its reason; the run ends "skipped", nothing after it ran."""
    try:
        history = asyncio.run(_skipped_run(temporal_server.address))
    finally:
        gc.collect()
    notes = {s.node: s for s in history.steps if isinstance(s, Step)}
    assert list(notes) == ["skipping/count", "skipping/closed"]
    closed_step = notes["skipping/closed"]
    assert (closed_step.status, closed_step.skip) == ("skipped", "the ledger is closed after 1")
    assert (history.status, history.error) == ("skipped", None)
    assert history.score == {"n": 1, "log": ["counted 1"]}
