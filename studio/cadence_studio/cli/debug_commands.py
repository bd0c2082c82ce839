"""``cadence-studio source`` and ``cadence-studio freeze``: the studio's Source pane and its "freeze a
note as a test" (f), on a terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from rich.console import Console

from ..errors import HistoryError, ScaffoldError
from ..store.history import History
from ..ui.freezing import freeze_recorded
from ..ui.source import SourceError, note_source, syntax
from ..ui.widgets.note_details import find_node
from .headless import _catalog, _pick
from .terminal_text import escaped

__all__ = ["freeze", "print_source"]


async def print_source(
    target: str, node_id: str, *, cwd: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Print the source of note ``node_id`` of ``target``'s cadence, highlighted (plain when piped)."""
    err = escaped(err)
    client, catalog = await _catalog(target, cwd, err)
    if catalog is None:
        return 2
    await client.close(grace=1.0)
    entry = _pick(catalog, target, err)
    if entry is None:
        return 2
    if entry.graph is None:
        print(
            f"error: {entry.name}() needs arguments to build its cadence; name a module-level one", file=err
        )
        return 2
    try:
        source = note_source(find_node(entry.graph, node_id), node_id)
    except SourceError as error:
        notes = _note_ids(entry.graph)
        print(f"error: {error} (the notes of {entry.name!r}: {', '.join(notes)})", file=err)
        return 2
    console = Console(file=out, highlight=False, soft_wrap=True)
    console.print(f"{source.file}:{source.line}", style="bold", markup=False)
    console.print(syntax(source))
    return 0


def _note_ids(graph: dict[str, object]) -> list[str]:
    out: list[str] = []
    stack = [graph]
    while stack:
        node = stack.pop()
        if node.get("kind") == "note":
            out.append(str(node.get("id")))
        children = node.get("children")
        stack.extend(reversed(children) if isinstance(children, list) else [])
    return out


def freeze(
    run: int,
    node_id: str,
    *,
    cwd: Path,
    directory: Path | None,
    force: bool,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Write a pytest file for note ``node_id`` of history run ``run``: its recorded input and output."""
    try:
        written = freeze_recorded(
            History(cwd), run, node_id, root=cwd.resolve(), directory=directory, force=force
        )
    except (HistoryError, ScaffoldError) as error:
        print(f"error: {error}", file=escaped(err))
        return 2
    print(f"wrote {written}", file=out)
    return 0
