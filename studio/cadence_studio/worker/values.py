"""Python values as JSON "value trees" for the score inspector (built in the worker, next to the values).

A value tree node is a dict::

    {"t": type name, "k": kind, "r": short repr,
     "c": [[key, node], ...], "n": child count, "more": children after the shown ones}  # containers

Kinds: ``scalar``, ``dataclass``, ``mapping``, ``sequence``, ``set``, ``atomic``, ``object`` and ``repr``
(anything else, a cycle with ``"r": "<cycle>"``, or a container cut off by ``max_depth`` / ``max_nodes``,
marked ``"deep": true``: :func:`expand` opens it). Building a tree never raises, and a container costs
O(``max_items``) whatever its size.

A node is named by the list of keys leading to it; paths and diffs of trees are the protocol's
(:mod:`cadence_studio.protocol.value_trees`), since the UI reads them without this module.

Score input (schema, validation, plain JSON) lives in :mod:`cadence_studio.worker.score_input`.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import types
from collections import deque
from collections.abc import Iterable, Mapping, Sequence, Set
from typing import Any

from cadence import Atomic, AtomicDict, AtomicList

from ..protocol.value_trees import Node, join_path

__all__ = ["expand", "value_tree"]

_SCALARS = (type(None), bool, int, float, str, bytes)
_ATOMICS = (Atomic, AtomicList, AtomicDict)
_NOT_SEQUENCES = (str, bytes, bytearray, memoryview, range)
# Things with a __dict__ that is not their data: show them by repr.
_NOT_OBJECTS = (
    type,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    enum.Enum,
    BaseException,
)
# Bigger sets keep their iteration order: sorting them would cost more than the few items shown.
_SORT_LIMIT = 10_000
_MISSING: Any = object()


# ---------------------------------------------------------------------------- reprs and paths


def _clean(text: str) -> str:
    """Lone surrogates (from odd reprs or keys) would break UTF-8 encoding of the JSON."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _clip(text: str, limit: int) -> str:
    return _clean(text[:limit] + "…" if len(text) > limit else text)


def _describe_error(exc: BaseException) -> str:
    try:
        detail = str(exc)
    except Exception:
        detail = ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _safe_repr(value: Any, limit: int) -> str:
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<{type(value).__name__} object (repr failed: {_describe_error(exc)})>"
    return _clip(text, limit)


def _scalar_repr(value: Any, limit: int) -> str:
    """A string's repr keeps ``limit`` characters of its text (the quotes and escapes come on top)."""
    if type(value) is str or type(value) is bytes:
        return _clean(repr(value[:limit]) + "…" if len(value) > limit else repr(value))
    return _safe_repr(value, limit)


# ---------------------------------------------------------------------------- reading values


class _Unreadable:
    """Stands for a field whose read raised."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


def _read_field(obj: Any, name: str) -> Any:
    """``getattr``, except on a ``.sync`` task's lazy view, whose reads would copy the field into it."""
    try:
        own = object.__getattribute__(obj, "__dict__")
        base = object.__getattribute__(obj, "_cadence_base")
    except AttributeError:
        base = _MISSING
    try:
        if base is _MISSING:
            return getattr(obj, name)
        return own[name] if name in own else getattr(base, name)
    except Exception as exc:
        return _Unreadable(exc)


def _kind(value: Any) -> str:
    if isinstance(value, _SCALARS):
        return "scalar"
    if isinstance(value, _ATOMICS):
        return "atomic"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return "dataclass"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list | tuple | deque) or (
        isinstance(value, Sequence) and not isinstance(value, _NOT_SEQUENCES)
    ):
        return "sequence"
    if isinstance(value, Set):
        return "set"
    if not isinstance(value, _NOT_OBJECTS) and getattr(value, "__dict__", None):  # attributes to show
        return "object"
    return "repr"


def _ordered(items: Iterable[Any]) -> list[Any]:
    """A set's items in display order: sorted, else sorted by repr, else as iterated."""
    values = list(items)
    if len(values) > _SORT_LIMIT:
        return values
    try:
        return sorted(values)
    except Exception:
        pass
    try:
        return sorted(values, key=repr)
    except Exception:
        return values


def _index(key: str, size: int) -> int | None:
    if key.isascii() and key.isdigit() and int(key) < size:
        return int(key)
    return None


# ---------------------------------------------------------------------------- value trees


