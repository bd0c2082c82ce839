"""The grid of cells a cadence's graph is painted on (see :mod:`cadence_studio.ui.layout`).

A drawing is first *placed*: every element is walked as if painted, so that each node knows where it
is and has its box, but no cell is written. Its rows are then painted when first read: ``fill`` paints
the part of the drawing that covers a row (a 10,000-note cadence has some 40,000 rows and a screen
shows about 40). Rows are made when first written or read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from sys import intern
from typing import Protocol

from rich.cells import cell_len, get_character_cell_size
from rich.text import Span, Text

__all__ = ["Box", "Canvas", "style_with"]


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


def style_with(style: str, extra: str) -> str:
    return f"{style} {extra}" if style and extra else style or extra


class Repaintable(Protocol):
    """A node of the drawing (see :class:`cadence_studio.ui.layout_elements.Node`)."""

    number: int

    @property
    def rows(self) -> range: ...

    def repaint(self, canvas: Canvas) -> range: ...


class Canvas:
    """A grid of cells; a wide character fills its cell and leaves ``""`` in the next one. A restyled
    node is painted again when a row of it is read (thousands change between two redraws of a fast
    run, the screen shows a few)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self._chars: list[list[str] | None] = [None] * height
        self._styles: list[list[str]] = [[]] * height  # a row's styles, once its characters exist
        self.boxes: dict[str, Box] = {}
        self.painted = 0  # nodes painted so far: a node's number orders it after the nodes around it
        #: While placing, nothing is written: ``put`` only says where the text would end.
        self.placing = False
        #: Paints what covers a row on this canvas, before the row is first read (None: everything is
        #: painted). It takes the canvas as an argument: holding it would make a reference cycle.
        self.fill: Callable[[Canvas, int], None] | None = None
        self._stale: dict[int, list[Repaintable]] = {}  # row -> nodes to paint again before it is read

    def __len__(self) -> int:
        return self.height

    def paint_later(self, node: Repaintable) -> range:
        """Paint ``node`` again where it was, once one of its rows is read; returns its rows."""
        rows = node.rows
        if all(self._chars[row] is None for row in rows):
            return rows  # never painted yet: the first paint of its rows shows its new looks
        for row in rows:
            self._stale.setdefault(row, []).append(node)
        return rows

    def _settle(self, row: int) -> None:
        """Paint again the nodes waiting on ``row``, outer ones first (a frame paints what it holds)."""
        for node in sorted({id(n): n for n in self._stale.pop(row, ())}.values(), key=lambda n: n.number):
            for other in node.repaint(self):
                if pending := self._stale.get(other):
                    pending[:] = [n for n in pending if n is not node]

    @property
    def chars(self) -> list[list[str]]:
        """Every row's characters (the rows not made yet are made, blank)."""
        return [self._row(y)[0] for y in range(self.height)]

    def _row(self, y: int) -> tuple[list[str], list[str]]:
        chars = self._chars[y]
        if chars is None:
            chars = self._chars[y] = [" "] * self.width
            self._styles[y] = [""] * self.width
        return chars, self._styles[y]

    def put(self, x: int, y: int, text: str, style: str) -> int:
        """Write ``text`` at ``(x, y)``; returns the column after it."""
        if self.placing:
            return x + cell_len(text)
        chars, styles = self._row(y)
        for char in text:
            size = get_character_cell_size(char)
            if size == 0:  # a combining mark joins the character before it
                chars[x - 1] += char
                continue
            # one str object per distinct character: a box-drawing character is a new object each
            # time otherwise (76 bytes a cell, some 17 MB for the borders of 10,000 notes)
            chars[x], styles[x] = intern(char), style
            if size == 2:
                chars[x + 1], styles[x + 1] = "", style
            x += size
        return x

    def put_runs(self, x: int, y: int, runs: Sequence[tuple[str, str]], extra: str) -> int:
        for text, style in runs:
            x = self.put(x, y, text, style_with(style, extra))
        return x

    def restyle(self, x: int, y: int, extra: str) -> None:
        if self.placing:
            return
        _, styles = self._row(y)
        styles[x] = style_with(styles[x], extra)

    def clear(self, x: int, y: int, width: int, height: int) -> None:
        """Blank a rectangle."""
        if self.placing:
            return
        for row in range(y, y + height):
            chars, styles = self._row(row)
            chars[x : x + width] = [" "] * width
            styles[x : x + width] = [""] * width

    def line(self, row: int, left: int, right: int) -> Text:
        """One row as styled text, with ``left`` and ``right`` blank cells around it."""
        if self.fill is not None:
            self.fill(self, row)
        if self._stale:
            self._settle(row)
        chars, styles = self._row(row)
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
        return Text(" " * left + plain + " " * right, spans=spans, end="", no_wrap=True)

    def lines(self, left: int, right: int) -> list[Text]:
        """The rows as styled text, with ``left`` and ``right`` blank cells around them."""
        return [self.line(row, left, right) for row in range(self.height)]
