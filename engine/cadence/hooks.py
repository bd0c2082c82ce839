"""Hooks: objects told about each cadence and note as a run goes (built on the event stream).

A hook may implement any of the :class:`CadenceHooks` methods, sync or async, and ``on_event(event)``
to receive every event of the run (:mod:`cadence.events`) before the classic methods are called.
A hook that raises never changes a run's outcome: it is logged once and ignored for the rest of
that run.

The built-in hooks serve concurrent runs: one instance may be attached to a cadence that runs many
times at once, in one event loop or in several threads. What they keep per run is keyed by the run
id every event carries (a child cadence's events carry its parent's run id, so a run's record covers
its children), and only the last ``keep_runs`` finished runs are kept.
"""

from __future__ import annotations

from ._builtin_hooks import DebugHooks, LoggingHooks, MetricsHooks, RunCounts, TimingHooks, TracingHooks
from ._hook_base import CadenceHooks, HooksManager, current_run_id

__all__ = [
    "CadenceHooks",
    "DebugHooks",
    "HooksManager",
    "LoggingHooks",
    "MetricsHooks",
    "RunCounts",
    "TimingHooks",
    "TracingHooks",
    "current_run_id",
]