class _Builder:
    def __init__(self, max_items: int, max_depth: int, max_repr: int, max_nodes: int) -> None:
        self.max_items = max(max_items, 0)
        self.max_depth = max_depth
        self.max_repr = max_repr
        self.nodes_left = max_nodes
        self.ancestors: set[int] = set()  # ids of the containers on the current path, for cycles

    def label(self, key: Any) -> str:
        return _clean(key) if isinstance(key, str) else _safe_repr(key, self.max_repr)

    def node(self, value: Any, depth: int = 0, offset: int = 0) -> Node:
        self.nodes_left -= 1
        try:
            return self._node(value, depth, offset)
        except Exception:  # a broken __len__, __iter__, __eq__...: show what repr can
            return {"t": type(value).__name__, "k": "repr", "r": _safe_repr(value, self.max_repr)}

    def _node(self, value: Any, depth: int, offset: int) -> Node:
        name = type(value).__name__
        if isinstance(value, _Unreadable):
            return {"t": "?", "k": "repr", "r": f"<unreadable: {_clip(_describe_error(value.error), 150)}>"}
        kind = _kind(value)
        if kind == "scalar":
            return {"t": name, "k": kind, "r": _scalar_repr(value, self.max_repr)}
        if kind == "repr":
            return {"t": name, "k": kind, "r": _safe_repr(value, self.max_repr)}
        if id(value) in self.ancestors:
            return {"t": name, "k": "repr", "r": "<cycle>"}
        if depth >= self.max_depth or self.nodes_left < 0:
            return {"t": name, "k": "repr", "r": self._cut_repr(value, kind), "deep": True}
        self.ancestors.add(id(value))
        try:
            offset = max(offset, 0)
            size, items = self._children(value, kind, offset)
            children = [[key, self.node(child, depth + 1)] for key, _, child in items]
        finally:
            self.ancestors.discard(id(value))
        node: Node = {"t": name, "k": kind, "r": self._summary(value, kind, items, children, size)}
        node["c"] = children
        node["n"] = size
        more = size - offset - len(children)
        if more > 0:
            node["more"] = more
        return node

    def _children(self, value: Any, kind: str, offset: int) -> tuple[int, list[tuple[str, str, Any]]]:
        """The child count and the (key, key as shown in the repr, value) of the children shown."""
        stop = offset + self.max_items
        if isinstance(value, Atomic):
            return 1, [("value", "", value.get())][offset:stop]
        if isinstance(value, AtomicList):
            value, kind = value.get_all(), "sequence"
        elif isinstance(value, AtomicDict):
            value, kind = value.get_all(), "mapping"
        if kind == "dataclass":
            fields = dataclasses.fields(value)
            return len(fields), [(f.name, f.name, _read_field(value, f.name)) for f in fields[offset:stop]]
        if kind == "object":
            names = list(itertools.islice(vars(value), offset, stop))
            return len(vars(value)), [(self.label(k), self.label(k), _read_field(value, k)) for k in names]
        if kind == "mapping":
            pairs = itertools.islice(value.items(), offset, stop)
            return len(value), [(self.label(k), _safe_repr(k, self.max_repr), v) for k, v in pairs]
        size = len(value)
        part: Sequence[Any]
        if kind == "set":
            part = _ordered(value)[offset:stop]
        elif isinstance(value, list | tuple):
            part = value[offset:stop]
        elif isinstance(value, deque):
            part = list(itertools.islice(value, offset, stop))
        else:
            part = [value[i] for i in range(offset, min(size, stop))]
        return size, [(str(offset + i), "", v) for i, v in enumerate(part)]

    @staticmethod
    def _brackets(value: Any, kind: str) -> tuple[str, str]:
        name = type(value).__name__
        if kind in ("dataclass", "object") or isinstance(value, Atomic):
            return f"{name}(", ")"
        if kind == "sequence" or isinstance(value, AtomicList):
            if type(value) is list:
                return "[", "]"
            return ("(", ")") if type(value) is tuple else (f"{name}([", "])")
        if type(value) in (dict, set):
            return "{", "}"
        return f"{name}({{", "})"

    def _cut_repr(self, value: Any, kind: str) -> str:
        """A repr that costs O(1): the container is not opened."""
        opening, closing = self._brackets(value, kind)
        if kind in ("dataclass", "object") or isinstance(value, Atomic):
            return f"{opening}…{closing}"
        size = len(value)
        return f"{opening}… {size} items{closing}" if size else f"{opening}{closing}"

    def _summary(
        self, value: Any, kind: str, items: list[tuple[str, str, Any]], children: list[Any], size: int
    ) -> str:
        """A container's repr, built from its children's so it stays short whatever the container holds."""
        if kind == "object" and getattr(type(value), "__repr__", None) is not object.__repr__:
            return _safe_repr(value, self.max_repr)
        opening, closing = self._brackets(value, kind)
        if type(value) is set and size == 0:
            return "set()"
        parts: list[str] = []
        length = 0
        for (_, shown, _), (_, child) in zip(items, children, strict=True):
            sep = ": " if kind == "mapping" or isinstance(value, AtomicDict) else "="
            parts.append(f"{shown}{sep}{child['r']}" if shown else child["r"])
            length += len(parts[-1]) + 2
            if length > self.max_repr:
                break
        if len(parts) < size:
            parts.append("…")
        return _clip(opening + ", ".join(parts) + closing, self.max_repr)


