"""``cadence-studio history list`` and ``history show``: the project's recorded runs, on a terminal."""

from __future__ import annotations

import json
import sys
import time
from typing import TextIO

from cadence.diagram import format_duration

from .. import protocol as p
from ..protocol.target import parse_target
from ..store.history import History, HistoryError, RunSummary
from ..store.lineage import describe, origin, tree
from .run_output import print_messages
from .terminal_text import escaped

__all__ = ["list_history", "show_history"]


def list_history(
    history: History, *, limit: int, as_json: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Print the newest recorded runs of the project as a tree: each run under the run it came from
    (resumed or re-run), trees newest first; ``--json`` lists them newest first with their lineage."""
    out, err = escaped(out, json=as_json), escaped(err)
    try:
        runs = history.runs(limit)
    except HistoryError as error:
        print(f"error: {error}", file=err)
        return 2
    if as_json:
        print(json.dumps([r.as_dict() for r in runs], indent=2, default=str), file=out)
        return 0
    if not runs:
        print("no runs recorded yet", file=out)
    for row in tree(runs):
        line = row.prefix + _run_line(row.run)
        print(f"{line}  {row.orphan}" if row.orphan else line, file=out)
    return 0


def show_history(
    history: History, run_id: int, *, as_json: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Print one recorded run as ``cadence-studio run`` printed it: its events and its end."""
    out, err = escaped(out, json=as_json), escaped(err)
    try:
        summary = history.get(run_id)
    except HistoryError as error:
        print(f"error: {error}", file=err)
        return 2
    try:
        summary, messages = history.load(run_id)
    except HistoryError as error:  # the run is there, but damaged: say so, not a traceback
        print(f"error: {error}", file=err)
        return 1
    if as_json:
        print(json.dumps({"type": "run", **summary.as_dict()}, default=str), file=out)
    else:
        print(_run_line(summary), file=out)
        came_from = origin(summary)
        if came_from is not None:
            print(f"  {came_from}", file=out)
        if summary.args:
            print(f"  arguments: {json.dumps(summary.args, default=str)}", file=out)
        if summary.score is not None:
            print(f"  input score: {json.dumps(summary.score, default=str)}", file=out)
        print(file=out)
    print_messages(messages, as_json, out, err)
    if not any(isinstance(m, p.RunEnded) for m in messages) and not as_json:  # how it ended, then
        reason = summary.error or "the studio stopped it or was closed before it ended"
        print(f"\nrun {summary.status}: {reason}", file=out)
    return 0


def _run_line(run: RunSummary) -> str:
    """One run on one line; how it came from its parent (if it did) comes before its status."""
    if run.unreadable is not None:
        return f"#{run.id:<5} unreadable: {run.unreadable}"
    how = describe(run)
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started))
    took = format_duration(run.duration) if run.duration is not None else "—"
    tail = f"  {run.error}" if run.error else ""
    where = f"{parse_target(run.target).spec}:{run.entry}"
    status = f"{how} · {run.status}" if how else run.status
    return f"#{run.id:<5} {when}  {where}  {status}  {took}{tail}"
