"""``cadence-studio history diff`` and ``history provenance``: two recorded runs compared, and which note
wrote a score field, on a terminal (Rich tables) or as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.markup import escape

from ..protocol.field_writes import value_at
from ..protocol.session import RunRecord
from ..protocol.value_trees import join_path, split_path
from ..render.run_tables import comparison_table, provenance_table
from ..store.compare import compare_runs
from ..store.history import History, HistoryError
from ._options import CwdOpt
from .terminal_text import escaped

__all__ = ["DIFF_JSON", "PROVENANCE_JSON", "add_insight_commands", "diff_history", "provenance_history"]

DIFF_JSON = """\
{"a": RUN, "b": RUN, "differences": N, "notes": [NOTE, ...]} where RUN is {"id", "entry", "status",
"duration", "started", "error", "parent", "relation"} and NOTE, one per note (and .sync group, .split
and .child) in graph order, is {"node_id", "kind", "depth", "same": bool, "differs": [some of "status",
"writes", "duration", "resilience"], "a": SIDE, "b": SIDE}; SIDE is {"status", "ran": bool, "duration",
"attempts", "fell_back", "notes": [str], "writes": {FIELD: {"old", "new", "how"}}}. A note that did
not run has "ran": false and "status" "not run", "other branch" or "not in its cadence". Values are
the short reprs the studio shows; "how" is "note", "merge" (a .sync group's) or "child" (its merge)."""

PROVENANCE_JSON = """\
{"run": ID, "field": FIELD, "scope": SCOPE, "initial": REPR, "final": REPR, "writes": [{"node_id",
"path", "old", "new", "how"}, ...]} in the order the notes ended; SCOPE is "" for the run's own score
or the .child node id given with --in."""


def diff_history(
    history: History, a: int, b: int, *, as_json: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Print runs ``a`` and ``b`` side by side; 2 when either is not in the history, 1 when damaged."""
    err = escaped(err)
    for run_id in (a, b):
        try:
            history.get(run_id)
        except HistoryError as error:
            print(f"error: {error}", file=err)
            return 2
    try:
        comparison = compare_runs(history, a, b)
    except HistoryError as error:
        print(f"error: {error}", file=err)
        return 1
    if as_json:
        print(json.dumps(comparison.as_dict(), default=str), file=escaped(out, json=True))
    else:
        _console(out).print(comparison_table(comparison))
    return 0


def provenance_history(
    history: History,
    run_id: int,
    field: str,
    *,
    scope: str = "",
    as_json: bool,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Print every write of ``field`` (a path such as ``total`` or ``items.0``) in run ``run_id``."""
    err = escaped(err)
    try:
        history.get(run_id)
    except HistoryError as error:
        print(f"error: {error}", file=err)
        return 2
    try:
        record = history.replay(run_id)
    except HistoryError as error:
        print(f"error: {error}", file=err)
        return 1
    problem = _bad_field(record, run_id, field, scope)
    if problem is not None:
        print(f"error: {problem}", file=err)
        return 2
    writes = record.writes.provenance(field, scope)
    keys = split_path(field)
    initial = _repr(value_at(record.writes.initial(scope), keys))
    final = _repr(value_at(record.writes.latest(scope), keys))
    if as_json:
        data: dict[str, Any] = {
            "run": run_id,
            "field": field,
            "scope": scope,
            "initial": initial,
            "final": final,
            "writes": [w.as_dict() for w in writes],
        }
        print(json.dumps(data), file=escaped(out, json=True))
        return 0
    where = f"run #{run_id}" + (f", the score of {scope}" if scope else "")
    _console(out).print(provenance_table(field, writes, where=where, initial=initial))
    return 0


def _bad_field(record: RunRecord, run_id: int, field: str, scope: str) -> str | None:
    """Why ``field`` (in the score of ``scope``) cannot be traced in the run, or None."""
    scopes = record.writes.scopes()
    if scope not in scopes:
        children = [s for s in scopes if s]
        known = f"its .child nodes: {', '.join(children)}" if children else "it entered no .child"
        return (
            f"--in {scope!r}: run {run_id} has no score of that .child ({known}); "
            "leave --in out for the run's own score"
        )
    score = record.writes.latest(scope)
    keys = split_path(field)
    if not keys or any(not key for key in keys):
        return f"{field!r} is not a field: give a name such as 'total', or a path into one such as 'items.0'"
    if value_at(score, keys) is not None or value_at(record.writes.initial(scope), keys) is not None:
        return None
    if record.writes.provenance(field, scope):  # removed by a note: it was there
        return None
    names = [str(key) for key, _ in (score or {}).get("c") or ()]
    inside = value_at(score, keys[:1]) if len(keys) > 1 else None
    if inside is not None:
        parts = [str(key) for key, _ in inside.get("c") or ()]
        return (
            f"no {field!r} in run {run_id}'s score: {join_path(keys[:1])!r} holds "
            f"{', '.join(parts[:20]) or 'nothing'}; give one of them"
        )
    fields = ", ".join(names) or "none"
    return f"no field {field!r} in run {run_id}'s score (its fields: {fields}); give one of them"


def _repr(node: dict[str, Any] | None) -> str | None:
    return None if node is None else str(node.get("r", ""))


def _console(out: TextIO) -> Console:
    return Console(file=out, highlight=False, soft_wrap=False)


def add_insight_commands(history_app: typer.Typer) -> None:
    """``history diff`` and ``history provenance``, on the ``history`` command group."""

    @history_app.command(
        "diff",
        help="Compare two recorded runs: per note, in graph order, each run's status, time and the score "
        "fields it wrote (old → new); what differs is highlighted.\n\n"
        "Example: cadence-studio history diff 11 12\n\n"
        f"--json prints one object: {escape(' '.join(DIFF_JSON.split()))}",
    )
    def history_diff(
        a: Annotated[
            int, typer.Argument(help="The first run's number, as `cadence-studio history` lists it.")
        ],
        b: Annotated[int, typer.Argument(help="The second run's number.")],
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object (its shape: above).")] = False,
        cwd: CwdOpt = Path("."),
    ) -> None:
        raise typer.Exit(diff_history(History(cwd), a, b, as_json=as_json))

    @history_app.command(
        "provenance",
        help="Which notes wrote a score field in a recorded run, in order, old → new (a .sync group's "
        "merge and a .child's merge are listed when they set it).\n\n"
        "Example: cadence-studio history provenance 12 total\n\n"
        f"--json prints one object: {escape(' '.join(PROVENANCE_JSON.split()))}",
    )
    def history_provenance(
        run_id: Annotated[
            int, typer.Argument(help="The run's number, as `cadence-studio history` lists it.")
        ],
        field: Annotated[
            str,
            typer.Argument(help="A field of the score (total), or a path into one (items.0, address.city)."),
        ],
        scope: Annotated[
            str, typer.Option("--in", help="A .child's node id: the field of that child's own score.")
        ] = "",
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object (its shape: above).")] = False,
        cwd: CwdOpt = Path("."),
    ) -> None:
        raise typer.Exit(provenance_history(History(cwd), run_id, field, scope=scope, as_json=as_json))
