"""@retry and @timeout as Temporal attempts and timeouts, hooks in the worker, a changed definition."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest
from temporalio.client import Client

from cadence import Cadence, CadenceHooks, Score, fallback, retry, serialize_score, timeout
from cadence.integrations.temporal import WorkflowFailed, create_worker, run, start
from cadence.integrations.temporal._client import result
from tests.temporal.conftest import TemporalServer
from tests.temporal.serving import activity_events, serving


@dataclass
class Job(Score):
    tries: int = 0
    done: str = ""
    later: str = ""


class Flaky(Exception):
    pass


@retry(3, delay=0.05, backoff="fixed", jitter=False, on=Flaky)
async def flaky(job: Job) -> None:
    job.tries += 1  # a local @retry reruns on the same score: so does Temporal's attempt
    if job.tries < 3:
        raise Flaky(f"try {job.tries}")
    job.done = f"after {job.tries} tries"


@retry(3, delay=0.05, on=Flaky)
def wrong_kind(job: Job) -> None:
    job.tries += 1
    raise ValueError("not retried: @retry(on=Flaky)")


@timeout(0.3)
async def too_slow(job: Job) -> None:
    await asyncio.sleep(5)
    job.done = "slow"


def later(job: Job) -> None:
    job.later = "yes"


async def test_retry_is_temporal_attempts(temporal_server: TemporalServer) -> None:
    """Each failed attempt is a Temporal attempt of the same activity (ACTIVITY_TASK_STARTED attempt 3),
    and the score is the local run's."""
    local = await Cadence("r-retry", Job()).then("flaky", flaky).run(Job())
    cadence = Cadence("r-retry", Job()).then("flaky", flaky)
    client = await Client.connect(temporal_server.address)
    async with serving(client, cadence) as queue:
        handle = await start(client, cadence, Job(), task_queue=queue)
        remote = await result(handle, cadence, Job())
    assert serialize_score(remote) == serialize_score(local)
    assert remote.done == "after 3 tries"
    events = await activity_events(handle)
    started = [e for e in events if e[0] == "ACTIVITY_TASK_STARTED" and e[1] == "r-retry/flaky"]
    assert [e[2] for e in started] == [3]  # Temporal records the last attempt's start
    assert ("ACTIVITY_TASK_COMPLETED", "r-retry/flaky", 0) in events


async def test_an_error_retry_does_not_name_is_not_retried(temporal_server: TemporalServer) -> None:
    cadence = Cadence("r-not-retried", Job()).then("wrong_kind", wrong_kind)
    client = await Client.connect(temporal_server.address)
    async with serving(client, cadence) as queue:
        handle = await start(client, cadence, Job(), task_queue=queue)
        with pytest.raises(WorkflowFailed, match="note 'wrong_kind' failed: ValueError"):
            await result(handle, cadence, Job())
    started = [e for e in await activity_events(handle) if e[0] == "ACTIVITY_TASK_STARTED"]
    assert [e[2] for e in started] == [1]


async def test_timeout_is_a_timed_out_activity(temporal_server: TemporalServer) -> None:
    """@timeout(0.3) is the activity's start-to-close timeout: the history has ACTIVITY_TASK_TIMED_OUT
    and the run fails with the local run's TimeoutError message."""
    cadence = Cadence("r-timeout", Job()).then("too_slow", too_slow).then("later", later)
    client = await Client.connect(temporal_server.address)
    async with serving(client, cadence) as queue:
        handle = await start(client, cadence, Job(), task_queue=queue)
        with pytest.raises(WorkflowFailed) as failed:
            await result(handle, cadence, Job())
    assert failed.value.error_type == "cadence.exceptions:TimeoutError"
    assert "note 'too_slow' did not finish within 0.3s" in str(failed.value)
    events = await activity_events(handle)
    assert ("ACTIVITY_TASK_TIMED_OUT", "r-timeout/too_slow", 0) in events
    assert not [e for e in events if e[1] == "r-timeout/later"]


async def test_timeout_with_fallback_goes_on(temporal_server: TemporalServer) -> None:
    slow_with_default = fallback("fell back", field="done")(too_slow)
    make = lambda: Cadence("r-timeout-fb", Job()).then("slow", slow_with_default).then("later", later)  # noqa: E731
    local = await make().run(Job())
    cadence = make()
    client = await Client.connect(temporal_server.address)
    async with serving(client, cadence) as queue:
        remote = await run(client, cadence, Job(), task_queue=queue)
    assert serialize_score(remote) == serialize_score(local)
    assert (remote.done, remote.later) == ("fell back", "yes")