def value_tree(
    value: Any, *, max_items: int = 100, max_depth: int = 8, max_repr: int = 200, max_nodes: int = 5000
) -> Node:
    """The value tree of any object; never raises.

    Args:
        max_items: children shown per container (the rest are counted in ``"more"``).
        max_depth: containers this deep are not opened (``"deep": true`` nodes).
        max_repr: characters of a repr (and of a string's text) before it is cut with "…".
        max_nodes: nodes made before further containers are left unopened (as ``"deep"`` nodes).
    """
    return _Builder(max_items, max_depth, max_repr, max_nodes).node(value)


class _NoChild(Exception):
    """Internal: the path leads nowhere; the message says why."""


def _child(builder: _Builder, value: Any, key: str) -> Any:
    """The child of ``value`` at ``key``, as :func:`value_tree` names it."""
    kind = _kind(value)
    name = type(value).__name__
    if isinstance(value, Atomic):
        if key == "value":
            return value.get()
        raise _NoChild(f"an {name} has one child, 'value'")
    if isinstance(value, AtomicList | AtomicDict):
        value = value.get_all()
        kind = "sequence" if isinstance(value, list) else "mapping"
    if kind == "dataclass":
        fields = [f.name for f in dataclasses.fields(value)]
        if key in fields:
            return _read_field(value, key)
        raise _NoChild(f"{name} has no field {key!r} (fields: {', '.join(map(repr, fields))})")
    if kind == "object":
        for attr in vars(value):
            if builder.label(attr) == key:
                return _read_field(value, attr)
        raise _NoChild(f"the {name} has no attribute {key!r}")
    if kind == "mapping":
        try:
            if key in value:
                return value[key]
        except Exception:  # a mapping that refuses str keys: look among the labels below
            pass
        for k, v in value.items():
            if builder.label(k) == key:
                return v
        raise _NoChild(f"the {name} of {len(value)} items has no key {key!r}")
    if kind in ("sequence", "set"):
        items = _ordered(value) if kind == "set" else value
        index = _index(key, len(items))
        if index is None:
            raise _NoChild(f"{key!r} is not an index of the {name} of {len(items)} items")
        return items[index]
    raise _NoChild(f"a {name} value has no children")


def expand(
    value: Any,
    path: list[str],
    *,
    offset: int = 0,
    max_items: int = 100,
    max_depth: int = 8,
    max_repr: int = 200,
    max_nodes: int = 5000,
) -> Node:
    """The value tree of the part of ``value`` at ``path``, its children starting at ``offset``.

    ``path`` holds keys as :func:`value_tree` gives them (built with the same ``max_repr``); paging a
    big container is ``expand(value, path, offset=len_shown_so_far)``. Depth counts from the part.

    Raises:
        KeyError: ``path`` leads nowhere.
    """
    builder = _Builder(max_items, max_depth, max_repr, max_nodes)
    current = value
    for depth, key in enumerate(path):
        try:
            child = _child(builder, current, key)
        except Exception as exc:
            where = repr(join_path(path[:depth])) if depth else "the root"
            detail = str(exc) if isinstance(exc, _NoChild) else f"reading it raised {_describe_error(exc)}"
            msg = f"no value at path {join_path(path)!r}: under {where}, {detail}"
            raise KeyError(msg) from None
        builder.ancestors.add(id(current))
        current = child
    builder.ancestors.discard(id(current))  # a path around a cycle opens the value again
    return builder.node(current, 0, offset)
