"""The built-in hooks: logging, timing, metrics, debug printing and tracing.

Public through :mod:`cadence.hooks`. Each serves concurrent runs: what it keeps per run is keyed by
the run id every event carries, and only the last ``keep_runs`` finished runs are kept.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from typing import IO, Any, Generic, TypeVar

from . import events as ev
from ._hook_base import CadenceHooks, _where
from ._spans import SpanBuilder

__all__ = ["DebugHooks", "LoggingHooks", "MetricsHooks", "RunCounts", "TimingHooks", "TracingHooks"]


def _short(run_id: str | None, length: int | None) -> str | None:
    return run_id[:length] if run_id and length else run_id


class _Stats:
    """Count, total and maximum of a name's durations."""

    __slots__ = ("count", "max", "total")

    def __init__(self, first: float) -> None:
        self.count = 1
        self.total = first
        self.max = first

    def add(self, duration: float) -> None:
        self.count += 1
        self.total += duration
        if duration > self.max:
            self.max = duration

    def as_dict(self) -> dict[str, float]:
        return {"count": self.count, "total": self.total, "mean": self.total / self.count, "max": self.max}


R = TypeVar("R")


class _OpenRun(Generic[R]):
    __slots__ = ("cadences", "record")

    def __init__(self, record: R) -> None:
        self.cadences = 1  # how many of the run's cadences (itself, its children) are running
        self.record = record


class _RunRecords(Generic[R]):
    """A hook's per-run records: those of runs in progress, and of the last ``keep`` finished.

    Fed the run's ``RunStarted``/``RunFinished`` events (the caller holds its lock). Child
    cadences start and finish inside their parent, so a run is open while any of its cadences
    is: it ends with the outermost one. A run seen again after it ended (a hook attached to a
    child cadence that a run uses twice) gets its record back.
    """

    __slots__ = ("_factory", "finished", "keep", "open")

    def __init__(self, keep: int, factory: Callable[[], R]) -> None:
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
            msg = f"keep_runs must be an int >= 0, got {keep!r}"
            raise ValueError(msg)
        self.keep = keep
        self._factory = factory
        self.open: dict[str, _OpenRun[R]] = {}
        self.finished: OrderedDict[str, R] = OrderedDict()

    def on_event(self, event: ev.Event) -> None:
        run_id = event.run_id
        if not run_id:
            return
        entry = self.open.get(run_id)
        if isinstance(event, ev.RunStarted):
            if entry is not None:
                entry.cadences += 1
            else:
                record = self.finished.pop(run_id, None)
                self.open[run_id] = _OpenRun(self._factory() if record is None else record)
        elif entry is not None:  # RunFinished
            entry.cadences -= 1
            if entry.cadences <= 0:
                del self.open[run_id]
                if self.keep:
                    self.finished[run_id] = entry.record
                    if len(self.finished) > self.keep:
                        self.finished.popitem(last=False)

    def get(self, run_id: str | None) -> R | None:
        if not run_id:
            return None
        entry = self.open.get(run_id)
        return entry.record if entry is not None else self.finished.get(run_id)


