"""Notes: ``@note`` bare and with options, every kind of callable, awaitables, decorators in any order."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

import cadence
from cadence import Cadence, DefinitionError, Note, NoteError, Score, fallback, note, retry, timeout


@dataclass
class Order(Score):
    total: int = 0
    log: list[str] = field(default_factory=list)


async def later(value: Any) -> Any:
    """A coroutine that yields to the loop once, then returns ``value``."""
    await asyncio.sleep(0)
    return value


# ---------------------------------------------------------------------------- @note itself


def test_bare_note_keeps_name_docstring_and_sync_flag() -> None:
    """``@note`` makes a sync ``Note`` named after the function, described by its docstring."""

    @note
    def price(order: Order) -> None:
        """Work out the total."""
        order.total = 10

    assert isinstance(price, Note)
    assert price.name == "price"
    assert price.description == "Work out the total."
    assert price.is_async is False
    assert price.__doc__ == "Work out the total."


def test_bare_note_on_async_function_is_async() -> None:
    """``@note`` on ``async def`` gives ``.is_async`` True and a call returns a coroutine."""

    @note
    async def fetch(order: Order) -> int:
        return 3

    assert fetch.is_async is True
    coro = fetch(Order())
    assert asyncio.iscoroutine(coro)
    assert asyncio.run(coro) == 3


def test_note_with_options_overrides_name_and_description() -> None:
    """``@note(name=..., description=...)`` replaces the function's name and docstring."""

    @note(name="charge card", description="Takes the money.")
    def charge(order: Order) -> None:
        """Original doc."""

    assert charge.name == "charge card"
    assert charge.description == "Takes the money."


def test_note_with_name_only_keeps_the_docstring() -> None:
    """``@note(name=...)`` keeps the docstring as the description."""

    @note(name="renamed")
    def step(order: Order) -> None:
        """Kept."""

    assert (step.name, step.description) == ("renamed", "Kept.")


def test_note_without_docstring_has_no_description() -> None:
    """A function with no docstring gives ``.description`` None."""

    @note
    def bare(order: Order) -> None:
        pass

    assert bare.description is None


def test_note_called_directly_calls_the_function() -> None:
    """Calling a sync note without policies calls the function with the same arguments."""

    @note
    def add(order: Order, amount: int = 1) -> int:
        order.total += amount
        return order.total

    order = Order()
    assert add(order, amount=5) == 5
    assert order.total == 5


def test_note_of_a_note_is_the_same_note() -> None:
    """``note(existing_note)`` returns it unchanged."""

    @note
    def step(order: Order) -> None:
        pass

    assert note(step) is step


def test_note_needs_a_callable() -> None:
    """``Note`` of something not callable is a ``DefinitionError``."""
    with pytest.raises(DefinitionError, match="needs a callable"):
        Note(42)  # type: ignore[arg-type]


def test_beat_is_the_old_name_of_note() -> None:
    """``beat`` is an alias of ``note``."""
    assert cadence.beat is note


def test_repr_shows_name_policies_and_kind() -> None:
    """The repr lists the policies outermost first and whether the note is async."""

    @retry(2, delay=0)
    @timeout(1)
    @note
    async def step(order: Order) -> None:
        pass

    assert repr(step) == "<Note 'step' @retry @timeout async>"


# ---------------------------------------------------------------------------- every kind of callable


def test_partial_note_takes_name_and_docstring_of_the_function() -> None:
    """A note of a ``functools.partial`` is named and described by the wrapped function."""

    def add(amount: int, order: Order) -> None:
        """Add an amount."""
        order.total += amount

    step = note(functools.partial(add, 4))
    assert step.name == "add"
    assert step.description == "Add an amount."
    order = Order()
    step(order)
    assert order.total == 4


async def test_partial_of_async_function_is_async_and_runs_in_a_cadence() -> None:
    """A partial of an ``async def`` is detected as async and awaited inside a cadence."""

    async def add(amount: int, order: Order) -> None:
        order.total += amount

    step = note(functools.partial(add, 7))
    assert step.is_async is True
    order = await Cadence("c", Order()).then("add", step).then("plain", functools.partial(add, 1)).run()
    assert order.total == 8


async def test_lambda_works_as_a_note() -> None:
    """A lambda works as a note, plain or wrapped by ``note``."""
    order = await (
        Cadence("c", Order())
        .then("plain", lambda o: o.log.append("plain"))
        .then("wrapped", note(name="wrapped")(lambda o: o.log.append("wrapped")))
        .run()
    )
    assert order.log == ["plain", "wrapped"]


class Till:
    """Methods decorated with ``@note``."""

    def __init__(self) -> None:
        self.rate = 2

    @note
    def double(self, order: Order) -> int:
        """Double the total."""
        order.total *= self.rate
        return order.total

    @note
    async def add_rate(self, order: Order) -> None:
        order.total += self.rate


