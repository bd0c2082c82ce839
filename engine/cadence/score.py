"""Score types: the state a cadence carries from note to note.

:class:`Score` (mutable dataclass scores), :class:`ImmutableScore` (frozen, ``.replace``), the shared
concurrent containers :class:`Atomic`, :class:`AtomicList`, :class:`AtomicDict`, the first draft's
names ``Context`` / ``ImmutableContext``, and :func:`merge_snapshots` (the same function as
:func:`cadence.merge.merge_snapshots`: merge copies of a score changed by parallel work back into it).
"""

from __future__ import annotations

from ._score import Atomic, AtomicDict, AtomicList, Context, ImmutableContext, ImmutableScore, Score
from .merge import merge_snapshots

__all__ = [
    "Atomic",
    "AtomicDict",
    "AtomicList",
    "Context",
    "ImmutableContext",
    "ImmutableScore",
    "Score",
    "merge_snapshots",
]