class LoggingHooks(CadenceHooks):
    """Logs each cadence and note start, end, failure and retry, one record per line.

    Every line starts with ``[run node]``: the run id (its first ``run_id_length`` characters;
    ``None`` for the whole id) and the id of the node it concerns (``checkout/enrich/fetch_user``),
    so the lines of concurrent runs can be told apart; ``-`` stands for the run when a method is
    called outside a run. Records also carry ``cadence_run_id`` (the whole id, or ``None``),
    ``cadence_node_id`` and ``cadence_depth`` for formatters and filters. Durations come from the
    events: the hook keeps no state, so one instance serves any number of concurrent runs.
    """

    def __init__(
        self,
        logger: logging.Logger | None = None,
        level: int = logging.INFO,
        *,
        run_id_length: int | None = 8,
    ) -> None:
        self.logger = logger or logging.getLogger("cadence")
        self.level = level
        self.run_id_length = run_id_length

    def _log(self, level: int, name: str, msg: str, *args: Any) -> None:
        if not self.logger.isEnabledFor(level):
            return
        run_id, node_id, depth = _where(name)
        extra = {"cadence_run_id": run_id, "cadence_node_id": node_id, "cadence_depth": depth}
        short = _short(run_id, self.run_id_length) or "-"
        self.logger.log(level, "[%s %s] " + msg, short, node_id, *args, extra=extra)

    def before_cadence(self, name: str, score: Any) -> None:
        self._log(self.level, name, "cadence %s started", name)

    def after_cadence(
        self, name: str, score: Any, duration: float, error: BaseException | None = None
    ) -> None:
        ms = duration * 1000
        if error is None:
            self._log(self.level, name, "cadence %s finished in %.1f ms", name, ms)
        elif isinstance(error, Exception):
            self._log(logging.WARNING, name, "cadence %s failed after %.1f ms: %s", name, ms, error)
        else:
            self._log(logging.WARNING, name, "cadence %s cancelled after %.1f ms", name, ms)

    def before_note(self, name: str, score: Any) -> None:
        self._log(self.level, name, "note %s started", name)

    def after_note(self, name: str, score: Any, duration: float, error: BaseException | None = None) -> None:
        if error is None:
            self._log(self.level, name, "note %s finished in %.1f ms", name, duration * 1000)
        elif not isinstance(error, Exception):  # a failure is logged by on_error
            self._log(logging.WARNING, name, "note %s cancelled after %.1f ms", name, duration * 1000)

    def on_error(self, name: str, score: Any, error: BaseException) -> None:
        self._log(logging.ERROR, name, "note %s failed: %s", name, error)

    def on_retry(self, name: str, score: Any, attempt: int, max_attempts: int, error: BaseException) -> None:
        self._log(
            logging.WARNING, name, "note %s attempt %d/%d failed: %s", name, attempt, max_attempts, error
        )


