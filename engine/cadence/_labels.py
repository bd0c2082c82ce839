"""The short marks every view of a cadence shares: resilience badges, a run's marks, durations.

The diagrams, the studio's graph, its timeline and its command lines all draw these, so they are
defined once: a user reads ``↻3`` or ``12 ms`` the same way wherever it appears.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["badges", "format_duration", "run_marks"]


def badges(info: Mapping[str, Any], *, circuit_names: bool = True) -> list[str]:
    """A note's resilience decorators as short badges, outermost first: ``↻3 ◷2s ↪ ⚡payments``.

    These say what the note is set up to do (``↻3``: up to 3 attempts); :func:`run_marks` says
    what a run did.
    """
    out = []
    for policy in info.get("resilience") or []:
        kind = policy.get("kind")
        if kind == "retry":
            out.append(f"↻{policy.get('max_attempts', '')}")
        elif kind == "timeout":
            out.append(f"◷{policy.get('seconds', 0):g}s")
        elif kind == "fallback":
            out.append("↪")
        elif kind == "circuit_breaker":
            out.append(f"⚡{policy.get('name') or ''}" if circuit_names else "⚡")
        elif kind:
            out.append(str(kind))
    return out


def run_marks(status: Mapping[str, Any]) -> list[str]:
    """What resilience did to a note in a run, from its status entry: ``↻2`` (it took 2 attempts),
    ``↪`` (its fallback replaced a failure).

    ``status`` is one value of the ``statuses`` mapping the diagrams take:
    ``{"status": "done", "duration": 0.012, "attempts": 2, "fallback": True}``.
    """
    marks = []
    attempts = status.get("attempts")
    if isinstance(attempts, int) and not isinstance(attempts, bool) and attempts > 1:
        marks.append(f"↻{attempts}")
    if status.get("fallback") is True:
        marks.append("↪")
    return marks


def format_duration(seconds: float) -> str:
    """A duration in one style: ``45 µs``, ``12 ms``, ``1.23 s``, ``2 min 3 s``, ``1 h 5 min``."""
    seconds = max(0.0, float(seconds))
    # Each unit is used up to where its rounding would show the next unit's first value (1000 ms).
    if seconds < 0.0009995:
        return f"{seconds * 1_000_000:.0f} µs"
    if seconds < 0.9995:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 59.995:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
