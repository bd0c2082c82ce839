"""Reporters that print: one line per report, as text (:func:`console_reporter`,
:class:`ConsoleReporter`) or as JSON (:func:`json_reporter`)."""

from __future__ import annotations

import json
import sys
import time
from typing import IO, Any

__all__ = ["ConsoleReporter", "console_reporter", "json_reporter"]


def console_reporter(note_name: str, elapsed: float, score: Any, *, file: IO[str] | None = None) -> None:
    """Print ``[cadence] name: 12.34 ms`` to stdout (or ``file``)."""
    print(f"[cadence] {note_name}: {elapsed * 1000:.2f} ms", file=file or sys.stdout)


def json_reporter(note_name: str, elapsed: float, score: Any, *, file: IO[str] | None = None) -> None:
    """Print one JSON line per report: ``{"note", "elapsed_ms", "score_type", "timestamp"}``."""
    record = {
        "note": note_name,
        "elapsed_ms": round(elapsed * 1000, 3),
        "score_type": type(score).__name__,
        "timestamp": time.time(),
    }
    print(json.dumps(record), file=file or sys.stdout)


class ConsoleReporter:
    """:func:`console_reporter` as an object, bound to one stream.

    ``cadence.with_reporter(ConsoleReporter().report)`` (or the instance itself: it is callable)
    prints exactly what ``console_reporter`` prints. ``file=None`` means the ``sys.stdout`` of the
    moment of each report, so output captured later is still captured.
    """

    def __init__(self, file: IO[str] | None = None) -> None:
        self.file = file

    def report(self, note_name: str, elapsed: float, score: Any) -> None:
        """Print one report line (the reporter signature)."""
        console_reporter(note_name, elapsed, score, file=self.file)

    __call__ = report

    def __repr__(self) -> str:
        return f"ConsoleReporter(file={self.file!r})"
