"""``cadence-studio source`` and ``cadence-studio freeze``: the studio's Source pane and its "freeze a
note as a test" (f), on a terminal."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console

from ..errors import HistoryError, ScaffoldError
from ..store.history import History
from ..ui.freezing import freeze_recorded
from ..ui.source import SourceError, note_source, syntax
from ..ui.widgets.note_details import find_node
from ._options import CwdOpt
from .headless import _catalog, _pick
from .terminal_text import escaped

__all__ = ["freeze", "freeze_command", "print_source", "source_command"]


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


def source_command(
    target: Annotated[str, typer.Argument(help="A module or file, with :name if it has several cadences.")],
    node_id: Annotated[str, typer.Argument(help="The note's id, as `cadence-studio list` shows it.")],
    cwd: CwdOpt = Path("."),
) -> None:
    """Print a note's source, highlighted, its first line marked (the studio's Source pane).

    Example: cadence-studio source examples/shop.py:checkout checkout/load_cart
    """
    raise typer.Exit(asyncio.run(print_source(target, node_id, cwd=cwd)))


def freeze_command(
    run_id: Annotated[int, typer.Argument(help="A recorded run's number (`cadence-studio history`).")],
    node_id: Annotated[str, typer.Argument(help="A top-level note of that run that finished.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Folder for the test (default: tests/).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite the test if it exists.")] = False,
    cwd: CwdOpt = Path("."),
) -> None:
    """Write a pytest file that runs a note alone on its recorded input and checks its recorded output.

    Example: cadence-studio freeze 12 checkout/price    (writes tests/test_checkout_price.py)
    """
    raise typer.Exit(freeze(run_id, node_id, cwd=cwd, directory=output, force=force))
