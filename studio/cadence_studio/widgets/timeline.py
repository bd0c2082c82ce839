"""The run's timeline: one line per event worth reading."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

__all__ = ["Timeline"]


class Timeline(RichLog):
    """Appends ``(style, text)`` lines; ``reset`` starts over for a new run."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=False, markup=False, highlight=False, max_lines=5000)
        self.shown = 0

    def sync(self, lines: list[tuple[str, str, str]]) -> None:
        """Write the lines not written yet."""
        if len(lines) < self.shown:
            self.reset()
        for style, text, _node in lines[self.shown :]:
            self.write(Text(text, style=style))
        self.shown = len(lines)

    def reset(self) -> None:
        self.clear()
        self.shown = 0
