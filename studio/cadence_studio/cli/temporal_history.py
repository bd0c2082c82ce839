"""``cadence-studio history --temporal HOST:PORT`` and ``history show ID --temporal``: cadence runs on a
Temporal server, printed as the local history prints its runs (one event stream, one printer)."""

from __future__ import annotations

import json
import sys
import time
from typing import TextIO

from cadence.diagram import format_duration
from cadence.integrations.temporal.history import RunHistory

from .. import protocol as p
from ..errors import HistoryError
from ..store.temporal_runs import run_messages
from ..store.temporal_server import TemporalRun, fetch_run, list_runs, run_sync
from .run_output import print_messages
from .terminal_text import escaped

__all__ = ["list_temporal", "print_run", "run_line", "show_temporal"]


def run_line(run: TemporalRun) -> str:
    """One Temporal run on one line, in the columns of a local one (its workflow id for a number)."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started)) if run.started else "—"
    took = format_duration(run.duration) if run.duration is not None else "—"
    return f"{run.workflow_id}  {when}  temporal:{run.cadence}  {run.status}  {took}"


def list_temporal(
    address: str,
    namespace: str,
    *,
    limit: int,
    as_json: bool,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Print the newest cadence runs on the Temporal server at ``address``; exit 2 when it is down."""
    out, err = escaped(out, json=as_json), escaped(err)
    try:
        runs = run_sync(list_runs(address, namespace, limit=limit))
    except HistoryError as error:
        print(f"error: {error}", file=err)
        return 2
    if as_json:
        print(json.dumps([r.as_dict() for r in runs], indent=2, default=str), file=out)
        return 0
    if not runs:
        print(f"no cadence runs on the Temporal server at {address} (namespace {namespace})", file=out)
    for run in runs:
        print(run_line(run), file=out)
    return 0


def show_temporal(
    address: str,
    namespace: str,
    workflow_id: str,
    *,
    as_json: bool,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Print one cadence run of the Temporal server as ``history show`` prints a local one."""
    out, err = escaped(out, json=as_json), escaped(err)
    try:
        run, children = run_sync(fetch_run(address, workflow_id, namespace))
    except HistoryError as error:
        print(f"error: {error}", file=err)
        return 2
    print_run(run, run_messages(run, children=children), as_json=as_json, out=out, err=err)
    return 0


def print_run(run: RunHistory, messages: list[p.Message], *, as_json: bool, out: TextIO, err: TextIO) -> None:
    """A run read from a Temporal history: a header like a local run's, then its events and its end."""
    if as_json:
        header = {
            "type": "run",
            "source": "temporal",
            **{k: v for k, v in run.as_dict().items() if k != "steps"},
        }
        print(json.dumps(header, default=str), file=out)
    else:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started)) if run.started else "—"
        took = format_duration(run.duration) if run.duration is not None else "—"
        print(f"{run.workflow_id}  {when}  temporal:{run.cadence}  {run.status}  {took}", file=out)
        print(
            f"  Temporal workflow {run.workflow_id} (run {run.run_id}, task queue {run.task_queue})", file=out
        )
        if run.score_before:
            print(f"  input score: {json.dumps(run.score_before, default=str)}", file=out)
        print(file=out)
    print_messages(messages, as_json, out, err)
    if run.status == "running" and not as_json:
        print("\nrun still running on Temporal", file=out)
