"""How a run reads on a terminal: ``cadence-studio run`` prints it live, ``history show`` from the record.

One line per event worth reading (the graph's glyphs), the pause points, the end with the final score;
or with ``--json`` the messages themselves, one per line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from cadence.diagram import format_duration

from .. import protocol as p

__all__ = [
    "print_end",
    "print_event",
    "print_messages",
    "print_paused",
    "print_reused",
    "stall_warning",
    "watch_failed_text",
    "where",
]

_STUDIO = Path(__file__).resolve().parents[1]  # all of cadence_studio


def where(error: p.ErrorInfo) -> str:
    """`` (file:line)`` of an error in the user's code; nothing for the studio's or Python's own."""
    if not error.file or error.file.startswith("<") or Path(error.file).resolve().is_relative_to(_STUDIO):
        return ""
    return f" ({error.file}:{error.line})"


def print_event(message: p.EventMessage, as_json: bool, out: TextIO) -> None:
    event = message.event
    if as_json:
        print(json.dumps({"type": "event", **event}, default=str), file=out)
        return
    kind = event.get("kind")
    indent = "  " * int(event.get("depth", 0))
    node = event.get("node_id", "")
    if kind == "resumed":
        kept = event.get("completed") or []
        print(f"↻ resumed: {len(kept)} completed measures kept, not run again", file=out)
        print_reused(kept, as_json, out)
        changed = event.get("changed_notes") or []
        if changed:
            print(f"! notes changed since: {', '.join(changed)}", file=out)
    elif kind == "note_finished":
        status = event.get("status")
        took = format_duration(event.get("duration") or 0)
        error = event.get("error")
        tail = f"  {error['type']}: {error['message']}" if error else ""
        mark = {"done": "✓", "skipped": "·"}.get(str(status), "✗")  # the graph's glyphs
        print(f"{indent}{mark} {node}  {took}{tail}", file=out)
    elif kind == "branch_taken":
        print(f"{indent}◇ {node} → {event.get('branch')} (condition: {event.get('value')})", file=out)
    elif kind == "retry_attempt":
        error = event.get("error") or {}
        print(
            f"{indent}↻ {node} attempt {event.get('attempt')}/{event.get('max_attempts')} failed: "
            f"{error.get('message', '')}",
            file=out,
        )
    elif kind == "skipped":
        reason = event.get("reason")
        print(f"{indent}· {node} skipped" + (f": {reason}" if reason else ""), file=out)
    elif kind in ("timed_out", "fallback_used", "interrupted", "circuit_state_changed"):
        print(f"{indent}! {kind.replace('_', ' ')} at {node}", file=out)
    elif kind == "stalled":
        print(f"{indent}{stall_warning(event)}", file=out)
    elif kind == "merged" and event.get("error"):
        print(f"{indent}✗ {node} merge refused: {event['error']['message']}", file=out)
    elif kind == "merged" and event.get("conflicts"):
        print(
            f"{indent}⇉ {node} combined {', '.join(event['conflicts'])} ({event.get('strategy')})", file=out
        )


def stall_warning(event: dict[str, Any]) -> str:
    """The line for a ``stalled`` event: which note held the event loop, how long, and the fix."""
    blocked = format_duration(float(event.get("blocked") or 0))
    limit = format_duration(float(event.get("threshold") or 0))
    return (
        f"⚠ warning: {event.get('node_id', '')} blocked the event loop for {blocked} (over {limit}): "
        "blocking calls in an async def note stop every other note; make it a plain def "
        "(it then runs in a thread) or await them"
    )


def print_reused(node_ids: list[str], as_json: bool, out: TextIO) -> None:
    """A line per measure taken from the parent run (a resume's completed ones, a re-run's before it)."""
    if not as_json:
        for node in node_ids:
            print(f"↺ {node}  reused", file=out)  # the graph's glyph


def print_paused(message: p.Paused, as_json: bool, out: TextIO) -> None:
    if as_json:
        print(json.dumps(message.model_dump() | {"type": "paused"}, default=str), file=out)
    elif message.watch is not None:  # a data breakpoint: held right after the note that wrote
        *first, last = [message.watch, *message.also]
        for hit in first:
            print(f"◈ {hit.line()}", file=out)
        print(f"◈ {last.line()}; score: {_short(message.score)}", file=out)
    else:
        print(f"⏸ paused before {message.node_id} ({message.kind}); score: {_short(message.score)}", file=out)


def watch_failed_text(message: p.WatchFailed) -> str:
    """A watch expression that raised: said once a run, the run goes on."""
    after = f" after {message.node_id}" if message.node_id else " on the score before the first note"
    return (
        f"watch {message.watch.text!r} raised{after}: {message.error} "
        "(said once; it does not stop the run, fix the expression)"
    )


def print_end(message: p.RunEnded, as_json: bool, out: TextIO, err: TextIO) -> None:
    if as_json:
        print(json.dumps(message.model_dump(), default=str), file=out)
        return
    print(f"\nrun {message.status} in {format_duration(message.duration)}", file=out)
    if isinstance(message.score, dict):
        print(f"score ({message.score.get('t')}):", file=out)
        for key, child in message.score.get("c") or []:
            print(f"  {key} = {child.get('r')}", file=out)
    if message.error is not None:
        print(f"error: {message.error.type}: {message.error.message}{where(message.error)}", file=err)


def _short(tree: Any, limit: int = 400) -> str:
    text = tree.get("r", "") if isinstance(tree, dict) else repr(tree)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_messages(messages: list[p.Message], as_json: bool, out: TextIO, err: TextIO) -> None:
    """Print a recorded run's messages as `cadence-studio run` printed them live."""
    for message in messages:
        if isinstance(message, p.EventMessage):
            print_event(message, as_json, out)
        elif isinstance(message, p.Paused):
            print_paused(message, as_json, out)
        elif isinstance(message, p.RunEnded):
            print_end(message, as_json, out, err)
