"""Lazy copies of a score for ``.sync`` tasks.

A fork starts empty and copies a field from its base the first time the task reads it, so
forking and merging cost nothing for fields no task touches. Writes land in the fork only.

What a task gets for a field: ``Atomic*`` containers and immutable values are the base's own objects;
other values are deep copies; and a value that cannot be copied at all (``copy.deepcopy`` refuses it:
a ``threading.Lock``, a ``Condition``, a generator, an open file or socket, a client object holding
one) is *shared* too, as it is. Such values are resources, not data: a copied lock would not exclude
anything, a copied generator or file would not advance the original, so sharing is the only meaning a
task can expect (and what the same score gets outside a ``.sync``). Isolation stops there: what a task
does through a shared value (advancing the generator, writing the file, an in-place edit of a list
that holds a lock) is seen by its siblings at once and is not a merged change; assigning a new value
to the field is a change as usual. To keep a mutable part isolated, give it its own field.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import types
from collections.abc import Callable, Iterable
from typing import Any

from ._score import _AtomicBase

__all__ = ["changes_of", "copy_value", "fork", "fork_all", "is_fork", "is_immutable", "materialize"]

_MISSING: Any = object()
# Exact types whose instances cannot change in place (``copy.deepcopy`` returns them as they are).
_ATOMS = frozenset(
    {
        int,
        float,
        complex,
        str,
        bytes,
        bool,
        type(None),
        range,
        type,
        types.FunctionType,
        types.BuiltinFunctionType,
    }
)
# A field holding one of these (subclasses too) is handed to every task as it is; Atomic containers
# are shared on purpose (they exist to be written concurrently).
_SHARED_TYPES = (int, float, complex, str, bytes, bool, type(None), range, enum.Enum, _AtomicBase)
# Deeper than this, ``is_immutable`` gives up and the value is deep-copied.
_MAX_DEPTH = 16
_Maker = tuple[type, Callable[[Any, Any], None]]
_makers: dict[type, _Maker | None] = {}  # score class -> (view class, base slot setter)
_fork_class_set: set[type] = set()


def field_names(score: Any) -> tuple[str, ...]:
    """The names of a score's data: its dataclass fields, then any other instance attributes."""
    names: dict[str, None] = {}
    if dataclasses.is_dataclass(score):
        names.update((f.name, None) for f in dataclasses.fields(score))
    try:
        names.update((k, None) for k in vars(score))
    except TypeError:
        pass
    return tuple(names)


def is_immutable(value: Any, _depth: int = 0) -> bool:
    """Whether nothing reachable from ``value`` can change in place, so sharing it is as good as a
    deep copy: atoms (numbers, ``str``, ``bytes``, ``None``, ranges, enum members, ...) and exact
    ``tuple``/``frozenset`` objects made of them. Anything else (frozen dataclasses included: they can
    still be written through ``object.__setattr__`` or hold a mutable field) counts as mutable."""
    t = type(value)
    if t in _ATOMS:
        return True
    if t is tuple or t is frozenset:
        if _depth >= _MAX_DEPTH:
            return False
        for item in value:
            if type(item) not in _ATOMS and not is_immutable(item, _depth + 1):
                return False
        return True
    return isinstance(value, enum.Enum)  # members are singletons: deepcopy returns them too


def _all_immutable(items: Iterable[Any]) -> bool:
    """``is_immutable`` of every item, with tuples of atoms (a list of records) checked inline."""
    for item in items:
        t = type(item)
        if t in _ATOMS:
            continue
        if t is tuple:
            for part in item:
                if type(part) not in _ATOMS and not is_immutable(part, 1):
                    return False
        elif not is_immutable(item):
            return False
    return True


def copy_value(value: Any) -> Any:
    """A copy of ``value`` that shares nothing mutable with it (what ``copy.deepcopy`` gives), cheaper
    where that is safe: immutable values are returned as they are, and an exact ``list``, ``dict`` or
    ``set`` of immutable items gets a shallow copy."""
    t = type(value)
    if t in _ATOMS:
        return value
    if t is list or t is set:
        return value.copy() if _all_immutable(value) else copy.deepcopy(value)
    if t is dict:
        safe = _all_immutable(value.values()) and _all_immutable(value)
        return value.copy() if safe else copy.deepcopy(value)
    if is_immutable(value):
        return value
    return copy.deepcopy(value)


def _held_names(score: Any) -> dict[str, None]:
    """The names of ``score``'s data; for a view (a ``.sync`` inside a ``.sync`` task), its base's too."""
    chain = []
    while type(score) in _fork_class_set:
        chain.append(score)
        score = score._cadence_base
    names = dict.fromkeys(field_names(score))
    for view in reversed(chain):
        names.update(dict.fromkeys(vars(view)))
    return names


