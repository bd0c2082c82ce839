"""``@retry``: attempts, backoff and jitter, what is retried, waits that never block the loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from cadence import (
    Cadence,
    CadenceHooks,
    CircuitOpenError,
    DefinitionError,
    Note,
    NoteError,
    RetryExhaustedError,
    Score,
    Skip,
    retry,
)
from cadence import events as ev
from cadence.resilience import Retry


@dataclass
class Job(Score):
    done: bool = False
    log: list[str] = field(default_factory=list)


def failing(
    times: int, error: Callable[[], BaseException] = lambda: ValueError("flaky")
) -> tuple[Any, list[int]]:
    """An async function failing its first ``times`` calls, then marking the job done."""
    calls: list[int] = []

    async def work(job: Job) -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error()
        job.done = True
        return "ok"

    return work, calls


def policy(n: Note) -> Retry:
    (p,) = n.policies
    assert isinstance(p, Retry)
    return p


# ---------------------------------------------------------------------------- attempts


async def test_flaky_note_succeeds_within_max_attempts() -> None:
    """A note failing twice succeeds on its third attempt of three."""
    work, calls = failing(2)
    assert await retry(3, delay=0)(work)(Job()) == "ok"
    assert len(calls) == 3


async def test_exhausted_after_max_attempts_with_last_error_as_cause() -> None:
    """After ``max_attempts`` failures ``RetryExhaustedError`` carries the attempts and the last error."""
    errors: list[ValueError] = []

    @retry(3, delay=0)
    async def always(job: Job) -> None:
        errors.append(ValueError(f"failure {len(errors) + 1}"))
        raise errors[-1]

    with pytest.raises(RetryExhaustedError) as info:
        await always(Job())
    assert len(errors) == 3
    assert info.value.attempts == 3
    assert info.value.last_error is errors[-1]
    assert info.value.__cause__ is errors[-1]
    assert info.value.code == "RETRY_EXHAUSTED"
    assert "failure 3" in str(info.value)


def test_sync_note_called_directly_retries_and_exhausts() -> None:
    """A sync note called directly is retried in the caller's thread and exhausts the same way."""
    calls: list[int] = []

    @retry(2, delay=0.001, jitter=False)
    def always(job: Job) -> None:
        calls.append(1)
        raise KeyError("missing")

    with pytest.raises(RetryExhaustedError) as info:
        always(Job())
    assert len(calls) == 2
    assert isinstance(info.value.last_error, KeyError)


async def test_exhaustion_inside_a_cadence_is_a_note_error() -> None:
    """Inside a cadence an exhausted retry reaches the caller as a ``NoteError`` around it."""
    work, calls = failing(5)
    with pytest.raises(NoteError) as info:
        await Cadence("c", Job()).then("work", retry(2, delay=0)(work)).run()
    assert info.value.note_name == "work"
    assert isinstance(info.value.original_error, RetryExhaustedError)
    assert len(calls) == 2


async def test_max_attempts_one_never_retries() -> None:
    """``max_attempts=1`` calls once and reports exhaustion."""
    work, calls = failing(1)
    with pytest.raises(RetryExhaustedError):
        await retry(1, delay=0)(work)(Job())
    assert len(calls) == 1


# ---------------------------------------------------------------------------- what is retried


async def test_on_filters_the_retried_exceptions() -> None:
    """With ``on=`` only matching errors are retried; others propagate at once, unwrapped."""
    work, calls = failing(1, lambda: KeyError("k"))
    with pytest.raises(KeyError):
        await retry(3, delay=0, on=ConnectionError)(work)(Job())
    assert len(calls) == 1

    work, calls = failing(2, lambda: ConnectionResetError("reset"))
    assert await retry(3, delay=0, on=(KeyError, ConnectionError))(work)(Job()) == "ok"
    assert len(calls) == 3


