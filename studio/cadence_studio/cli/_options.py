"""Command-line options both command lines (``cadence-studio`` and ``cadence``) share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["CwdOpt", "NamespaceOpt", "TemporalOpt", "existing_folder"]


def existing_folder(path: Path) -> Path:
    """Refuse a ``--cwd`` that is not a folder, before anything is imported, run or written there."""
    if not path.is_dir():
        why = "it is a file" if path.exists() else "it does not exist"
        msg = f"no folder {str(path)!r} ({why}); pass your project's folder, e.g. --cwd ."
        raise typer.BadParameter(msg, param_hint="--cwd")
    return path


CwdOpt = Annotated[
    Path,
    typer.Option(
        "--cwd",
        callback=existing_folder,
        help="Folder to import from (your project's root); it must exist.",
    ),
]

TemporalOpt = Annotated[
    str | None,
    typer.Option("--temporal", metavar="HOST:PORT", help="A Temporal server (its frontend address)."),
]
NamespaceOpt = Annotated[
    str | None,
    typer.Option(
        "--namespace", help="The Temporal namespace (default: [tool.cadence] namespace, else 'default')."
    ),
]