def _lazy_value(value: Any) -> Any:
    """What a task reading a field of its fork gets: the base's value or a private copy of it."""
    if isinstance(value, _SHARED_TYPES):
        return value
    try:
        return copy_value(value)
    except (TypeError, copy.Error):  # cannot be copied (a lock, a generator, a file): shared
        return value


class _LazyField:
    """On a view class, one per dataclass field: the first read copies the base's value into the
    view's own ``__dict__``, which then shadows this (non-data) descriptor at normal speed."""

    __slots__ = ("default", "name")

    def __init__(self, name: str, default: Any) -> None:
        self.name = name
        self.default = default

    def __get__(self, view: Any, owner: type | None = None) -> Any:
        if view is None:  # class access: what the score class itself would give
            return self.default
        value = getattr(view._cadence_base, self.name)
        if type(value) not in _ATOMS:
            value = _lazy_value(value)
        view.__dict__[self.name] = value
        return value


def _make_fork_class(cls: type) -> type:
    def __getattr__(self: Any, name: str) -> Any:  # attributes beyond the dataclass fields
        base = self._cadence_base
        if name in vars(base) or (type(base) in _fork_class_set and name in _held_names(base)):
            value = _lazy_value(getattr(base, name))
            self.__dict__[name] = value
            return value
        msg = f"{cls.__name__!r} object has no attribute {name!r}"
        raise AttributeError(msg)

    def __copy__(self: Any) -> Any:
        return materialize(self)

    def __deepcopy__(self: Any, memo: dict[int, Any]) -> Any:
        return copy.deepcopy(materialize(self), memo)

    def __reduce_ex__(self: Any, protocol: Any) -> Any:
        return materialize(self).__reduce_ex__(protocol)

    namespace: dict[str, Any] = {
        "__slots__": ("_cadence_base",),
        "__class__": property(lambda self: cls),  # a view passes for the score class itself
        "__getattr__": __getattr__,
        "__copy__": __copy__,
        "__deepcopy__": __deepcopy__,
        "__reduce_ex__": __reduce_ex__,
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
    }
    if dataclasses.is_dataclass(cls):
        for f in dataclasses.fields(cls):
            namespace[f.name] = _LazyField(f.name, getattr(cls, f.name, None))
    return type(cls.__name__, (cls,), namespace)


def _view_maker(cls: type, score: Any) -> _Maker | None:
    """The view class for ``cls`` and the setter of its base slot (made once per class); None for
    ``__slots__`` scores, which are deep-copied instead."""
    try:
        vars(score)
    except TypeError:  # no per-instance dict to fill lazily
        maker = None
    else:
        view_cls = cls if cls in _fork_class_set else _make_fork_class(cls)
        _fork_class_set.add(view_cls)
        # The slot's own setter: the score class's __setattr__ may refuse writes (frozen dataclasses).
        maker = (view_cls, view_cls.__dict__["_cadence_base"].__set__)
    _makers[cls] = maker
    return maker


def fork(score: Any) -> Any:
    """A task's private view of ``score``: reads copy lazily, writes stay in the view."""
    return fork_all(score, 1)[0]


def fork_all(score: Any, count: int) -> list[Any]:
    """``count`` independent views of one score (one per parallel task)."""
    cls = type(score)
    maker = _makers[cls] if cls in _makers else _view_maker(cls, score)
    if maker is None:
        return [copy.deepcopy(score) for _ in range(count)]
    view_cls, set_base = maker
    new = object.__new__
    views: list[Any] = []
    for _ in range(count):
        view: Any = new(view_cls)
        set_base(view, score)
        views.append(view)
    return views


def is_fork(obj: Any) -> bool:
    return type(obj) in _fork_class_set


def materialize(view: Any) -> Any:
    """A real instance of the score's class holding the view's current values."""
    if not is_fork(view):
        return view
    cls = view.__class__
    obj = object.__new__(cls)
    base = view._cadence_base
    d = view.__dict__
    for name in _held_names(base):
        value = d[name] if name in d else getattr(base, name, _MISSING)
        if value is not _MISSING:
            object.__setattr__(obj, name, value if name in d else _lazy_value(value))
    for name, value in d.items():
        if name not in vars(obj):
            object.__setattr__(obj, name, value)
    return obj


def changes_of(base: Any, result: Any) -> dict[str, Any]:
    """The fields ``result`` (a fork of ``base``, or any other score) holds differently from ``base``."""
    changes: dict[str, Any] = {}
    if type(result) in _fork_class_set and result._cadence_base is base:
        items: Any = result.__dict__.items()  # only what the task touched
    else:
        items = ((name, getattr(result, name)) for name in field_names(result))
    for name, value in items:
        old = getattr(base, name, _MISSING)
        if value is old:
            continue
        try:
            differs = bool(value != old)
        except Exception:  # values whose != raises or is ambiguous count as changed
            differs = True
        if differs:
            changes[name] = value
    return changes
