"""The worker's side of durable runs: the project's checkpoint store, and the score a re-run starts from.

Every run the studio starts is checkpointed into one SQLite file (the engine's
:class:`~cadence.SQLiteCheckpointStore`). The engine keeps only a run's latest state, but a re-run from
a note needs the score as it was *before* that note: so the studio's store also keeps, per run, the
root score as it stood before each top-level measure (``studio_before``: one row per measure, the
score's fields as the engine serialised them). The engine's ``start_at`` works on top-level measures,
so these are all the starting points a re-run can have.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cadence import Cadence, CheckpointError, SQLiteCheckpointStore, restore_score
from cadence.checkpoint import CheckpointWrite

__all__ = ["StudioStore", "plan_rerun", "score_before", "store_for", "top_measure"]

_BEFORE = """
CREATE TABLE IF NOT EXISTS studio_before (
    run_id TEXT NOT NULL, node_id TEXT NOT NULL, fields TEXT NOT NULL, UNIQUE (run_id, node_id)
);
"""


class StudioStore(SQLiteCheckpointStore):
    """The engine's SQLite store, plus the root score before each top-level measure of the runs it was
    told about (:meth:`follow`)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self.connection().executescript(_BEFORE)
        self._lock = threading.Lock()
        # run id -> (root scope, top-level ids in order, the root's fields as saved so far)
        self._followed: dict[str, tuple[str, list[str], dict[str, str]]] = {}

    def follow(self, run_id: str, cadence: Cadence[Any], *, resume: bool = False) -> None:
        """Keep the score before each top-level measure of ``run_id`` (a run of ``cadence``)."""
        graph = cadence.describe()
        root = graph["id"]
        tops = [child["id"] for child in graph.get("children", [])]
        fields: dict[str, str] = {}
        if resume:
            saved = self.load(run_id)
            if saved is not None:
                fields = dict(saved.fields.get(root, {}))
        with self._lock:
            self._followed[run_id] = (root, tops, fields)

    def write(self, batch: CheckpointWrite) -> None:
        super().write(batch)
        with self._lock:
            followed = self._followed.get(batch.run_id)
            if followed is None:
                return
            root, tops, fields = followed
            fields.update(batch.fields.get(root, {}))
            done = set(batch.done)
            if batch.cadence is not None:  # the first write: the score before the first measure it runs
                nexts = [next((t for t in tops if t not in done), None)]
            else:  # after each top-level measure: the score before the next one
                nexts = [tops[i + 1] if i + 1 < len(tops) else None for i, t in enumerate(tops) if t in done]
            rows = [(batch.run_id, node, json.dumps(fields)) for node in nexts if node is not None]
            if batch.status is not None and batch.status != "running":
                self._followed.pop(batch.run_id, None)
        if rows:
            self.connection().executemany(
                "INSERT INTO studio_before VALUES (?, ?, ?) "
                "ON CONFLICT (run_id, node_id) DO UPDATE SET fields = excluded.fields",
                rows,
            )

    def before(self, run_id: str, node_id: str) -> dict[str, str] | None:
        """The root score's saved fields just before top-level measure ``node_id`` of ``run_id``."""
        row = (
            self.connection()
            .execute("SELECT fields FROM studio_before WHERE run_id = ? AND node_id = ?", (run_id, node_id))
            .fetchone()
        )
        return None if row is None else dict(json.loads(row[0]))


_stores: dict[str, StudioStore] = {}


def store_for(path: str) -> StudioStore:
    """One store per file for the worker's life."""
    store = _stores.get(path)
    if store is None:
        store = _stores[path] = StudioStore(path)
    return store


def top_measure(cadence: Cadence[Any], node_id: str) -> tuple[str, list[str]]:
    """The top-level measure holding ``node_id`` (itself, or its group or child) and all of them in order.

    Raises:
        CheckpointError: ``node_id`` is no node of ``cadence`` (the message lists the top-level ids).
    """
    graph = cadence.describe()
    tops = [child["id"] for child in graph.get("children", [])]
    for top in tops:
        if node_id == top or node_id.startswith(top + "/"):
            return top, tops
    msg = (
        f"{node_id!r} is no note of cadence {cadence.name!r} as it is now; a re-run starts at one of "
        f"its measures: {', '.join(tops)}"
    )
    raise CheckpointError(msg)


def _score_type(fields: Mapping[str, str], cadence: Cadence[Any]) -> type:
    saved = fields.get("$type")
    if saved is not None:
        module, _, qualname = json.loads(saved).partition(":")
        found: Any = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
        return found  # type: ignore[no-any-return]
    return type(cadence.get_score())


def score_before(store: StudioStore, cadence: Cadence[Any], base: str, start_at: str) -> Any:
    """The score of run ``base`` just before top-level measure ``start_at``, restored.

    Raises:
        CheckpointError: the run never reached that measure (or ran before scores were kept).
    """
    fields = store.before(base, start_at)
    if fields is None:
        msg = (
            f"run {base!r} has no saved score from before {start_at!r}: it did not reach that measure "
            "(or it started after it); re-run from a measure it ran"
        )
        raise CheckpointError(msg, run_id=base)
    data = {name: json.loads(text) for name, text in fields.items() if not name.startswith("$")}
    return restore_score(_score_type(fields, cadence), data)


def plan_rerun(
    store: StudioStore, cadence: Cadence[Any], base: str, node_id: str
) -> tuple[str, list[str], list[str], Any]:
    """Where a re-run from ``node_id`` of ``base`` starts, the measures reused and run, and its score."""
    start_at, tops = top_measure(cadence, node_id)
    score = score_before(store, cadence, base, start_at)
    index = tops.index(start_at)
    return start_at, tops[:index], tops[index:], score
