"""Giving memory back to the system once a run is over.

A long run allocates and frees many small objects (events, score trees, drawn lines). Python keeps
freed memory for reuse, so a process's size stays at its peak after the run; on glibc,
``malloc_trim`` returns the free pages, so the size after a run is what it keeps (issue 18).

The studio's UI also keeps what it has drawn out of the garbage collector's full passes
(:func:`keep_long_lived`): a full pass walks every object the collector tracks, and with a
10,000-note graph, its layout and a run's states that is hundreds of thousands, a pause of 0.1-0.4 s
every second or so of a fast run (the screen stood still, a key waited). Frozen objects are still
freed when nothing refers to them; cycles among them are collected after the run
(:func:`give_back_memory` unfreezes first).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import sys
from collections.abc import Iterator

__all__ = ["collector_held", "give_back_memory", "keep_long_lived", "stop_keeping"]


@functools.cache
def _trim() -> ctypes._NamedFuncPointer | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None


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


def keep_long_lived() -> None:
    """Leave every object alive now out of the collector's passes (``gc.freeze``) until the next
    :func:`give_back_memory`: what the screen has drawn (the graph, the run so far) stays anyway."""
    gc.freeze()


def stop_keeping() -> None:
    """Give the objects :func:`keep_long_lived` kept back to the collector (the screen that drew them
    is going away)."""
    gc.unfreeze()


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
