"""A run's events on their way to the UI: each engine event as a protocol message, stamped with the
run's own time, and the worker's ``stalled`` events for notes that held the event loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cadence.events import Event

from .. import protocol as p
from .catalog import tree
from .run_time import RunTime
from .stalls import StallWatch

__all__ = ["EventSender"]


class EventSender:
    """The listener of one run (:meth:`__call__`): encodes events, keeps the run's time, watches the loop.

    ``stall_ms`` 0 turns the watch off. :meth:`close` when the run ends.
    """

    def __init__(self, number: int, send: Callable[[p.Message], None], *, stall_ms: float) -> None:
        self.number = number
        self.send = send
        self.clock = RunTime()
        self.watch = StallWatch(stall_ms / 1000, self._stalled) if stall_ms > 0 else None
        self._notes: dict[str, tuple[str, str, int, str]] = {}  # node id -> run id, cadence, depth, name
        self._times: dict[str, list[float]] = {}  # node id -> [start, end] (perf_counter; end 0: running)
        if self.watch is not None:
            self.watch.start()

    def __call__(self, event: Event) -> None:
        watch = self.watch
        if watch is None:
            self._send(event)
            return
        watch.own += 1  # the worker's own work, never a note's stall (a context manager costs more)
        try:
            self._send(event)
        finally:
            watch.own -= 1

    def _send(self, event: Event) -> None:
        data = event.as_dict()
        kind = event.kind
        if kind == "note_started":
            self.clock.note(started=True)
            self._notes[event.node_id] = (event.run_id, event.cadence, event.depth, data.get("name", ""))
            self._times[event.node_id] = [time.perf_counter(), 0.0]
            if self.watch is not None:
                self.watch.note_started(event.node_id)
        snapshots = getattr(event, "snapshots", None)
        self.send(
            p.EventMessage(
                run=self.number,
                event=data,
                score=tree(getattr(event, "score", None)),
                snapshots=[tree(s) for s in snapshots] if snapshots else None,
                clock=round(self.clock.now(), 6),
            )
        )
        if kind == "note_finished":
            self.clock.note(started=False)
            times = self._times.get(event.node_id)
            if times is not None:
                times[1] = time.perf_counter()
            if self.watch is not None:
                self.watch.note_finished(event.node_id)

    def held(self, held: bool) -> None:
        """The controller holds a waypoint now (or none): the run's time stops while nothing runs."""
        self.clock.held(held)

    def _stalled(self, node_id: str, seconds: float) -> None:
        # The loop's lateness may hold the worker's own work after the note too: never more than the note
        # ran (its wall time, which is its own: a started note is never held).
        start, end = self._times.get(node_id, (0.0, 0.0))
        if start:
            seconds = min(seconds, (end or time.perf_counter()) - start)
        if self.watch is None or seconds < self.watch.threshold:
            return
        run_id, cadence, depth, name = self._notes.get(node_id, ("", "", 0, ""))
        event: dict[str, Any] = {
            "kind": "stalled",
            "run_id": run_id,
            "cadence": cadence,
            "node_id": node_id,
            "depth": depth,
            "at": time.time(),
            "name": name,
            "blocked": round(seconds, 6),
            "threshold": self.watch.threshold,
        }
        self.send(p.EventMessage(run=self.number, event=event, clock=round(self.clock.now(), 6)))

    def close(self) -> None:
        """The run is over: stop watching the loop, and let go of its notes (10,000 notes: some 3 MB)."""
        if self.watch is not None:
            self.watch.stop()
        self._notes = {}
        self._times = {}
