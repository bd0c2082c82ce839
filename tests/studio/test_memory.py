"""After a run the studio and its worker give freed memory back to the system (issue 18)."""

from __future__ import annotations

import sys

from cadence_studio.memory import give_back_memory


def test_give_back_memory_trims_the_heap_on_linux() -> None:
    """On Linux (glibc) the free heap pages are returned; elsewhere it only collects garbage."""
    assert give_back_memory() is sys.platform.startswith("linux")
