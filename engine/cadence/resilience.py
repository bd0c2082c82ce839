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
import enum
import inspect
import random
import threading
import time
from collections.abc import Callable
from typing import Any, overload

from . import events
from ._scope import await_blocking, current_scope
from .exceptions import CircuitOpenError, DefinitionError, RetryExhaustedError, Skip
from .exceptions import TimeoutError as CadenceTimeoutError
from .note import AsyncNext, Note, SyncNext, as_note
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


async def _emit(event_type: type[Any], **fields: Any) -> None:
    scope = current_scope.get()
    if scope is not None:
        await scope.send(event_type, name=scope.name, **fields)


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


# ---------------------------------------------------------------------------- circuit breaker


class CircuitState(enum.Enum):
    """States of a :class:`CircuitBreaker`."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Stops calling a failing dependency after ``failure_threshold`` consecutive failures.

    After ``recovery_timeout`` seconds it lets ``half_open_max_calls`` probe calls through: a
    success closes it, a failure opens it again. Thread-safe; a cancelled probe frees its slot.
    """

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        recovery_timeout: float = 30.0,
        half_open_max_calls: int = 1,
        excluded_exceptions: tuple[type[BaseException], ...] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or half_open_max_calls < 1 or recovery_timeout < 0:
            msg = (
                f"circuit breaker {name!r}: failure_threshold and half_open_max_calls must be >= 1 and "
                f"recovery_timeout >= 0 (got {failure_threshold!r}, {half_open_max_calls!r}, "
                f"{recovery_timeout!r})"
            )
            raise DefinitionError(msg)
        self.name = name
        self.failure_threshold = failure_threshold
        self.recovery_timeout = recovery_timeout
        self.half_open_max_calls = half_open_max_calls
        self.excluded_exceptions = tuple(excluded_exceptions)
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probes = 0

    @property
    def settings(self) -> tuple[Any, ...]:
        return (
            self.failure_threshold,
            self.recovery_timeout,
            self.half_open_max_calls,
            self.excluded_exceptions,
        )

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "circuit_breaker",
            "name": self.name,
            "failure_threshold": self.failure_threshold,
            "recovery_timeout": self.recovery_timeout,
            "half_open_max_calls": self.half_open_max_calls,
        }

    @property
    def state(self) -> CircuitState:
        with self._lock:
            self._tick()
            return self._state

    @property
    def failure_count(self) -> int:
        return self._failures

    def reset(self) -> None:
        """Close the circuit and forget failures."""
        with self._lock:
            self._state = CircuitState.CLOSED
            self._failures = 0
            self._probes = 0

    def _tick(self) -> None:
        if self._state is CircuitState.OPEN and self._clock() - self._opened_at >= self.recovery_timeout:
            self._state = CircuitState.HALF_OPEN
            self._probes = 0

    def acquire(self) -> tuple[bool, CircuitState, CircuitState]:
        """Ask to make a call: ``(is_probe, old_state, new_state)``; raises :class:`CircuitOpenError`."""
        with self._lock:
            old = self._state
            self._tick()
            if self._state is CircuitState.HALF_OPEN:
                if self._probes >= self.half_open_max_calls:
                    raise self._open_error()
                self._probes += 1
                return True, old, self._state
            if self._state is CircuitState.OPEN:
                raise self._open_error()
            return False, old, self._state

    def _open_error(self) -> CircuitOpenError:
        wait = max(0.0, self.recovery_timeout - (self._clock() - self._opened_at))
        msg = f"circuit {self.name!r} is {self._state.value}; calls are refused for another {wait:.1f}s"
        return CircuitOpenError(msg, circuit=self.name, retry_after=wait)

    def record(self, probe: bool, error: BaseException | None) -> tuple[CircuitState, CircuitState]:
        """Record a call's outcome; returns ``(old_state, new_state)``."""
        with self._lock:
            old = self._state
            if probe:
                self._probes = max(0, self._probes - 1)
            if error is not None and not isinstance(error, (Skip, *self.excluded_exceptions)):
                self._failures += 1
                if self._state is CircuitState.HALF_OPEN or self._failures >= self.failure_threshold:
                    self._state = CircuitState.OPEN
                    self._opened_at = self._clock()
            elif error is None:
                self._failures = 0
                if self._state is CircuitState.HALF_OPEN:
                    self._state = CircuitState.CLOSED
            return old, self._state

    def release(self, probe: bool) -> None:
        """A call ended without an outcome (cancelled): free its probe slot, change nothing else."""
        if probe:
            with self._lock:
                self._probes = max(0, self._probes - 1)

    async def call_async(
        self, nxt: AsyncNext, note: Note, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        probe, old, new = self.acquire()
        try:
            # Inside the try: a run cancelled while listeners hear of OPEN -> HALF_OPEN frees the slot.
            await self._report(old, new)
            result = await nxt(*args, **kwargs)
        except Exception as error:
            await self._report(*self.record(probe, error))
            raise
        except BaseException:
            self.release(probe)
            raise
        await self._report(*self.record(probe, None))
        return result

    def call_sync(self, nxt: SyncNext, note: Note, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        probe, _, _ = self.acquire()
        try:
            result = nxt(*args, **kwargs)
        except Exception as error:
            self.record(probe, error)
            raise
        except BaseException:
            self.release(probe)
            raise
        self.record(probe, None)
        return result

    async def _report(self, old: CircuitState, new: CircuitState) -> None:
        if old is not new:
            await _emit(events.CircuitStateChanged, circuit=self.name, old=old.value, new=new.value)

    @property
    def kind(self) -> str:
        return "circuit_breaker"


_circuits: dict[str, CircuitBreaker] = {}
_circuits_lock = threading.Lock()


def get_circuit(name: str) -> CircuitBreaker:
    """The circuit breaker registered under ``name``."""
    try:
        return _circuits[name]
    except KeyError:
        known = ", ".join(repr(n) for n in sorted(_circuits)) or "none yet"
        msg = f"no circuit breaker named {name!r} (registered: {known})"
        raise KeyError(msg) from None


@overload
def circuit_breaker(failure_threshold: Callable[..., Any], /) -> Note: ...
@overload
def circuit_breaker(
    failure_threshold: int = 5,
    recovery_timeout: float = 30.0,
    half_open_max_calls: int = 1,
    name: str | None = None,
    excluded_exceptions: tuple[type[BaseException], ...] | None = None,
) -> Decorator: ...
def circuit_breaker(
    failure_threshold: int | Callable[..., Any] = 5,
    recovery_timeout: float = 30.0,
    half_open_max_calls: int = 1,
    name: str | None = None,
    excluded_exceptions: tuple[type[BaseException], ...] | None = None,
) -> Any:
    """Guard a note with a named :class:`CircuitBreaker` (named after the function by default).

    Decorators that use one name share one breaker; using a name again with other settings is a
    :class:`DefinitionError`.
    """
    if callable(failure_threshold):  # bare @circuit_breaker
        return circuit_breaker()(failure_threshold)
    threshold = failure_threshold

    def decorate(fn: Callable[..., Any] | Note) -> Note:
        n = as_note(fn)
        key = name or f"{getattr(n.fn, '__module__', '?')}.{getattr(n.fn, '__qualname__', n.name)}"
        wanted = CircuitBreaker(
            key,
            failure_threshold=threshold,
            recovery_timeout=recovery_timeout,
            half_open_max_calls=half_open_max_calls,
            excluded_exceptions=tuple(excluded_exceptions or ()),
        )
        with _circuits_lock:
            existing = _circuits.get(key)
            if existing is None:
                _circuits[key] = existing = wanted
            elif existing.settings != wanted.settings:
                msg = (
                    f"circuit breaker {key!r} already exists with settings {existing.describe()}; "
                    f"a second decorator asked for {wanted.describe()}: use one configuration per name "
                    "or give this one another name"
                )
                raise DefinitionError(msg)
        return n.with_policy(existing)

    return decorate
