"""Notes: the units of work a cadence runs, with their resilience policies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

from . import resilience
from ._note import AsyncNext as AsyncNext  # the types a custom Policy's methods take
from ._note import Note, Policy, as_note, callable_name, is_async_callable
from ._note import SyncNext as SyncNext

__all__ = ["Note", "Policy", "beat", "callable_name", "is_async_callable", "note"]


@overload
def note(fn: Callable[..., Any], /) -> Note: ...
@overload
def note(
    fn: None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    retry: int | dict[str, Any] | None = None,
    timeout: float | None = None,
    fallback: Any = ...,
) -> Callable[[Callable[..., Any]], Note]: ...
def note(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    retry: int | dict[str, Any] | None = None,
    timeout: float | None = None,
    fallback: Any = ...,
) -> Any:
    """Make a function a :class:`Note`; usable bare (``@note``) or with options.

    ``retry`` (attempts, or keyword arguments of :func:`cadence.retry`), ``timeout`` (seconds) and
    ``fallback`` (default value) are shorthands: timeout innermost, then retry, then fallback.
    """

    def decorate(f: Callable[..., Any]) -> Note:
        n = as_note(f)
        if name is not None or description is not None:
            n = n.renamed(name, description)
        if timeout is not None:
            n = resilience.timeout(timeout)(n)
        if retry is not None:
            n = resilience.retry(**retry)(n) if isinstance(retry, dict) else resilience.retry(retry)(n)
        if fallback is not ...:
            n = resilience.fallback(fallback)(n)
        return n

    if fn is not None:
        return decorate(fn)
    return decorate


#: Old name from the first draft of the API.
beat = note
