"""Freeze a note as a test: render ``templates/frozen/`` with a recorded run's input and output scores.

The caller (the studio's ``f``, ``cadence-studio freeze``) reads the run; this writes the test through
:func:`~.writer.render`, so it gets every refusal of scaffolding: names that are not identifiers, a path
outside the project, an existing file without ``force``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import ScaffoldError
from .names import identifier, under_root
from .writer import render

__all__ = ["freeze_note"]


def freeze_note(
    *,
    cadence: str,
    note: str,
    node_id: str,
    run: int,
    module: str,
    qualname: str,
    file: str | None,
    score_type: str,
    before: dict[str, Any],
    written: dict[str, Any],
    root: Path,
    directory: Path | None = None,
    force: bool = False,
) -> Path:
    """Write ``tests/test_<cadence>_<note>.py`` (or into ``directory``) and return its path.

    Raises:
        ScaffoldError: a name that is not an identifier, a note that is no module-level function, a
            path outside ``root``, or an existing file without ``force``.
    """
    cadence_name, note_name = identifier(cadence), identifier(note)
    if not module or not qualname.isidentifier():
        msg = (
            f"{node_id} runs {qualname or note!r}, which is no module-level function a test can import; "
            "freeze a note defined at the top of its module"
        )
        raise ScaffoldError(msg)
    target = under_root(directory if directory is not None else Path("tests"), root)
    source_root = _source_root(file, module)
    relative = os.path.relpath(source_root, target) if source_root is not None else "."
    variables = {
        "cadence": cadence_name,
        "note": note_name,
        "node_id": node_id,
        "run": str(run),
        "module": module,
        "function": qualname,
        "root": repr(Path(relative).as_posix()),
        "score_type": score_type,
        "input_json": _literal(before),
        "written_json": _literal(written),
    }
    (path,) = render("frozen", target, variables, root=root, force=force)
    return path


def _source_root(file: str | None, module: str) -> Path | None:
    """The folder ``module`` is imported from, given its file: up one folder per dotted part."""
    if not file:
        return None
    path = Path(file).resolve()
    depth = module.count(".") + (1 if path.name == "__init__.py" else 0)
    return path.parents[depth]


def _literal(value: dict[str, Any]) -> str:
    """A Python string literal of ``value`` as indented JSON, readable in the test."""
    text = json.dumps(value, indent=4, sort_keys=True, ensure_ascii=False)
    if "'''" in text or text.endswith("\\"):
        return repr(text)
    return "r'''\n" + text + "\n'''"
