"""``@fallback``: default values, score fields, handlers (sync or async, 1 or 2 args), filters, Skip."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from cadence import (
    Cadence,
    DefinitionError,
    ImmutableScore,
    NoteError,
    RetryExhaustedError,
    Score,
    Skip,
    fallback,
    note,
    retry,
)
from cadence import events as ev


@dataclass
class Profile(Score):
    user: str = ""
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Frozen(ImmutableScore):
    user: str = ""


def down(profile: Any) -> Any:
    raise ConnectionError("service down")


async def async_down(profile: Any) -> Any:
    await asyncio.sleep(0)
    raise ConnectionError("service down")


@pytest.mark.parametrize("fn", [down, async_down], ids=["sync", "async"])
async def test_default_is_returned_on_failure(fn: Any) -> None:
    """A failing note decorated with ``@fallback(default)`` returns the default, sync or async."""
    step = fallback("guest")(fn)
    result = step(Profile())
    if step.is_async:
        result = await result
    assert result == "guest"


async def test_success_returns_the_notes_value() -> None:
    """A note that succeeds returns its own value, not the default."""

    @fallback("guest")
    async def fetch(profile: Profile) -> str:
        return "ada"

    assert await fetch(Profile()) == "ada"


def test_mutable_default_is_copied_each_time() -> None:
    """Each fallback gets its own copy of a mutable default."""
    step = fallback([])(down)
    first = step(Profile())
    first.append("x")
    assert step(Profile()) == []


@pytest.mark.parametrize("fn", [down, async_down], ids=["sync", "async"])
async def test_field_writes_the_value_to_the_score(fn: Any) -> None:
    """With ``field=`` the value lands in that score field and the cadence goes on."""
    profile = await (
        Cadence("c", Profile())
        .then("fetch", fallback("guest", field="user")(fn))
        .then("next", lambda p: p.tags.append(p.user))
        .run()
    )
    assert profile.user == "guest"
    assert profile.tags == ["guest"]


async def test_field_on_an_immutable_score_carries_a_new_score() -> None:
    """On an ``ImmutableScore`` the field is set on a new score that the cadence carries forward."""
    start = Frozen()
    result = await Cadence("c", start).then("fetch", fallback("guest", field="user")(async_down)).run()
    assert result.user == "guest"
    assert start.user == ""


def test_field_on_a_direct_call_sets_the_field_and_returns_none() -> None:
    """Called directly, a ``field=`` fallback writes the field and returns ``None``."""
    profile = Profile()
    assert fallback("guest", field="user")(down)(profile) is None
    assert profile.user == "guest"


def one_arg(error: BaseException) -> str:
    return f"one:{type(error).__name__}"


def two_args(profile: Profile, error: BaseException) -> str:
    return f"two:{type(profile).__name__}:{error}"


async def async_one_arg(error: BaseException) -> str:
    await asyncio.sleep(0)
    return f"async one:{type(error).__name__}"


async def async_two_args(profile: Profile, error: BaseException) -> str:
    await asyncio.sleep(0)
    return f"async two:{type(profile).__name__}"


HANDLERS = {
    "sync-1": (one_arg, "one:ConnectionError"),
    "sync-2": (two_args, "two:Profile:service down"),
    "async-1": (async_one_arg, "async one:ConnectionError"),
    "async-2": (async_two_args, "async two:Profile"),
    "lambda-2": (lambda p, e: "lambda", "lambda"),
    "coroutine-returning": (lambda e: async_one_arg(e), "async one:ConnectionError"),
}


@pytest.mark.parametrize("fn", [down, async_down], ids=["sync-note", "async-note"])
@pytest.mark.parametrize("handler", list(HANDLERS), ids=list(HANDLERS))
async def test_handler_value_in_a_cadence(handler: str, fn: Any) -> None:
    """A handler (sync or async, ``(error)`` or ``(score, error)``) gives the value, written via ``field``."""
    fn_handler, expected = HANDLERS[handler]
    step = fallback(handler=fn_handler, field="user")(fn)
    profile = await Cadence("c", Profile()).then("fetch", step).run()
    assert profile.user == expected


@pytest.mark.parametrize("fn", [down, async_down], ids=["sync-note", "async-note"])
@pytest.mark.parametrize("handler", list(HANDLERS), ids=list(HANDLERS))
async def test_handler_value_called_directly(handler: str, fn: Any) -> None:
    """Called directly, the note returns the handler's (awaited) value, sync note or async note."""
    fn_handler, expected = HANDLERS[handler]
    step = fallback(handler=fn_handler)(fn)
    result = step(Profile())
    if step.is_async:
        result = await result
    assert result == expected


