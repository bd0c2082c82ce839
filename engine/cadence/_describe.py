"""Where a callable comes from and what wraps it, for ``Cadence.describe()``."""

from __future__ import annotations

import functools
import inspect
from typing import Any

from ._note import Note, callable_name, is_async_callable

__all__ = ["callable_info"]


def _origin(fn: Any) -> Any:
    """The plain function behind notes, partials, bound methods and callable objects."""
    seen = 0
    while seen < 20:
        seen += 1
        if isinstance(fn, Note):
            fn = fn.fn
        elif isinstance(fn, functools.partial):
            fn = fn.func
        elif inspect.ismethod(fn):
            fn = fn.__func__
        else:
            break
    if not inspect.isfunction(fn) and not inspect.isbuiltin(fn) and callable(fn):
        call = getattr(type(fn), "__call__", None)  # noqa: B004
        if inspect.isfunction(call):
            return call
    return fn


def callable_info(fn: Any) -> dict[str, Any]:
    """``{name, qualname, module, file, line, is_async, description, resilience}`` of a callable."""
    origin = _origin(fn)
    code = getattr(origin, "__code__", None)
    try:
        file = inspect.getsourcefile(origin) if code is not None else None
    except TypeError:
        file = None
    policies = fn.policies if isinstance(fn, Note) else ()
    description = fn.description if isinstance(fn, Note) else inspect.getdoc(origin) if code else None
    return {
        "name": callable_name(fn),
        "qualname": getattr(origin, "__qualname__", type(origin).__qualname__),
        "module": getattr(origin, "__module__", None),
        "file": file,
        "line": code.co_firstlineno if code is not None else None,
        "is_async": is_async_callable(fn),
        "description": description,
        "resilience": [p.describe() for p in reversed(policies)],
    }
