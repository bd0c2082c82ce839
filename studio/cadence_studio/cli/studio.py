"""``cadence-studio``'s entry point: ``cadence-studio TARGET`` opens the studio as fast as it can.

For a TARGET alone, the worker is started first (standard library only, see :mod:`..spawn`), then the
UI is imported while the worker imports the user's module; the command line (Typer, the headless
commands, Temporal, the webhook...) is not imported at all. Anything else goes to
:mod:`.studio_commands`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

__all__ = ["main", "opens_at_once"]


def opens_at_once(args: list[str]) -> str | None:
    """The TARGET when ``args`` are a TARGET alone that cannot be a command's name (a file, a dotted
    module, ``module:name`` or ``@plugin``); None otherwise (the command line decides)."""
    if len(args) != 1:
        return None
    (target,) = args
    if target.startswith("-") or not any(mark in target for mark in "./:@"):
        return None
    return target


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    target = opens_at_once(args)
    if target is None:
        from .studio_commands import run_commands

        run_commands(args)
        return
    from ..memory import hold_collection
    from ..spawn import start_worker

    cwd = Path(".")
    early = start_worker(target, cwd)
    hold_collection()  # until the first graph is on screen (see cadence_studio.memory)
    from ..ui.app import make_app
    from ..ui.client import WorkerClient

    make_app(target, cwd=cwd, client=WorkerClient(target, cwd=cwd, early=early)).run()


def __getattr__(name: str) -> Any:
    if name == "app":  # the Typer app, for whoever imported it from here
        from .studio_commands import app

        return app
    raise AttributeError(name)
