"""Circuit breakers: ``@circuit_breaker`` and the named :class:`CircuitBreaker` registry.

Public through :mod:`cadence.resilience` (and ``cadence``).
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from typing import Any, overload

from . import events
from ._note import AsyncNext, Note, SyncNext, as_note
from ._scope import emit_in_scope
from .exceptions import CircuitOpenError, DefinitionError, Skip

__all__ = ["CircuitBreaker", "CircuitState", "circuit_breaker", "get_circuit"]

Decorator = Callable[[Callable[..., Any]], Note]
_emit = emit_in_scope


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


_SETTINGS = (
    "failure_threshold=5, recovery_timeout=30.0, half_open_max_calls=1, name=None, excluded_exceptions=None"
)


@overload
def circuit_breaker(failure_threshold: Callable[..., Any], /) -> Note: ...
@overload
def circuit_breaker(failure_threshold: CircuitBreaker, /) -> Decorator: ...
@overload
def circuit_breaker(
    failure_threshold: int = 5,
    recovery_timeout: float = 30.0,
    half_open_max_calls: int = 1,
    name: str | None = None,
    excluded_exceptions: tuple[type[BaseException], ...] | None = None,
) -> Decorator: ...
def circuit_breaker(
    failure_threshold: int | CircuitBreaker | Callable[..., Any] = 5,
    recovery_timeout: float = 30.0,
    half_open_max_calls: int = 1,
    name: str | None = None,
    excluded_exceptions: tuple[type[BaseException], ...] | None = None,
) -> Any:
    """Guard a note with a named :class:`CircuitBreaker` (named after the function by default).

    Decorators that use one name share one breaker; using a name again with other settings is a
    :class:`DefinitionError`. ``@circuit_breaker(breaker)`` uses a :class:`CircuitBreaker` made
    beforehand, so that several notes share it (it is registered under its name for
    :func:`get_circuit`; another breaker already registered under that name is an error).
    """
    if isinstance(failure_threshold, CircuitBreaker):
        given = (recovery_timeout, half_open_max_calls, name, excluded_exceptions) != (30.0, 1, None, None)
        if given:
            msg = (
                f"circuit_breaker({failure_threshold.name!r} breaker, ...): settings go to the "
                "CircuitBreaker itself; pass either a CircuitBreaker or keyword settings, not both"
            )
            raise DefinitionError(msg)
        return _shared(failure_threshold)
    if callable(failure_threshold):  # bare @circuit_breaker
        return circuit_breaker()(failure_threshold)
    if isinstance(failure_threshold, bool) or not isinstance(failure_threshold, int):
        msg = (
            f"circuit_breaker() takes a CircuitBreaker instance or keyword settings ({_SETTINGS}); "
            f"got {failure_threshold!r}: pass CircuitBreaker(...) or failure_threshold=<int>"
        )
        raise TypeError(msg)
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


def _shared(breaker: CircuitBreaker) -> Decorator:
    """The decorator of ``@circuit_breaker(breaker)``: every note it decorates uses ``breaker``."""
    with _circuits_lock:
        existing = _circuits.setdefault(breaker.name, breaker)
    if existing is not breaker:
        msg = (
            f"another circuit breaker is already registered as {breaker.name!r} "
            f"({existing.describe()}); give this CircuitBreaker another name, or pass "
            f"get_circuit({breaker.name!r}) to share that one"
        )
        raise DefinitionError(msg)

    def decorate(fn: Callable[..., Any] | Note) -> Note:
        return as_note(fn).with_policy(breaker)

    return decorate
