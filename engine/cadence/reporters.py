"""Reporters: callables ``reporter(note_name, elapsed_seconds, score)`` called after every note and,
with the cadence's name and total time, after every run."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import IO, Any

__all__ = ["Reporter", "console_reporter", "json_reporter"]

Reporter = Callable[[str, float, Any], Any]


def console_reporter(note_name: str, elapsed: float, score: Any, *, file: IO[str] | None = None) -> None:
    """Print ``name: 12.34 ms`` to stdout (or ``file``)."""
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
