"""A fresh score for each run of the worker, also when some fields cannot be copied.

The engine runs a score with a ``threading.Lock`` or a generator in it; ``copy.deepcopy`` refuses them
("cannot pickle '_thread.lock' object"). The worker still starts every run from its own copy of the
cadence's score: field by field, a field that cannot be copied gets a new value from its dataclass
``default_factory`` (what a new score would hold) or, failing that, is shared with the cadence's score.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from .values import _describe_error

__all__ = ["field_names", "fresh_score"]


def field_names(score: Any) -> list[str]:
    """The score's data: its dataclass fields, else its instance attributes."""
    if dataclasses.is_dataclass(score) and not isinstance(score, type):
        return [f.name for f in dataclasses.fields(score)]
    try:
        return list(vars(score))
    except TypeError:  # __slots__ only
        return []


def _factories(score: Any) -> dict[str, Any]:
    if not dataclasses.is_dataclass(score) or isinstance(score, type):
        return {}
    return {
        f.name: f.default_factory
        for f in dataclasses.fields(score)
        if f.default_factory is not dataclasses.MISSING
    }


def fresh_score(score: Any) -> tuple[Any, list[str]]:
    """A copy of ``score`` for one run, and a note for each field the copy shares with ``score``.

    ``copy.deepcopy`` when it works; otherwise a shallow copy whose fields are deep-copied one by one,
    a field that cannot be copied taking a new value from its ``default_factory``, or else the very
    object of ``score`` (named in the notes: its state carries over from one run to the next).
    """
    try:
        return copy.deepcopy(score), []
    except Exception:
        pass
    label = type(score).__name__
    try:
        shell = copy.copy(score)
    except Exception as error:
        note = (
            f"score: a {label} cannot be copied ({_describe_error(error)}); every run uses the cadence's own"
        )
        return score, [note]
    memo: dict[int, Any] = {}
    factories = _factories(score)
    notes: list[str] = []
    for name in field_names(score):
        try:
            value = getattr(score, name)
        except Exception:
            continue
        try:
            new = copy.deepcopy(value, memo)
        except Exception as error:
            new = value
            factory = factories.get(name)
            try:
                new = factory() if factory is not None else value
            except Exception:
                pass
            if new is value:
                notes.append(
                    f"score.{name}: a {type(value).__name__} cannot be copied ({_describe_error(error)}); "
                    "every run shares the cadence's own (a default_factory on it gives each run a new one)"
                )
        object.__setattr__(shell, name, new)  # also on frozen dataclasses
    return shell, notes
