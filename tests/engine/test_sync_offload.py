"""A plain ``def`` never runs on the event loop thread, in any measure: it runs in the shared pool."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from cadence import Cadence, RetryExhaustedError, Score, note, retry, timeout
from cadence import TimeoutError as CadenceTimeoutError

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


@dataclass
class Seen(Score):
    where: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    n: int = 0


@dataclass
class Small(Score):
    v: int = 0


def spot(score: Any, name: str) -> None:
    """Record the thread a user callable runs in, and the context variable it sees."""
    score.where[name] = threading.current_thread().name
    score.ids[name] = request_id.get()


def then_note(s: Seen) -> None:
    spot(s, "then")


def seq_a(s: Seen) -> None:
    spot(s, "sequence")


def condition(s: Seen) -> bool:
    spot(s, "condition")
    return True


def branch_note(s: Seen) -> None:
    spot(s, "branch")


def child_note(s: Small) -> None:
    s.v = 1 if threading.current_thread() is threading.main_thread() else 2


def child_score(parent: Seen) -> Small:
    spot(parent, "child_score")
    return Small()


def merge(parent: Seen, child: Small) -> None:
    spot(parent, "merge")
    parent.n = child.v


async def async_note(s: Seen) -> None:
    s.where["async"] = threading.current_thread().name


def build() -> Cadence[Seen]:
    kid: Cadence[Small] = Cadence("kid", Small()).then("child_note", child_note)
    return (
        Cadence("everywhere", Seen())
        .then("then", then_note)
        .sequence("seq", [seq_a])
        .split("split", condition, branch_note)
        .child("kid", kid, merge, score=child_score)
        .then("async", async_note)
    )


@pytest.mark.parametrize("observed", [False, True], ids=["plain", "observed"])
async def test_def_callables_run_off_the_loop_in_every_measure(observed: bool) -> None:
    """Notes of .then, .sequence, split conditions and branches, child notes, score hooks and merges."""
    request_id.set("req-7")
    listeners = [lambda event: None] if observed else []
    score = await build().run(Seen(), listeners=listeners)
    loop_thread = threading.current_thread().name
    assert score.where.pop("async") == loop_thread  # the fast path: async notes stay on the loop
    assert set(score.where) == {"then", "sequence", "condition", "branch", "child_score", "merge"}
    assert all(name.startswith("cadence-note") for name in score.where.values()), score.where
    assert score.n == 2  # the child's def note ran off the main thread too
    # Context variables reach the pool: tracing, request ids, flask.g all ride on them.
    assert set(score.ids.values()) == {"req-7"}


async def test_error_handler_def_runs_off_the_loop() -> None:
    handled: list[str] = []

    def boom(s: Seen) -> None:
        raise ValueError("no")

    def handler(s: Seen, error: Exception) -> None:
        handled.append(threading.current_thread().name)

    await Cadence("h", Seen()).then("boom", boom).on_error(handler).run(Seen())
    assert len(handled) == 1
    assert handled[0].startswith("cadence-note")


async def test_the_loop_keeps_ticking_while_a_then_note_blocks() -> None:
    """A blocking `.then` note leaves the loop free: a ticker runs while it sleeps."""
    entered = threading.Event()
    release = threading.Event()

    def block(s: Seen) -> None:
        entered.set()
        release.wait(timeout=5)

    run = asyncio.ensure_future(Cadence("b", Seen()).then("block", block).run(Seen()))
    ticks = 0
    while not entered.is_set():
        await asyncio.sleep(0.001)
    for _ in range(5):  # with the note on the loop thread, none of these would run until it ended
        await asyncio.sleep(0)
        ticks += 1
    assert not run.done()
    release.set()
    await run
    assert ticks == 5


async def test_timeout_on_a_def_note_in_then_still_abandons_it() -> None:
    release = threading.Event()

    @timeout(0.05)
    def hang(s: Seen) -> None:
        release.wait(timeout=5)

    with pytest.raises(Exception) as info:
        await Cadence("t", Seen()).then("hang", hang).run(Seen())
    release.set()
    assert isinstance(info.value.__cause__, CadenceTimeoutError)


async def test_retry_on_a_def_note_in_then_retries_in_the_pool() -> None:
    threads: list[str] = []

    @retry(3, delay=0, jitter=False)
    def flaky(s: Seen) -> None:
        threads.append(threading.current_thread().name)
        if len(threads) < 3:
            raise ConnectionError("again")

    await Cadence("r", Seen()).then("flaky", flaky).run(Seen())
    assert len(threads) == 3
    assert all(name.startswith("cadence-note") for name in threads)

    @note(retry={"max_attempts": 2, "delay": 0, "jitter": False})
    def always(s: Seen) -> None:
        raise ConnectionError("down")

    with pytest.raises(Exception) as info:
        await Cadence("r2", Seen()).then("always", always).run(Seen())
    assert isinstance(info.value.__cause__, RetryExhaustedError)
