"""The measure graph: a cadence drawn with box-drawing characters, scrollable, with a selection."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..layout import Drawing, layout

#: Rendered graph lines kept at least (more on a tall screen); lines far from the view render again.
_KEPT_STRIPS = 400

__all__ = ["MeasureGraph"]


class MeasureGraph(ScrollView, can_focus=True):
    """Draws ``describe()`` of the selected cadence with live node states."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Prev note", show=False),
        Binding("down,j", "move(1)", "Next note", show=False),
        Binding("space", "toggle_collapse", "Collapse", show=False),
    ]

    class NoteSelected(Message):
        """The user selected a node of the graph."""

        def __init__(self, node_id: str) -> None:
            super().__init__()
            self.node_id = node_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.graph_tree: dict[str, Any] | None = None
        self.statuses: dict[str, dict[str, Any]] = {}
        self.breakpoints: frozenset[str] = frozenset()
        self.taken: dict[str, str] = {}
        self.collapsed: set[str] = set()
        self.selected: str | None = None
        self.drawing: Drawing | None = None
        self._strips: dict[int, Strip] = {}
        self.message_text = ""

    def show(
        self,
        tree: dict[str, Any] | None,
        *,
        statuses: dict[str, dict[str, Any]] | None = None,
        breakpoints: frozenset[str] = frozenset(),
        taken: dict[str, str] | None = None,
        message: str = "",
        select: str | None = None,
    ) -> None:
        """Draw ``tree`` (or ``message`` when there is nothing to draw), selecting ``select``."""
        if tree is not self.graph_tree:
            self.collapsed = {c for c in self.collapsed if tree and c.startswith(tree["id"])}
        self.graph_tree = tree
        self.statuses = statuses or {}
        self.breakpoints = breakpoints
        self.taken = taken or {}
        self.message_text = message
        if select is not None:
            self.selected = select
        self._redraw()
        if select is not None and self.drawing is not None and select in self.drawing.boxes:
            self._reveal(select)

    def _reveal(self, node_id: str) -> None:
        """Bring a node the run reached into view. Above or below the view, it is centred, as a
        debugger does, so that the next steps are in view too (the graph scrolls once for several
        steps); sideways, it is scrolled just into view."""
        assert self.drawing is not None
        box = self.drawing.boxes[node_id]
        region = Region(box.x, box.y, box.width, box.height)
        window = Region(*self.scroll_offset, *self.scrollable_content_region.size)
        if window.contains_region(region):
            return
        self.scroll_to_region(region, animate=False, force=True, y_axis=False)
        if region.y < window.y or region.bottom > window.bottom:
            self.scroll_to_region(region, animate=False, force=True, center=True, x_axis=False)

    def _redraw(self) -> None:
        if self.graph_tree is None:
            self.drawing = None
            self._strips = {}
            self.virtual_size = Size(0, 0)
            self.refresh()
            return
        if self.selected is None or (self.drawing and self.selected not in self.drawing.boxes):
            self.selected = self.graph_tree["id"]  # the cadence itself: the first box of every drawing
        previous = self.drawing
        width = self.scrollable_content_region.width or None
        self.drawing = self._layout(width, previous)  # only the nodes that changed are painted again
        if (
            width is not None
            and not self.show_vertical_scrollbar
            and self.styles.overflow_y == "auto"
            and self.drawing.height > self.scrollable_content_region.height
        ):
            # The scrollbar this drawing brings takes columns: centred at once in what is left, so
            # that the first step does not find another width (and lay the screen out again).
            self.drawing = self._layout(width - self.styles.scrollbar_size_vertical, self.drawing)
        size = Size(self.drawing.width, self.drawing.height)
        if size != self.virtual_size:  # a new size lays the screen out again; same size only repaints
            self.virtual_size = size
        self._repaint(previous, self.drawing)

    def _layout(self, width: int | None, previous: Drawing | None) -> Drawing:
        assert self.graph_tree is not None
        return layout(
            self.graph_tree,
            statuses=self.statuses,
            collapsed=frozenset(self.collapsed),
            selected=self.selected,
            breakpoints=self.breakpoints,
            taken=self.taken,
            width=width,
            previous=previous,
        )

    def _repaint(self, old: Drawing | None, new: Drawing) -> None:
        """Repaint the lines that changed (a restyled drawing keeps the others), or everything."""
        if old is None or (old.width, old.height) != (new.width, new.height):
            self._strips = {}
            self.refresh()
            return
        if old.lines is new.lines:
            return
        old_lines, new_lines = old.lines, new.lines
        for index in [index for index in self._strips if not new_lines.same_row(old_lines, index)]:
            del self._strips[index]  # rendered lazily, only the lines that are shown
        top, width = self.scroll_offset.y, self.size.width
        shown = range(top, min(top + self.size.height, len(new_lines)))
        changed = [Region(0, y - top, width, 1) for y in shown if not new_lines.same_row(old_lines, y)]
        if changed:
            self.refresh(*changed)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.size.width
        drawing = self.drawing
        if drawing is None:
            if y == 1 and self.message_text:
                return Strip([Segment(f"  {self.message_text}"[:width], Style(dim=True))])
            return Strip.blank(width)
        if index >= len(drawing.lines):
            return Strip.blank(width)
        strip = self._strips.get(index)
        if strip is None:
            if len(self._strips) >= max(_KEPT_STRIPS, 4 * self.size.height):
                self._forget_strips(scroll_y)
            strip = self._strips[index] = Strip(list(drawing.lines[index].render(self.app.console, end="")))
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width)

    def _forget_strips(self, top: int) -> None:
        """Drop the rendered lines far from the view (a run scrolls through every line of a big graph)."""
        height = self.size.height
        near = range(top - height, top + 2 * height)
        self._strips = {index: strip for index, strip in self._strips.items() if index in near}

    def select(self, node_id: str, *, announce: bool = True) -> None:
        """Select a node, scroll it into view and tell the screen."""
        if self.drawing is None or node_id not in self.drawing.boxes:
            return
        self.selected = node_id
        self._redraw()
        box = self.drawing.boxes[node_id]
        self.scroll_to_region(Region(box.x, box.y, box.width, box.height), animate=False, force=True)
        if announce:
            self.post_message(self.NoteSelected(node_id))

    def action_move(self, delta: int) -> None:
        if self.drawing is None or not self.drawing.order:
            return
        order = self.drawing.order
        index = order.index(self.selected) if self.selected in order else -1
        self.select(order[max(0, min(len(order) - 1, index + delta))])

    def action_toggle_collapse(self) -> None:
        if self.selected is None:
            return
        if self.selected in self.collapsed:
            self.collapsed.discard(self.selected)
        else:
            self.collapsed.add(self.selected)
        self._redraw()

    def on_click(self, event: Click) -> None:
        if self.drawing is None:
            return
        x = event.x + self.scroll_offset.x
        y = event.y + self.scroll_offset.y
        hits = [(b.width * b.height, node) for node, b in self.drawing.boxes.items() if b.contains(x, y)]
        if hits:
            self.select(min(hits)[1])  # the innermost box (a note inside a child frame)

    def on_resize(self) -> None:
        self._redraw()
