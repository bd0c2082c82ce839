"""Lay a cadence out as a box-drawing graph for the terminal, from ``Cadence.describe()`` alone.

A cadence is a series-parallel graph, so one recursive pass draws it: a sequence is a stack of
boxes joined by ``▼`` on one spine, a ``.sync`` or ``.split`` puts its lanes side by side between
a fork line and a join line, a ``.sequence`` or a child cadence is a framed sub-graph (a child can
collapse to one box). Layout measures every element bottom-up, then paints it top-down onto one
canvas of cells, so the work grows with the size of the drawing and large cadences stay fast.

Nothing here imports Textual: the graph widget shows ``Drawing.lines`` and uses ``Drawing.boxes``
and ``Drawing.order`` for clicks, scrolling and keyboard navigation.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, TypeAlias

from rich.cells import cell_len, get_character_cell_size
from rich.text import Span, Text

from cadence.diagram import badges

__all__ = ["MAX_LABEL_CELLS", "Box", "Drawing", "format_duration", "layout", "note_badges"]

#: Names wider than this many cells are cut with "…" (the full name stays in ``Box.label``).
MAX_LABEL_CELLS = 28

_GLYPHS = {"running": "▶", "paused": "⏸", "done": "✓", "failed": "✗", "skipped": "·", "cancelled": "⊘"}
_STYLES = {
    "running": "bold cyan",
    "paused": "bold yellow",
    "done": "green",
    "failed": "bold red",
    "skipped": "dim",
    "cancelled": "dim yellow",
}
#: Cells kept for a status ("✓ 999ms") so that a run never moves a box.
_STATUS_CELLS = 7
_LINE, _BADGE, _DETAIL, _BREAKPOINT = "bright_black", "cyan", "bright_black", "bold red"
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


@dataclass(frozen=True, slots=True)
class Box:
    """Where a node is drawn (its box, header line, frame title or lane label), with its full label."""

    x: int
    y: int
    width: int
    height: int
    label: str
    kind: str

    def contains(self, x: int, y: int) -> bool:
        """Whether cell ``(x, y)`` of the drawing is in this box."""
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height


@dataclass(frozen=True, slots=True)
class Drawing:
    """A laid-out cadence: styled lines of one cell width, each node's box, and reading order."""

    lines: list[Text]
    width: int
    height: int
    boxes: dict[str, Box]
    #: Node ids top to bottom, then left to right.
    order: list[str]

    def node_at(self, x: int, y: int) -> str | None:
        """The id of the node drawn at cell ``(x, y)``, if any."""
        return next((node_id for node_id, box in self.boxes.items() if box.contains(x, y)), None)

    @property
    def plain(self) -> str:
        """The drawing as plain text."""
        return "\n".join(line.plain for line in self.lines)


def note_badges(info: Mapping[str, Any]) -> list[str]:
    """A note's resilience decorators as badges, outermost first: ``↻3``, ``◷2s``, ``↪``, ``⚡``."""
    return badges(info, circuit_names=False)


