"""Giving memory back to the system once a run is over; no garbage collection while the studio starts.

A long run allocates and frees many small objects (events, score trees, drawn lines). Python keeps
freed memory for reuse, so a process's size stays at its peak after the run; on glibc,
``malloc_trim`` returns the free pages, so the size after a run is what it keeps (issue 18).

Start-up allocates what lives as long as the process: the imported modules, the widgets, the catalog
and the graph of a big cadence. Python's collector would scan it all again and again as it grows
(three full collections, 0.1 s each, on the way to a 10,000-note graph), finding nothing to free. So
``cadence-studio TARGET`` holds collection back (:func:`hold_collection`) until the first graph is on
screen (:func:`release_collection`), then freezes what exists (``gc.freeze``: later collections skip
it) and collects as usual from there.
"""

from __future__ import annotations

import functools
import gc
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ctypes

__all__ = ["give_back_memory", "hold_collection", "release_collection"]

_held = False


@functools.cache
def _trim() -> ctypes._NamedFuncPointer | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # (15 ms to import: only once a run is over, never while the studio starts)
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None


def give_back_memory() -> bool:
    """Collect garbage and return free heap pages to the system; False where the C library cannot."""
    gc.collect()
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True


def hold_collection() -> None:
    """No automatic garbage collection until :func:`release_collection` (start-up only)."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def release_collection() -> None:
    """End a :func:`hold_collection`: what exists now is left out of later collections, which resume.

    Does nothing without a hold, so it may be called more than once (the first graph on screen, a
    time-out in case it never comes)."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
