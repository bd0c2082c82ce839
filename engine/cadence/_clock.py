"""The run's own time: a clock that stops while a controller holds the whole run.

Durations of a run with a controller (notes, ``.sync`` groups, children, the run) are read on this
clock, so a run held at a breakpoint for 15 minutes does not report 15 minutes. Inside a ``.sync``
the run is held only when every running task is: while one task runs and another waits at a
breakpoint, the group's time goes on.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

__all__ = ["RunClock"]

_now = time.perf_counter


class RunClock:
    """``perf_counter`` minus the time during which every strand of the run was held.

    A strand is a line of execution: the run has one, a ``.sync`` of n tasks turns it into n until
    they have all ended (:meth:`fork`).
    """

    __slots__ = ("held", "paused", "stopped_at", "strands")

    def __init__(self) -> None:
        self.strands = 1
        self.held = 0
        self.paused = 0.0  # seconds stopped so far
        self.stopped_at: float | None = None

    def now(self) -> float:
        stopped_at = self.stopped_at
        return (stopped_at if stopped_at is not None else _now()) - self.paused

    def _update(self) -> None:
        stop = 0 < self.strands <= self.held
        if stop and self.stopped_at is None:
            self.stopped_at = _now()
        elif not stop and self.stopped_at is not None:
            self.paused += _now() - self.stopped_at
            self.stopped_at = None

    def hold(self) -> None:
        """A strand is waiting in the controller."""
        self.held += 1
        self._update()

    def release(self) -> None:
        self.held -= 1
        self._update()

    def fork(self, futures: list[asyncio.Future[Any]]) -> None:
        """The current strand runs as these tasks until they have all ended."""
        self.strands += len(futures) - 1
        self._update()
        done = _Join(self, len(futures))
        for future in futures:
            future.add_done_callback(done)


class _Join:
    """Done callback of a fork's tasks: each ended task but the last is a strand fewer (the last
    one's strand is the forking one, which goes on)."""

    __slots__ = ("clock", "left")

    def __init__(self, clock: RunClock, left: int) -> None:
        self.clock = clock
        self.left = left

    def __call__(self, _future: asyncio.Future[Any]) -> None:
        self.left -= 1
        if self.left:
            self.clock.strands -= 1
            self.clock._update()