async def test_note_on_a_method_binds_to_the_instance() -> None:
    """A ``@note`` method binds ``self``; the bound note keeps name, docstring and async flag."""
    till = Till()
    assert isinstance(till.double, Note)
    assert till.double.name == "double"
    assert till.double.description == "Double the total."
    assert till.double.is_async is False
    assert till.add_rate.is_async is True
    order = Order(total=3)
    assert till.double(order) == 6
    await till.add_rate(order)
    assert order.total == 8


async def test_note_methods_run_in_a_cadence() -> None:
    """Bound ``@note`` methods (sync and async) run as notes of a cadence."""
    till = Till()
    order = await Cadence("c", Order(total=1)).then("double", till.double).then("add", till.add_rate).run()
    assert order.total == 4


class Adder:
    """A sync callable object."""

    def __call__(self, order: Order) -> None:
        order.total += 1


class AsyncAdder:
    """An async callable object."""

    async def __call__(self, order: Order) -> None:
        order.total += 10


async def test_callable_objects_work_as_notes() -> None:
    """Callable objects (sync and async ``__call__``) work as notes, plain and wrapped."""
    assert note(Adder()).is_async is False
    assert note(AsyncAdder()).is_async is True
    assert note(Adder()).name == "Adder"
    order = await (
        Cadence("c", Order())
        .then("sync", Adder())
        .then("async", AsyncAdder())
        .then("wrapped", retry(2, delay=0)(AsyncAdder()))
        .run()
    )
    assert order.total == 21


# ---------------------------------------------------------------------------- awaitables everywhere


def coroutine_returning(fn: Callable[[Order], Any]) -> Callable[[Order], Any]:
    """A plain (non-async) callable that returns a coroutine doing ``fn``."""

    async def body(order: Order) -> Any:
        await asyncio.sleep(0)
        return fn(order)

    return lambda order: body(order)


async def test_notes_returning_coroutines_are_awaited_in_every_measure() -> None:
    """A sync callable returning a coroutine is awaited in then, sequence, sync and split measures."""

    def mark(tag: str) -> Callable[[Order], Any]:
        return coroutine_returning(lambda o: o.log.append(tag))

    order = await (
        Cadence("c", Order())
        .then("then", mark("then"))
        .sequence("seq", [mark("seq")])
        .sync("par", [coroutine_returning(lambda o: setattr(o, "total", 5))])
        .split("branch", lambda o: True, mark("split"))
        .then("with policy", retry(2, delay=0)(mark("retried")))
        .run()
    )
    assert order.log == ["then", "seq", "split", "retried"]
    assert order.total == 5


async def test_conditions_returning_coroutines_are_awaited() -> None:
    """A split condition returning a coroutine is decided by the awaited value."""
    order = await (
        Cadence("c", Order())
        .split("no", lambda o: later(False), lambda o: o.log.append("yes"), lambda o: o.log.append("no"))
        .split("yes", lambda o: later(True), lambda o: o.log.append("yes"), lambda o: o.log.append("no"))
        .run()
    )
    assert order.log == ["no", "yes"]


async def test_merge_functions_returning_coroutines_are_awaited() -> None:
    """A child's merge callable returning a coroutine is awaited before the next measure."""
    child = Cadence("child", Order()).then("set", lambda o: setattr(o, "total", 9))

    async def merge(parent: Order, kid: Order) -> None:
        await asyncio.sleep(0)
        parent.total = kid.total

    order = await (
        Cadence("c", Order())
        .child("kid", child, lambda p, k: merge(p, k))
        .then("after", lambda o: o.log.append(str(o.total)))
        .run()
    )
    assert order.log == ["9"]


async def test_error_handlers_returning_coroutines_are_awaited() -> None:
    """An ``.on_error`` handler returning a coroutine is awaited with ``(score, error)``."""
    seen: list[BaseException] = []

    async def handle(order: Order, error: BaseException) -> None:
        await asyncio.sleep(0)
        seen.append(error)
        order.log.append("handled")

    def boom(order: Order) -> None:
        raise ValueError("nope")

    order = await Cadence("c", Order()).then("boom", boom).on_error(lambda o, e: handle(o, e)).run()
    assert order.log == ["handled"]
    assert isinstance(seen[0], NoteError)
    assert isinstance(seen[0].original_error, ValueError)


# ---------------------------------------------------------------------------- shorthand


def test_shorthand_puts_timeout_inside_retry_inside_fallback() -> None:
    """``@note(retry=, timeout=, fallback=)`` layers timeout innermost, then retry, then fallback."""

    @note(retry=2, timeout=1.0, fallback="default")
    async def step(order: Order) -> None:
        pass

    assert [p.kind for p in step.policies] == ["timeout", "retry", "fallback"]
    assert step.policies[1].max_attempts == 2


