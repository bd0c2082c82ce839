"""Resilience decorators: ``@retry``, ``@timeout``, ``@fallback``, ``@circuit_breaker``.

Each decorator wraps a function (or a :class:`Note`) in a policy and returns a ``Note``; they
compose in any order with ``@note`` and with each other. Inside a run they emit events
(retry attempts, timeouts, fallbacks, circuit state changes) into the run's stream.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import dataclasses
import inspect
import random
import threading
import time
from collections.abc import Callable
from typing import Any, overload

from . import events
from ._circuit import CircuitBreaker, CircuitState, circuit_breaker, get_circuit
from ._note import AsyncNext, Note, SyncNext, as_note
from ._scope import await_blocking, emit_in_scope
from .exceptions import CircuitOpenError, DefinitionError, RetryExhaustedError, Skip
from .exceptions import TimeoutError as CadenceTimeoutError
from .score import ImmutableScore

__all__ = [
    "CircuitBreaker",
    "CircuitState",
    "circuit_breaker",
    "fallback",
    "get_circuit",
    "retry",
    "timeout",
]

Decorator = Callable[[Callable[..., Any]], Note]
ExcTypes = type[BaseException] | tuple[type[BaseException], ...]


def _exc_tuple(
    on: ExcTypes | None, default: tuple[type[BaseException], ...]
) -> tuple[type[BaseException], ...]:
    if on is None:
        return default
    return on if isinstance(on, tuple) else (on,)


_emit = emit_in_scope


# ---------------------------------------------------------------------------- retry


@dataclasses.dataclass(frozen=True)
class Retry:
    """Policy of :func:`retry`."""

    max_attempts: int
    delay: float
    backoff: str | float
    max_delay: float
    jitter: bool
    on: tuple[type[BaseException], ...]
    kind: str = "retry"

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "retry",
            "max_attempts": self.max_attempts,
            "delay": self.delay,
            "backoff": self.backoff,
            "max_delay": self.max_delay,
            "jitter": self.jitter,
        }

    def wait(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based); never above ``max_delay``."""
        if self.backoff == "fixed":
            base = self.delay
        elif self.backoff == "linear":
            base = self.delay * attempt
        else:
            factor = 2.0 if self.backoff == "exponential" else float(self.backoff)
            try:
                base = self.delay * factor ** (attempt - 1)
            except OverflowError:  # factor ** n past the float range: the cap applies anyway
                base = self.max_delay if self.delay > 0 else 0.0
        base = min(base, self.max_delay)
        if self.jitter and base > 0:
            base = random.uniform(base / 2, base)
        return base

    def retries(self, error: BaseException) -> bool:
        if isinstance(error, Skip):
            return False
        if isinstance(error, CircuitOpenError) and CircuitOpenError not in self.on:
            return False
        return isinstance(error, self.on)

    def _exhausted(self, note: Note, error: BaseException) -> RetryExhaustedError:
        msg = (
            f"note {note.name!r} failed {self.max_attempts} times; last error: "
            f"{type(error).__name__}: {error}; raise max_attempts or fix the cause"
        )
        return RetryExhaustedError(msg, attempts=self.max_attempts, last_error=error)

    async def call_async(
        self, nxt: AsyncNext, note: Note, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        attempt = 1
        while True:
            try:
                return await nxt(*args, **kwargs)
            except Exception as error:
                if not self.retries(error):
                    raise
                if attempt >= self.max_attempts:
                    raise self._exhausted(note, error) from error
                pause = self.wait(attempt)
                await _emit(
                    events.RetryAttempt,
                    attempt=attempt,
                    max_attempts=self.max_attempts,
                    error=error,
                    delay=pause,
                    score=args[0] if args else None,
                )
                await asyncio.sleep(pause)
                attempt += 1

    def call_sync(self, nxt: SyncNext, note: Note, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        attempt = 1
        while True:
            try:
                return nxt(*args, **kwargs)
            except Exception as error:
                if not self.retries(error):
                    raise
                if attempt >= self.max_attempts:
                    raise self._exhausted(note, error) from error
                time.sleep(self.wait(attempt))
                attempt += 1


def _apply(target: Callable[..., Any] | Note, policy: Any) -> Note:
    return as_note(target).with_policy(policy)


@overload
def retry(max_attempts: Callable[..., Any], /) -> Note: ...
@overload
def retry(
    max_attempts: int = 3,
    *,
    delay: float = 1.0,
    backoff: str | float = "exponential",
    max_delay: float = 60.0,
    jitter: bool = True,
    on: ExcTypes | None = None,
) -> Decorator: ...
def retry(
    max_attempts: int | Callable[..., Any] = 3,
    *,
    delay: float = 1.0,
    backoff: str | float = "exponential",
    max_delay: float = 60.0,
    jitter: bool = True,
    on: ExcTypes | None = None,
) -> Any:
    """Retry a failing note; waits grow by ``backoff`` ("exponential", "linear", "fixed" or a factor).

    ``Skip`` is never retried and ``CircuitOpenError`` only when named in ``on``. After the last
    attempt a :class:`RetryExhaustedError` is raised from the last error.
    """
    if callable(max_attempts):  # bare @retry
        return retry()(max_attempts)
    if max_attempts < 1:
        msg = f"retry(max_attempts={max_attempts!r}) must be at least 1"
        raise DefinitionError(msg)
    if delay < 0 or max_delay < 0:
        msg = f"retry delays must not be negative (delay={delay!r}, max_delay={max_delay!r})"
        raise DefinitionError(msg)
    if isinstance(backoff, str) and backoff not in ("exponential", "linear", "fixed"):
        msg = f"retry(backoff={backoff!r}) is not one of 'exponential', 'linear', 'fixed' or a number"
        raise DefinitionError(msg)
    policy = Retry(max_attempts, delay, backoff, max_delay, jitter, _exc_tuple(on, (Exception,)))
    return lambda fn: _apply(fn, policy)


# ---------------------------------------------------------------------------- timeout


@dataclasses.dataclass(frozen=True)
class Timeout:
    """Policy of :func:`timeout`."""

    seconds: float
    kind: str = "timeout"

    def describe(self) -> dict[str, Any]:
        return {"kind": "timeout", "seconds": self.seconds}

    def _error(self, note: Note) -> CadenceTimeoutError:
        msg = (
            f"note {note.name!r} did not finish within {self.seconds}s; "
            "raise the timeout or speed the note up"
        )
        return CadenceTimeoutError(msg, seconds=self.seconds, note_name=note.name)

    async def call_async(
        self, nxt: AsyncNext, note: Note, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        try:
            async with asyncio.timeout(self.seconds) as cm:
                return await nxt(*args, **kwargs)
        except TimeoutError:
            if not cm.expired():
                raise
            await _emit(events.TimedOut, seconds=self.seconds)
            raise self._error(note) from None

    def call_sync(self, nxt: SyncNext, note: Note, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        # No SIGALRM: the call runs in a daemon thread we stop waiting for, so any thread may use it.
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def target() -> None:
            try:
                future.set_result(nxt(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

        threading.Thread(target=target, name="cadence-timeout", daemon=True).start()
        try:
            return future.result(timeout=self.seconds)
        except concurrent.futures.TimeoutError:
            raise self._error(note) from None


def timeout(seconds: float) -> Decorator:
    """Fail a note with :class:`cadence.TimeoutError` after ``seconds`` (sync notes: from any thread)."""
    if not isinstance(seconds, (int, float)) or seconds <= 0:
        msg = f"timeout(seconds={seconds!r}) must be a positive number of seconds"
        raise DefinitionError(msg)
    policy = Timeout(float(seconds))
    return lambda fn: _apply(fn, policy)


# ---------------------------------------------------------------------------- fallback


@dataclasses.dataclass(frozen=True)
class Fallback:
    """Policy of :func:`fallback`."""

    default: Any
    handler: Callable[..., Any] | None
    field: str | None
    on: tuple[type[BaseException], ...]
    kind: str = "fallback"

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "fallback",
            "default": repr(self.default),
            "handler": getattr(self.handler, "__qualname__", None) if self.handler else None,
            "field": self.field,
        }

    def catches(self, error: BaseException) -> bool:
        return isinstance(error, self.on) and not isinstance(error, Skip)

    def _handler_args(self, args: tuple[Any, ...], error: BaseException) -> tuple[Any, ...]:
        assert self.handler is not None
        score = args[0] if args else None
        return (score, error) if _wants_score(self.handler) else (error,)

    def _place(self, args: tuple[Any, ...], value: Any) -> Any:
        if self.field is None:
            return value
        score = args[0] if args else None
        if isinstance(score, ImmutableScore):
            return score.with_field(self.field, value)
        setattr(score, self.field, value)
        return None

    async def call_async(
        self, nxt: AsyncNext, note: Note, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        try:
            return await nxt(*args, **kwargs)
        except Exception as error:
            if not self.catches(error):
                raise
            if self.handler is not None:
                value = self.handler(*self._handler_args(args, error))
                if inspect.isawaitable(value):
                    value = await value
            else:
                value = copy.deepcopy(self.default)
            await _emit(events.FallbackUsed, error=error, value=value)
            return self._place(args, value)

    def call_sync(self, nxt: SyncNext, note: Note, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            return nxt(*args, **kwargs)
        except Exception as error:
            if not self.catches(error):
                raise
            if self.handler is not None:
                value = self.handler(*self._handler_args(args, error))
                if inspect.isawaitable(value):
                    value = await_blocking(value)
            else:
                value = copy.deepcopy(self.default)
            return self._place(args, value)


def _wants_score(handler: Callable[..., Any]) -> bool:
    """Whether a fallback handler takes ``(score, error)`` rather than ``(error)``.

    Required positional parameters decide (keyword-only options and defaulted extras don't);
    with none required, two positional slots or ``*args`` get both, as does an unreadable signature.
    """
    try:
        params = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return True
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p for p in params if p.kind in kinds]
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    if required:
        return len(required) >= 2
    return len(positional) >= 2 or any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)


def fallback(
    default: Any = None,
    *,
    handler: Callable[..., Any] | None = None,
    field: str | None = None,
    on: ExcTypes | None = None,
) -> Decorator:
    """On failure, use ``handler(score, error)`` (or ``handler(error)``) or ``default`` instead.

    With ``field`` the value is written to that score field; otherwise the note returns it.
    ``Skip`` is never replaced.
    """
    if handler is not None and not callable(handler):
        msg = f"fallback(handler={handler!r}) must be callable"
        raise DefinitionError(msg)
    policy = Fallback(default, handler, field, _exc_tuple(on, (Exception,)))
    return lambda fn: _apply(fn, policy)