class Recorder(CadenceHooks):
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def _add(self, text: str) -> None:
        with self.lock:
            self.calls.append(text)

    def before_cadence(self, name: str, score: Any) -> None:
        self._add(f"before_cadence {name}")

    def after_cadence(
        self, name: str, score: Any, duration: float, error: BaseException | None = None
    ) -> None:
        self._add(f"after_cadence {name} {score.done!r} error={type(error).__name__ if error else None}")

    def before_note(self, name: str, score: Any) -> None:
        self._add(f"before_note {name}")

    def after_note(self, name: str, score: Any, duration: float, error: BaseException | None = None) -> None:
        self._add(f"after_note {name} {score.done!r}")

    def on_retry(self, name: str, score: Any, attempt: int, max_attempts: int, error: BaseException) -> None:
        self._add(f"on_retry {name} {attempt}/{max_attempts} {error}")


async def test_hooks_in_the_worker_see_the_local_calls(temporal_server: TemporalServer) -> None:
    """before_cadence, before_note, on_retry (each failed attempt), after_note, after_cadence: the same
    calls, in the same order, as in a local run."""
    local_hooks, remote_hooks = Recorder(), Recorder()
    await (
        Cadence("r-hooks", Job()).then("flaky", flaky).then("later", later).with_hooks(local_hooks).run(Job())
    )
    cadence = Cadence("r-hooks", Job()).then("flaky", flaky).then("later", later).with_hooks(remote_hooks)
    client = await Client.connect(temporal_server.address)
    async with serving(client, cadence) as queue:
        await run(client, cadence, Job(), task_queue=queue)
    assert remote_hooks.calls == local_hooks.calls
    assert remote_hooks.calls == [
        "before_cadence r-hooks",
        "before_note flaky",
        "on_retry flaky 1/3 try 1",
        "on_retry flaky 2/3 try 2",
        "after_note flaky 'after 3 tries'",
        "before_note later",
        "after_note later 'after 3 tries'",
        "after_cadence r-hooks 'after 3 tries' error=None",
    ]


async def test_a_changed_definition_is_refused_naming_the_node(temporal_server: TemporalServer) -> None:
    """The worker's definition differs from the starter's: the run fails at once, naming the node."""
    served = Cadence("r-changed", Job()).then("flaky", flaky).then("later", later)
    starter = Cadence("r-changed", Job()).then("flaky", flaky).then("renamed", later)
    client = await Client.connect(temporal_server.address)
    async with serving(client, served) as queue:
        handle = await start(client, starter, Job(), task_queue=queue)
        with pytest.raises(WorkflowFailed) as failed:
            await result(handle, starter, Job())
    assert failed.value.kind == "DefinitionChanged"
    assert "'r-changed/later' (note)" in str(failed.value)
    assert "'r-changed/renamed' (note)" in str(failed.value)
    assert await activity_events(handle) == []  # no note ran


def sleepy(job: Job) -> None:
    time.sleep(2.5)  # a plain def: it must run off the worker's event loop, which keeps heartbeating
    job.done = "slept"


async def test_a_sync_note_does_not_block_the_worker_heartbeats(temporal_server: TemporalServer) -> None:
    """A blocking `def` note longer than the heartbeat timeout (1 s) is not taken for a lost worker:
    one attempt, scheduled once."""
    cadence = Cadence("r-sync-note", Job()).then("sleepy", sleepy)
    client = await Client.connect(temporal_server.address)
    queue = f"test-sync-{time.monotonic_ns()}"
    async with create_worker(client, [cadence], task_queue=queue, heartbeat_timeout=1.0):
        handle = await start(client, cadence, Job(), task_queue=queue)
        final = await result(handle, cadence, Job())
    assert final.done == "slept"
    events = [e for e in await activity_events(handle) if e[1] == "r-sync-note/sleepy"]
    assert [e[0] for e in events] == [
        "ACTIVITY_TASK_SCHEDULED",
        "ACTIVITY_TASK_STARTED",
        "ACTIVITY_TASK_COMPLETED",
    ]


class Parent(CadenceHooks):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def before_cadence(self, name: str, score: Any) -> None:
        self.calls.append(f"before_cadence {name}")

    def after_cadence(
        self, name: str, score: Any, duration: float, error: BaseException | None = None
    ) -> None:
        self.calls.append(f"after_cadence {name}")

    def before_note(self, name: str, score: Any) -> None:
        self.calls.append(f"before_note {name}")


def keep(parent: Job, child: Job) -> None:
    parent.later = child.later


async def test_a_parents_hooks_see_an_unobserved_child(temporal_server: TemporalServer) -> None:
    local_hooks, remote_hooks = Parent(), Parent()

    def make(hooks: Parent) -> Cadence[Job]:
        child = Cadence("r-kid", Job()).then("later", later)
        return Cadence("r-parent", Job()).child("kid", child, keep).with_hooks(hooks)

    await make(local_hooks).run(Job())
    cadence = make(remote_hooks)
    client = await Client.connect(temporal_server.address)
    async with serving(client, cadence) as queue:
        await run(client, cadence, Job(), task_queue=queue)
    assert remote_hooks.calls == local_hooks.calls
    assert "before_cadence r-kid" in remote_hooks.calls
