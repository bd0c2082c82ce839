"""The Source pane: the selected note's code, highlighted, its first line marked (``e`` edits it)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from ..source import NoteSource, SourceError, note_source, syntax

__all__ = ["SourceView"]


class SourceView(Static):
    """Shows :func:`~cadence_studio.ui.source.note_source` of a ``describe()`` node."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: NoteSource | None = None
        self._key: tuple[str, float, int] | None = None

    def show(self, node: dict[str, Any] | None, node_id: str | None) -> None:
        """The node's source; a hint when it is no note (or none is selected)."""
        if node is None or node_id is None:
            self.shown, self._key = None, None
            self.update(Text("select a note (↑ ↓) to see its source", style="dim"))
            return
        try:
            source = note_source(node, node_id)
        except SourceError as error:
            self.shown, self._key = None, None
            self.update(Text(str(error), style="dim"))
            return
        try:
            key = (str(source.file), source.file.stat().st_mtime, source.line)
        except OSError:
            key = None
        if key is not None and key == self._key:
            return  # the same note, the file unchanged: keep it (and its scroll position)
        self.shown, self._key = source, key
        theme = "monokai" if self.app.current_theme.dark else "default"
        header = Text.assemble((f"{source.file}:{source.line}", "bold"), ("   e: open in $EDITOR\n", "dim"))
        self.update(Group(header, syntax(source, theme=theme, wrap=True)))
