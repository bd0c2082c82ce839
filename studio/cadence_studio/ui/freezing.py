"""Freeze a note of a recorded run as a test: the run's checkpoints (:mod:`cadence_studio.store.frozen`)
rendered by scaffolding (:mod:`cadence_studio.scaffold.frozen`). The studio's ``f`` and
``cadence-studio freeze`` both call :func:`freeze_recorded`."""

from __future__ import annotations

from pathlib import Path

from ..scaffold.frozen import freeze_note
from ..store.frozen import recorded_note
from ..store.history import History

__all__ = ["freeze_recorded"]


def freeze_recorded(
    history: History,
    run: int,
    node_id: str,
    *,
    root: Path,
    directory: Path | None = None,
    force: bool = False,
) -> Path:
    """The test of ``node_id`` of run ``run``, written under ``root`` (raises HistoryError, ScaffoldError)."""
    note = recorded_note(history, run, node_id)
    return freeze_note(
        cadence=note.cadence,
        note=note.name,
        node_id=note.node_id,
        run=note.run,
        module=note.module,
        qualname=note.qualname,
        file=note.file,
        score_type=note.score_type,
        before=note.before,
        written=note.changed,
        root=root,
        directory=directory,
        force=force,
    )
