"""OpenTelemetry spans of cadence runs: :class:`OpenTelemetryReporter`.

``opentelemetry`` is imported only when a reporter is made, so importing this module needs nothing
outside the standard library.
"""

from __future__ import annotations

import time
from typing import Any

from .. import events as ev
from .._spans import SpanBuilder

__all__ = ["OpenTelemetryReporter"]


class OpenTelemetryReporter:
    """OpenTelemetry spans of cadence runs (``pip install 'cadence-studio[opentelemetry]'``).

    Attach it with ``cadence.with_hooks(reporter)`` (or ``with_reporter(reporter.report)``: one span per
    report, see :meth:`report`). It makes a span per cadence run (``cadence
    NAME``), ``.child`` measure (``child NAME``, the child cadence's span under it) and note
    (``note NAME``) with the real start and end times; note spans are children of their cadence
    span and ``.sync`` notes are siblings. A failed note or run gets an error status and an
    exception event. Attributes: ``cadence.node_id``, ``cadence.run_id``, ``cadence.status``,
    ``cadence.retry.attempts`` on notes, ``cadence.merge.conflicts`` on cadence spans (each merge
    is also a ``merge`` span event there), ``cadence.service`` = ``service_name``.

    ``service_name`` names the tracer (the instrumentation scope); the ``service.name`` resource
    belongs to the ``tracer_provider`` (the global one when ``None``). State is kept per run (by
    ``run_id``), so one instance serves concurrent runs.
    """

    def __init__(self, service_name: str = "cadence", tracer_provider: Any = None) -> None:
        try:
            from opentelemetry import trace
        except ImportError as exc:
            msg = "OpenTelemetryReporter needs opentelemetry: pip install 'cadence-studio[opentelemetry]'"
            raise ImportError(msg) from exc
        self.service_name = service_name
        provider = trace.get_tracer_provider() if tracer_provider is None else tracer_provider
        self.tracer = provider.get_tracer(service_name)
        self._builder = SpanBuilder(self.tracer, attributes={"cadence.service": service_name})

    def report(self, note_name: str, elapsed: float, score: Any) -> None:
        """The classic reporter: ``cadence.with_reporter(reporter.report)``.

        Records one span named ``note_name`` that ends now and started ``elapsed`` seconds ago, under
        whatever span is current (attributes ``cadence.service``, ``cadence.score_type``). The
        signature does not say whether a name is a note or a cadence, so these spans do not nest
        by measure: attach the reporter with ``with_hooks`` for that.
        """
        end = time.time_ns()
        span = self.tracer.start_span(
            note_name,
            attributes={"cadence.service": self.service_name, "cadence.score_type": type(score).__name__},
            start_time=end - int(elapsed * 1_000_000_000),
        )
        span.end(end_time=end)

    def on_event(self, event: ev.Event) -> None:
        """Update the spans from one event (the hook entry point)."""
        self._builder.on_event(event)
