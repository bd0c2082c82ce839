"""The worker's side of durable runs: the project's checkpoint store, and the score a re-run starts from.

Every run the studio starts is checkpointed into one SQLite file (the engine's
:class:`~cadence.SQLiteCheckpointStore`). The engine keeps only a run's latest state, but a re-run from
a note needs the score as it was *before* that note: so the studio's store also keeps, per run, the
root score as it stood before each top-level measure, as the fields each checkpoint changed
(:mod:`cadence_studio.protocol.scores_before`). The engine's ``start_at`` works on top-level measures,
so these are all the starting points a re-run can have.
"""

from __future__ import annotations

import importlib
import json
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cadence import Cadence, CheckpointError, SQLiteCheckpointStore, restore_score
from cadence.checkpoint import CheckpointWrite

from ..protocol import scores_before

__all__ = ["StudioStore", "plan_rerun", "score_before", "store_for", "top_measure"]


class StudioStore(SQLiteCheckpointStore):
    """The engine's SQLite store, plus the root score before each top-level measure of the runs it was
    told about (:meth:`follow`): per checkpoint, the root fields it changed and the measure that comes
    next (:mod:`cadence_studio.protocol.scores_before`), in the checkpoint's own transaction."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self.connection().executescript(scores_before.SCHEMA)
        self._lock = threading.Lock()
        # run id -> (root scope, each top-level id -> the one after it)
        self._followed: dict[str, tuple[str, dict[str, str | None]]] = {}
        self._resuming: set[str] = set()  # runs whose next write is a resume's first

    def follow(
        self, run_id: str, cadence: Cadence[Any], *, resume: bool = False, graph: dict[str, Any] | None = None
    ) -> None:
        """Keep the score before each top-level measure of ``run_id`` (a run of ``cadence``, described
        by ``graph`` when the caller has it already: describing 10,000 notes takes a while)."""
        graph = graph if graph is not None else cadence.describe()
        tops = [child["id"] for child in graph.get("children", [])]
        following: dict[str, str | None] = dict(zip(tops, [*tops[1:], None], strict=True))
        with self._lock:
            self._followed[run_id] = (graph["id"], following)
            if resume:  # its first write goes on from where it stopped: the before rows are there
                self._resuming.add(run_id)

    def write(self, batch: CheckpointWrite) -> None:
        super().write(batch)
        if batch.status is not None and batch.status != "running":
            # A run's last checkpoint: the page cache of the connection that wrote it (up to 2 MB,
            # the writer thread's for the worker's life) is given back until the next run (issue 18).
            self.connection().execute("PRAGMA shrink_memory")

    def write_rows(self, db: sqlite3.Connection, batch: CheckpointWrite) -> None:
        super().write_rows(db, batch)
        with self._lock:
            followed = self._followed.get(batch.run_id)
            if followed is None:
                return
            root, following = followed
            if batch.cadence is not None and batch.run_id in self._resuming:
                self._resuming.discard(batch.run_id)
                nexts = []
            elif batch.cadence is not None:  # the first write: the score before the first measure it runs
                first = next((t for t in following if t not in batch.done), None)
                nexts = [first] if first is not None else []
            else:  # after each top-level measure: the score before the next one
                nexts = [n for d in batch.done if d in following and (n := following[d]) is not None]
            if batch.status is not None and batch.status != "running":
                self._followed.pop(batch.run_id, None)
        if root in batch.drop:  # a new run under an id the store knew: nothing of the old one stays
            db.execute("DELETE FROM studio_steps WHERE run_id = ?", (batch.run_id,))
        scores_before.append_rows(db, batch.run_id, batch.fields.get(root, {}), nexts)

    def before(self, run_id: str, node_id: str) -> dict[str, str] | None:
        """The root score's saved fields just before top-level measure ``node_id`` of ``run_id``."""
        return scores_before.score_before(self.connection(), run_id, node_id)


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
