"""Lay a cadence out as a box-drawing graph for the terminal, from ``Cadence.describe()`` alone.

A cadence is a series-parallel graph, so one recursive pass draws it: a sequence is a stack of
boxes joined by ``▼`` on one spine, a ``.sync`` or ``.split`` puts its lanes side by side between
a fork line and a join line, a ``.sequence`` or a child cadence is a framed sub-graph (a child can
collapse to one box). Layout measures every element bottom-up, then paints it top-down onto one
canvas of cells, so the work grows with the size of the drawing and large cadences stay fast.
While a run goes on, only the nodes whose state changed are painted again (``layout(previous=...)``),
so a step costs the same on a cadence of 30 notes and on one of 10,000. The elements and their canvas
are in :mod:`cadence_studio.ui.layout_elements`.

Nothing here imports Textual: the graph widget shows ``Drawing.lines`` and uses ``Drawing.boxes``
and ``Drawing.order`` for clicks, scrolling and keyboard navigation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.cells import cell_len
from rich.text import Text

from cadence.diagram import badges, format_duration

from .layout_elements import (
    LINE,
    MAX_LABEL_CELLS,
    Box,
    Canvas,
    Context,
    Element,
    Frame,
    Lane,
    Lanes,
    Node,
    NoteBox,
    Skip,
    Stack,
    Title,
    clean,
    truncate,
)

__all__ = ["MAX_LABEL_CELLS", "Box", "Drawing", "Lines", "format_duration", "layout", "note_badges"]

_BADGE, _DETAIL = "cyan", LINE


@dataclass(slots=True, eq=False)
class _Scene:
    """What a drawing was painted from, so that the next one can restyle its nodes in place."""

    tree: Mapping[str, Any]
    width: int | None
    ctx: Context
    canvas: Canvas
    left: int
    right: int
    spent: bool = False  # a newer drawing took the canvas over


_layouts = itertools.count()


class Lines(Sequence[Text]):
    """A drawing's rows as styled text, each built from the canvas when first asked for.

    A 10,000-note cadence has some 40,000 rows and a screen shows about 40: building them all took
    most of the first screen's time. Rows are built once and kept; a restyled drawing shares the rows
    that did not change. :meth:`same_row` tells whether two drawings' row is the same without building
    it (the canvas is shared and painted over, so only versions can say what a row was).
    """

    __slots__ = ("_built", "_canvas", "_layout", "_left", "_right", "_versions")

    def __init__(self, canvas: Canvas, left: int, right: int) -> None:
        self._canvas, self._left, self._right = canvas, left, right
        self._layout = next(_layouts)
        self._versions: dict[int, int] = {}  # row -> times it was painted again (absent: never)
        self._built: dict[int, Text] = {}

    def repainted(self, rows: Iterable[int]) -> Lines:
        """These lines after ``rows`` were painted again on the (shared) canvas."""
        rows = set(rows)
        other = Lines.__new__(Lines)
        other._canvas, other._left, other._right, other._layout = (
            self._canvas,
            self._left,
            self._right,
            self._layout,
        )
        other._versions = dict(self._versions)
        for row in rows:
            other._versions[row] = other._versions.get(row, 0) + 1
        other._built = {row: text for row, text in self._built.items() if row not in rows}
        return other

    def same_row(self, other: Lines, row: int) -> bool:
        """Whether ``row`` is the same here as in ``other`` (nothing painted over it in between)."""
        return other._layout == self._layout and other._versions.get(row) == self._versions.get(row)

    def __len__(self) -> int:
        return len(self._canvas)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        text = self._built.get(index)
        if text is None:
            text = self._built[index] = self._canvas.line(index, self._left, self._right)
        return text

    def __iter__(self) -> Iterator[Text]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:  # as a list of the rows compares
        if isinstance(other, Lines | list):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Drawing:
    """A laid-out cadence: styled lines of one cell width, each node's box, and reading order."""

    lines: Lines
    width: int
    height: int
    boxes: dict[str, Box]
    #: Node ids top to bottom, then left to right.
    order: list[str]
    _scene: _Scene | None = field(default=None, repr=False, compare=False)

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


def _mark_cells(info: Mapping[str, Any]) -> int:
    """Cells a run's marks may take in a note's status (`` ↻3 ↪``), kept so that they move no box."""
    cells = 0
    for policy in info.get("resilience") or ():
        if policy.get("kind") == "retry":
            cells += cell_len(f" ↻{policy.get('max_attempts', '')}")
        elif policy.get("kind") == "fallback":
            cells += cell_len(" ↪")
    return cells