async def test_shorthand_retry_dict_and_fallback_work_together() -> None:
    """``retry={...}`` passes keyword arguments; the fallback replaces the final failure."""
    calls: list[int] = []

    @note(retry={"max_attempts": 3, "delay": 0}, fallback="guest")
    async def fetch(order: Order) -> str:
        calls.append(1)
        raise ConnectionError("down")

    assert await fetch(Order()) == "guest"
    assert len(calls) == 3


async def test_shorthand_timeout_raises_cadence_timeout() -> None:
    """``@note(timeout=...)`` fails a slow note with ``cadence.TimeoutError``."""

    @note(timeout=0.01)
    async def slow(order: Order) -> None:
        await asyncio.sleep(1)

    with pytest.raises(cadence.TimeoutError):
        await slow(Order())


async def test_shorthand_fallback_none_is_a_fallback() -> None:
    """``fallback=None`` is a real fallback to ``None`` (only an absent argument means none)."""

    @note(fallback=None)
    def boom(order: Order) -> str:
        raise ValueError("x")

    assert [p.kind for p in boom.policies] == ["fallback"]
    assert boom(Order()) is None


# ---------------------------------------------------------------------------- decorator order

STACKS: dict[str, list[str]] = {
    "@retry @note": ["note", "retry"],
    "@note @retry": ["retry", "note"],
    "@retry @timeout @note": ["note", "timeout", "retry"],
    "@timeout @retry @note": ["note", "retry", "timeout"],
    "@timeout @retry": ["retry", "timeout"],
    "@retry @timeout": ["timeout", "retry"],
    "@note @fallback @retry": ["retry", "fallback", "note"],
    "@fallback @timeout @retry @note": ["note", "retry", "timeout", "fallback"],
}


def decorate(fn: Callable[..., Any], stack: list[str]) -> Note:
    """Apply the decorators of ``stack`` bottom-up (the first one is closest to the function)."""
    decorators: dict[str, Callable[[Any], Note]] = {
        "note": note,
        "retry": retry(3, delay=0),
        "timeout": timeout(1),
        "fallback": fallback("fell back"),
    }
    out: Any = fn
    for name in stack:
        out = decorators[name](out)
    return out


def flaky(is_async: bool) -> tuple[Callable[[Order], Any], list[int]]:
    """A function that fails on its first call and returns "ok" afterwards."""
    calls: list[int] = []

    def body(order: Order) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("first call fails")
        order.log.append("ok")
        return "ok"

    if not is_async:
        return body, calls

    async def async_body(order: Order) -> str:
        await asyncio.sleep(0)
        return body(order)

    return async_body, calls


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stack", list(STACKS), ids=list(STACKS))
async def test_decorators_in_any_order_inside_a_cadence(stack: str, is_async: bool) -> None:
    """Every order of decorators gives a Note whose retry recovers a flaky note in a cadence."""
    fn, calls = flaky(is_async)
    step = decorate(fn, STACKS[stack])
    assert isinstance(step, Note)
    assert step.is_async is is_async
    expected = [k for k in STACKS[stack] if k != "note"]
    assert [p.kind for p in step.policies] == expected
    order = await Cadence("c", Order()).then("flaky", step).run()
    assert order.log == ["ok"]
    assert len(calls) == 2


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stack", list(STACKS), ids=list(STACKS))
async def test_decorators_in_any_order_called_directly(stack: str, is_async: bool) -> None:
    """Every order of decorators gives a Note that, called directly, retries and returns the value."""
    fn, calls = flaky(is_async)
    step = decorate(fn, STACKS[stack])
    order = Order()
    result = step(order)
    if is_async:
        result = await result
    assert result == "ok"
    assert order.log == ["ok"]
    assert len(calls) == 2


def test_decorators_keep_name_and_docstring() -> None:
    """Resilience decorators keep the function's name and docstring whatever their order."""

    @timeout(1)
    @retry(2, delay=0)
    def step(order: Order) -> None:
        """Doc."""

    @note(name="other")
    @retry(2, delay=0)
    def step2(order: Order) -> None:
        """Doc 2."""

    assert (step.name, step.description) == ("step", "Doc.")
    assert (step2.name, step2.description, [p.kind for p in step2.policies]) == ("other", "Doc 2.", ["retry"])


def test_policies_see_the_outcome_of_a_coroutine_returned_by_a_sync_callable() -> None:
    """A lambda returning a coroutine, called directly, is finished inside retry/fallback."""
    attempts = 0

    async def flaky(score: object) -> str:
        nonlocal attempts
        attempts += 1
        if attempts < 2:
            raise ValueError("first try fails")
        return "ok"

    from cadence import retry as retry_

    wrapped = retry_(3, delay=0, jitter=False)(lambda s: flaky(s))
    assert wrapped(None) == "ok"
    assert attempts == 2
