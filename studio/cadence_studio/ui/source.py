"""A note's source, read as text from the file the worker's catalog names (never imported here).

``describe()`` gives each note's ``file`` and ``line`` (its first line: the first decorator's). The
function's extent is found by parsing the file with :mod:`ast` (parsing runs no code); a file that no
longer parses shows a fixed number of lines from ``line``. The studio's Source pane and
``cadence-studio source`` both render :func:`note_source` with :func:`syntax`.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # rich.syntax (and pygments) load when a note's source is first shown
    from rich.syntax import Syntax

__all__ = ["NoteSource", "SourceError", "note_source", "syntax"]

FALLBACK_LINES = 40  # shown from the note's line when the file does not parse any more


class SourceError(Exception):
    """Why a node has no source to show (the message says what to do)."""


@dataclasses.dataclass(frozen=True)
class NoteSource:
    """The text of the file, and the lines of the note in it (1-based, inclusive)."""

    node_id: str
    file: Path
    line: int
    end: int
    text: str


def note_source(node: dict[str, Any] | None, node_id: str = "") -> NoteSource:
    """The source of a note node of a ``describe()`` graph; raises :class:`SourceError`."""
    if node is None:
        msg = f"no node {node_id!r} in this cadence"
        raise SourceError(msg)
    node_id = str(node.get("id", node_id))
    info = node.get("note")
    if node.get("kind") != "note" or not isinstance(info, dict):
        msg = f"{node_id} is a {node.get('kind')}, not a note: select a note to see its source"
        raise SourceError(msg)
    file, line = info.get("file"), info.get("line")
    if not file or not line:
        msg = f"{node_id}: Python does not know where {info.get('qualname')!r} is defined (no source file)"
        raise SourceError(msg)
    path = Path(str(file))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        msg = f"{node_id}: cannot read {path}: {error}"
        raise SourceError(msg) from None
    return NoteSource(node_id, path, int(line), _end(text, int(line)), text)


def _end(text: str, line: int) -> int:
    """The last line of the function (or class) that starts at ``line`` (with its decorators)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return line + FALLBACK_LINES - 1
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if first <= line <= node.lineno and node.end_lineno is not None:
                return node.end_lineno
    return line + FALLBACK_LINES - 1


def syntax(source: NoteSource, *, theme: str = "monokai", wrap: bool = False) -> Syntax:
    """The note highlighted: line numbers, its first line marked (``wrap``: long lines wrap, not cut)."""
    from rich.syntax import Syntax

    return Syntax(
        source.text,
        "python",
        theme=theme,
        line_numbers=True,
        line_range=(source.line, source.end),
        highlight_lines={source.line},
        word_wrap=wrap,
        indent_guides=True,
    )
