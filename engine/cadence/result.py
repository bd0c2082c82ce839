"""A small ``Result`` type: ``Ok(value)`` or ``Err(error)``, also made with ``ok(value)`` / ``err(error)``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Err", "Ok", "Result", "err", "ok"]

T = TypeVar("T")
U = TypeVar("U")
E = TypeVar("E")


@dataclasses.dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    """A success holding ``value``."""

    value: T
    is_ok: bool = dataclasses.field(default=True, init=False)
    is_err: bool = dataclasses.field(default=False, init=False)

    def ok(self) -> T:
        return self.value

    def err(self) -> None:
        return None

    def unwrap(self) -> T:
        return self.value

    def unwrap_or(self, default: Any) -> T:
        return self.value

    def map(self, fn: Callable[[T], U]) -> Ok[U]:
        return Ok(fn(self.value))


@dataclasses.dataclass(frozen=True, slots=True)
class Err(Generic[E]):
    """A failure holding ``error``."""

    error: E
    is_ok: bool = dataclasses.field(default=False, init=False)
    is_err: bool = dataclasses.field(default=True, init=False)

    def ok(self) -> None:
        return None

    def err(self) -> E:
        return self.error

    def unwrap(self) -> Any:
        if isinstance(self.error, BaseException):
            raise self.error
        msg = f"called unwrap() on Err({self.error!r})"
        raise ValueError(msg)

    def unwrap_or(self, default: U) -> U:
        return default

    def map(self, fn: Callable[[Any], Any]) -> Err[E]:
        return self


Result = Ok[T] | Err[E]


def ok(value: T) -> Ok[T]:
    """A success holding ``value``: ``ok(3) == Ok(3)``."""
    return Ok(value)


def err(error: E) -> Err[E]:
    """A failure holding ``error``: ``err(KeyError("k")) == Err(KeyError("k"))`` (same error object)."""
    return Err(error)
