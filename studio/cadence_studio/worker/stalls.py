"""Finds notes that block the worker's event loop: a beat on the loop, and a watchdog thread beside it.

An ``async def`` note that calls blocking code (``time.sleep``, a sync HTTP client, a long computation)
holds the loop: every other note of the run waits, as a service's other requests would. The loop beats
every ``interval``; a beat that comes ``threshold`` or more late is a stall. While the loop is late, the
watchdog thread looks at which asyncio task the loop is running, and blames the note that task is
running (the worker maps each note's task when the note starts). A plain ``def`` note runs in the
engine's thread pool and holds nothing; a note awaiting I/O gives the loop back: neither is blamed.
Time the worker itself spends (encoding an event, writing to the UI's pipe) is nobody's stall.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Callable

__all__ = ["StallWatch"]

_OWN = "\0studio"  # what a sample says while the worker does its own work


class StallWatch:
    """Calls ``report(node_id, seconds)`` for each note that held the event loop ``threshold`` s or more.

    :meth:`start` it on the running loop; tell it about notes from the run's listener (which runs in
    the note's own task); :meth:`stop` it when the run ends.
    """

    def __init__(self, threshold: float, report: Callable[[str, float], None]) -> None:
        self.threshold = threshold
        self.report = report
        # Late by one interval or more, the watchdog samples; short enough that a stall just over the
        # threshold gets several samples, long enough to cost nothing (about 100 wakeups a second).
        self.interval = min(0.01, threshold / 5)
        self._tasks: dict[asyncio.Task[object], str] = {}  # the note each task is running
        self.own = 0  # > 0 while the worker does its own work on the loop (its listener counts it)
        self._beat_no = 0
        self._due = 0.0  # when the next beat should run (perf_counter)
        self._samples: dict[int, collections.Counter[str | None]] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------------ the run's side (loop thread)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._schedule(time.perf_counter())
        threading.Thread(target=self._watch, name="cadence-stall-watch", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def note_started(self, node_id: str) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks[task] = node_id

    def note_finished(self, node_id: str) -> None:
        task = asyncio.current_task()
        if task is not None and self._tasks.get(task) == node_id:
            del self._tasks[task]

    def _schedule(self, now: float) -> None:
        assert self._loop is not None
        self._due = now + self.interval
        self._handle = self._loop.call_later(self.interval, self._beat)

    def _beat(self) -> None:
        now = time.perf_counter()
        late = now - self._due
        with self._lock:
            samples = self._samples.pop(self._beat_no, None)
            self._samples.clear()
            self._beat_no += 1
        if late >= self.threshold and samples:
            self._blame(samples, late)
        if not self._stopped.is_set():
            self._schedule(now)

    def _blame(self, samples: collections.Counter[str | None], late: float) -> None:
        """Share the stall among the notes the watchdog saw running; report those over the threshold."""
        total = sum(samples.values())
        for node, count in samples.most_common():
            if node is None or node == _OWN:
                continue
            seconds = late * count / total
            if seconds >= self.threshold:
                self.report(node, seconds)

    # ------------------------------------------------------------------ the watchdog thread

    def _watch(self) -> None:
        loop = self._loop
        assert loop is not None
        while not self._stopped.wait(self.interval):
            if time.perf_counter() - self._due < self.interval:
                continue  # the loop is on time
            beat = self._beat_no
            task = asyncio.current_task(loop)  # the task the loop is running now (read, not changed)
            who = _OWN if self.own else self._tasks.get(task) if task is not None else None
            with self._lock:
                if beat == self._beat_no:  # not a beat that ran meanwhile
                    self._samples.setdefault(beat, collections.Counter())[who] += 1