async def test_skip_is_never_retried() -> None:
    """``Skip`` ends the cadence cleanly after one call, even with ``on=Exception``."""
    calls: list[int] = []

    @retry(5, delay=0, on=Exception)
    async def skipping(job: Job) -> None:
        calls.append(1)
        raise Skip("nothing to do")

    job = await Cadence("c", Job()).then("skip", skipping).then("after", lambda j: j.log.append("x")).run()
    assert calls == [1]
    assert job.log == []


async def test_circuit_open_error_is_not_retried_by_default() -> None:
    """``CircuitOpenError`` propagates after one call unless ``on`` names it."""
    work, calls = failing(1, lambda: CircuitOpenError("open", circuit="x", retry_after=1.0))
    with pytest.raises(CircuitOpenError):
        await retry(3, delay=0)(work)(Job())
    assert len(calls) == 1

    work, calls = failing(1, lambda: CircuitOpenError("open", circuit="x", retry_after=1.0))
    assert await retry(3, delay=0, on=CircuitOpenError)(work)(Job()) == "ok"
    assert len(calls) == 2


async def test_cancellation_is_not_retried() -> None:
    """Cancelling a retrying note ends it; the cancellation is never treated as a failure."""
    calls: list[int] = []

    @retry(5, delay=0)
    async def hang(job: Job) -> None:
        calls.append(1)
        await asyncio.Event().wait()

    task = asyncio.create_task(hang(Job()))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert calls == [1]


# ---------------------------------------------------------------------------- waits


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_waits_never_block_the_event_loop(is_async: bool) -> None:
    """While a retry waits, other coroutines keep running (a ticker advances between attempts)."""
    ticks = 0
    seen: list[int] = []

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    def attempt(job: Job) -> None:
        seen.append(ticks)
        if len(seen) < 3:
            raise ValueError("again")

    async def async_attempt(job: Job) -> None:
        attempt(job)

    step = retry(3, delay=0.01, backoff="fixed", jitter=False)(async_attempt if is_async else attempt)
    running = asyncio.create_task(ticker())
    try:
        await Cadence("c", Job()).then("step", step).run()
    finally:
        running.cancel()
    assert len(seen) == 3
    assert seen[0] < seen[1] < seen[2]


async def test_sync_note_called_off_the_loop_does_not_block_it() -> None:
    """A sync retrying note called directly in a worker thread leaves the loop free while it waits."""
    calls: list[int] = []

    @retry(3, delay=0.01, backoff="fixed", jitter=False)
    def step(job: Job) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ValueError("again")
        return "done"

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    running = asyncio.create_task(ticker())
    try:
        assert await asyncio.to_thread(step, Job()) == "done"
    finally:
        running.cancel()
    assert ticks >= 3


@pytest.mark.parametrize(
    ("backoff", "expected"),
    [
        ("fixed", [0.5, 0.5, 0.5, 0.5]),
        ("linear", [0.5, 1.0, 1.5, 2.0]),
        ("exponential", [0.5, 1.0, 2.0, 4.0]),
        (3, [0.5, 1.5, 4.5, 13.5]),
    ],
)
def test_backoff_waits(backoff: str | float, expected: list[float]) -> None:
    """Without jitter ``wait(n)`` is fixed d, linear d·n, exponential d·2ⁿ⁻¹, a factor f gives d·fⁿ⁻¹."""
    p = policy(retry(5, delay=0.5, backoff=backoff, jitter=False, max_delay=100)(lambda j: None))
    assert [p.wait(n) for n in range(1, 5)] == pytest.approx(expected)


def test_waits_are_capped_by_max_delay() -> None:
    """No wait exceeds ``max_delay``, whatever the backoff."""
    p = policy(retry(10, delay=1.0, backoff="exponential", jitter=False, max_delay=3.0)(lambda j: None))
    assert [p.wait(n) for n in range(1, 6)] == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_huge_attempt_numbers_do_not_overflow() -> None:
    """A very high attempt number waits ``max_delay`` (or 0 with no delay) instead of overflowing."""
    p = policy(retry(5000, delay=0.001, backoff="exponential", jitter=False, max_delay=0.01)(lambda j: None))
    assert p.wait(1100) == 0.01
    zero = policy(retry(5000, delay=0.0, backoff="exponential", jitter=False)(lambda j: None))
    assert zero.wait(1100) == 0.0
    q = policy(retry(5000, delay=1.0, backoff=10, jitter=True, max_delay=2.0)(lambda j: None))
    assert 1.0 <= q.wait(4000) <= 2.0


