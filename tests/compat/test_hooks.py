"""`cadence.hooks.before_note` / `after_note` / `on_error` turn one function (sync or async) into hooks
for `.with_hooks(...)`: each fires in a real run with the arguments CadenceHooks' method gets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from cadence import Cadence, NoteError, Score
from cadence.hooks import CadenceHooks, after_note, before_note, on_error


@dataclass
class Order(Score):
    total: int = 0
    fail: bool = False


def price(order: Order) -> None:
    order.total = 42


def charge(order: Order) -> None:
    if order.fail:
        raise ConnectionError("card declined")


def flow() -> Cadence[Order]:
    return Cadence("checkout", Order()).then("price", price).then("charge", charge)


async def test_before_note_from_a_sync_function_sees_each_note_and_the_score() -> None:
    """`before_note(fn)` calls `fn(name, score)` before every note, with the run's own score."""
    seen: list[tuple[str, int, Any]] = []
    order = Order()
    hooks = before_note(lambda name, score: seen.append((name, score.total, score)))
    assert isinstance(hooks, CadenceHooks)
    await flow().with_hooks(hooks).run(order)
    assert [(name, total) for name, total, _ in seen] == [("price", 0), ("charge", 42)]
    assert all(score is order for _, _, score in seen)


async def test_after_note_from_an_async_function_is_awaited_with_duration_and_error() -> None:
    """`after_note(async fn)` is awaited after every note with `(name, score, duration, None)`."""
    seen: list[tuple[str, int, float, BaseException | None]] = []

    @after_note
    async def record(name: str, score: Order, duration: float, error: BaseException | None) -> None:
        seen.append((name, score.total, duration, error))

    await flow().with_hooks(record).run(Order())
    assert [(n, t, e) for n, t, _, e in seen] == [("price", 42, None), ("charge", 42, None)]
    assert all(isinstance(d, float) and d >= 0 for _, _, d, _ in seen)


async def test_on_error_fires_once_for_the_failing_note_only() -> None:
    """`on_error(fn)` calls `fn(name, score, error)` for the note that failed, then the run raises."""
    seen: list[tuple[str, BaseException]] = []
    failures: list[BaseException | None] = []

    async def alert(name: str, score: Order, error: BaseException) -> None:
        seen.append((name, error))

    cadence = flow().with_hooks(on_error(alert)).with_hooks(after_note(lambda n, s, d, e: failures.append(e)))
    with pytest.raises(NoteError) as raised:
        await cadence.run(Order(fail=True))
    assert [name for name, _ in seen] == ["charge"]
    error = seen[0][1]
    assert isinstance(error, ConnectionError)
    assert raised.value.original_error is error
    assert failures == [None, error]


async def test_helpers_are_per_method_only() -> None:
    """A `before_note` hook does nothing on the other hook calls (a failing run included)."""
    calls: list[str] = []
    with pytest.raises(NoteError):
        await flow().with_hooks(before_note(lambda n, s: calls.append(n))).run(Order(fail=True))
    assert calls == ["price", "charge"]


def test_a_non_callable_names_what_was_expected() -> None:
    """`before_note("log")` is refused with a message naming the expected function."""
    with pytest.raises(TypeError, match=r"before_note\(\) takes a function .*got 'log'"):
        before_note("log")  # type: ignore[arg-type]
    assert repr(before_note(price)) == "before_note(price)"