def format_duration(seconds: float) -> str:
    """A short duration: ``0ms``, ``12ms``, ``1.5s``, ``42s``, ``3m05s``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def _clean(name: object) -> str:
    return _CONTROL.sub("?", str(name))


def _truncate(text: str) -> str:
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


def _style(style: str, extra: str) -> str:
    return f"{style} {extra}" if style and extra else style or extra


# -- canvas -------------------------------------------------------------------------------------------


class _Canvas:
    """A grid of cells; a wide character fills its cell and leaves ``""`` in the next one."""

    def __init__(self, width: int, height: int) -> None:
        self.chars = [[" "] * width for _ in range(height)]
        self.styles = [[""] * width for _ in range(height)]
        self.boxes: dict[str, Box] = {}

    def put(self, x: int, y: int, text: str, style: str) -> int:
        """Write ``text`` at ``(x, y)``; returns the column after it."""
        chars, styles = self.chars[y], self.styles[y]
        for char in text:
            size = get_character_cell_size(char)
            if size == 0:  # a combining mark joins the character before it
                chars[x - 1] += char
                continue
            chars[x], styles[x] = char, style
            if size == 2:
                chars[x + 1], styles[x + 1] = "", style
            x += size
        return x

    def put_runs(self, x: int, y: int, runs: Runs, extra: str) -> int:
        for text, style in runs:
            x = self.put(x, y, text, _style(style, extra))
        return x

    def restyle(self, x: int, y: int, extra: str) -> None:
        self.styles[y][x] = _style(self.styles[y][x], extra)

    def lines(self, left: int, right: int) -> list[Text]:
        """The rows as styled text, with ``left`` and ``right`` blank cells around them."""
        lines = []
        before, after = " " * left, " " * right
        for chars, styles in zip(self.chars, self.styles, strict=True):
            plain = "".join(chars)
            # Spans count characters: a wide character's second cell holds none, a combined one more.
            offsets: Sequence[int] = range(left, left + len(chars) + 1)
            if len(plain) != len(chars):
                offsets = list(accumulate((len(c) for c in chars), initial=left))
            spans, start, style = [], 0, styles[0] if styles else ""
            for column, cell_style in enumerate(styles):
                if cell_style != style:
                    if style:
                        spans.append(Span(offsets[start], offsets[column], style))
                    start, style = column, cell_style
            if style:
                spans.append(Span(offsets[start], offsets[len(chars)], style))
            lines.append(Text(before + plain + after, spans=spans, end="", no_wrap=True))
        return lines


# -- elements: measured when built, then painted ------------------------------------------------------


@dataclass(slots=True)
class _Context:
    statuses: Mapping[str, Mapping[str, Any]]
    collapsed: frozenset[str]
    selected: str | None
    breakpoints: frozenset[str]
    taken: Mapping[str, str]

    def status(self, node_id: str) -> str:
        return str((self.statuses.get(node_id) or {}).get("status") or "pending")

    def status_runs(self, node_id: str) -> Runs:
        """``✓ 12ms``, ``▶``... for a node's status; nothing while pending."""
        entry = self.statuses.get(node_id) or {}
        status, duration = self.status(node_id), entry.get("duration")
        if status not in _GLYPHS:
            return []
        text = _GLYPHS[status]
        if duration is not None and status != "skipped":
            text += f" {format_duration(float(duration))}"
        return [(text, _STYLES[status])]