@pytest.mark.parametrize("backoff", ["fixed", "linear", "exponential", 1.5])
def test_jitter_never_passes_max_delay(backoff: str | float) -> None:
    """With jitter every wait lies in [base/2, base] and never above ``max_delay`` (many samples)."""
    p = policy(retry(20, delay=0.4, backoff=backoff, jitter=True, max_delay=1.0)(lambda j: None))
    plain = policy(retry(20, delay=0.4, backoff=backoff, jitter=False, max_delay=1.0)(lambda j: None))
    for attempt in range(1, 20):
        base = plain.wait(attempt)
        samples = [p.wait(attempt) for _ in range(300)]
        assert all(base / 2 <= s <= base <= 1.0 for s in samples)
        assert len(set(samples)) > 1


async def test_retry_attempt_events_carry_the_waits() -> None:
    """Inside a run each failed attempt but the last emits ``RetryAttempt`` with its exact delay."""
    seen: list[ev.Event] = []
    work, _ = failing(3)
    step = retry(4, delay=0.001, backoff="exponential", jitter=False)(work)
    job = Job()
    await Cadence("c", job).then("work", step).run(listeners=[seen.append])
    assert [e.kind for e in seen] == [
        "run_started",
        "note_started",
        "retry_attempt",
        "retry_attempt",
        "retry_attempt",
        "note_finished",
        "run_finished",
    ]
    attempts = [e for e in seen if isinstance(e, ev.RetryAttempt)]
    assert [e.delay for e in attempts] == pytest.approx([0.001, 0.002, 0.004])
    assert [e.attempt for e in attempts] == [1, 2, 3]
    assert {e.max_attempts for e in attempts} == {4}
    assert {e.name for e in attempts} == {"work"}
    assert all(isinstance(e.error, ValueError) and e.score is job for e in attempts)


# ---------------------------------------------------------------------------- hooks and definition


async def test_on_retry_hook_gets_name_score_attempt_max_and_error() -> None:
    """``on_retry(name, score, attempt, max_attempts, error)`` runs per failed attempt but the last."""
    calls: list[tuple[Any, ...]] = []

    class Hooks(CadenceHooks):
        async def on_retry(
            self, name: str, score: Any, attempt: int, max_attempts: int, error: BaseException
        ) -> None:
            calls.append((name, score, attempt, max_attempts, type(error), threading.current_thread().name))

    work, _ = failing(2)
    job = Job()
    await Cadence("c", job).then("fetch", retry(3, delay=0)(work)).with_hooks(Hooks()).run()
    main = threading.current_thread().name
    assert calls == [("fetch", job, 1, 3, ValueError, main), ("fetch", job, 2, 3, ValueError, main)]


def test_bare_retry_uses_the_defaults() -> None:
    """Bare ``@retry`` means 3 attempts, 1 s exponential backoff up to 60 s with jitter, on any Exception."""

    @retry
    def step(job: Job) -> None:
        pass

    p = policy(step)
    assert (p.max_attempts, p.delay, p.backoff, p.max_delay, p.jitter, p.on) == (
        3,
        1.0,
        "exponential",
        60.0,
        True,
        (Exception,),
    )


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"delay": -1}, {"max_delay": -0.5}, {"backoff": "quadratic"}],
)
def test_invalid_settings_are_definition_errors(kwargs: dict[str, Any]) -> None:
    """Impossible retry settings fail at decoration time with ``DefinitionError``."""
    with pytest.raises(DefinitionError):
        retry(**kwargs)
