"""The run's timeline as a Gantt chart: a row per note and group, bars on the run's own time.

Rows come from :class:`~cadence_studio.protocol.spans.Spans` in the order they started, a group's
members indented under it, so the members of a ``.sync`` sit side by side in time, one lane each.
The top row is a time axis; the bars share its scale (Rich's ``Bar``, to an eighth of a cell). Each
bar ends with its duration and what happened in it: ``↻2`` (retried: the failed attempts in yellow),
``↪`` (fell back), ``◷`` (timed out), ``⚠ 200 ms`` (blocked the event loop). A bar still running grows
with the clock; a paused run has none running, so nothing grows while it is held.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.events import Click, Resize
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from cadence.diagram import format_duration

from ...protocol.spans import Span, Spans
from ..glyphs import STALL_GLYPH

__all__ = ["Gantt", "axis_step", "tick_label"]

_BAR_COLORS = {
    "done": "green",
    "failed": "red",
    "running": "cyan",
    "skipped": "grey50",
    "cancelled": "grey50",
}
_GROUP_COLOR = "grey35"
_GROUP_GLYPHS = {"sync": "∥ ", "child": "▾ ", "split": "◇ ", "note": ""}
_RETRY_COLOR = "yellow"
_STALL_STYLE = Style(color="red", bold=True)
_MARK_STYLE = Style(color="yellow", bold=True)
_DIM = Style(dim=True)
_KEPT_LABELS = 2000  # rendered labels kept (a row's label is the same at every step)
# Rich's Bar, drawn without a console (as rich.bar.Bar.__rich_console__ draws it): one segment
_BEGIN_BLOCKS = ["█", "█", "█", "▐", "▐", "▐", "▕", "▕"]
_END_BLOCKS = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]


def _bar_text(size: float, begin: float, end: float, width: int) -> str:
    """The cells of ``rich.bar.Bar(size, begin, end, width=width)``: a bar to an eighth of a cell."""
    if begin >= end:
        return " " * width
    prefix_eighths = int(width * 8 * begin / size)
    prefix = " " * (prefix_eighths // 8)
    if prefix_eighths % 8:
        prefix += _BEGIN_BLOCKS[prefix_eighths % 8]
    body_eighths = int(width * 8 * end / size)
    body = "█" * (body_eighths // 8)
    if body_eighths % 8:
        body += _END_BLOCKS[body_eighths % 8]
    return prefix + body[len(prefix) :] + " " * (width - len(body))


@lru_cache(maxsize=64)
def _bar_style(color: str, back: Color | None) -> Style:
    return Style(color=color, bgcolor=back or "default")


def _bar_strip(size: float, begin: float, end: float, width: int, style: Style) -> Strip:
    """``rich.bar.Bar`` of ``width`` cells as a strip (its cells are all one cell wide)."""
    return Strip([Segment(_bar_text(size, begin, end, width), style)], width)


def axis_step(extent: float, cells: int, *, every: int = 12) -> float:
    """A round step (1, 2 or 5 × 10ⁿ seconds) that puts a tick about every ``every`` cells."""
    if extent <= 0 or cells <= 0:
        return 1.0
    raw = extent * every / cells
    power = 10 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def tick_label(seconds: float, step: float) -> str:
    """A tick of the axis in the unit of its step, as precise as the step: ``1.5 ms``, ``250 µs``, ``2 s``."""
    unit, name = (1e-6, "µs") if step < 1e-3 else (1e-3, "ms") if step < 1 else (1.0, "s")
    value = seconds / unit
    digits = 0 if abs(step / unit - round(step / unit)) < 1e-9 else 1
    return f"{value:.{digits}f} {name}"


def _notes_running(spans: Spans | None) -> bool:
    """Whether a note runs now (an open group alone may be held at a breakpoint: nothing grows then)."""
    return spans is not None and any(span.kind == "note" for span in spans.running.values())


class Gantt(ScrollView, can_focus=True):
    """Shows a run's :class:`Spans`; :meth:`show` after each change (it redraws the rows on view only)."""

    DEFAULT_CSS = """
    Gantt {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        &:focus {
            background-tint: $foreground 5%;
        }
    }
    """

    GROW_EVERY = 0.25  # seconds between redraws while a bar is running

    class NoteSelected(Message):
        """A row was clicked: show its node (in the graph, the inspector)."""

        def __init__(self, node_id: str) -> None:
            super().__init__()
            self.node_id = node_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spans: Spans | None = None
        self.live = False  # a run going on now: running bars grow with the clock
        self._shown_rows = 0
        self._follow = True  # at the last row: stay there as rows come (until scrolled up)
        self._grow: Timer | None = None
        self._extent = 0.0  # the run's own time the bars are scaled to, as of the last refresh
        self._wall = 0.0  # the wall clock then (running notes grow from it)
        self._style: Style | None = None  # the widget's style while its lines render
        self._behind = False  # spans came while it was hidden: drawn when shown
        self._labels: dict[tuple[str, int, str, bool, int], Strip] = {}  # rendered row labels

    def on_mount(self) -> None:
        self._grow = self.set_interval(self.GROW_EVERY, self._tick, pause=True)

    # ------------------------------------------------------------------ what it shows

    def show(self, spans: Spans | None, *, live: bool) -> None:
        """Draw ``spans`` (None: an empty chart); ``live``: the run is going on in a worker now."""
        if spans is not self.spans:  # another run: from its first row
            self._shown_rows, self._follow = 0, True
        self.spans, self.live = spans, live
        if not all(node.display for node in self.ancestors_with_self):
            # Hidden (a narrow screen shows it on t): a hidden widget asking for a repaint costs every
            # frame a new map of the whole screen (issue 18: step latency); it catches up when shown.
            self._behind = True
            if self._grow is not None:
                self._grow.pause()
            return
        self._behind = False
        rows = len(spans.rows) if spans is not None else 0
        size = Size(self.scrollable_content_region.width, rows + 1)
        if size != self.virtual_size:
            # only this widget's scrollbars depend on it: no layout of the whole screen (as Timeline)
            self.set_reactive(Gantt.virtual_size, size)
            self._scroll_update(size)
        if self._follow and rows > self._shown_rows:
            self.scroll_to(y=self.max_scroll_y, animate=False)
        self._shown_rows = rows
        self._repaint()
        if self._grow is not None:
            if live and _notes_running(spans):
                self._grow.resume()
            else:
                self._grow.pause()

    def on_show(self) -> None:
        if self._behind:
            self.show(self.spans, live=self.live)

    def _tick(self) -> None:
        if not self.live or not _notes_running(self.spans):
            if self._grow is not None:
                self._grow.pause()
            return
        if self.display:
            self._repaint()

    def _repaint(self) -> None:
        self._wall = time.time()
        self._extent = self.now()
        self.refresh()

    def on_resize(self, event: Resize) -> None:
        self.show(self.spans, live=self.live)
        if self._follow:  # shown again (t), or another height: the last rows still in view
            self.scroll_to(y=self.max_scroll_y, animate=False)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.size.height:  # a hidden chart has no end to be at
            self._follow = new_value >= self.max_scroll_y

    def on_click(self, event: Click) -> None:
        index = int(self.scroll_y) + event.y - 1  # the axis is row 0
        if self.spans is not None and 0 <= index < len(self.spans.rows) and event.y > 0:
            self.post_message(self.NoteSelected(self.spans.rows[index].node))

    # ------------------------------------------------------------------ geometry

    def now(self) -> float:
        """The run's own time now: the last clock seen, or later while a note runs (a note is never
        held once started, so its own time is the wall clock's; a group's may hold a breakpoint)."""
        spans = self.spans
        if spans is None:
            return 0.0
        extent = spans.extent
        if self.live:
            for span in spans.running.values():
                if span.kind == "note":
                    extent = max(extent, span.start + max(0.0, self._wall - span.started_at))
        return extent

    def columns(self) -> tuple[int, int]:
        """(label cells, bar cells) at the current width."""
        width = max(20, self.scrollable_content_region.width)
        label = max(10, min(32, width * 3 // 10))
        return label, width - label - 1

    def end_of(self, span: Span) -> float:
        """Where a bar ends: a running note's grows with the clock, an open group's reaches the latest time
        seen (it does not grow while the run is held)."""
        if span.end is not None:
            return span.end
        if not self.live or span.kind != "note":
            return max(span.start, self._extent if self.live else self.spans.clock if self.spans else 0.0)
        return span.start + max(0.0, self._wall - span.started_at)

    def bar_cells(self, span: Span, extent: float | None = None) -> tuple[float, float]:
        """Where ``span``'s bar starts and ends, in cells of the bar column (fractions included)."""
        _, cells = self.columns()
        total = extent if extent is not None else self._extent
        if total <= 0:
            return 0.0, 0.0
        return span.start / total * cells, self.end_of(span) / total * cells

    # ------------------------------------------------------------------ drawing

    def render_lines(self, crop: Region) -> list[Strip]:
        self._style = self.rich_style  # once for all the rows (it walks up the DOM for the background)
        try:
            return super().render_lines(crop)
        finally:
            self._style = None

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        style = self._style or self.rich_style
        spans = self.spans
        if spans is None or not spans.rows:
            text = Text("the timeline of a run shows here (r runs, n steps)" if y == 0 else "", style=_DIM)
            return self._strip(text, width, style)
        extent = self._extent
        if y == 0:
            return self._strip(self._axis(extent), width, style)
        index = int(self.scroll_y) + y - 1
        if index >= len(spans.rows):
            return Strip.blank(width, style)
        return self._row(spans.rows[index], extent, width, style)

    def draw_row(self, span: Span) -> Strip:
        """``span``'s row as it is drawn now (its label, its bar on the axis' scale, its marks)."""
        return self._row(span, self._extent, self.scrollable_content_region.width, self.rich_style)

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        text.no_wrap, text.end = True, ""
        strip = Strip(text.render(self.app.console)).adjust_cell_length(width, style)
        return strip.apply_style(style)

    def _axis(self, extent: float) -> Text:
        label, cells = self.columns()
        step = axis_step(extent, cells)
        line = [" "] * cells
        tick = 0.0
        while extent > 0 and tick <= extent:
            x = round(tick / extent * cells)
            mark = f"┆{tick_label(tick, step)}" if tick else "┆0"
            if x + len(mark) <= cells and all(c == " " for c in line[x : x + len(mark) + 1]):
                line[x : x + len(mark)] = mark
            tick += step
        head = Text(f"own time, ┆ = {tick_label(step, step)}".ljust(label)[:label], style=_DIM)
        return Text.assemble(head, " ", ("".join(line), "dim"))

    def _row(self, span: Span, extent: float, width: int, style: Style) -> Strip:
        label_cells, cells = self.columns()
        head = self._label(span, label_cells)
        bar = self._bar(span, extent, cells, style)
        return Strip.join([head, bar]).adjust_cell_length(width).apply_style(style)

    def _label(self, span: Span, cells: int) -> Strip:
        """A row's label, cut to ``cells`` and a space after it (kept: it changes only if the note stalls)."""
        key = (span.name, span.depth, span.kind, span.stalled > 0, cells)
        strip = self._labels.get(key)
        if strip is None:
            label = Text("  " * span.depth + _GROUP_GLYPHS.get(span.kind, "") + span.name, no_wrap=True)
            if span.stalled:
                label.append(f" {STALL_GLYPH}", _STALL_STYLE)
            label.truncate(cells, overflow="ellipsis", pad=True)
            strip = Strip(label.render(self.app.console)).adjust_cell_length(cells + 1)
            if len(self._labels) >= _KEPT_LABELS:
                self._labels.clear()
            self._labels[key] = strip
        return strip

    def _bar(self, span: Span, extent: float, cells: int, style: Style) -> Strip:
        end = self.end_of(span)
        total = max(extent, end, 1e-9)
        start = span.start
        if (end - start) / total * cells < 0.5:  # too short to see: drawn half a cell wide
            end = min(total, start + total / cells / 2)
            start = max(0.0, end - total / cells / 2)
        back = style.bgcolor
        color = _GROUP_COLOR if span.kind != "note" else _BAR_COLORS.get(span.status, "white")
        strip = _bar_strip(total, start, end, cells, _bar_style(color, back))
        if span.retries and span.kind == "note":  # the failed attempts: yellow up to the last retry
            cut = max(0, min(cells, round(min(span.retries[-1], end) / total * cells)))
            # the yellow ends on the cell boundary where the bar's own colour takes over
            tried = _bar_strip(total, start, cut / cells * total, cells, _bar_style(_RETRY_COLOR, back))
            strip = Strip.join([tried.crop(0, cut), strip.crop(cut, cells)])
        marks = self._marks(span, self.end_of(span) - span.start)
        return self._annotate(strip, marks, span.start / total * cells, end / total * cells, cells)

    @staticmethod
    def _marks(span: Span, duration: float) -> Text:
        marks = Text(format_duration(duration), style=_DIM if span.kind != "note" else "")
        if span.end is None:
            marks.append("…")
        if span.retries:
            marks.append(f" ↻{len(span.retries) + 1}", _MARK_STYLE)
        if span.fell_back:
            marks.append(" ↪", _MARK_STYLE)
        if span.timed_out:
            marks.append(" ◷", _MARK_STYLE)
        if span.stalled:
            marks.append(f" {STALL_GLYPH} {format_duration(span.stalled)}", _STALL_STYLE)
        return marks

    def _annotate(self, bar: Strip, marks: Text, start: float, end: float, cells: int) -> Strip:
        """The marks after the bar's end; before its start when there is no room after; else at the end."""
        size = marks.cell_len + 1
        if math.ceil(end) + size <= cells:
            at = math.ceil(end) + 1
        elif math.floor(start) - size >= 0:
            at = math.floor(start) - size
        else:
            at = max(0, cells - size + 1)
        drawn = Strip(list(marks.render(self.app.console)))
        return Strip.join([bar.crop(0, at), drawn, bar.crop(at + drawn.cell_length, cells)]).crop(0, cells)
