"""Spans from the event stream: one per cadence run, child measure and note (used by
:class:`cadence.hooks.TracingHooks` and :class:`cadence.reporters.OpenTelemetryReporter`).

With a real OpenTelemetry tracer, spans carry the events' wall-clock start and end times, nest
(notes under their cadence span, ``.sync`` notes as siblings, a child cadence under its ``.child``
measure span) and get an error status and an exception event on failure. Any other object with
``start_span(name, attributes=...)`` works too (spans are then started and ended in event order).

OpenTelemetry is never imported here: it is used only when the tracer given is one of its tracers
(which means the caller already imported it).
"""

from __future__ import annotations

import asyncio
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from . import events as ev

__all__ = ["SpanBuilder"]


def _ns(at: float) -> int:
    return int(at * 1_000_000_000)


@dataclass
class _Open:
    span: Any
    node_id: str
    retries: int = 0
    conflicts: int = 0


@dataclass
class _RunSpans:
    """The open spans of one run (by ``run_id``)."""

    root: str  # node id of the outermost run span this builder saw for the run
    runs: dict[str, _Open] = field(default_factory=dict)
    children: dict[str, _Open] = field(default_factory=dict)
    notes: dict[str, list[_Open]] = field(default_factory=dict)


def _status(error: BaseException | None) -> str:
    if error is None:
        return "done"
    return "cancelled" if isinstance(error, asyncio.CancelledError) else "failed"


class SpanBuilder:
    """Turns the events of any number of (concurrent) runs into spans of ``tracer``."""

    def __init__(self, tracer: Any, *, attributes: dict[str, Any] | None = None) -> None:
        self.tracer = tracer
        self.attributes = dict(attributes or {})
        self._runs: dict[str, _RunSpans] = {}
        self._lock = threading.Lock()
        otel = sys.modules.get("opentelemetry.trace")
        self._otel = otel if otel is not None and isinstance(tracer, otel.Tracer) else None

    # ------------------------------------------------------------------ span primitives

    def _start(self, name: str, attributes: dict[str, Any], parent: _Open | None, at: float) -> Any:
        attrs = {**self.attributes, **attributes}
        if self._otel is None:
            return self.tracer.start_span(name, attributes=attrs)
        context = self._otel.set_span_in_context(parent.span) if parent is not None else None
        return self.tracer.start_span(name, context=context, attributes=attrs, start_time=_ns(at))

    def _end(self, span: Any, at: float, error: BaseException | None, status: str) -> None:
        if self._otel is None:
            if error is not None:
                record = getattr(span, "record_exception", None)
                if record is not None:
                    record(error)
            span.end()
            return
        span.set_attribute("cadence.status", status)
        if error is not None and status in ("failed", "cancelled"):
            span.record_exception(error, timestamp=_ns(at), escaped=True)
            span.set_status(
                self._otel.Status(self._otel.StatusCode.ERROR, f"{type(error).__name__}: {error}")
            )
        span.end(end_time=_ns(at))

    # ------------------------------------------------------------------ events

    def on_event(self, event: ev.Event) -> None:
        """Handle one event (sync; safe to call from several threads)."""
        with self._lock:
            self._handle(event)

    def _parent_run(self, state: _RunSpans, node_id: str) -> _Open | None:
        """The open run span whose node id is the longest proper prefix of ``node_id``."""
        best: _Open | None = None
        for nid, opened in state.runs.items():
            if node_id.startswith(nid + "/") and (best is None or len(nid) > len(best.node_id)):
                best = opened
        return best

    def _handle(self, event: ev.Event) -> None:
        run_id = event.run_id
        state = self._runs.get(run_id)
        if isinstance(event, ev.RunStarted):
            if state is None:
                state = self._runs[run_id] = _RunSpans(root=event.node_id)
            parent = state.children.get(event.node_id) or self._parent_run(state, event.node_id)
            span = self._start(
                f"cadence {event.cadence}",
                {
                    "cadence.cadence": event.cadence,
                    "cadence.node_id": event.node_id,
                    "cadence.run_id": run_id,
                    "cadence.depth": event.depth,
                },
                parent,
                event.at,
            )
            state.runs[event.node_id] = _Open(span, event.node_id)
            return
        if state is None:
            return
        if isinstance(event, ev.RunFinished):
            opened = state.runs.pop(event.node_id, None)
            if opened is not None:
                if self._otel is not None:
                    opened.span.set_attribute("cadence.merge.conflicts", opened.conflicts)
                self._end(opened.span, event.at, event.error, event.status)
            if event.node_id == state.root:
                self._close_all(state, event.at)
                del self._runs[run_id]
        elif isinstance(event, ev.NoteStarted):
            span = self._start(
                f"note {event.name}",
                {
                    "cadence.note": event.name,
                    "cadence.cadence": event.cadence,
                    "cadence.node_id": event.node_id,
                    "cadence.run_id": run_id,
                },
                self._parent_run(state, event.node_id),
                event.at,
            )
            state.notes.setdefault(event.node_id, []).append(_Open(span, event.node_id))
        elif isinstance(event, ev.NoteFinished):
            stack = state.notes.get(event.node_id)
            if not stack:
                return
            opened = stack.pop()
            if not stack:
                del state.notes[event.node_id]
            if self._otel is not None:
                opened.span.set_attribute("cadence.retry.attempts", opened.retries)
            self._end(opened.span, event.at, event.error, event.status)
        elif isinstance(event, ev.RetryAttempt):
            stack = state.notes.get(event.node_id)
            if stack:
                stack[-1].retries += 1
                if self._otel is not None and event.error is not None:
                    stack[-1].span.add_event(
                        "retry",
                        {
                            "cadence.retry.attempt": event.attempt,
                            "cadence.retry.max_attempts": event.max_attempts,
                            "exception.type": type(event.error).__qualname__,
                            "exception.message": str(event.error),
                        },
                        timestamp=_ns(event.at),
                    )
        elif isinstance(event, ev.ChildEntered):
            span = self._start(
                f"child {event.name}",
                {
                    "cadence.child": event.child,
                    "cadence.cadence": event.cadence,
                    "cadence.node_id": event.node_id,
                    "cadence.run_id": run_id,
                },
                self._parent_run(state, event.node_id),
                event.at,
            )
            state.children[event.node_id] = _Open(span, event.node_id)
        elif isinstance(event, ev.ChildLeft):
            opened = state.children.pop(event.node_id, None)
            if opened is not None:
                self._end(opened.span, event.at, event.error, _status(event.error))
        elif isinstance(event, ev.Merged) and self._otel is not None:
            parent = self._parent_run(state, event.node_id)
            if parent is not None:
                conflicts = len(event.conflicts)
                parent.conflicts += conflicts
                parent.span.add_event(
                    "merge",
                    {
                        "cadence.merge.group": event.name,
                        "cadence.node_id": event.node_id,
                        "cadence.merge.strategy": event.strategy,
                        "cadence.merge.conflicts": conflicts,
                        "cadence.merge.conflict_fields": sorted(map(str, event.conflicts)),
                        "cadence.merge.fields": sorted(map(str, event.merged)),
                    },
                    timestamp=_ns(event.at),
                )

    def _close_all(self, state: _RunSpans, at: float) -> None:
        """End whatever a run left open (it should be nothing)."""
        leftovers = [o for stack in state.notes.values() for o in stack]
        leftovers += [*state.children.values(), *state.runs.values()]
        for opened in leftovers:
            self._end(opened.span, at, None, "unfinished")
        state.notes.clear()
        state.children.clear()
        state.runs.clear()
