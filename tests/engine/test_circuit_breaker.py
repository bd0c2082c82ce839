"""Circuit breakers: consecutive failures, recovery, probes, the registry, threads, events."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from cadence import (
    Cadence,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    DefinitionError,
    Note,
    NoteError,
    Score,
    Skip,
    circuit_breaker,
    get_circuit,
    note,
)
from cadence import events as ev


@dataclass
class Call(Score):
    value: str = ""


class FakeClock:
    """A clock that only moves when told; ``yielding`` lets other threads run on every reading."""

    def __init__(self, *, yielding: bool = False) -> None:
        self.now = 1000.0
        self.yielding = yielding

    def __call__(self) -> float:
        if self.yielding:
            time.sleep(0)
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def unique(prefix: str = "cb") -> str:
    """A circuit name no other test uses (the registry is global)."""
    return f"{prefix}-{uuid.uuid4().hex}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def fail(breaker: CircuitBreaker, error: BaseException | None = None) -> None:
    """One call through ``breaker`` that fails."""
    probe, _, _ = breaker.acquire()
    breaker.record(probe, error or ValueError("boom"))


def succeed(breaker: CircuitBreaker) -> None:
    """One call through ``breaker`` that succeeds."""
    probe, _, _ = breaker.acquire()
    breaker.record(probe, None)


# ---------------------------------------------------------------------------- state machine


def test_opens_after_threshold_consecutive_failures(clock: FakeClock) -> None:
    """``failure_threshold`` failures in a row open the circuit; then calls are refused."""
    breaker = CircuitBreaker(unique(), failure_threshold=3, recovery_timeout=10, clock=clock)
    for _ in range(2):
        fail(breaker)
    assert breaker.state is CircuitState.CLOSED
    fail(breaker)
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpenError) as info:
        breaker.acquire()
    assert info.value.circuit == breaker.name
    assert info.value.retry_after == pytest.approx(10)


def test_a_success_in_closed_resets_the_count(clock: FakeClock) -> None:
    """Failures are counted consecutively: a success in between starts the count again."""
    breaker = CircuitBreaker(unique(), failure_threshold=3, clock=clock)
    fail(breaker)
    fail(breaker)
    succeed(breaker)
    assert breaker.failure_count == 0
    fail(breaker)
    fail(breaker)
    assert breaker.state is CircuitState.CLOSED
    fail(breaker)
    assert breaker.state is CircuitState.OPEN


def test_half_open_after_recovery_timeout(clock: FakeClock) -> None:
    """An open circuit becomes half-open once ``recovery_timeout`` has passed."""
    breaker = CircuitBreaker(unique(), failure_threshold=1, recovery_timeout=30, clock=clock)
    fail(breaker)
    clock.advance(29.9)
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpenError) as info:
        breaker.acquire()
    assert info.value.retry_after == pytest.approx(0.1)
    clock.advance(0.1)
    assert breaker.state is CircuitState.HALF_OPEN


def test_successful_probe_closes(clock: FakeClock) -> None:
    """A probe that succeeds closes the circuit and clears the failures."""
    breaker = CircuitBreaker(unique(), failure_threshold=2, recovery_timeout=5, clock=clock)
    fail(breaker)
    fail(breaker)
    clock.advance(5)
    probe, old, new = breaker.acquire()
    assert (probe, old, new) == (True, CircuitState.OPEN, CircuitState.HALF_OPEN)
    assert breaker.record(probe, None) == (CircuitState.HALF_OPEN, CircuitState.CLOSED)
    assert breaker.failure_count == 0
    fail(breaker)
    assert breaker.state is CircuitState.CLOSED


def test_failed_probe_reopens_for_a_full_timeout(clock: FakeClock) -> None:
    """A probe that fails opens the circuit again, counting the recovery time from that failure."""
    breaker = CircuitBreaker(unique(), failure_threshold=3, recovery_timeout=5, clock=clock)
    for _ in range(3):
        fail(breaker)
    clock.advance(6)
    probe, _, _ = breaker.acquire()
    assert breaker.record(probe, ValueError("still down")) == (CircuitState.HALF_OPEN, CircuitState.OPEN)
    clock.advance(4.9)
    assert breaker.state is CircuitState.OPEN
    clock.advance(0.1)
    assert breaker.state is CircuitState.HALF_OPEN


def test_half_open_lets_only_max_calls_through(clock: FakeClock) -> None:
    """In half-open only ``half_open_max_calls`` probes run at once; a finished probe frees its slot."""
    breaker = CircuitBreaker(
        unique(), failure_threshold=1, recovery_timeout=1, half_open_max_calls=2, clock=clock
    )
    fail(breaker)
    clock.advance(1)
    first, _, _ = breaker.acquire()
    second, _, _ = breaker.acquire()
    assert first
    assert second
    with pytest.raises(CircuitOpenError):
        breaker.acquire()
    breaker.release(second)
    third, _, _ = breaker.acquire()
    assert third


def test_excluded_exceptions_and_skip_are_not_failures(clock: FakeClock) -> None:
    """Excluded exceptions and ``Skip`` neither count as failures nor reset the count."""
    breaker = CircuitBreaker(unique(), failure_threshold=2, excluded_exceptions=(KeyError,), clock=clock)
    fail(breaker)
    fail(breaker, KeyError("not the service's fault"))
    fail(breaker, Skip("nothing to do"))
    assert (breaker.state, breaker.failure_count) == (CircuitState.CLOSED, 1)
    fail(breaker)
    assert breaker.state is CircuitState.OPEN


def test_reset_closes_and_forgets(clock: FakeClock) -> None:
    """``reset()`` closes an open circuit and forgets its failures."""
    breaker = CircuitBreaker(unique(), failure_threshold=1, clock=clock)
    fail(breaker)
    breaker.reset()
    assert (breaker.state, breaker.failure_count) == (CircuitState.CLOSED, 0)
    succeed(breaker)


@pytest.mark.parametrize(
    "kwargs", [{"failure_threshold": 0}, {"half_open_max_calls": 0}, {"recovery_timeout": -1}]
)
def test_invalid_settings_are_definition_errors(kwargs: dict[str, Any]) -> None:
    """Impossible breaker settings are a ``DefinitionError``."""
    with pytest.raises(DefinitionError):
        CircuitBreaker(unique(), **kwargs)
    with pytest.raises(DefinitionError):
        circuit_breaker(name=unique(), **kwargs)(lambda c: None)


# ---------------------------------------------------------------------------- as a decorator


async def test_decorated_note_opens_and_refuses() -> None:
    """A decorated note opens after its failures; the next call fails fast without running it."""
    calls: list[int] = []
    name = unique()

    @circuit_breaker(failure_threshold=2, recovery_timeout=60, name=name)
    async def fetch(call: Call) -> None:
        calls.append(1)
        raise ConnectionError("down")

    for _ in range(2):
        with pytest.raises(ConnectionError):
            await fetch(Call())
    with pytest.raises(CircuitOpenError):
        await fetch(Call())
    assert len(calls) == 2
    assert get_circuit(name).state is CircuitState.OPEN


def test_sync_decorated_note_recovers_after_the_timeout() -> None:
    """A sync note called directly probes once the (zero) recovery time has passed, and closes."""
    name = unique()
    outcomes = [ConnectionError("down"), None]

    @circuit_breaker(failure_threshold=1, recovery_timeout=0, name=name)
    def fetch(call: Call) -> str:
        error = outcomes.pop(0)
        if error is not None:
            raise error
        return "up"

    with pytest.raises(ConnectionError):
        fetch(Call())
    assert get_circuit(name).state is CircuitState.HALF_OPEN
    assert fetch(Call()) == "up"
    assert get_circuit(name).state is CircuitState.CLOSED


async def test_cancelled_probe_frees_its_slot() -> None:
    """Cancelling a half-open probe while it runs frees its slot: the next call may probe."""
    name = unique()
    started = asyncio.Event()
    outcomes: list[str] = ["fail", "hang", "ok"]

    @circuit_breaker(failure_threshold=1, recovery_timeout=0, name=name)
    async def fetch(call: Call) -> str:
        outcome = outcomes.pop(0)
        if outcome == "fail":
            raise ConnectionError("down")
        if outcome == "hang":
            started.set()
            await asyncio.Event().wait()
        return "up"

    with pytest.raises(ConnectionError):
        await fetch(Call())
    probe = asyncio.create_task(fetch(Call()))
    await started.wait()
    with pytest.raises(CircuitOpenError):  # the single probe slot is taken
        await fetch(Call())
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert get_circuit(name).state is CircuitState.HALF_OPEN
    assert await fetch(Call()) == "up"
    assert get_circuit(name).state is CircuitState.CLOSED


async def test_probe_cancelled_while_reporting_its_state_change_frees_its_slot() -> None:
    """A probe cancelled while a listener handles its OPEN → HALF_OPEN event still frees its slot."""
    name = unique()
    breaker_note = circuit_breaker(failure_threshold=1, recovery_timeout=0, name=name)
    in_listener = asyncio.Event()

    @breaker_note
    async def fetch(call: Call) -> None:
        raise ConnectionError("down")

    async def slow_listener(event: ev.Event) -> None:
        if isinstance(event, ev.CircuitStateChanged) and event.new == "half_open":
            in_listener.set()
            await asyncio.Event().wait()

    with pytest.raises(ConnectionError):
        await fetch(Call())
    run = asyncio.create_task(Cadence("c", Call()).then("fetch", fetch).run(listeners=[slow_listener]))
    await in_listener.wait()
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    probe, _, _ = get_circuit(name).acquire()
    assert probe


def test_same_name_other_settings_is_a_definition_error() -> None:
    """Two decorators with one name and different settings fail when the second decorates."""
    name = unique()
    circuit_breaker(failure_threshold=3, name=name)(lambda c: None)
    with pytest.raises(DefinitionError, match=name):
        circuit_breaker(failure_threshold=4, name=name)(lambda c: None)
    with pytest.raises(DefinitionError):
        circuit_breaker(failure_threshold=3, recovery_timeout=1, name=name)(lambda c: None)
    with pytest.raises(DefinitionError):
        circuit_breaker(failure_threshold=3, name=name, excluded_exceptions=(KeyError,))(lambda c: None)


async def test_same_name_same_settings_share_one_breaker() -> None:
    """Two notes guarded under one name share one breaker: their failures add up."""
    name = unique()

    @circuit_breaker(failure_threshold=2, recovery_timeout=60, name=name)
    async def read(call: Call) -> None:
        raise ConnectionError("down")

    @circuit_breaker(failure_threshold=2, recovery_timeout=60, name=name)
    def write(call: Call) -> None:
        raise ConnectionError("down")

    breaker = get_circuit(name)
    assert read.policies == write.policies == (breaker,)
    with pytest.raises(ConnectionError):
        await read(Call())
    with pytest.raises(ConnectionError):
        write(Call())
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpenError):
        write(Call())
    breaker.reset()
    assert breaker.state is CircuitState.CLOSED


def test_bare_decorator_is_named_after_the_function() -> None:
    """Bare ``@circuit_breaker`` registers a breaker under the function's module and qualified name."""

    @circuit_breaker
    def lookup(call: Call) -> str:
        return "x"

    assert isinstance(lookup, Note)
    key = f"{__name__}.{lookup.fn.__qualname__}"
    assert get_circuit(key).failure_threshold == 5
    assert lookup(Call()) == "x"