# -- from describe() to elements ----------------------------------------------------------------------


def _count_notes(node: Mapping[str, Any]) -> int:
    count, stack = 0, [node]
    while stack:
        current = stack.pop()
        count += current.get("kind") == "note"
        stack.extend(current.get("children") or ())
    return count


def _build(node: Mapping[str, Any], ctx: Context) -> Element:
    kind, node_id, name = str(node.get("kind")), str(node["id"]), clean(node.get("name", ""))
    children: Sequence[Mapping[str, Any]] = node.get("children") or ()
    if kind == "note":
        info = node.get("note") or {}
        marks = [(f" {badge}", _BADGE) for badge in note_badges(info)]
        return NoteBox(node_id, kind, name, [(truncate(name), "bold"), *marks], ctx, _mark_cells(info))
    if node_id in ctx.collapsed:
        count = _count_notes(node)
        detail = f" ({count} note{'' if count == 1 else 's'})"
        return NoteBox(node_id, kind, name, [(f"▸ {truncate(name)}", "bold"), (detail, _DETAIL)], ctx)
    if kind == "sync":
        header = [(f"∥ {truncate(name)}", "bold"), (f"  sync · {node.get('merge_strategy')}", _DETAIL)]
        lanes = [Lane(_build(child, ctx)) for child in children] or [Lane(Skip("(empty)"))]
        return Lanes(node_id, kind, name, header, lanes, ctx)
    if kind == "split":
        condition = truncate(clean((node.get("condition") or {}).get("name", "?")))
        header = [(f"◇ {condition}", "bold magenta"), (f"  {truncate(name)}", _DETAIL)]
        header += [("  ∥ parallel", _DETAIL)] if node.get("parallel") else []
        lanes = [_branch(branch, ctx) for branch in children] or [Lane(Skip())]
        return Lanes(node_id, kind, name, header, lanes, ctx)
    inner = Stack([_build(child, ctx) for child in children] or [Skip("(empty)")], lead=True)
    if kind == "child":
        cadence = clean(node.get("cadence", name))
        detail = "  child" if cadence == name else f"  child · {truncate(cadence)}"
        return Frame(node_id, kind, name, [(f"▾ {truncate(name)}", "bold"), (detail, _DETAIL)], inner, ctx)
    return Frame(node_id, kind, name, [(truncate(name), "bold"), ("  sequence", _DETAIL)], inner, ctx)


def _branch(branch: Mapping[str, Any], ctx: Context) -> Lane:
    """A split's lane: its notes, or ``(skip)``; the split styles its label (see :meth:`Lane.restyle`)."""
    notes = [_build(child, ctx) for child in branch.get("children") or ()]
    return Lane(Stack(notes) if notes else Skip(), clean(branch.get("name", "")), str(branch["id"]))


