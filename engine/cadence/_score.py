"""Score types: the state a cadence carries from note to note.

Public through :mod:`cadence.score` (their ``__module__`` says so); the engine's own modules import
them from here, so that :mod:`cadence.score` may also re-export :func:`cadence.merge.merge_snapshots`
without an import cycle.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar, overload

from .exceptions import DefinitionError

__all__ = [
    "Atomic",
    "AtomicDict",
    "AtomicList",
    "Context",
    "ImmutableContext",
    "ImmutableScore",
    "Score",
]

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
S = TypeVar("S", bound="ImmutableScore")


class Score:
    """Base class for ``@dataclass`` scores.

    A ``Score`` is what ``.sync`` isolates: each parallel task works on its own lazily
    copied view of it. ``__post_init__`` may be called any number of times.
    """

    def __post_init__(self) -> None:
        """Nothing to set up; kept so subclasses can always call ``super().__post_init__()``."""


class ImmutableScore(Score):
    """Base class for ``@dataclass(frozen=True)`` scores; notes return a new score instead of mutating."""

    def replace(self: S, **changes: Any) -> S:
        """Return a copy with ``changes`` applied."""
        if not dataclasses.is_dataclass(self):
            msg = f"{type(self).__name__} must be a @dataclass(frozen=True) to use replace()"
            raise DefinitionError(msg)
        return dataclasses.replace(self, **changes)

    def with_field(self: S, name: str, value: Any) -> S:
        """Return a copy with field ``name`` set to ``value``."""
        return self.replace(**{name: value})


class _AtomicBase:
    """Shared, lock-protected containers: ``.sync`` tasks write them concurrently, never copied."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.RLock()


class Atomic(_AtomicBase, Generic[T]):
    """A thread-safe single value."""

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        super().__init__()
        self._value = value

    def get(self) -> T:
        with self._lock:
            return self._value

    def set(self, value: T) -> None:
        with self._lock:
            self._value = value

    def update(self, fn: Callable[[T], T]) -> T:
        """Apply ``fn`` to the value atomically and return the new value."""
        with self._lock:
            self._value = fn(self._value)
            return self._value

    def compare_and_swap(self, expected: T, new: T) -> bool:
        """Set ``new`` only if the value equals ``expected``; return whether it did."""
        with self._lock:
            if self._value == expected:
                self._value = new
                return True
            return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Atomic) and other.get() == self.get()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Atomic({self.get()!r})"

    def __deepcopy__(self, memo: dict[int, Any]) -> Atomic[T]:
        return Atomic(copy.deepcopy(self.get(), memo))


class AtomicList(_AtomicBase, Generic[T]):
    """A thread-safe list."""

    __slots__ = ("_items",)

    def __init__(self, initial: Iterable[T] | None = None) -> None:
        super().__init__()
        self._items: list[T] = list(initial or ())

    def append(self, item: T) -> None:
        with self._lock:
            self._items.append(item)

    def extend(self, items: Iterable[T]) -> None:
        items = list(items)
        with self._lock:
            self._items.extend(items)

    def get_all(self) -> list[T]:
        """A copy of the items."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.get_all())

    def __getitem__(self, index: int) -> T:
        with self._lock:
            return self._items[index]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AtomicList) and other.get_all() == self.get_all()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"AtomicList({self.get_all()!r})"

    def __deepcopy__(self, memo: dict[int, Any]) -> AtomicList[T]:
        return AtomicList(copy.deepcopy(self.get_all(), memo))


class AtomicDict(_AtomicBase, Generic[K, V]):
    """A thread-safe dict: ``AtomicDict[K, V]``, or ``AtomicDict[V]`` for ``str`` keys.

    ``AtomicDict[int]`` is ``AtomicDict[str, int]`` at run time (cadence-orchestration's one-parameter
    form). Type checkers read the declared ``Generic[K, V]``: mypy reports the one-parameter form as
    ``"AtomicDict" expects 2 type arguments, but 1 given`` and takes it as ``AtomicDict[Any, Any]``,
    so typed code should write ``AtomicDict[str, int]``.
    """

    __slots__ = ("_data",)

    def __class_getitem__(cls, params: Any) -> Any:
        # One parameter is the value type (str keys); two are (key, value) as for dict.
        if not isinstance(params, tuple):
            params = (str, params)
        return super().__class_getitem__(params)  # type: ignore[misc]

    def __init__(self, initial: Mapping[K, V] | None = None) -> None:
        super().__init__()
        self._data: dict[K, V] = dict(initial or {})

    @overload
    def get(self, key: K) -> V | None: ...
    @overload
    def get(self, key: K, default: T) -> V | T: ...
    def get(self, key: K, default: Any = None) -> Any:
        with self._lock:
            return self._data.get(key, default)

    def set(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value

    def update(self, other: Mapping[K, V] | None = None, /, **kwargs: V) -> None:
        with self._lock:
            if other is not None:
                self._data.update(other)
            self._data.update(kwargs)  # type: ignore[arg-type]

    def pop(self, key: K, default: Any = None) -> Any:
        with self._lock:
            return self._data.pop(key, default)

    def get_all(self) -> dict[K, V]:
        """A copy of the contents."""
        with self._lock:
            return dict(self._data)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def __getitem__(self, key: K) -> V:
        with self._lock:
            return self._data[key]

    def __setitem__(self, key: K, value: V) -> None:
        self.set(key, value)

    def __iter__(self) -> Iterator[K]:
        return iter(self.get_all())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AtomicDict) and other.get_all() == self.get_all()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"AtomicDict({self.get_all()!r})"

    def __deepcopy__(self, memo: dict[int, Any]) -> AtomicDict[K, V]:
        return AtomicDict(copy.deepcopy(self.get_all(), memo))


for _cls in (Score, ImmutableScore, Atomic, AtomicList, AtomicDict):
    _cls.__module__ = "cadence.score"  # where users import them from (reprs, pickles, docs)

#: Old names from the first draft of the API.
Context = Score
ImmutableContext = ImmutableScore
