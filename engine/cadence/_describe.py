"""Where a callable comes from and what wraps it, for ``Cadence.describe()``."""

from __future__ import annotations

import functools
import inspect
import weakref
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


#: id(callable) -> (a weak reference to it, its code object, its info): ``describe()`` runs at each
#: run's start (the fingerprint, the checkpoint's header) and a big cadence's notes are looked up
#: each time; the source file lookup (a ``stat``) is what costs.
_known: dict[int, tuple[weakref.ref[Any], Any, dict[str, Any]]] = {}


def callable_info(fn: Any) -> dict[str, Any]:
    """``{name, qualname, module, file, line, is_async, description, resilience}`` of a callable."""
    origin = _origin(fn)
    code = getattr(origin, "__code__", None)
    key = id(fn)
    known = _known.get(key)
    if known is not None and known[0]() is fn and known[1] is code:
        info = known[2]
        return {**info, "resilience": [dict(r) for r in info["resilience"]]}
    info = _info(fn, origin, code)
    try:
        ref = weakref.ref(fn, lambda _, key=key: _known.pop(key, None))  # type: ignore[misc]
    except TypeError:  # a builtin, or an object without weak references: looked up each time
        return info
    _known[key] = (ref, code, info)
    return {**info, "resilience": [dict(r) for r in info["resilience"]]}


def _info(fn: Any, origin: Any, code: Any) -> dict[str, Any]:
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
