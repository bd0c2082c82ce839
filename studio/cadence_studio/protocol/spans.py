"""A run as spans of its own time: what the timeline draws as a Gantt chart, built from the events.

One span per note, ``.sync`` group, parallel ``.split`` branch, ``.split`` and child cadence, in the
order they started (a group before its members, a child before its notes). A span starts at its
event's ``clock`` (the run's own time, see :class:`~cadence_studio.protocol.messages.EventMessage`)
and lasts the duration the engine measured, so time held at a breakpoint is in neither: a paused run's
spans do not stretch. A note still running has no end yet; the timeline grows it with the wall clock.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["Span", "Spans"]


@dataclasses.dataclass(slots=True)
class Span:
    """One row of the Gantt chart."""

    node: str
    kind: str  # note, sync (a .sync group or a parallel .split branch), split, child
    name: str
    depth: int  # spans it is drawn inside (its rows' indent)
    start: float  # seconds of the run's own time
    started_at: float  # wall time it started (``time.time()``), to grow it while it runs
    end: float | None = None
    status: str = "running"
    retries: list[float] = dataclasses.field(default_factory=list)  # when each failed attempt ended
    fell_back: bool = False
    timed_out: bool = False
    stalled: float = 0.0  # seconds it held the event loop (0: never over the threshold)

    @property
    def duration(self) -> float | None:
        return None if self.end is None else self.end - self.start


_OPENS = {"note_started": "note", "forked": "sync", "child_entered": "child", "branch_taken": "split"}
_CLOSES = frozenset({"note_finished", "merged", "child_left"})


class Spans:
    """The spans of one run, updated one event at a time (:meth:`apply`)."""

    def __init__(self) -> None:
        self.rows: list[Span] = []
        self.by_node: dict[str, Span] = {}
        self.extent = 0.0  # the latest end (or start) seen, in own time
        self.clock = 0.0  # the latest clock seen
        self.running: dict[str, Span] = {}  # spans started and not ended
        self._first_at: float | None = None
        self._splits = 0  # split spans so far (a note's end may lengthen one)

    def apply(self, event: dict[str, Any], clock: float | None) -> bool:
        """Take one event in (``clock``: its stamp; None for runs recorded before stamps, which are
        placed by wall time); return whether a span changed."""
        if clock is None:
            at = float(event.get("at") or 0.0)
            if self._first_at is None:
                self._first_at = at
            clock = max(0.0, at - self._first_at)
        now = clock
        if now > self.clock:
            self.clock = now
            if now > self.extent:
                self.extent = now
        kind = event.get("kind")
        opens = _OPENS.get(kind)  # type: ignore[arg-type]
        node = event.get("node_id") or ""
        if opens is not None:
            return self._open(opens, node, event, now)
        span = self.by_node.get(node)
        if span is None and kind in _CLOSES:  # its start was not seen (a run recorded in part)
            duration = event.get("duration")
            began = now - float(duration) if isinstance(duration, (int, float)) else now
            self._open("note" if kind == "note_finished" else "sync", node, event, max(0.0, began))
            span = self.by_node[node]
        if span is None:
            return False
        if kind in _CLOSES:
            self._close(span, event, now)
        elif kind == "retry_attempt":
            span.retries.append(now)
        elif kind == "fallback_used":
            span.fell_back = True
        elif kind == "timed_out":
            span.timed_out = True
        elif kind == "stalled":
            span.stalled += float(event.get("blocked") or 0.0)
        else:
            return False
        return True

    def _open(self, kind: str, node: str, event: dict[str, Any], now: float) -> bool:
        if kind == "sync" and node in self.by_node:
            return False
        outer = self._outer(node)
        # named from the span it is drawn in (or the cadence): enrich/fetch_customer → fetch_customer
        inside = outer[0] if outer else node.split("/", 1)[0]
        name = node[len(inside) + 1 :] if node.startswith(inside + "/") else node
        span = Span(node, kind, name, len(outer), now, float(event.get("at") or 0.0))
        if kind == "split":  # the condition's time is not measured: the split spans its branch
            span.end = now
            span.status = "done"
            self._splits += 1
        else:
            self.running[node] = span
        self.rows.append(span)
        self.by_node[node] = span
        return True

    def _outer(self, node: str) -> list[str]:
        """The spans ``node`` is drawn inside, innermost first."""
        out = []
        cut = node.rfind("/")
        while cut > 0:
            prefix = node[:cut]
            if prefix in self.by_node:
                out.append(prefix)
            cut = node.rfind("/", 0, cut)
        return out

    def _close(self, span: Span, event: dict[str, Any], now: float) -> None:
        self.running.pop(span.node, None)
        duration = event.get("duration")
        end = span.end = span.start + float(duration) if isinstance(duration, (int, float)) else now
        error = event.get("error")
        span.status = str(event.get("status") or ("failed" if error else "done"))
        if end > self.extent:
            self.extent = end
        if self._splits:  # a split lasts until its branch's last note ends
            for prefix in self._outer(span.node):
                outer = self.by_node[prefix]
                if outer.kind == "split" and outer.end is not None:
                    outer.end = max(outer.end, end)

    def close(self) -> None:
        """The run ended: spans still open end where the run was last seen (stopped, crashed)."""
        for span in self.rows:
            if span.end is None:
                span.end = max(span.start, self.clock)
                span.status = "cancelled"
        self.running.clear()
