"""Giving memory back to the system once a run is over; keeping the garbage collector off what lives on.

A long run allocates and frees many small objects (events, score trees, drawn lines). Python keeps
freed memory for reuse, so a process's size stays at its peak after the run; on glibc,
``malloc_trim`` returns the free pages, so the size after a run is what it keeps (issue 18).

Start-up allocates what lives as long as the process: the imported modules, the widgets, the catalog
and the graph of a big cadence. Python's collector would scan it all again and again as it grows
(three full collections, 0.1 s each, on the way to a 10,000-note graph), finding nothing to free. So
``cadence-studio TARGET`` holds collection back (:func:`hold_collection`) until the first graph is on
screen (:func:`release_collection`), then freezes what exists (``gc.freeze``: later collections skip
it) and collects as usual from there.

While the studio runs, what it has drawn stays out of the collector's full passes too
(:func:`keep_long_lived`): a full pass walks every object the collector tracks, and with a 10,000-note
graph, its layout and a run's states that is hundreds of thousands, a pause of 0.1-0.4 s every second
or so of a fast run (the screen stood still, a key waited). Frozen objects are still freed when nothing
refers to them; cycles among them are collected after the run (:func:`give_back_memory` unfreezes
first). A big message is decoded with the collector held (:func:`collector_held`).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ctypes

__all__ = [
    "collector_held",
    "give_back_memory",
    "hold_collection",
    "keep_long_lived",
    "release_collection",
    "stop_keeping",
]

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


def give_back_memory(*, refreeze: bool = False) -> bool:
    """Collect garbage (among the frozen objects too) and return free heap pages to the system; False
    where the C library cannot. ``refreeze``: then leave what is alive out of the passes again."""
    gc.unfreeze()
    gc.collect()
    if refreeze:
        gc.freeze()
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


@contextlib.contextmanager
def collector_held() -> Iterator[None]:
    """No garbage collection inside: decoding a 10,000-note graph (2.4 MB of JSON, some 150,000 objects)
    set off collections that walked what it had made so far, and everything else, again and again
    (50-190 ms instead of 25); what it made is looked at once, afterwards."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def keep_long_lived(*, replacing: bool = False) -> None:
    """Leave every object alive now out of the collector's passes (``gc.freeze``) until the next
    :func:`give_back_memory`: what the screen has drawn (the graph, the run so far) stays anyway.

    ``replacing``: a new screen replaces one already kept (a reloaded module's graph): the old one is
    collected first rather than kept frozen for good."""
    if replacing and gc.get_freeze_count():
        give_back_memory(refreeze=True)
        return
    gc.freeze()


def stop_keeping() -> None:
    """Give the objects :func:`keep_long_lived` kept back to the collector (the screen that drew them
    is going away)."""
    gc.unfreeze()
