"""The pieces :mod:`cadence_studio.ui.layout` draws a cadence with: a canvas of cells and its elements.

Every element is measured when it is built and painted afterwards. A node's looks (its status, the
selection, a split's taken lane) are kept apart from its size, so that a node whose state changes can
be restyled and painted again where it is, without laying the rest of the graph out again.
"""

from __future__ import annotations

import abc
import re
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from rich.cells import cell_len, get_character_cell_size

from cadence.diagram import format_duration, run_marks  # one style in every view

from .canvas import Box, Canvas, style_with
from .glyphs import STALL_GLYPH, STATUS_GLYPHS

__all__ = [
    "LINE",
    "MAX_LABEL_CELLS",
    "Box",
    "Canvas",
    "Context",
    "Element",
    "Frame",
    "Lane",
    "Lanes",
    "Node",
    "NoteBox",
    "Runs",
    "Skip",
    "Stack",
    "Title",
    "clean",
    "truncate",
]

#: Names wider than this many cells are cut with "…" (the full name stays in ``Box.label``).
MAX_LABEL_CELLS = 28

_GLYPHS = STATUS_GLYPHS  # what each means: cadence_studio.ui.glyphs, shown by `?`
_STYLES = {
    "running": "bold cyan",
    "paused": "bold yellow",
    "done": "green",
    "failed": "bold red",
    "skipped": "dim",
    "cancelled": "dim yellow",
    "reused": "dim green",
}
#: Cells kept for a status ("✓ 999 ms") so that a run never moves a box.
_STATUS_CELLS = 8
_MARK, _STALL = "bold yellow", "bold red"  # what the run did: ↻2 ↪ (resilience), ⚠ 200 ms (a stall)
LINE, _BREAKPOINT = "bright_black", "bold red"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# Corners, horizontal, vertical, then where the spine crosses: light, or heavy for the selected node.
_BOX = tuple("╭╮╰╯─│┬"), tuple("┏┓┗┛━┃┯")
_FRAME = tuple("╭╮╰╯─│┼┴"), tuple("┏┓┗┛━┃┿┷")
_DASHED = tuple("╭╮╰╯┄┆┼┴"), tuple("┏┓┗┛┅┇┿┷")

# (up, down, left, right) -> the character joining those directions, for fork and join lines.
_JUNCTIONS = {
    (True, True, False, False): "│",
    (False, True, False, True): "╭",
    (False, True, True, False): "╮",
    (True, False, False, True): "╰",
    (True, False, True, False): "╯",
    (True, True, False, True): "├",
    (True, True, True, False): "┤",
    (False, True, True, True): "┬",
    (True, False, True, True): "┴",
    (True, True, True, True): "┼",
}

Runs: TypeAlias = list[tuple[str, str]]
"""A label as (text, style) pieces."""


def clean(name: object) -> str:
    """``name`` as text with control characters replaced."""
    return _CONTROL.sub("?", str(name))


def truncate(text: str) -> str:
    """``text`` cut to ``MAX_LABEL_CELLS`` cells with "…"."""
    if cell_len(text) <= MAX_LABEL_CELLS:
        return text
    used = 0
    for cut, char in enumerate(text):
        used += get_character_cell_size(char)
        if used > MAX_LABEL_CELLS - 1:
            return text[:cut] + "…"
    return text


def _width(runs: Runs) -> int:
    return sum(cell_len(text) for text, _ in runs)


_style = style_with


# -- elements: measured when built, then painted ------------------------------------------------------


