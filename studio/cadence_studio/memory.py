"""Giving memory back to the system once a run is over.

A long run allocates and frees many small objects (events, score trees, drawn lines). Python keeps
freed memory for reuse, so a process's size stays at its peak after the run; on glibc,
``malloc_trim`` returns the free pages, so the size after a run is what it keeps (issue 18).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import sys

__all__ = ["give_back_memory"]


@functools.cache
def _trim() -> ctypes._NamedFuncPointer | None:
    if not sys.platform.startswith("linux"):
        return None
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
