"""The run's timeline: one line per event worth reading."""

from __future__ import annotations

from rich.text import Text
from textual.events import Resize
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

__all__ = ["Timeline"]


class Timeline(ScrollView, can_focus=True):
    """Appends ``(style, text)`` lines and follows the last one; ``reset`` starts over for a new run.

    It looks and scrolls like a ``RichLog`` (lines at least ``MIN_WIDTH`` cells wide, cut at the
    view's width, the last ``MAX_LINES`` kept), but a new line only repaints the rows it shows on:
    growing the scrollable size does not ask the screen for a new layout, and the view follows the
    new line in the same paint.
    """

    DEFAULT_CSS = """
    Timeline {
        background: $surface;
        color: $foreground;
        overflow-y: scroll;
        &:focus {
            background-tint: $foreground 5%;
        }
    }
    """

    MIN_WIDTH = 78
    MAX_LINES = 5000

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown = 0  # lines of the last sync written
        self._texts: list[Text] = []
        self._widest = 0  # cells of the widest text
        self._strips: dict[int, Strip] = {}  # rendered lazily, at the current width
        self._behind = False  # lines were written while hidden: the view catches up when shown

    def sync(self, lines: list[tuple[str, str, str]]) -> None:
        """Write the lines not written yet."""
        if len(lines) < self.shown:
            self.reset()
        added = lines[self.shown :]
        self.shown = len(lines)
        if not added:
            return
        start = len(self._texts)
        for style, text, _node in added:
            for part in text.split("\n"):
                line = Text(part, no_wrap=True, end="")
                line.expand_tabs()
                if style:
                    line.stylize(style)  # a span: Text.render draws spans, not the base style
                self._texts.append(line)
                self._widest = max(self._widest, line.cell_len)
        excess = len(self._texts) - self.MAX_LINES
        if excess > 0:
            del self._texts[:excess]
            self._strips = {}
            start = 0
        if not self._displayed:
            # In a hidden tab: nothing to repaint. A hidden widget asking for a repaint costs every
            # frame a new map of the whole screen (issue 18: step latency); the view catches up on Show.
            self._behind = True
            return
        self._resized()
        self.refresh_lines(start, len(self._texts) - start)
        self.scroll_to(y=self.max_scroll_y, animate=False)  # a new scroll position repaints everything

    @property
    def _displayed(self) -> bool:
        """Whether it is on show (not in a hidden tab): every node up to the screen is displayed."""
        return all(node.display for node in self.ancestors_with_self)

    def on_show(self) -> None:
        """Shown again (its tab opened): the lines written meanwhile, and the last one in view."""
        if self._behind:
            self._behind = False
            self._resized()
            self.refresh()
            self.scroll_to(y=self.max_scroll_y, animate=False)

    def reset(self) -> None:
        self._texts, self._strips = [], {}
        self.shown = self._widest = 0
        if not self._displayed:
            self._behind = True
            return
        self._resized()
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    @property
    def _line_width(self) -> int:
        """Cells of a rendered line: the text, cut at the view's width, padded to ``MIN_WIDTH``."""
        return max(self.MIN_WIDTH, self.scrollable_content_region.width)

    def _resized(self) -> None:
        """A new scrollable size: its scrollbars change, the screen's layout does not."""
        width = max(self.MIN_WIDTH, min(self._widest, self._line_width)) if self._texts else 0
        size = Size(width, len(self._texts))
        if size != self.virtual_size:
            # Setting virtual_size would ask for a layout of the whole screen (it is a layout
            # reactive); only this widget's scrollbars depend on it, as in Textual's OptionList.
            self.set_reactive(Timeline.virtual_size, size)
            self._scroll_update(size)

    def on_resize(self, event: Resize) -> None:
        self._strips = {}
        self._resized()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if index >= len(self._texts):
            return Strip.blank(width, style)
        strip = self._strips.get(index)
        if strip is None:
            line_width = self._line_width
            strip = Strip(self._texts[index].render(self.app.console)).crop(0, line_width)
            strip = self._strips[index] = strip.adjust_cell_length(max(self.MIN_WIDTH, strip.cell_length))
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_style(style)
