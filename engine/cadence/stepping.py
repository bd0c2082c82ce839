"""Holding a run at waypoints: breakpoints and note-by-note stepping (what the studio drives)."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from ._runtime import Waypoint

__all__ = ["StepController", "Waypoint"]


def __getattr__(name: str) -> Any:
    if name == "Checkpoint":  # the old name: "checkpoint" now means a saved score only
        warnings.warn(
            "cadence.stepping.Checkpoint is deprecated; use cadence.stepping.Waypoint "
            "(a checkpoint is now a saved score, see cadence.checkpoint)",
            DeprecationWarning,
            stacklevel=2,
        )
        return Waypoint
    msg = f"module 'cadence.stepping' has no attribute {name!r}"
    raise AttributeError(msg)


class StepController:
    """A run controller: pauses before chosen nodes, then lets the run go one step or all the way.

    Give it to a run (``await cadence.run(score, controller=ctl)``) and drive it from another task::

        ctl = StepController(breakpoints={"checkout/charge"})
        task = asyncio.create_task(cadence.run(score, controller=ctl))
        point = await ctl.wait_paused()   # held before checkout/charge
        ctl.step()                        # run that note, pause at the next waypoint
        ctl.resume()                      # run to the next breakpoint or the end

    Inside a ``.sync`` group every parallel note stops at its own waypoint; :meth:`step`
    releases them one at a time, :meth:`step_over` on the fork runs the whole group at once.
    """

    def __init__(
        self,
        *,
        breakpoints: Iterable[str] = (),
        pause_at_start: bool = False,
        on_pause: Callable[[Waypoint], Any] | None = None,
        keep_seen: bool = True,
    ) -> None:
        self.breakpoints: set[str] = set(breakpoints)
        self.stepping = pause_at_start
        self.on_pause = on_pause  # told (sync) about each waypoint the run is held at
        self._held: list[tuple[Waypoint, asyncio.Event]] = []
        self._arrived: asyncio.Event | None = None
        self._over: set[str] = set()
        #: every waypoint the run passed, oldest first (none kept with ``keep_seen=False``: a run of
        #: 10,000 notes passes 10,000 of them, each holding its node id and the score)
        self.seen: list[Waypoint] = []
        self._keep_seen = keep_seen

    @property
    def held(self) -> list[Waypoint]:
        """The waypoints the run is paused at, oldest first (several inside a ``.sync``)."""
        return [point for point, _ in self._held]

    @property
    def paused(self) -> bool:
        return bool(self._held)

    def toggle_breakpoint(self, node_id: str) -> bool:
        """Add or remove a breakpoint; returns whether it is now set."""
        if node_id in self.breakpoints:
            self.breakpoints.discard(node_id)
            return False
        self.breakpoints.add(node_id)
        return True

    def _should_pause(self, point: Waypoint) -> bool:
        if point.node_id in self.breakpoints:
            return True
        if not self.stepping:
            return False
        inside = [p for p in self._over if point.node_id.startswith(p + "/")]
        if inside:
            return False
        self._over.clear()
        return True

    async def __call__(self, point: Waypoint) -> None:
        if self._keep_seen:
            self.seen.append(point)
        if not self._should_pause(point):
            return
        await self.hold(point)

    async def hold(self, point: Waypoint) -> None:
        """Hold the run at ``point`` until :meth:`step`, :meth:`step_over` or :meth:`resume` lets it go
        (what a breakpoint does; a subclass's ``after_note`` may call it to pause after a note)."""
        gate = asyncio.Event()
        self._held.append((point, gate))
        self._signal().set()
        if self.on_pause is not None:
            self.on_pause(point)
        await gate.wait()

    def _signal(self) -> asyncio.Event:
        if self._arrived is None:
            self._arrived = asyncio.Event()
        return self._arrived

    async def wait_paused(self, timeout: float | None = None) -> Waypoint:  # noqa: ASYNC109
        """Wait (at most ``timeout`` seconds) until the run is held; returns the oldest held waypoint."""
        async with asyncio.timeout(timeout):
            while not self._held:
                signal = self._signal()
                signal.clear()
                await signal.wait()
        return self._held[0][0]

    def _release_first(self) -> Waypoint | None:
        if not self._held:
            return None
        point, gate = self._held.pop(0)
        gate.set()
        return point

    def step(self) -> Waypoint | None:
        """Let the oldest held waypoint go and pause again at the next one."""
        self.stepping = True
        return self._release_first()

    def step_over(self) -> Waypoint | None:
        """Like :meth:`step`, but a held fork, branch or child runs whole before the next pause."""
        self.stepping = True
        point = self._release_first()
        if point is not None and point.kind != "note":
            self._over.add(point.node_id)
        return point

    def resume(self) -> None:
        """Let every held waypoint go; run until the next breakpoint."""
        self.stepping = False
        self._over.clear()
        while self._held:
            self._release_first()

    def pause(self) -> None:
        """Pause at the next waypoint."""
        self.stepping = True
