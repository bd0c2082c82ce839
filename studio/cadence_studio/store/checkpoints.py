"""Durable runs, on the UI's side: where the project's checkpoints live, and which run can go on how.

Every recorded run is checkpointed into ``.cadence/checkpoints.sqlite3`` beside the run history (the
engine's SQLite store, written by the worker). The UI gives each run its checkpoint id in
:class:`~cadence_studio.protocol.Durable`; the worker repeats it in the run's
:class:`~cadence_studio.protocol.RunBegan`, the history's first line of the run, so a history run maps
to its checkpoints. A run recorded nowhere (``--no-history``) is checkpointed nowhere either.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from .. import protocol as p
from ..errors import HistoryError
from .history import History, RunSummary

__all__ = [
    "CHECKPOINT_FILE",
    "RESUMABLE",
    "checkpoint_file",
    "checkpoint_of",
    "new_run",
    "rerun_of",
    "resume_of",
    "resumed_as",
]

CHECKPOINT_FILE = "checkpoints.sqlite3"
#: History statuses of runs that can be resumed: their worker died, they were stopped or failed.
RESUMABLE = frozenset(
    {"crashed", "unknown", "unfinished", "stopped", "failed", "cancelled", "stopped by reload"}
)


def checkpoint_file(history: History) -> Path:
    """The project's checkpoint store, beside its run history."""
    return history.path.parent / CHECKPOINT_FILE


def new_run(history: History | None) -> p.Durable | None:
    """The checkpointing of a new run (none when runs are not recorded)."""
    if history is None:
        return None
    return p.Durable(store=str(checkpoint_file(history)), run_id=f"studio-{uuid.uuid4().hex}")


def checkpoint_of(history: History, run: int) -> tuple[RunSummary, str]:
    """Run ``run`` of the history and its checkpoint id.

    Raises:
        HistoryError: no such run, or it was not checkpointed (the message says why).
    """
    summary, messages = history.load(run)
    began = next((m for m in messages if isinstance(m, p.RunBegan)), None)
    if began is None or began.checkpoint is None:
        msg = (
            f"run {run} has no checkpoints (it was recorded before the studio checkpointed its runs); "
            f"start it again: cadence-studio run {summary.target}"
        )
        raise HistoryError(msg)
    return summary, began.checkpoint


def resume_of(history: History, run: int, *, in_studio: bool = False) -> tuple[RunSummary, p.Durable]:
    """How to resume run ``run``: it goes on under its own checkpoint id.

    ``in_studio``: refusals say what to do with the studio's keys rather than the command line's flags.

    Raises:
        HistoryError: no such run, it finished, it has no checkpoints, or it was already resumed
            (the message names the run it went on as, by its history number).
    """
    summary, checkpoint = checkpoint_of(history, run)
    newest = resumed_as(history, run)
    if newest is not None:  # it goes on under the same checkpoint id: that run is where it went on
        if newest.status in RESUMABLE:
            then = f"resume {newest.id} instead: " + _resume_hint(newest.id, in_studio)
        else:
            how = "finished" if newest.status == "done" else f"ended {newest.status}"
            then = f"it {how}; to run part of it again: " + _rerun_hint(newest.id, in_studio)
        msg = f"run {run} was already resumed as run {newest.id}; {then}"
        raise HistoryError(msg)
    if summary.status not in RESUMABLE:
        how = "it finished" if summary.status == "done" else f"it ended {summary.status}"
        msg = (
            f"run {run} cannot be resumed: {how}; only a run whose worker died, that was stopped or "
            f"that failed goes on. To run part of it again: {_rerun_hint(run, in_studio)}"
        )
        raise HistoryError(msg)
    return summary, p.Durable(store=str(checkpoint_file(history)), run_id=checkpoint, resume=True)


def _resume_hint(run: int, in_studio: bool) -> str:
    return f"open run #{run} with h and press R" if in_studio else f"cadence-studio run --resume {run}"


def _rerun_hint(run: int, in_studio: bool) -> str:
    return f"select a note of run #{run} and press F" if in_studio else f"--from {run}:NODE_ID"


def resumed_as(history: History, run: int) -> RunSummary | None:
    """The newest run that continues ``run`` (its resume, the resume of that, and so on), or None.

    A resume goes on under its parent's checkpoint id, so only the newest of the chain can go on.
    """
    resumes: dict[int, RunSummary] = {}
    for summary in reversed(history.runs(history.keep)):  # oldest first: the newest resume wins
        if summary.relation == "resume" and summary.parent is not None:
            resumes[summary.parent] = summary
    newest, seen = resumes.get(run), {run}
    while newest is not None and newest.id in resumes and newest.id not in seen:
        seen.add(newest.id)
        newest = resumes[newest.id]
    return newest


def rerun_of(history: History, run: int, start_at: str) -> tuple[RunSummary, p.Durable]:
    """How to re-run run ``run`` from top-level measure ``start_at``: a new checkpoint id, on its score.

    Raises:
        HistoryError: no such run, or it has no checkpoints.
    """
    summary, checkpoint = checkpoint_of(history, run)
    fresh = new_run(history)
    assert fresh is not None
    return summary, fresh.model_copy(update={"start_at": start_at, "base": checkpoint})


def recorded_as(history: History, checkpoint: str, *, newest: int = 20) -> int | None:
    """The number of the history's run checkpointed as ``checkpoint`` (among the ``newest`` runs)."""
    for summary in history.runs(newest):
        if summary.unreadable is not None:
            continue
        try:
            _, messages = history.load(summary.id)
        except HistoryError:
            continue
        began = next((m for m in messages[:1] if isinstance(m, p.RunBegan)), None)
        if began is not None and began.checkpoint == checkpoint:
            return summary.id
    return None