class TimingHooks(CadenceHooks):
    """Collects note and cadence durations (seconds), across runs and per run.

    Across runs: ``timings[name] -> [durations]`` holds the newest durations of each note and
    cadence name: once a list grows a tenth past ``max_samples`` it is cut back to the newest
    ``max_samples`` (``None`` keeps every one). :meth:`summary` counts every duration ever
    recorded, cut or not.

    Per run: :meth:`of_run` gives ``{name: [durations]}`` of one run (its child cadences
    included: they share its run id), while it is in progress and after it ends; the records of
    the last ``keep_runs`` finished runs are kept (:attr:`recent_runs`), older ones are dropped, so
    a long-lived process holds a bounded amount. A run ends when its outermost cadence does, not
    when a child cadence does. Thread-safe: one instance may serve concurrent runs in any number of
    event loops and threads.
    """

    def __init__(self, *, keep_runs: int = 1000, max_samples: int | None = 10_000) -> None:
        if max_samples is not None and (
            isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1
        ):
            msg = f"TimingHooks(max_samples={max_samples!r}) must be a positive int or None"
            raise ValueError(msg)
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.max_samples = max_samples
        self._stats: dict[str, _Stats] = {}
        self._runs: _RunRecords[dict[str, list[float]]] = _RunRecords(keep_runs, dict)
        self._lock = threading.Lock()

    @property
    def keep_runs(self) -> int:
        """How many finished runs' records are kept."""
        return self._runs.keep

    def on_event(self, event: ev.Event) -> None:
        if type(event) is ev.RunStarted or type(event) is ev.RunFinished:
            with self._lock:
                self._runs.on_event(event)

    _cadence_ended = on_event  # what HooksManager still calls once a subclass made it disable this hook

    def _record(self, name: str, duration: float) -> None:
        run_id = _where(name)[0]
        with self._lock:
            samples = self.timings[name]
            samples.append(duration)
            keep = self.max_samples
            if keep is not None and len(samples) > keep + max(1, keep // 10):
                del samples[:-keep]  # in batches: appending stays O(1)
            stats = self._stats.get(name)
            if stats is None:
                self._stats[name] = _Stats(duration)
            else:
                stats.add(duration)
            record = self._runs.get(run_id)
            if record is not None:
                record.setdefault(name, []).append(duration)

    def after_note(self, name: str, score: Any, duration: float, error: BaseException | None = None) -> None:
        self._record(name, duration)

    def after_cadence(
        self, name: str, score: Any, duration: float, error: BaseException | None = None
    ) -> None:
        self._record(name, duration)

    def summary(self) -> dict[str, dict[str, float]]:
        """``{name: {count, total, mean, max}}`` over every duration recorded since the start."""
        with self._lock:
            return {name: s.as_dict() for name, s in self._stats.items()}

    def of_run(self, run_id: str) -> dict[str, list[float]] | None:
        """``{name: [durations]}`` of a run in progress or one of the last ``keep_runs`` finished
        (a copy), or ``None`` for a run this hook has not seen or no longer keeps."""
        with self._lock:
            record = self._runs.get(run_id)
            return None if record is None else {name: list(d) for name, d in record.items()}

    @property
    def recent_runs(self) -> dict[str, dict[str, list[float]]]:
        """The records of the last ``keep_runs`` finished runs, oldest first (copies)."""
        with self._lock:
            return {
                run_id: {name: list(d) for name, d in record.items()}
                for run_id, record in self._runs.finished.items()
            }

    @property
    def in_flight(self) -> int:
        """How many runs this hook is seeing now (started, not yet ended)."""
        with self._lock:
            return len(self._runs.open)

    def clear(self) -> None:
        """Forget every duration and every finished run's record (runs in progress keep theirs)."""
        with self._lock:
            self.timings.clear()
            self._stats.clear()
            self._runs.finished.clear()


@dataclasses.dataclass
class RunCounts:
    """What :class:`MetricsHooks` counted for one run (its child cadences included)."""

    #: Note calls by note name (a retried note counts once).
    calls: dict[str, int] = dataclasses.field(default_factory=dict)
    #: Failed note calls by note name (not ``Skip``, not cancellation).
    errors: dict[str, int] = dataclasses.field(default_factory=dict)
    #: Failed attempts followed by a retry, by note name.
    retries: dict[str, int] = dataclasses.field(default_factory=dict)
    #: Cadences run by name: the run's own and each child cadence.
    runs: dict[str, int] = dataclasses.field(default_factory=dict)
    #: Cadences that ended with an error (or were cancelled), by name.
    failed_runs: dict[str, int] = dataclasses.field(default_factory=dict)

    def copy(self) -> RunCounts:
        return RunCounts(
            dict(self.calls), dict(self.errors), dict(self.retries), dict(self.runs), dict(self.failed_runs)
        )


def _bump(counts: dict[str, int], name: str) -> None:
    counts[name] = counts.get(name, 0) + 1


class MetricsHooks(CadenceHooks):
    """Counts calls, failures and retries per note, and runs per cadence, across runs and per run.

    Across runs: ``calls``, ``errors``, ``retries`` (by note name), ``runs`` and ``failed_runs``
    (by cadence name, child cadences included). Counts are exact under concurrent runs in one
    event loop and in several threads (every update holds a lock).

    Per run: :meth:`of_run` gives a run's :class:`RunCounts` while it is in progress and after it
    ends; the last ``keep_runs`` finished runs are kept (:attr:`recent_runs`), older ones dropped.
    :attr:`in_flight` is the number of runs in progress (never negative). A run ends when its
    outermost cadence does, not when a child cadence does.
    """

    def __init__(self, *, keep_runs: int = 1000) -> None:
        self.calls: dict[str, int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.retries: dict[str, int] = defaultdict(int)
        self.runs: dict[str, int] = defaultdict(int)
        self.failed_runs: dict[str, int] = defaultdict(int)
        self._runs: _RunRecords[RunCounts] = _RunRecords(keep_runs, RunCounts)
        self._lock = threading.Lock()

    @property
    def keep_runs(self) -> int:
        """How many finished runs' counts are kept."""
        return self._runs.keep

    def on_event(self, event: ev.Event) -> None:
        if type(event) is ev.RunStarted or type(event) is ev.RunFinished:
            with self._lock:
                self._runs.on_event(event)

    _cadence_ended = on_event  # what HooksManager still calls once a subclass made it disable this hook

    def _count(self, total: dict[str, int], field: str, name: str) -> None:
        run_id = _where(name)[0]
        with self._lock:
            total[name] += 1
            record = self._runs.get(run_id)
            if record is not None:
                _bump(getattr(record, field), name)

    def after_note(self, name: str, score: Any, duration: float, error: BaseException | None = None) -> None:
        self._count(self.calls, "calls", name)

    def on_error(self, name: str, score: Any, error: BaseException) -> None:
        self._count(self.errors, "errors", name)

    def on_retry(self, name: str, score: Any, attempt: int, max_attempts: int, error: BaseException) -> None:
        self._count(self.retries, "retries", name)

    def after_cadence(
        self, name: str, score: Any, duration: float, error: BaseException | None = None
    ) -> None:
        run_id = _where(name)[0]
        with self._lock:
            self.runs[name] += 1
            if error is not None:
                self.failed_runs[name] += 1
            record = self._runs.get(run_id)
            if record is not None:
                _bump(record.runs, name)
                if error is not None:
                    _bump(record.failed_runs, name)

    def of_run(self, run_id: str) -> RunCounts | None:
        """The counts of a run in progress or one of the last ``keep_runs`` finished (a copy), or
        ``None`` for a run this hook has not seen or no longer keeps."""
        with self._lock:
            record = self._runs.get(run_id)
            return None if record is None else record.copy()

    @property
    def recent_runs(self) -> dict[str, RunCounts]:
        """The counts of the last ``keep_runs`` finished runs, oldest first (copies)."""
        with self._lock:
            return {run_id: record.copy() for run_id, record in self._runs.finished.items()}

    @property
    def in_flight(self) -> int:
        """How many runs are in progress (started, not yet ended)."""
        with self._lock:
            return len(self._runs.open)


_write_lock = threading.Lock()


class DebugHooks(CadenceHooks):
    """Prints the score before and after every note (for quick debugging without the studio).

    Each line starts with ``[cadence RUN]``, the run id (its first ``run_id_length`` characters;
    ``None`` for the whole id), also each line of a multi-line score ``repr``. A line is written
    whole, in one write under a lock shared by every ``DebugHooks``, so the output of concurrent
    runs (event loops and threads alike) never mixes within a line.
    """

    def __init__(self, file: IO[str] | None = None, *, run_id_length: int | None = 8) -> None:
        self.file = file
        self.run_id_length = run_id_length

    def _print(self, name: str, text: str) -> None:
        run_id = _short(_where(name)[0], self.run_id_length)
        prefix = f"[cadence {run_id}] " if run_id else "[cadence] "
        out = "".join(f"{prefix}{line}\n" for line in text.split("\n"))
        file = self.file or sys.stderr
        with _write_lock:
            file.write(out)
            file.flush()

    def before_note(self, name: str, score: Any) -> None:
        self._print(name, f"→ {name}: {score!r}")

    def after_note(self, name: str, score: Any, duration: float, error: BaseException | None = None) -> None:
        outcome = f"failed: {error!r}" if error else f"{duration * 1000:.2f} ms"
        self._print(name, f"← {name} ({outcome}): {score!r}")


class TracingHooks(CadenceHooks):
    """A span per cadence run, ``.child`` measure and note, built from the event stream (``on_event``).

    With a real OpenTelemetry tracer (``trace.get_tracer(...)``) spans carry the real start and end
    times, notes nest under their cadence span (``.sync`` notes are siblings), a child cadence nests
    under its ``.child`` span, a failure sets an error status and records an exception event, and
    note spans carry ``cadence.node_id`` and ``cadence.retry.attempts``; merges are span events on
    the cadence span, which carries ``cadence.merge.conflicts``. Any object with
    ``start_span(name, attributes=...)`` whose spans have ``end()`` works too (without nesting).

    State is kept per run (by ``run_id``), so one instance serves concurrent runs.
    """

    def __init__(self, tracer: Any) -> None:
        self.tracer = tracer
        self._builder = SpanBuilder(tracer)

    def on_event(self, event: ev.Event) -> None:
        self._builder.on_event(event)
