"""Prometheus metrics of cadence runs: :class:`PrometheusReporter`.

``prometheus_client`` is imported only when a reporter is made, so importing this module needs
nothing outside the standard library.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from .. import events as ev

__all__ = ["PrometheusReporter"]


class PrometheusReporter:
    """Prometheus metrics of cadence runs (``pip install 'cadence-studio[prometheus]'``).

    Attach it as hooks, ``cadence.with_hooks(reporter)``, to get every metric (it reads the event
    stream through ``on_event``)::

        {prefix}_note_duration_seconds{cadence, note}          histogram
        {prefix}_cadence_duration_seconds{cadence}             histogram (child cadences too)
        {prefix}_notes_total{cadence, note, status}            done, failed, skipped, cancelled
        {prefix}_cadence_runs_total{cadence, status}           done, failed, skipped, interrupted, cancelled
        {prefix}_errors_total{cadence, note, error_type}       failed notes by exception type
        {prefix}_retries_total{cadence, note}                  retry attempts
        {prefix}_in_flight{cadence}                            runs in progress (never negative)

    ``cadence.with_reporter(reporter.report)`` (the classic ``(name, elapsed, score)`` signature)
    only observes durations, in ``{prefix}_reported_duration_seconds{name}``: that signature does
    not say whether a name is a note or a cadence.

    Several reporters with different prefixes share one registry; a second reporter with a prefix
    already registered in that registry raises :class:`ValueError` (reuse the first one instead).
    State is kept per run (by ``run_id``), so one instance serves any number of concurrent runs.
    """

    def __init__(
        self,
        prefix: str = "cadence",
        registry: Any = None,
        *,
        buckets: tuple[float, ...] | None = None,
    ) -> None:
        try:
            import prometheus_client as prom
        except ImportError as exc:
            msg = "PrometheusReporter needs prometheus_client: pip install 'cadence-studio[prometheus]'"
            raise ImportError(msg) from exc
        self.prefix = prefix
        self.registry = prom.REGISTRY if registry is None else registry
        extra: dict[str, Any] = {"buckets": buckets} if buckets is not None else {}
        made: list[Any] = []

        def metric(kind: Any, name: str, doc: str, labels: tuple[str, ...], **kw: Any) -> Any:
            try:
                m = kind(f"{prefix}_{name}", doc, labels, registry=self.registry, **kw)
            except ValueError as exc:
                for done in made:  # leave the registry as it was
                    self.registry.unregister(done)
                if "Duplicated" in str(exc):
                    msg = (
                        f"a PrometheusReporter with prefix {prefix!r} is already registered in this "
                        f"registry ({prefix}_{name} exists); use another prefix or reuse that reporter"
                    )
                    raise ValueError(msg) from exc
                raise
            made.append(m)
            return m

        self.note_duration = metric(
            prom.Histogram, "note_duration_seconds", "Note durations", ("cadence", "note"), **extra
        )
        self.cadence_duration = metric(
            prom.Histogram, "cadence_duration_seconds", "Cadence run durations", ("cadence",), **extra
        )
        self.notes = metric(prom.Counter, "notes", "Notes run, by status", ("cadence", "note", "status"))
        self.runs = metric(prom.Counter, "cadence_runs", "Cadence runs, by status", ("cadence", "status"))
        self.errors = metric(
            prom.Counter, "errors", "Failed notes, by error type", ("cadence", "note", "error_type")
        )
        self.retries = metric(prom.Counter, "retries", "Retry attempts", ("cadence", "note"))
        self.in_flight = metric(prom.Gauge, "in_flight", "Cadence runs in progress", ("cadence",))
        self.reported = metric(
            prom.Histogram,
            "reported_duration_seconds",
            "Durations given to the classic reporter signature",
            ("name",),
            **extra,
        )
        self._lock = threading.Lock()
        self._open: dict[str, tuple[str, str]] = {}  # run_id -> (root node id, cadence) counted in flight

    def report(self, note_name: str, elapsed: float, score: Any) -> None:
        """The classic reporter: ``cadence.with_reporter(reporter.report)`` (durations only)."""
        self.reported.labels(note_name).observe(elapsed)

    def on_event(self, event: ev.Event) -> None:
        """Update the metrics from one event (the hook entry point)."""
        if isinstance(event, ev.NoteFinished):
            error = event.error
            self._note_finished(
                event.cadence,
                event.name,
                event.status,
                event.duration,
                type(error).__name__ if error is not None else None,
            )
        elif isinstance(event, ev.RetryAttempt):
            self.retries.labels(event.cadence, event.name).inc()
        elif isinstance(event, ev.RunStarted):
            self._run_started(event.run_id, event.node_id, event.cadence)
        elif isinstance(event, ev.RunFinished):
            self._run_finished(event.run_id, event.node_id, event.cadence, event.status, event.duration)

    def on_event_data(self, data: Mapping[str, Any]) -> None:
        """Update the metrics from an event in its JSON form (:meth:`cadence.events.Event.as_dict`).

        For events that crossed a process boundary, such as the studio's worker stream
        (``cadence-studio run --metrics-port``); the metrics are the same as with :meth:`on_event`.
        """
        kind = data.get("kind")
        cadence = str(data.get("cadence", ""))
        if kind == "note_finished":
            error = data.get("error")
            error_type = str(error.get("type", "")).rsplit(".", 1)[-1] if isinstance(error, Mapping) else None
            self._note_finished(
                cadence,
                str(data.get("name", "")),
                str(data.get("status", "")),
                float(data.get("duration") or 0.0),
                error_type,
            )
        elif kind == "retry_attempt":
            self.retries.labels(cadence, str(data.get("name", ""))).inc()
        elif kind == "run_started":
            self._run_started(str(data.get("run_id")), str(data.get("node_id")), cadence)
        elif kind == "run_finished":
            self._run_finished(
                str(data.get("run_id")),
                str(data.get("node_id")),
                cadence,
                str(data.get("status", "")),
                float(data.get("duration") or 0.0),
            )

    def _note_finished(
        self, cadence: str, name: str, status: str, duration: float, error_type: str | None
    ) -> None:
        self.note_duration.labels(cadence, name).observe(duration)
        self.notes.labels(cadence, name, status).inc()
        if status == "failed" and error_type is not None:
            self.errors.labels(cadence, name, error_type).inc()

    def _run_started(self, run_id: str, node_id: str, cadence: str) -> None:
        with self._lock:
            if run_id in self._open:
                return
            self._open[run_id] = (node_id, cadence)
        self.in_flight.labels(cadence).inc()

    def _run_finished(self, run_id: str, node_id: str, cadence: str, status: str, duration: float) -> None:
        self.cadence_duration.labels(cadence).observe(duration)
        self.runs.labels(cadence, status).inc()
        with self._lock:
            if self._open.get(run_id) != (node_id, cadence):
                return
            del self._open[run_id]
        self.in_flight.labels(cadence).dec()
