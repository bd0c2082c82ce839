"""The text tree of a cadence (``cadence diagram -f text``, :func:`cadence.print_cadence`)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import IO, Any

from .model import CadenceLike, badge_text, clean, described, measure_name

__all__ = ["print_cadence", "to_text"]


def _one_line(text: str) -> str:
    return clean(text).replace("\n", "⏎")


def _text_line(measure: Mapping[str, Any]) -> str:
    name = _one_line(measure_name(measure))
    kind = measure.get("kind")
    if kind == "note":
        badges = badge_text(measure.get("note") or {})
        return f"{name}  note" + (f"  {badges}" if badges else "")
    if kind == "sync":
        return f"{name}  sync (merge: {measure.get('merge_strategy')})"
    if kind == "split":
        parallel = ", parallel" if measure.get("parallel") else ""
        return f"{name}  split on {(measure.get('condition') or {}).get('name')}(){parallel}"
    if kind == "branch":
        return name if measure.get("children") else f"{name}  (skip)"
    if kind == "child":
        return f"{name}  child → {measure.get('cadence')} (merge: {(measure.get('merge') or {}).get('name')})"
    return f"{name}  {kind}"


def to_text(c: CadenceLike) -> str:
    """An indented tree of the cadence's measures with their kinds and resilience badges."""
    desc = described(c)
    score = f" (score: {desc['score_type']})" if desc.get("score_type") else ""
    lines = [f"{_one_line(measure_name(desc))}  cadence{score}"]

    def walk(measures: list[Mapping[str, Any]], prefix: str) -> None:
        for index, measure in enumerate(measures):
            last = index == len(measures) - 1
            lines.append(f"{prefix}{'└─' if last else '├─'} {_text_line(measure)}")
            walk(measure.get("children") or [], prefix + ("   " if last else "│  "))

    walk(desc.get("children") or [], "")
    return "\n".join(lines) + "\n"


def print_cadence(c: CadenceLike, file: IO[str] | None = None) -> None:
    """Print :func:`to_text` of the cadence to ``file`` (standard output by default)."""
    (file or sys.stdout).write(to_text(c))