def layout(
    tree: Mapping[str, Any],
    *,
    statuses: Mapping[str, Mapping[str, Any]] | None = None,
    collapsed: Iterable[str] = frozenset(),
    selected: str | None = None,
    breakpoints: Iterable[str] = frozenset(),
    taken: Mapping[str, str] | None = None,
    width: int | None = None,
    previous: Drawing | None = None,
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
        previous: the drawing this one replaces. When it was laid out from the same ``tree`` object
            with the same collapsed measures and breakpoints, only the nodes whose status, selection
            or taken lane changed are painted again, and every other line is the same ``Text`` object
            as in ``previous`` (compare with ``is`` to find what changed); another ``width`` only
            centres it again. ``previous`` is then used up: passing it again lays everything out afresh.
    """
    ctx = Context(
        dict(statuses or {}), frozenset(collapsed), selected, frozenset(breakpoints), dict(taken or {})
    )
    if previous is not None:
        restyled = _restyle(previous, tree, ctx, width)
        if restyled is not None:
            return restyled
        ctx.elements = {}
    if tree.get("kind") == "cadence":
        items: list[Element] = [Title(str(tree["id"]), clean(tree.get("name", "")), ctx)]
        root: Element = Stack(items + [_build(child, ctx) for child in tree.get("children") or ()])
    else:
        root = _build(tree, ctx)
    # Placed at once (every box is known), painted as its rows are read (see Canvas).
    canvas = Canvas(root.width, root.height)
    canvas.placing = True
    root.paint(canvas, 0, 0, False, "")
    canvas.placing = False
    canvas.fill = root.filler() if isinstance(root, Stack) else _paint_once(root)
    left, right, boxes = _centred(canvas, width)
    order = sorted(boxes, key=lambda node_id: (boxes[node_id].y, boxes[node_id].x))
    scene = _Scene(tree, width, ctx, canvas, left, right)
    return Drawing(Lines(canvas, left, right), root.width + left + right, root.height, boxes, order, scene)


def _centred(canvas: Canvas, width: int | None) -> tuple[int, int, dict[str, Box]]:
    """The blank columns left and right of a drawing centred in ``width``, and its boxes there."""
    spare = max(0, (width or 0) - canvas.width)
    left = spare // 2
    boxes = {
        node_id: Box(box.x + left, box.y, box.width, box.height, box.label, box.kind)
        for node_id, box in canvas.boxes.items()
    }
    return left, spare - left, boxes


def _paint_once(root: Element) -> Callable[[Canvas, int], None]:
    """What paints ``root`` whole when any of its rows is first read."""

    def fill(canvas: Canvas, row: int) -> None:
        canvas.fill = None
        root.paint(canvas, 0, 0, False, "")

    return fill


def _changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> set[str]:
    """The keys whose values differ; a value that is the same object is not compared (a run's
    statuses keep one object per unchanged node: 10,000 of them are checked in about a millisecond)."""
    out = {n for n, value in new.items() if value is not old.get(n, _MISSING) and value != old.get(n)}
    if len(old) != len(new) or out:
        out |= old.keys() - new.keys()
    return out


_MISSING = object()


def _restyle(previous: Drawing, tree: Mapping[str, Any], ctx: Context, width: int | None) -> Drawing | None:
    """``previous`` with the nodes whose looks changed painted again; None when it must be laid out."""
    scene = previous._scene
    if scene is None or scene.spent or scene.tree is not tree:
        return None
    old = scene.ctx
    if old.collapsed != ctx.collapsed or old.breakpoints != ctx.breakpoints:
        return None
    scene.spent = True  # from here on its canvas and nodes belong to the new drawing (or to nobody)
    changed = _changed(old.statuses, ctx.statuses)
    changed |= {n for n in old.taken.keys() | ctx.taken.keys() if old.taken.get(n) != ctx.taken.get(n)}
    if old.selected != ctx.selected:
        changed |= {n for n in (old.selected, ctx.selected) if n is not None}
    ctx.elements = old.elements
    nodes: dict[int, Node] = {}
    for node_id in changed:
        node = ctx.elements.get(node_id)  # nodes inside a collapsed measure are not drawn
        if node is not None:
            if not node.restyle(ctx):
                return None  # a status too wide for its slot: the boxes move
            nodes[id(node)] = node
    lines, boxes, left, right = previous.lines, previous.boxes, scene.left, scene.right
    inner = previous.width - left - right  # the drawing's own width, without the centring margins
    if width != scene.width:
        # Another width only centres the drawing anew (the graph's scrollbar came or went, the
        # terminal was resized): the same canvas, its rows and boxes shifted, nothing laid out again.
        spare = max(0, (width or 0) - inner)
        left, right = spare // 2, spare - spare // 2
        if left != scene.left or right != scene.right:
            shift = left - scene.left
            boxes = {
                node_id: Box(box.x + shift, box.y, box.width, box.height, box.label, box.kind)
                for node_id, box in boxes.items()
            }
            lines = Lines(scene.canvas, left, right)
    if nodes:
        rows: set[int] = set()
        for node in nodes.values():  # painted when the rows are read: most are off screen
            rows.update(scene.canvas.paint_later(node))
        lines = lines.repainted(rows)
    canvas = scene.canvas
    if width == scene.width:
        fresh = _Scene(tree, width, ctx, canvas, scene.left, scene.right)
        return Drawing(lines, previous.width, previous.height, previous.boxes, previous.order, fresh)
    # Another width centres the same drawing elsewhere: its rows are made again, nothing is laid out
    # (the graph's first layout may come before its pane has its width).
    left, right, boxes = _centred(canvas, width)
    fresh = _Scene(tree, width, ctx, canvas, left, right)
    lines = Lines(canvas, left, right)
    return Drawing(lines, canvas.width + left + right, previous.height, boxes, previous.order, fresh)
