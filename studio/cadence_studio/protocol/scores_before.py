"""The root score before each top-level measure of a run, as the worker keeps it beside its checkpoints.

A re-run from a note, and freezing a note as a test, need the score as it was *before* a top-level
measure; the engine's checkpoint keeps only a run's latest state. So the worker's store appends, in the
same transaction as each checkpoint, one row per checkpoint holding the root fields that checkpoint
changed (the engine's own delta: a field no note touched is written once, at the run's first
checkpoint), and names the top-level measure(s) that come next. The score before measure ``M`` is then
the fold of the run's rows up to the last one naming ``M``.

Files written before the rows were deltas have ``studio_before`` (the whole score per measure): read
when a run has no delta rows.

Standard library only: the worker writes these rows, the store (UI side) and the worker read them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping

__all__ = ["SCHEMA", "append_rows", "score_before"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS studio_steps (
    seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL, node_id TEXT, fields TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS studio_steps_run ON studio_steps (run_id, node_id);
"""


def append_rows(
    db: sqlite3.Connection, run_id: str, changed: Mapping[str, str], nexts: Iterable[str]
) -> None:
    """One checkpoint's root fields ``changed`` (name -> JSON text), and the measures that come next."""
    named: list[str | None] = list(nexts)
    if not changed and not named:
        return
    first, *others = named or [None]
    rows = [(run_id, first, json.dumps(dict(changed)) if changed else "{}")]
    rows.extend((run_id, node, "{}") for node in others)
    db.executemany("INSERT INTO studio_steps (run_id, node_id, fields) VALUES (?, ?, ?)", rows)


def score_before(db: sqlite3.Connection, run_id: str, node_id: str) -> dict[str, str] | None:
    """The root fields (name -> JSON text) of run ``run_id`` just before top-level measure ``node_id``;
    None when the run never reached it (or the file has neither table)."""
    try:
        (last,) = db.execute(
            "SELECT max(seq) FROM studio_steps WHERE run_id = ? AND node_id = ?", (run_id, node_id)
        ).fetchone()
    except sqlite3.OperationalError:  # a file from before the rows were kept
        last = None
    if last is not None:
        fields: dict[str, str] = {}
        for (text,) in db.execute(
            "SELECT fields FROM studio_steps WHERE run_id = ? AND seq <= ? ORDER BY seq", (run_id, last)
        ):
            if text != "{}":
                fields.update(json.loads(text))
        return fields
    try:
        row = db.execute(
            "SELECT fields FROM studio_before WHERE run_id = ? AND node_id = ?", (run_id, node_id)
        ).fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else dict(json.loads(row[0]))