def test_unknown_circuit_name_is_a_key_error() -> None:
    """``get_circuit`` of an unknown name raises ``KeyError`` naming it."""
    name = unique("missing")
    with pytest.raises(KeyError, match=name):
        get_circuit(name)


def test_composes_with_note_in_any_order() -> None:
    """``@circuit_breaker @note`` and ``@note @circuit_breaker`` both give a guarded Note."""
    name = unique()
    first = circuit_breaker(name=name)(note(lambda c: 1))
    second = note(circuit_breaker(name=name)(lambda c: 2))
    assert [p.kind for p in first.policies] == [p.kind for p in second.policies] == ["circuit_breaker"]
    assert (first(Call()), second(Call())) == (1, 2)


# ---------------------------------------------------------------------------- threads


@pytest.fixture
def busy_threads() -> Iterator[None]:
    """Switch threads very often so races have a chance to show."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def hammer(workers: int, fn: Any) -> None:
    """Run ``fn(i)`` in ``workers`` threads released together."""
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def target(i: int) -> None:
        barrier.wait()
        try:
            fn(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []


@pytest.mark.usefixtures("busy_threads")
def test_failures_are_counted_exactly_under_threads() -> None:
    """Many threads recording failures at once lose none of them."""
    breaker = CircuitBreaker(unique(), failure_threshold=10**9, clock=FakeClock(yielding=True))

    def record(_: int) -> None:
        for _ in range(500):
            probe, _, _ = breaker.acquire()
            breaker.record(probe, ValueError("x"))

    hammer(16, record)
    assert breaker.failure_count == 16 * 500
    assert breaker.state is CircuitState.CLOSED


@pytest.mark.usefixtures("busy_threads")
def test_half_open_slots_are_never_oversubscribed() -> None:
    """Threads racing for half-open probes get exactly ``half_open_max_calls`` of them."""
    clock = FakeClock(yielding=True)
    breaker = CircuitBreaker(
        unique(), failure_threshold=1, recovery_timeout=1, half_open_max_calls=3, clock=clock
    )
    for _ in range(20):
        breaker.reset()
        fail(breaker)
        clock.advance(1)
        granted: list[bool] = []
        refused: list[int] = []

        def race(_: int, granted: list[bool] = granted, refused: list[int] = refused) -> None:
            try:
                probe, _, _ = breaker.acquire()
                granted.append(probe)
            except CircuitOpenError:
                refused.append(1)

        hammer(12, race)
        assert granted == [True, True, True]
        assert len(refused) == 9


@pytest.mark.usefixtures("busy_threads")
def test_mixed_outcomes_under_threads_keep_a_valid_state(clock: FakeClock) -> None:
    """Threads calling a guarded note with mixed outcomes leave a coherent breaker."""
    name = unique()

    @circuit_breaker(failure_threshold=3, recovery_timeout=0, half_open_max_calls=2, name=name)
    def flip(i: int) -> None:
        if i % 3 == 0:
            raise ValueError("x")

    def calls(i: int) -> None:
        for n in range(300):
            try:
                flip(i + n)
            except (ValueError, CircuitOpenError):
                pass

    hammer(12, calls)
    breaker = get_circuit(name)
    assert breaker._probes == 0
    assert 0 <= breaker.failure_count
    breaker.reset()
    assert breaker.state is CircuitState.CLOSED


# ---------------------------------------------------------------------------- events


async def test_state_changes_are_events_of_the_run() -> None:
    """Inside a run each transition emits ``CircuitStateChanged`` with the circuit, note and states."""
    name = unique()
    outcomes = [ConnectionError("down"), None]

    @circuit_breaker(failure_threshold=1, recovery_timeout=0, name=name)
    async def fetch(call: Call) -> None:
        error = outcomes.pop(0)
        if error is not None:
            raise error

    seen: list[ev.Event] = []
    flow = Cadence("c", Call()).then("fetch", fetch)
    with pytest.raises(NoteError):
        await flow.run(listeners=[seen.append])
    await flow.run(listeners=[seen.append])
    changes = [e for e in seen if isinstance(e, ev.CircuitStateChanged)]
    assert [(e.old, e.new) for e in changes] == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]
    assert {(e.circuit, e.name, e.node_id) for e in changes} == {(name, "fetch", "c/fetch")}
    assert [e.kind for e in seen] == [
        "run_started",
        "note_started",
        "circuit_state_changed",
        "note_finished",
        "run_finished",
        "run_started",
        "note_started",
        "circuit_state_changed",
        "circuit_state_changed",
        "note_finished",
        "run_finished",
    ]
