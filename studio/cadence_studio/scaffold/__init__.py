"""Scaffolding: renders ``templates/`` into the user's project (``cadence new``, the studio's new note).

:mod:`.writer` renders and writes atomically; :mod:`.names` holds the names and paths it refuses.
Runs in the UI process and the command lines alike; imports neither of them nor the worker.
"""

from __future__ import annotations

from .names import MAX_NAME, identifier
from .writer import (
    Scaffolded,
    init_project,
    new_cadence,
    new_note,
    render,
    template_kinds,
    templates_dir,
    write_file,
)

__all__ = [
    "MAX_NAME",
    "Scaffolded",
    "identifier",
    "init_project",
    "new_cadence",
    "new_note",
    "render",
    "template_kinds",
    "templates_dir",
    "write_file",
]
