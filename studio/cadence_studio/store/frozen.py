"""What freezing a note as a test needs from a recorded run: the note, and the score before and after it.

Both scores come from the run's checkpoints (``.cadence/checkpoints.sqlite3``), as the engine serialised
them (``cadence.serialize_score``): the worker keeps the root score before each top-level measure (see
``cadence_studio.protocol.scores_before``), so the score after a top-level note is
the one before the next measure, or the run's last saved score after the last one. Nothing here
imports the user's code: the rows are JSON text, the note is named by the run's graph.

A note inside a ``.sync``, ``.split``, ``.sequence`` or ``.child`` ran on a score no checkpoint holds on
its own (a copy, a child's score): it is refused with the reason.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from typing import Any

from cadence import SQLiteCheckpointStore

from .. import protocol as p
from ..errors import HistoryError
from ..protocol import scores_before
from .checkpoints import checkpoint_file, checkpoint_of
from .history import History

__all__ = ["RecordedNote", "recorded_note"]


@dataclasses.dataclass(frozen=True)
class RecordedNote:
    """A top-level note of a recorded run, and the root score before and after it (JSON values)."""

    run: int
    cadence: str
    node_id: str
    name: str
    module: str
    qualname: str
    file: str | None
    score_type: str  # "module:Qualname"
    before: dict[str, Any]
    after: dict[str, Any]

    @property
    def changed(self) -> dict[str, Any]:
        """The fields the note wrote, as it left them."""
        return {k: v for k, v in self.after.items() if k not in self.before or self.before[k] != v}


def recorded_note(history: History, run: int, node_id: str) -> RecordedNote:
    """Note ``node_id`` of history run ``run``, with its recorded input and output scores.

    Raises:
        HistoryError: no such run or node, the note is not top-level, did not finish well, or the run
            has no checkpoints (each message says what to do instead).
    """
    summary, checkpoint = checkpoint_of(history, run)
    _, messages = history.load(run)
    began = next(m for m in messages if isinstance(m, p.RunBegan))
    graph = began.graph
    tops = graph.get("children") or []
    node = next((child for child in tops if child.get("id") == node_id), None)
    if node is None or node.get("kind") != "note":
        raise HistoryError(_not_top_level(run, node_id, graph))
    status = _status(messages, node_id)
    if status != "done":
        why = "did not run" if status is None else f"ended {status}"
        msg = f"{node_id} {why} in run {run}: freeze a note that finished (done); it has no output to assert"
        raise HistoryError(msg)
    path = checkpoint_file(history)
    before = _before(path, checkpoint, node_id)
    index = [t.get("id") for t in tops].index(node_id)
    after = _before(path, checkpoint, tops[index + 1]["id"]) if index + 1 < len(tops) else None
    if after is None:
        saved = SQLiteCheckpointStore(path).load(checkpoint) if path.exists() else None
        after = dict(saved.fields.get(graph["id"], {})) if saved is not None else None
    if before is None or after is None:
        which = "before" if before is None else "after"
        msg = (
            f"run {run} has no saved score {which} {node_id} (it ran before the studio kept them); "
            f"run it again: cadence-studio run {summary.target}"
        )
        raise HistoryError(msg)
    info = node.get("note") or {}
    return RecordedNote(
        run=run,
        cadence=str(graph.get("name", summary.entry)),
        node_id=node_id,
        name=str(node.get("name", node_id.rsplit("/", 1)[-1])),
        module=str(info.get("module", "")),
        qualname=str(info.get("qualname", "")),
        file=info.get("file"),
        score_type=json.loads(before.get("$type") or after.get("$type") or '""'),
        before=_values(before),
        after=_values(after),
    )


def _values(fields: dict[str, str]) -> dict[str, Any]:
    return {name: json.loads(text) for name, text in fields.items() if not name.startswith("$")}


def _before(path: Any, checkpoint: str, node_id: str) -> dict[str, str] | None:
    if not path.exists():
        return None
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return scores_before.score_before(db, checkpoint, node_id)
    finally:
        db.close()


def _status(messages: list[p.Message], node_id: str) -> str | None:
    status = None
    for message in messages:
        if isinstance(message, p.EventMessage) and message.event.get("node_id") == node_id:
            if message.event.get("kind") == "note_finished":
                status = str(message.event.get("status"))
    return status


def _not_top_level(run: int, node_id: str, graph: dict[str, Any]) -> str:
    tops = [c for c in graph.get("children") or [] if c.get("kind") == "note"]
    listing = ", ".join(str(c.get("id")) for c in tops) or "none"
    inside = next((c for c in graph.get("children") or [] if node_id.startswith(f"{c.get('id')}/")), None)
    where = (
        f"{node_id} is inside the {inside.get('kind')} {inside.get('id')}, where a note runs on a score no "
        "checkpoint keeps on its own"
        if inside is not None
        else f"run {run} has no note {node_id!r}"
    )
    return f"{where}; freeze one of the top-level notes of run {run}: {listing}"