def test_async_handler_of_a_sync_note_called_from_sync_code() -> None:
    """A sync note with an async handler, called from plain sync code, returns the awaited value."""
    assert fallback(handler=async_one_arg)(down)(Profile()) == "async one:ConnectionError"


async def test_on_filters_what_is_replaced() -> None:
    """With ``on=`` only matching errors fall back; others propagate unchanged."""
    caught = fallback("guest", on=(KeyError, ConnectionError))(async_down)
    assert await caught(Profile()) == "guest"
    missed = fallback("guest", on=KeyError)(async_down)
    with pytest.raises(ConnectionError):
        await missed(Profile())
    with pytest.raises(ConnectionError):
        fallback("guest", on=KeyError)(down)(Profile())


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_skip_is_never_swallowed(is_async: bool) -> None:
    """A ``Skip`` goes through a fallback: the cadence ends cleanly and later notes do not run."""
    handled: list[BaseException] = []

    def skip(profile: Profile) -> None:
        raise Skip("not today")

    async def async_skip(profile: Profile) -> None:
        raise Skip("not today")

    step = fallback("guest", field="user", handler=lambda e: handled.append(e))(
        async_skip if is_async else skip
    )
    profile = (
        await Cadence("c", Profile()).then("skip", step).then("after", lambda p: p.tags.append("x")).run()
    )
    assert (profile.user, profile.tags, handled) == ("", [], [])
    if is_async:
        with pytest.raises(Skip):
            await step(Profile())
    else:
        with pytest.raises(Skip):
            step(Profile())


async def test_fallback_used_event_is_emitted() -> None:
    """Inside a run a fallback emits ``FallbackUsed`` with the error and the value used."""
    seen: list[ev.Event] = []
    await Cadence("c", Profile()).then("fetch", fallback("guest")(async_down)).run(listeners=[seen.append])
    assert [e.kind for e in seen] == [
        "run_started",
        "note_started",
        "fallback_used",
        "note_finished",
        "run_finished",
    ]
    used = seen[2]
    assert isinstance(used, ev.FallbackUsed)
    assert (used.name, used.value, type(used.error)) == ("fetch", "guest", ConnectionError)


async def test_fallback_outside_retry_catches_exhaustion() -> None:
    """``@fallback @retry``: the fallback replaces the ``RetryExhaustedError`` after every attempt."""
    calls: list[int] = []
    errors: list[BaseException] = []

    @fallback(handler=lambda e: errors.append(e) or "fallback")
    @retry(3, delay=0)
    @note
    async def fetch(profile: Profile) -> str:
        calls.append(1)
        raise ConnectionError("down")

    assert await fetch(Profile()) == "fallback"
    assert len(calls) == 3
    assert isinstance(errors[0], RetryExhaustedError)


async def test_failing_handler_fails_the_note() -> None:
    """An exception raised by the handler itself is the note's error."""

    def broken(error: BaseException) -> None:
        raise RuntimeError("handler broke")

    with pytest.raises(NoteError) as info:
        await Cadence("c", Profile()).then("fetch", fallback(handler=broken)(async_down)).run()
    assert isinstance(info.value.original_error, RuntimeError)


def test_handler_must_be_callable() -> None:
    """A handler that is not callable is a ``DefinitionError`` at decoration time."""
    with pytest.raises(DefinitionError):
        fallback(handler="not callable")  # type: ignore[arg-type]


def error_with_options(error: BaseException, *, prefix: str = "kw") -> str:
    return f"{prefix}:{type(error).__name__}"


def error_with_default(error: BaseException, suffix: str = "!") -> str:
    return f"{type(error).__name__}{suffix}"


def score_and_error_by_varargs(*args: Any) -> str:
    return f"{len(args)} args"


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (error_with_options, "kw:ConnectionError"),
        (error_with_default, "ConnectionError!"),
        (score_and_error_by_varargs, "2 args"),
    ],
    ids=["keyword-only", "optional-positional", "varargs"],
)
def test_handler_arity_counts_required_positional_parameters(handler: Any, expected: str) -> None:
    """Only required positional parameters decide ``(error)`` vs ``(score, error)``; ``*args`` gets both."""
    assert fallback(handler=handler)(down)(Profile()) == expected
