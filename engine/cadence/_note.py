"""The :class:`Note` machinery: a callable plus its policy chain.

Public through :mod:`cadence.note` (and ``cadence``); the resilience policies build on it, and
:mod:`cadence.note` builds its ``@note`` shorthands on them, so this module imports neither.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ._scope import await_blocking, offload
from .exceptions import DefinitionError

if TYPE_CHECKING:
    from collections.abc import Awaitable

__all__ = ["AsyncNext", "Note", "Policy", "SyncNext", "as_note", "callable_name", "is_async_callable"]


#: The inner layers of a note, called like the note: ``nxt(*args, **kwargs)``.
AsyncNext = Callable[..., "Awaitable[Any]"]
SyncNext = Callable[..., Any]


class Policy(Protocol):
    """A resilience layer around a note (retry, timeout, fallback, circuit breaker)."""

    @property
    def kind(self) -> str: ...

    def describe(self) -> dict[str, Any]: ...

    async def call_async(
        self, nxt: AsyncNext, note: Note, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """Call ``nxt(*args, **kwargs)`` (the inner layers) under this policy, on the event loop."""
        ...

    def call_sync(self, nxt: SyncNext, note: Note, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Blocking twin of :meth:`call_async`, for sync notes called directly."""
        ...


def is_async_callable(fn: Any) -> bool:
    """Whether calling ``fn`` returns a coroutine (functions, partials, methods, callable objects)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if isinstance(fn, Note):
        return fn.is_async
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - callable objects with async __call__
    return call is not None and not inspect.isroutine(fn) and inspect.iscoroutinefunction(call)


def callable_name(fn: Any) -> str:
    """A readable name for any callable."""
    if isinstance(fn, Note):
        return fn.name
    while isinstance(fn, functools.partial):
        fn = fn.func
    name = getattr(fn, "__name__", None)
    if isinstance(name, str):
        return name
    return type(fn).__name__


def _docstring(fn: Any) -> str | None:
    """The docstring of ``fn``; a partial has its function's (not ``functools.partial``'s own)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.getdoc(fn)


class Note:
    """A named unit of work: a function (sync or async) plus its resilience policies.

    Calling a note calls the function through its policies: an ``async def`` note returns a
    coroutine; a sync note runs in the caller's thread (timeouts use a helper thread).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        policies: tuple[Policy, ...] = (),
    ) -> None:
        if not callable(fn):
            msg = f"a note needs a callable, got {fn!r}; pass a function or a Note"
            raise DefinitionError(msg)
        self.fn = fn
        self.name = name or callable_name(fn)
        self.description = description if description is not None else _docstring(fn)
        self.policies = policies
        self.is_async = is_async_callable(fn)
        self._chains: dict[bool | str, Any] = {}
        self.__name__ = self.name
        self.__qualname__ = getattr(fn, "__qualname__", self.name)
        self.__module__ = getattr(fn, "__module__", None) or "cadence.note"
        self.__doc__ = self.description
        self.__wrapped__ = fn

    def with_policy(self, policy: Policy) -> Note:
        """A copy of this note with ``policy`` wrapped around the existing ones."""
        return Note(self.fn, name=self.name, description=self.description, policies=(*self.policies, policy))

    def renamed(self, name: str | None, description: str | None) -> Note:
        new = Note(self.fn, name=name or self.name, description=description, policies=self.policies)
        if description is None:
            new.description = self.description
            new.__doc__ = self.description
        return new

    def __get__(self, obj: Any, objtype: type | None = None) -> Note:
        if obj is None:
            return self
        bound = Note(functools.partial(self.fn, obj), name=self.name, description=self.description)
        bound.policies = self.policies
        return bound

    def __repr__(self) -> str:
        layers = "".join(f" @{p.kind}" for p in reversed(self.policies))
        return f"<Note {self.name!r}{layers} {'async' if self.is_async else 'sync'}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.policies:
            return self.fn(*args, **kwargs)
        if self.is_async:
            return self.async_chain(False)(*args, **kwargs)
        return self.sync_chain()(*args, **kwargs)

    async def run_async(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], *, in_thread: bool = False
    ) -> Any:
        """Call through the policies on the event loop (see :meth:`async_chain`)."""
        return await self.async_chain(in_thread)(*args, **kwargs)

    def caller(self, *, in_thread: bool = False) -> Callable[[Any], Any]:
        """``f(score)`` for the engine: the bare function, or the policy chain."""
        if not self.policies and not (in_thread and not self.is_async):
            return self.fn
        return self.async_chain(in_thread)

    def async_chain(self, in_thread: bool) -> AsyncNext:
        """The policies wrapped around the function (``chain(*args, **kwargs)`` gives an
        awaitable), built once per note.

        A sync function runs off the event loop when ``in_thread`` or when a timeout must be
        able to abandon it.
        """
        chain = self._chains.get(in_thread)
        if chain is None:
            chain = self._chains[in_thread] = self._build_async(in_thread)
        return chain

    def _build_async(self, in_thread: bool) -> AsyncNext:
        fn = self.fn
        timed = any(p.kind == "timeout" for p in self.policies)
        chain: AsyncNext
        if self.is_async:
            chain = fn
        elif in_thread or timed:

            async def chain(*args: Any, **kwargs: Any) -> Any:
                result = await offload(functools.partial(fn, *args, **kwargs), dedicated=timed)
                return (await result) if inspect.isawaitable(result) else result

        else:

            async def chain(*args: Any, **kwargs: Any) -> Any:
                result = fn(*args, **kwargs)
                return (await result) if inspect.isawaitable(result) else result

        for policy in self.policies:
            chain = _layer(policy.call_async, chain, self)
        return chain

    def sync_chain(self) -> SyncNext:
        """The blocking policy chain, for a sync note called directly."""
        chain = self._chains.get("sync")
        if chain is None:
            fn = self.fn

            def innermost(*args: Any, **kwargs: Any) -> Any:
                result = fn(*args, **kwargs)
                # A plain callable that returns a coroutine: finish it so the policies see its outcome.
                return await_blocking(result) if inspect.isawaitable(result) else result

            chain = innermost
            for policy in self.policies:
                chain = _layer(policy.call_sync, chain, self)
            self._chains["sync"] = chain
        return chain


def _layer(call: Callable[..., Any], nxt: Callable[..., Any], note: Note) -> Callable[..., Any]:
    """One policy around ``nxt``, called like the note itself."""

    def layer(*args: Any, **kwargs: Any) -> Any:
        return call(nxt, note, args, kwargs)

    return layer


def as_note(fn: Callable[..., Any] | Note) -> Note:
    """``fn`` as a :class:`Note` (a note is returned as it is)."""
    return fn if isinstance(fn, Note) else Note(fn)