@dataclass(slots=True)
class Context:
    """What the nodes look like: statuses, collapsed measures, selection, breakpoints, taken lanes."""

    statuses: Mapping[str, Mapping[str, Any]]
    collapsed: frozenset[str]
    selected: str | None
    breakpoints: frozenset[str]
    taken: Mapping[str, str]
    #: Filled while building: the element drawing each node id (a split's branches: the split).
    elements: dict[str, Node] = field(default_factory=dict)

    def status(self, node_id: str) -> str:
        return str((self.statuses.get(node_id) or {}).get("status") or "pending")

    def status_runs(self, node_id: str) -> Runs:
        """``✓ 12 ms``, ``▶``... for a node's status, then the run's marks ``↻2 ↪``; nothing if pending."""
        entry = self.statuses.get(node_id) or {}
        status, duration = self.status(node_id), entry.get("duration")
        if status not in _GLYPHS:
            return []
        text = _GLYPHS[status]
        if status == "reused":  # not run again: it has no duration of its own
            text += " reused"
        elif duration is not None and status != "skipped":
            text += f" {format_duration(float(duration))}"
        blocked = entry.get("stalled")  # the note held the worker's event loop this long
        stall = [(f" {STALL_GLYPH} {format_duration(float(blocked))}", _STALL)] if blocked else []
        return [(text, _STYLES[status]), *((f" {mark}", _MARK) for mark in run_marks(entry)), *stall]


