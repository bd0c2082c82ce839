"""The run's own time, as the worker sees it: what places each event on the studio's timeline.

The engine reads durations on a clock that stops while the controller holds the whole run (see
``cadence._clock``); the worker keeps the same time from what it can see, so a run held at a breakpoint
for a minute does not push the rest of its timeline a minute to the right. The whole run is held when
the controller holds a waypoint and no note is running (inside a ``.sync``, one member held while another
runs is not a held run: the group's time goes on).
"""

from __future__ import annotations

import time

__all__ = ["RunTime"]


class RunTime:
    """Seconds since the run started, less the time during which the whole run was held."""

    __slots__ = ("_held", "_paused", "_start", "_stopped_at", "running")

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._paused = 0.0
        self._stopped_at: float | None = None
        self._held = False
        self.running = 0  # notes started and not finished

    def now(self) -> float:
        stopped_at = self._stopped_at
        return (stopped_at if stopped_at is not None else time.perf_counter()) - self._start - self._paused

    def note(self, started: bool) -> None:
        """A note started (``True``) or finished."""
        self.running = self.running + 1 if started else max(0, self.running - 1)
        self._update()

    def held(self, held: bool) -> None:
        """The controller holds at least one waypoint (``True``), or none."""
        self._held = held
        self._update()

    def _update(self) -> None:
        stop = self._held and self.running == 0
        if stop and self._stopped_at is None:
            self._stopped_at = time.perf_counter()
        elif not stop and self._stopped_at is not None:
            self._paused += time.perf_counter() - self._stopped_at
            self._stopped_at = None