class _Element(abc.ABC):
    """A measured piece of the graph; its spine enters at the top and leaves at the bottom at ``anchor``."""

    width: int
    height: int
    anchor: int
    #: What a stack draws on the row above this element: an arrow, a line, or nothing (it has a spine).
    connector: str | None = "▼"

    @abc.abstractmethod
    def paint(self, canvas: _Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        """Paint at ``(x, y)``; ``tail``: the spine goes on below; ``dim``: a style for everything."""


class _Node(_Element):
    """An element drawing one node: its label, status, selection and dimming."""

    def __init__(self, node_id: str, kind: str, label: str, runs: Runs, ctx: _Context, border: str) -> None:
        self.node_id, self.kind, self.label = node_id, kind, label
        self.selected = node_id == ctx.selected
        status = ctx.status(node_id)
        self.border = _style(_STYLES.get(status, border), "bold" if self.selected else "")
        self.dim = "dim" if status == "skipped" else ""
        self.status = ctx.status_runs(node_id)
        self.slot = max(_STATUS_CELLS, _width(self.status))
        self.runs = list(runs)
        if self.selected and runs:  # the name (always the first run) shows the selection
            self.runs[0] = (runs[0][0], _style(runs[0][1], "reverse"))


class _NoteBox(_Node):
    """A rounded box ``│ ● name ↻3 ◷2s │``, its status a tab in the top border: ``╭─ ✓ 12ms ──╮``."""

    def __init__(self, node_id: str, kind: str, label: str, runs: Runs, ctx: _Context) -> None:
        super().__init__(node_id, kind, label, runs, ctx, "")
        if node_id in ctx.breakpoints:
            self.runs.insert(0, ("● ", _BREAKPOINT))
        self.width = max(_width(self.runs) + 4, self.slot + 6)
        self.height, self.anchor = 3, self.width // 2

    def paint(self, canvas: _Canvas, x: int, y: int, tail: bool, dim: str) -> None:
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


class _Title(_Node):
    """The cadence's own line at the top, on the spine: ``◉ checkout``."""

    connector = None

    def __init__(self, node_id: str, name: str, ctx: _Context) -> None:
        super().__init__(node_id, "cadence", name, [(_truncate(name), "bold")], ctx, "bold")
        self.width, self.height, self.anchor = 2 + _width(self.runs) + 1 + self.slot, 1, 0

    def paint(self, canvas: _Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        end = canvas.put_runs(canvas.put(x, y, "◉ ", _style("bold", dim)), y, self.runs, dim)
        canvas.put_runs(end + 1, y, self.status, dim)
        canvas.boxes[self.node_id] = Box(x, y, end - x, 1, self.label, self.kind)


class _Skip(_Element):
    """The ``(skip)`` of an empty branch lane."""

    connector = "│"

    def __init__(self, text: str = "(skip)") -> None:
        self.text = text
        self.width, self.height, self.anchor = cell_len(text), 1, cell_len(text) // 2

    def paint(self, canvas: _Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        canvas.put(x, y, self.text, _style("dim italic", dim))


class _Stack(_Element):
    """Elements one below the other on one spine, each entered by its connector (``lead``: the first too)."""

    def __init__(self, items: Sequence[_Element], *, lead: bool = False) -> None:
        self.items, self.lead = items, lead
        self.connector = None if lead else items[0].connector
        self.anchor = max(item.anchor for item in items)
        self.width = self.anchor + max(item.width - item.anchor for item in items)
        self.height = sum(item.height + (1 if item.connector else 0) for item in items)
        if not lead and items[0].connector:
            self.height -= 1

    def paint(self, canvas: _Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        spine, last = x + self.anchor, len(self.items) - 1
        for n, item in enumerate(self.items):
            if item.connector and (n or self.lead):
                canvas.put(spine, y, item.connector, _style(_LINE, dim))
                y += 1
            item.paint(canvas, spine - item.anchor, y, tail or n < last, dim)
            y += item.height


class _Frame(_Node):
    """A framed sub-graph, its title in the top border: a child cadence (solid) or a sequence (dashed)."""

    connector = "│"

    def __init__(
        self, node_id: str, kind: str, label: str, title: Runs, inner: _Stack, ctx: _Context
    ) -> None:
        super().__init__(node_id, kind, label, title, ctx, _LINE)
        self.inner = inner
        # "╭─ title ─┼─ ✓ 12ms ─╮": the spine crosses the top border between the title and the status;
        # pad the inner graph when the title is wider than the room left of the spine.
        self.pad = max(0, _width(self.runs) + 5 - inner.anchor - 2)
        self.anchor = 2 + self.pad + inner.anchor
        self.width = max(4 + 2 * self.pad + inner.width, self.anchor + self.slot + 6)
        self.height = inner.height + 3

    def paint(self, canvas: _Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        dim = _style(dim, self.dim)
        border, line, spine = _style(self.border, dim), _style(_LINE, dim), x + self.anchor
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
class _Lane:
    """One lane of a ``.sync`` or ``.split``, with its label (``true``/``false``) and node id if any."""

    content: _Element
    label: Runs
    node_id: str | None = None
    dim: str = ""
    x: int = 0
    spine: int = 0


class _Lanes(_Node):
    """A ``.sync`` or ``.split``: a header beside the spine, a fork line, lanes side by side, a join line."""

    connector = None

    def __init__(
        self, node_id: str, kind: str, label: str, header: Runs, lanes: list[_Lane], ctx: _Context
    ) -> None:
        super().__init__(node_id, kind, label, header, ctx, _LINE)
        self.lanes = lanes
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

    def paint(self, canvas: _Canvas, x: int, y: int, tail: bool, dim: str) -> None:
        dim = _style(dim, self.dim)
        line, spine, join = _style(_LINE, dim), x + self.anchor, y + self.height - 1
        end = canvas.put_runs(canvas.put(spine, y, "│ ", line), y, self.runs, dim)
        canvas.put_runs(end + 1, y, self.status, dim)
        canvas.boxes[self.node_id] = Box(spine + 2, y, end - spine - 2, 1, self.label, self.kind)
        spines = [x + lane.spine for lane in self.lanes]
        self._junctions(canvas, y + 1, {spine}, set(spines), line)
        self._junctions(canvas, join, set(spines), {spine} if tail else set(), line)
        for lane, lane_spine in zip(self.lanes, spines, strict=True):
            lane_dim = _style(dim, lane.dim)
            lane_line, row = _style(_LINE, lane_dim), y + 2
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
    def _junctions(canvas: _Canvas, row: int, ups: set[int], downs: set[int], style: str) -> None:
        """A fork or join line: ``ups`` and ``downs`` are the columns where lines leave it upwards or down."""
        first, last = min(ups | downs), max(ups | downs)
        chars = ["─"] * (last - first + 1)
        for column in ups | downs:
            key = (column in ups, column in downs, column > first, column < last)
            chars[column - first] = _JUNCTIONS.get(key, "─")
        canvas.put(first, row, "".join(chars), style)


# -- from describe() to elements ----------------------------------------------------------------------


def _count_notes(node: Mapping[str, Any]) -> int:
    count, stack = 0, [node]
    while stack:
        current = stack.pop()
        count += current.get("kind") == "note"
        stack.extend(current.get("children") or ())
    return count


def _build(node: Mapping[str, Any], ctx: _Context) -> _Element:
    kind, node_id, name = str(node.get("kind")), str(node["id"]), _clean(node.get("name", ""))
    children: Sequence[Mapping[str, Any]] = node.get("children") or ()
    if kind == "note":
        badges = [(f" {badge}", _BADGE) for badge in note_badges(node.get("note") or {})]
        return _NoteBox(node_id, kind, name, [(_truncate(name), "bold"), *badges], ctx)
    if node_id in ctx.collapsed:
        count = _count_notes(node)
        detail = f" ({count} note{'' if count == 1 else 's'})"
        return _NoteBox(node_id, kind, name, [(f"▸ {_truncate(name)}", "bold"), (detail, _DETAIL)], ctx)
    if kind == "sync":
        header = [(f"∥ {_truncate(name)}", "bold"), (f"  sync · {node.get('merge_strategy')}", _DETAIL)]
        lanes = [_Lane(_build(child, ctx), []) for child in children] or [_Lane(_Skip("(empty)"), [])]
        return _Lanes(node_id, kind, name, header, lanes, ctx)
    if kind == "split":
        condition = _truncate(_clean((node.get("condition") or {}).get("name", "?")))
        header = [(f"◇ {condition}", "bold magenta"), (f"  {_truncate(name)}", _DETAIL)]
        header += [("  ∥ parallel", _DETAIL)] if node.get("parallel") else []
        taken = ctx.taken.get(node_id)
        taken = str(taken).lower() if isinstance(taken, bool) else taken
        lanes = [_branch(branch, taken, ctx) for branch in children] or [_Lane(_Skip(), [])]
        return _Lanes(node_id, kind, name, header, lanes, ctx)
    inner = _Stack([_build(child, ctx) for child in children] or [_Skip("(empty)")], lead=True)
    if kind == "child":
        cadence = _clean(node.get("cadence", name))
        detail = "  child" if cadence == name else f"  child · {_truncate(cadence)}"
        return _Frame(node_id, kind, name, [(f"▾ {_truncate(name)}", "bold"), (detail, _DETAIL)], inner, ctx)
    return _Frame(node_id, kind, name, [(_truncate(name), "bold"), ("  sequence", _DETAIL)], inner, ctx)


def _branch(branch: Mapping[str, Any], taken: str | None, ctx: _Context) -> _Lane:
    """A split's lane: its notes (or ``(skip)``), highlighted when taken, dimmed when the other one was."""
    branch_id, name = str(branch["id"]), _clean(branch.get("name", ""))
    notes = [_build(child, ctx) for child in branch.get("children") or ()]
    style = "bold green" if taken == name else "italic"
    if branch_id == ctx.selected:
        style = _style(style, "reverse")
    dim = "dim" if (taken is not None and taken != name) or ctx.status(branch_id) == "skipped" else ""
    return _Lane(_Stack(notes) if notes else _Skip(), [(name, style)], branch_id, dim)


def layout(
    tree: Mapping[str, Any],
    *,
    statuses: Mapping[str, Mapping[str, Any]] | None = None,
    collapsed: Iterable[str] = frozenset(),
    selected: str | None = None,
    breakpoints: Iterable[str] = frozenset(),
    taken: Mapping[str, str] | None = None,
    width: int | None = None,
) -> Drawing:
    """Lay out a ``Cadence.describe()`` tree (or one measure of it) as a box-drawing graph.

    Args:
        tree: the described cadence.
        statuses: node id -> ``{"status": "done", "duration": 0.012}``; a missing node is pending.
        collapsed: ids of measures drawn as one box, ``▸ name (N notes)``.
        selected: the node drawn with a heavy border and its name reversed.
        breakpoints: ids of notes marked with a red ``●``.
        taken: split id -> ``"true"`` or ``"false"``: that lane is highlighted and the other dimmed.
        width: the columns available: a narrower drawing is centred in them, a wider one stays wider.
    """
    ctx = _Context(statuses or {}, frozenset(collapsed), selected, frozenset(breakpoints), taken or {})
    if tree.get("kind") == "cadence":
        items: list[_Element] = [_Title(str(tree["id"]), _clean(tree.get("name", "")), ctx)]
        root: _Element = _Stack(items + [_build(child, ctx) for child in tree.get("children") or ()])
    else:
        root = _build(tree, ctx)
    canvas = _Canvas(root.width, root.height)
    root.paint(canvas, 0, 0, False, "")
    spare = max(0, (width or 0) - root.width)
    left = spare // 2
    boxes = {
        node_id: Box(box.x + left, box.y, box.width, box.height, box.label, box.kind)
        for node_id, box in canvas.boxes.items()
    }
    order = sorted(boxes, key=lambda node_id: (boxes[node_id].y, boxes[node_id].x))
    return Drawing(canvas.lines(left, spare - left), root.width + spare, root.height, boxes, order)