class Element(abc.ABC):
    """A measured piece of the graph; its spine enters at the top and leaves at the bottom at ``anchor``."""

    width: int
    height: int
    anchor: int
    #: What a stack draws on the row above this element: an arrow, a line, or nothing (it has a spine).
    connector: str | None = "▼"

    @abc.abstractmethod
    def paint(self, canvas: Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        """Paint at ``(x, y)``; ``tail``: the spine goes on below; ``dim``: a style for everything."""


class Node(Element):
    """An element drawing one node: its label, status, selection and dimming.

    It remembers where it was painted, so that :meth:`repaint` can draw it again in a new state.
    """

    def __init__(
        self, node_id: str, kind: str, label: str, runs: Runs, ctx: Context, border: str, marks: int = 0
    ) -> None:
        self.node_id, self.kind, self.label = node_id, kind, label
        self.base_runs, self.base_border = list(runs), border
        self.placed: tuple[int, int, bool, str] = (0, 0, False, "")
        self.number = 0
        self.least = _STATUS_CELLS + marks  # cells for the status and the marks a run may add
        self.slot = self.least
        ctx.elements[node_id] = self
        self.restyle(ctx)
        self.slot = max(self.least, _width(self.status))

    def restyle(self, ctx: Context) -> bool:
        """Take this node's looks from ``ctx``; False when it would no longer fit its measured size."""
        self.selected = self.node_id == ctx.selected
        status = ctx.status(self.node_id)
        self.border = _style(_STYLES.get(status, self.base_border), "bold" if self.selected else "")
        self.dim = "dim" if status == "skipped" else ""
        self.status = ctx.status_runs(self.node_id)
        self.runs = list(self.base_runs)
        if self.selected and self.runs:  # the name (always the first run) shows the selection
            self.runs[0] = (self.runs[0][0], _style(self.runs[0][1], "reverse"))
        return max(self.least, _width(self.status)) == self.slot

    def paint(self, canvas: Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        self.placed, self.number = (x, y, tail, dim), canvas.painted
        canvas.painted += 1
        if not (canvas.placing and self.place(canvas, x, y)):
            self.draw(canvas, x, y, tail, dim)

    def place(self, canvas: Canvas, x: int, y: int) -> bool:
        """While placing: record the box at ``(x, y)`` without drawing, if this node can (it holds no
        other node); False to be drawn without writing instead, which places what it holds."""
        return False

    @property
    def rows(self) -> range:
        """The rows it was painted on last."""
        return range(self.placed[1], self.placed[1] + self.height)

    def repaint(self, canvas: Canvas) -> range:
        """Paint again where it was painted last (the nodes inside it too); returns the rows."""
        x, y, tail, dim = self.placed
        canvas.clear(x, y, self.width, self.height)
        self.paint(canvas, x, y, tail, dim)
        return self.rows

    @abc.abstractmethod
    def draw(self, canvas: Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        """Paint the node (see :meth:`Element.paint`)."""


class NoteBox(Node):
    """A rounded box ``│ ● name ↻3 ◷2s │``, its status a tab in the top border: ``╭─ ✓ 12ms ──╮``."""

    def __init__(self, node_id: str, kind: str, label: str, runs: Runs, ctx: Context, marks: int = 0) -> None:
        super().__init__(node_id, kind, label, runs, ctx, "", marks)
        self.width = max(_width(self.runs) + 4, self.slot + 6)
        self.height, self.anchor = 3, self.width // 2

    def restyle(self, ctx: Context) -> bool:
        fits = super().restyle(ctx)
        if self.node_id in ctx.breakpoints:
            self.runs.insert(0, ("● ", _BREAKPOINT))
        return fits

    def place(self, canvas: Canvas, x: int, y: int) -> bool:
        canvas.boxes[self.node_id] = Box(x, y, self.width, 3, self.label, self.kind)
        return True

    def draw(self, canvas: Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        dim = _style(dim, self.dim)
        border, inner = _style(self.border, dim), self.width - 2
        top_left, top_right, bottom_left, bottom_right, horizontal, vertical, stem = _BOX[self.selected]
        canvas.put(x, y, top_left + horizontal * inner + top_right, border)
        if self.status:
            canvas.put(
                canvas.put_runs(canvas.put(x + 2, y, " ", border), y, self.status, dim), y, " ", border
            )
        canvas.put(x, y + 1, vertical, border)
        canvas.put_runs(x + 2 + (inner - 2 - _width(self.runs)) // 2, y + 1, self.runs, dim)
        canvas.put(x + self.width - 1, y + 1, vertical, border)
        canvas.put(x, y + 2, bottom_left + horizontal * inner + bottom_right, border)
        if tail:
            canvas.put(x + self.anchor, y + 2, stem, border)
        canvas.boxes[self.node_id] = Box(x, y, self.width, 3, self.label, self.kind)


class Title(Node):
    """The cadence's own line at the top, on the spine: ``◉ checkout``."""

    connector = None

    def __init__(self, node_id: str, name: str, ctx: Context) -> None:
        super().__init__(node_id, "cadence", name, [(truncate(name), "bold")], ctx, "bold")
        self.width, self.height, self.anchor = 2 + _width(self.runs) + 1 + self.slot, 1, 0

    def draw(self, canvas: Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        end = canvas.put_runs(canvas.put(x, y, "◉ ", _style("bold", dim)), y, self.runs, dim)
        canvas.put_runs(end + 1, y, self.status, dim)
        canvas.boxes[self.node_id] = Box(x, y, end - x, 1, self.label, self.kind)


class Skip(Element):
    """The ``(skip)`` of an empty branch lane."""

    connector = "│"

    def __init__(self, text: str = "(skip)") -> None:
        self.text = text
        self.width, self.height, self.anchor = cell_len(text), 1, cell_len(text) // 2

    def paint(self, canvas: Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        canvas.put(x, y, self.text, _style("dim italic", dim))


class Stack(Element):
    """Elements one below the other on one spine, each entered by its connector (``lead``: the first too)."""

    def __init__(self, items: Sequence[Element], *, lead: bool = False) -> None:
        self.items, self.lead = items, lead
        self.placed: tuple[int, bool, str] = (0, False, "")  # x, tail, dim: where it was painted
        self.starts: list[int] = []  # the first row of each item (its connector's)
        self.connector = None if lead else items[0].connector
        self.anchor = max(item.anchor for item in items)
        self.width = self.anchor + max(item.width - item.anchor for item in items)
        self.height = sum(item.height + (1 if item.connector else 0) for item in items)
        if not lead and items[0].connector:
            self.height -= 1

    def paint(self, canvas: Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        self.placed, self.starts = (x, tail, dim), []
        for n in range(len(self.items)):
            self.starts.append(y)
            y = self._paint_item(canvas, n, y)

    def _paint_item(self, canvas: Canvas, n: int, y: int) -> int:
        """Paint item ``n`` (and the connector above it) from row ``y``; returns the row after it."""
        x, tail, dim = self.placed
        item, spine = self.items[n], x + self.anchor
        if item.connector and (n or self.lead):
            canvas.put(spine, y, item.connector, _style(LINE, dim))
            y += 1
        item.paint(canvas, spine - item.anchor, y, tail or n < len(self.items) - 1, dim)
        return y + item.height

    def filler(self) -> Callable[[Canvas, int], None]:
        """Once placed: what paints its items on a canvas as their rows are first read."""
        starts, done = self.starts, bytearray(len(self.items))

        def fill(canvas: Canvas, row: int) -> None:
            n = bisect_right(starts, row) - 1
            if 0 <= n < len(done) and not done[n]:
                done[n] = 1
                self._paint_item(canvas, n, starts[n])

        return fill


class Frame(Node):
    """A framed sub-graph, its title in the top border: a child cadence (solid) or a sequence (dashed)."""

    connector = "│"

    def __init__(self, node_id: str, kind: str, label: str, title: Runs, inner: Stack, ctx: Context) -> None:
        super().__init__(node_id, kind, label, title, ctx, LINE)
        self.inner = inner
        # "╭─ title ─┼─ ✓ 12ms ─╮": the spine crosses the top border between the title and the status;
        # pad the inner graph when the title is wider than the room left of the spine.
        self.pad = max(0, _width(self.runs) + 5 - inner.anchor - 2)
        self.anchor = 2 + self.pad + inner.anchor
        self.width = max(4 + 2 * self.pad + inner.width, self.anchor + self.slot + 6)
        self.height = inner.height + 3

    def draw(self, canvas: Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        dim = _style(dim, self.dim)
        border, line, spine = _style(self.border, dim), _style(LINE, dim), x + self.anchor
        chars = (_DASHED if self.kind == "sequence" else _FRAME)[self.selected]
        top_left, top_right, bottom_left, bottom_right, horizontal, vertical, cross, stop = chars
        bottom = y + self.height - 1
        canvas.put(x, y, top_left + horizontal * (self.width - 2) + top_right, border)
        canvas.put(canvas.put_runs(canvas.put(x + 2, y, " ", border), y, self.runs, dim), y, " ", border)
        canvas.put(spine, y, cross, border)
        if self.status:
            start = x + self.width - 3 - _width(self.status)
            canvas.put(
                canvas.put_runs(canvas.put(start - 1, y, " ", border), y, self.status, dim), y, " ", border
            )
        for row in range(y + 1, bottom):
            canvas.put(x, row, vertical, border)
            canvas.put(x + self.width - 1, row, vertical, border)
        self.inner.paint(canvas, spine - self.inner.anchor, y + 1, True, dim)
        canvas.put(spine, bottom - 1, "│", line)
        canvas.put(x, bottom, bottom_left + horizontal * (self.width - 2) + bottom_right, border)
        canvas.put(spine, bottom, cross if tail else stop, border)
        canvas.boxes[self.node_id] = Box(x, y, self.width, 1, self.label, self.kind)


@dataclass(slots=True)
class Lane:
    """One lane of a ``.sync`` or ``.split``; a split's lanes are its branches, labelled by name."""

    content: Element
    name: str | None = None  # a branch's name ("true", "false"); a sync's lanes have none
    node_id: str | None = None
    label: Runs = field(default_factory=list)
    dim: str = ""
    x: int = 0
    spine: int = 0

    def restyle(self, taken: str | None, ctx: Context) -> None:
        """A branch: highlighted when taken, dimmed when the other one was (or it was skipped)."""
        if self.name is None or self.node_id is None:
            return
        style = "bold green" if taken == self.name else "italic"
        if self.node_id == ctx.selected:
            style = _style(style, "reverse")
        self.label = [(self.name, style)]
        skipped = ctx.status(self.node_id) == "skipped"
        self.dim = "dim" if (taken is not None and taken != self.name) or skipped else ""


class Lanes(Node):
    """A ``.sync`` or ``.split``: a header beside the spine, a fork line, lanes side by side, a join line."""

    connector = None

    def __init__(
        self, node_id: str, kind: str, label: str, header: Runs, lanes: list[Lane], ctx: Context
    ) -> None:
        self.lanes = lanes
        super().__init__(node_id, kind, label, header, ctx, LINE)
        for lane in lanes:
            if lane.node_id is not None:
                ctx.elements[lane.node_id] = self  # a branch's looks are its split's
        x = 0
        for lane in lanes:  # one column between lanes, each centred on its spine
            half = _width(lane.label) // 2
            left = max(lane.content.anchor, half)
            lane.x, lane.spine = x, x + left
            x += left + max(lane.content.width - lane.content.anchor, _width(lane.label) - half) + 1
        self.anchor = (lanes[0].spine + lanes[-1].spine) // 2
        self.width = max(x - 1, self.anchor + 2 + _width(self.runs) + 1 + self.slot)
        self.labelled = any(lane.label for lane in lanes)
        body = max(lane.content.height + (1 if lane.content.connector else 0) for lane in lanes)
        self.height = 3 + self.labelled + body

    def restyle(self, ctx: Context) -> bool:
        fits = super().restyle(ctx)
        taken = ctx.taken.get(self.node_id)
        taken = str(taken).lower() if isinstance(taken, bool) else taken
        for lane in self.lanes:
            lane.restyle(taken, ctx)
        return fits

    def draw(self, canvas: Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        dim = _style(dim, self.dim)
        line, spine, join = _style(LINE, dim), x + self.anchor, y + self.height - 1
        end = canvas.put_runs(canvas.put(spine, y, "│ ", line), y, self.runs, dim)
        canvas.put_runs(end + 1, y, self.status, dim)
        canvas.boxes[self.node_id] = Box(spine + 2, y, end - spine - 2, 1, self.label, self.kind)
        spines = [x + lane.spine for lane in self.lanes]
        self._junctions(canvas, y + 1, {spine}, set(spines), line)
        self._junctions(canvas, join, set(spines), {spine} if tail else set(), line)
        for lane, lane_spine in zip(self.lanes, spines, strict=True):
            lane_dim = _style(dim, lane.dim)
            lane_line, row = _style(LINE, lane_dim), y + 2
            if self.labelled:
                start = lane_spine - _width(lane.label) // 2
                end = canvas.put_runs(start, row, lane.label, lane_dim)
                if lane.node_id:
                    canvas.boxes[lane.node_id] = Box(start, row, end - start, 1, lane.label[0][0], "branch")
                row += 1
            if lane.content.connector:
                canvas.put(lane_spine, row, lane.content.connector, lane_line)
                row += 1
            lane.content.paint(canvas, lane_spine - lane.content.anchor, row, True, lane_dim)
            for pad in range(row + lane.content.height, join):
                canvas.put(lane_spine, pad, "│", lane_line)
            if lane.dim:  # the lane's ends of the fork and join lines dim with it
                canvas.restyle(lane_spine, y + 1, lane.dim)
                canvas.restyle(lane_spine, join, lane.dim)

    @staticmethod
    def _junctions(canvas: Canvas, row: int, ups: set[int], downs: set[int], style: str) -> None:
        """A fork or join line: ``ups`` and ``downs`` are the columns where lines leave it upwards or down."""
        first, last = min(ups | downs), max(ups | downs)
        chars = ["─"] * (last - first + 1)
        for column in ups | downs:
            key = (column in ups, column in downs, column > first, column < last)
            chars[column - first] = _JUNCTIONS.get(key, "─")
        canvas.put(first, row, "".join(chars), style)
