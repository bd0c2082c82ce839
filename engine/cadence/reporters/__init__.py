"""Reporters: callables ``reporter(note_name, elapsed_seconds, score)`` called after every note and,
with the cadence's name and total time, after every run.

- :mod:`cadence.reporters.console`: :func:`console_reporter`, :func:`json_reporter`, :class:`ConsoleReporter`
- :mod:`cadence.reporters.prometheus`: :class:`PrometheusReporter` (needs ``prometheus_client``)
- :mod:`cadence.reporters.opentelemetry`: :class:`OpenTelemetryReporter` (needs ``opentelemetry``)

Importing this package loads neither library: each is imported when its reporter is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .console import ConsoleReporter, console_reporter, json_reporter
from .opentelemetry import OpenTelemetryReporter
from .prometheus import PrometheusReporter

__all__ = [
    "ConsoleReporter",
    "OpenTelemetryReporter",
    "PrometheusReporter",
    "Reporter",
    "console_reporter",
    "json_reporter",
]

#: What ``Cadence.with_reporter`` takes: ``(note_name, elapsed_seconds, score)``, sync or async.
Reporter = Callable[[str, float, Any], Any]
