"""``@timeout``: async notes by cancellation, sync notes in any thread (no SIGALRM), errors in a cadence."""

from __future__ import annotations

import asyncio
import builtins
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import cadence
from cadence import Cadence, CadenceError, DefinitionError, NoteError, Score, note, timeout
from cadence import events as ev


@dataclass
class Call(Score):
    value: str = ""


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """An event hanging sync notes wait on; set at teardown so their daemon threads end."""
    gate = threading.Event()
    yield gate
    gate.set()


def test_timeout_error_is_a_builtin_timeout_error() -> None:
    """``cadence.TimeoutError`` subclasses the builtin ``TimeoutError`` and ``CadenceError``."""
    assert issubclass(cadence.TimeoutError, builtins.TimeoutError)
    assert issubclass(cadence.TimeoutError, CadenceError)
    error = cadence.TimeoutError("too slow", seconds=0.5, note_name="n")
    assert (error.code, error.seconds, error.note_name) == ("TIMEOUT", 0.5, "n")
    assert str(error) == "[TIMEOUT] too slow"


async def test_async_note_past_its_timeout_is_cancelled() -> None:
    """A slow async note is cancelled at the deadline and raises ``cadence.TimeoutError``."""
    cancelled: list[bool] = []

    @timeout(0.02)
    async def slow(call: Call) -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    start = time.perf_counter()
    with pytest.raises(cadence.TimeoutError) as info:
        await slow(Call())
    assert time.perf_counter() - start < 1
    assert cancelled == [True]
    assert info.value.seconds == 0.02
    assert info.value.note_name == "slow"


async def test_async_note_within_its_timeout_returns() -> None:
    """An async note that finishes in time returns its value."""

    @timeout(1)
    async def quick(call: Call) -> str:
        await asyncio.sleep(0)
        return "fast"

    assert await quick(Call()) == "fast"


async def test_own_timeout_error_of_a_note_passes_through() -> None:
    """A builtin ``TimeoutError`` the note raises itself before the deadline is not reported as ours."""

    @timeout(1)
    async def own(call: Call) -> None:
        raise builtins.TimeoutError("socket timed out")

    with pytest.raises(builtins.TimeoutError) as info:
        await own(Call())
    assert not isinstance(info.value, cadence.TimeoutError)


async def test_inner_timeout_fires_before_outer() -> None:
    """With two timeouts the shorter one fires and its error goes through the longer one unchanged."""

    @timeout(1)
    @timeout(0.01)
    async def slow(call: Call) -> None:
        await asyncio.sleep(5)

    with pytest.raises(cadence.TimeoutError) as info:
        await slow(Call())
    assert info.value.seconds == 0.01


def run_in_thread(fn: Any, *args: Any) -> tuple[Any, BaseException | None, str]:
    """Call ``fn(*args)`` in a fresh non-main thread; return (result, error, thread name)."""
    out: dict[str, Any] = {"result": None, "error": None, "thread": ""}

    def target() -> None:
        out["thread"] = threading.current_thread().name
        try:
            out["result"] = fn(*args)
        except BaseException as exc:
            out["error"] = exc

    worker = threading.Thread(target=target, name="not-main")
    worker.start()
    worker.join(5)
    assert not worker.is_alive()
    return out["result"], out["error"], out["thread"]


def test_sync_note_times_out_off_the_main_thread(release: threading.Event) -> None:
    """A hanging sync note called directly in a non-main thread times out without touching SIGALRM."""
    handler = signal.getsignal(signal.SIGALRM)

    @timeout(0.02)
    def hang(call: Call) -> None:
        release.wait(5)

    start = time.perf_counter()
    result, error, thread = run_in_thread(hang, Call())
    assert thread == "not-main"
    assert time.perf_counter() - start < 1
    assert isinstance(error, cadence.TimeoutError)
    assert error.note_name == "hang"
    assert result is None
    assert signal.getsignal(signal.SIGALRM) is handler


def test_sync_note_in_time_off_the_main_thread_returns() -> None:
    """A quick sync note called directly in a non-main thread returns its value."""

    @timeout(1)
    def quick(call: Call) -> str:
        call.value = "set"
        return "done"

    call = Call()
    result, error, _ = run_in_thread(quick, call)
    assert (result, error, call.value) == ("done", None, "set")


def test_sync_note_errors_pass_through_the_timeout() -> None:
    """A sync note's own exception is re-raised by the timeout wrapper as it is."""

    @timeout(1)
    def boom(call: Call) -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        boom(Call())


async def test_hanging_sync_note_in_a_cadence_does_not_block_the_loop(release: threading.Event) -> None:
    """In a cadence a hanging sync note times out while the event loop keeps running."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    @note(timeout=0.03)
    def hang(call: Call) -> None:
        release.wait(5)

    running = asyncio.create_task(ticker())
    try:
        with pytest.raises(NoteError) as info:
            await Cadence("c", Call()).then("hang", hang).run()
    finally:
        running.cancel()
    assert isinstance(info.value.original_error, cadence.TimeoutError)
    assert ticks >= 3


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_timeout_reaches_on_error_wrapped_in_note_error(
    is_async: bool, release: threading.Event
) -> None:
    """A timeout inside a cadence reaches ``.on_error`` as a ``NoteError`` whose original is ours."""
    handled: list[BaseException] = []

    def hang(call: Call) -> None:
        release.wait(5)

    async def async_hang(call: Call) -> None:
        await asyncio.sleep(5)

    slow = timeout(0.02)(async_hang if is_async else hang)
    call = await (
        Cadence("c", Call())
        .then("slow", slow)
        .then("after", lambda c: setattr(c, "value", "ran"))
        .on_error(lambda c, e: handled.append(e))
        .run()
    )
    (error,) = handled
    assert isinstance(error, NoteError)
    assert error.note_name == "slow"
    assert isinstance(error.original_error, cadence.TimeoutError)
    assert error.__cause__ is error.original_error
    assert call.value == ""


async def test_timed_out_event_is_emitted() -> None:
    """A timeout inside a run emits ``TimedOut`` with the seconds, before the note finishes as failed."""
    seen: list[ev.Event] = []

    @timeout(0.01)
    async def slow(call: Call) -> None:
        await asyncio.sleep(5)

    await Cadence("c", Call()).then("slow", slow).on_error(lambda c, e: None).run(listeners=[seen.append])
    assert [e.kind for e in seen] == [
        "run_started",
        "note_started",
        "timed_out",
        "note_finished",
        "error_handled",
        "run_finished",
    ]
    timed_out = seen[2]
    assert isinstance(timed_out, ev.TimedOut)
    assert (timed_out.name, timed_out.seconds) == ("slow", 0.01)
    finished = seen[3]
    assert isinstance(finished, ev.NoteFinished)
    assert finished.status == "failed"
    assert isinstance(finished.error, cadence.TimeoutError)


@pytest.mark.parametrize("seconds", [0, -1, "1", None])
def test_invalid_seconds_are_definition_errors(seconds: Any) -> None:
    """A timeout that is not a positive number fails at decoration time."""
    with pytest.raises(DefinitionError):
        timeout(seconds)
