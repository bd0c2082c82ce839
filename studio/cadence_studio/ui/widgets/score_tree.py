"""The score as an expandable tree, with fields changed, added or removed by a step marked.

Big values arrive truncated; on the live score (the paused one, or a finished run's result) the
"… N more" rows load the rest from the worker, a page at a time.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import Reactive
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ...protocol.value_trees import diff_trees, join_path

__all__ = ["Row", "ScoreTree"]

MARKS = {"changed": ("~", "yellow"), "added": ("+", "green"), "removed": ("-", "red")}
_AUTO_EXPAND_CHILDREN = 8  # top-level containers this small open by themselves; changed ones always do


@dataclasses.dataclass(frozen=True)
class Row:
    """What a tree row stands for: a value at ``path``, or the rows after ``more`` not loaded yet."""

    path: tuple[str, ...]
    more: int | None = None


class ScoreTree(Tree[Row]):
    """Shows a value tree (see :mod:`cadence_studio.worker.values`) and its differences from ``before``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "provenance", "Provenance", tooltip="Which notes wrote the field under the cursor"),
    ]

    class ProvenanceAsked(Message):
        """The user asked which notes wrote the field at ``path`` (keys from the score down)."""

        def __init__(self, path: tuple[str, ...]) -> None:
            super().__init__()
            self.path = path

    class MoreRequested(Message):
        """The user asked for the rest of a truncated value of the live score."""

        def __init__(self, path: list[str], offset: int) -> None:
            super().__init__()
            self.path = path
            self.offset = offset

    #: Its rows' size changes its scrollbars only (its own size is set by the screen): a step that
    #: makes a label wider must not lay the whole screen out again (issue 18: step latency).
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("score", id=id)
        self.show_root = True
        self.guide_depth = 3
        self.live = False
        self._shown: tuple[Any, Any, str, bool] | None = None

    def show(self, value: Any, before: Any = None, *, title: str = "score", live: bool = False) -> None:
        """Show ``value``; mark what differs from ``before``.

        When the rows stand for the same paths as those shown (a step changed values, not the shape),
        only the labels that changed are repainted: no rows are added or removed, so the screen is
        not laid out again.
        """
        last = self._shown
        if last is not None and last[0] is value and last[1] is before and last[2:] == (title, live):
            return  # the same trees again: keep the rows (and what the user opened)
        self._shown = (value, before, title, live)
        self.live = live
        if value is None:
            if self.root.children:
                self.clear()
            self._relabel(self.root, Text(f"{title}: (nothing yet)", style="dim"))
            return
        marks = diff_trees(before, value) if before is not None else {}
        rows = self._plan(value, [], marks, before, depth=0)
        label = _label(title, value, marks.get(""))
        if self.root.data == Row(()) and self.root.is_expanded and _same_shape(self.root, rows):
            widths = self._relabel(self.root, label)
            widths |= self._patch(self.root, rows)
            if widths:  # a label changed width: measure the rows again (a layout only if the widest did)
                self._clear_line_cache()
                _ = self._tree_lines
            return
        self.clear()
        self.root.set_label(label)
        self.root.data = Row(())
        self._add(self.root, rows)
        self.root.expand()

    def _plan(
        self,
        value: dict[str, Any],
        path: list[str],
        marks: dict[str, str],
        before: Any,
        depth: int,
        *,
        offset: int = 0,
    ) -> list[_Plan]:
        """The rows under ``value``, opened as they should be."""
        rows: list[_Plan] = []
        children = value.get("c") or []
        seen = set()
        for key, child in children:
            child_keys = [*path, str(key)]
            mark = marks.get(join_path(child_keys))
            seen.add(key)
            label = _label(str(key), child, mark)
            if child.get("c"):
                opened = mark is not None or (
                    depth < 1 and len(child.get("c") or []) <= _AUTO_EXPAND_CHILDREN
                )
                inner = self._plan(child, child_keys, marks, _child(before, key), depth + 1)
                rows.append(_Plan(label, Row(tuple(child_keys)), inner, opened))
            elif child.get("deep") and self.live:
                label.append("  (enter: load)", style="dim italic")
                rows.append(_Plan(label, Row(tuple(child_keys), 0)))
            else:
                rows.append(_Plan(label, Row(tuple(child_keys))))
        for key, gone in _children(before) or []:
            child_keys = [*path, str(key)]
            if key not in seen and marks.get(join_path(child_keys)) == "removed":
                rows.append(_Plan(_label(str(key), gone, "removed"), Row(tuple(child_keys))))
        more = value.get("more")
        if more:
            shown = offset + len(children)
            if self.live:
                hint = Text(f"… {more} more — enter to load", style="italic cyan")
                rows.append(_Plan(hint, Row(tuple(path), shown)))
            else:
                rows.append(
                    _Plan(Text(f"… {more} more (select the live score to load them)", style="dim italic"))
                )
        return rows

    def _add(self, node: TreeNode[Row], rows: list[_Plan]) -> None:
        for row in rows:
            if row.children is None:
                node.add_leaf(row.label, data=row.data)
            else:
                self._add(node.add(row.label, data=row.data, expand=row.opened), row.children)

    def _patch(self, node: TreeNode[Row], rows: list[_Plan]) -> bool:
        """Give rows of the same shape their new labels and opening; True if a label changed width."""
        widths = False
        for child, row in zip(node.children, rows, strict=True):
            widths |= self._relabel(child, row.label)
            if row.children is not None:
                if row.opened and not child.is_expanded:
                    child.expand()
                elif child.is_expanded and not row.opened:
                    child.collapse()
                widths |= self._patch(child, row.children)
        return widths

    def _relabel(self, node: TreeNode[Row], label: Text) -> bool:
        """Set a label if it changed, repainting its row now; True if its width changed."""
        old = node.label
        if old == label:
            return False
        node.set_label(label)
        line = node.line
        if line >= 0:  # a shown row: repaint it with this batch, not after it
            self.refresh(Region(0, line - self.scroll_offset.y, self.size.width, 1))
        return cell_len(str(old)) != cell_len(str(node.label))

    def _fill(
        self,
        node: TreeNode[Row],
        value: dict[str, Any],
        path: list[str],
        marks: dict[str, str],
        before: Any,
        depth: int,
        *,
        offset: int = 0,
    ) -> None:
        self._add(node, self._plan(value, path, marks, before, depth, offset=offset))

    def action_provenance(self) -> None:
        node = self.cursor_node
        row = node.data if node is not None else None
        self.post_message(self.ProvenanceAsked(row.path if row is not None else ()))

    def on_tree_node_selected(self, event: Tree.NodeSelected[Row]) -> None:
        row = event.node.data
        if self.live and row is not None and row.more is not None:
            event.stop()
            self.post_message(self.MoreRequested(list(row.path), row.more))

    def reveal(self, path: tuple[str, ...]) -> None:
        """Put the cursor on the row of ``path`` (or its nearest shown parent) and scroll it into view."""
        node = self.root
        for depth in range(1, len(path) + 1):
            child = next(
                (c for c in node.children if c.data is not None and c.data.path == path[:depth]), None
            )
            if child is None:
                break
            node = child
        if node is not self.root:
            self.move_cursor(node, animate=False)

    def add_more(self, path: list[str], offset: int, tree: dict[str, Any]) -> None:
        """Put the loaded part where its "more" row (or its unloaded value) was."""
        target = self._find(self.root, Row(tuple(path), offset))
        if target is None:
            return
        parent = target.parent
        if target.data is not None and target.data.path == tuple(path) and offset == 0 and parent is not None:
            # a value cut by depth: becomes a branch with its children
            branch = parent.add(
                _label(path[-1] if path else "score", tree, None), data=Row(tuple(path)), before=target
            )
            target.remove()
            self._fill(branch, tree, list(path), {}, None, depth=2)
            branch.expand()
            return
        if parent is None:
            return
        target.remove()
        self._fill(parent, tree, list(path), {}, None, depth=2, offset=offset)

    def _find(self, node: TreeNode[Row], row: Row) -> TreeNode[Row] | None:
        if node.data == row:
            return node
        for child in node.children:
            found = self._find(child, row)
            if found is not None:
                return found
        return None


@dataclasses.dataclass
class _Plan:
    """A row to show: its label and data; a branch has ``children`` (maybe none) and opens if ``opened``."""

    label: Text
    data: Row | None = None
    children: list[_Plan] | None = None
    opened: bool = False


def _same_shape(node: TreeNode[Row], rows: list[_Plan]) -> bool:
    """Whether ``node``'s rows stand for the same paths, branches and leaves as ``rows``."""
    children = node.children
    if len(children) != len(rows):
        return False
    for child, row in zip(children, rows, strict=True):
        if child.data != row.data or child.allow_expand != (row.children is not None):
            return False
        if row.children is not None and not _same_shape(child, row.children):
            return False
    return True


def _children(tree: Any) -> list[Any] | None:
    return tree.get("c") if isinstance(tree, dict) else None


def _child(tree: Any, key: str) -> Any:
    for k, v in _children(tree) or []:
        if k == key:
            return v
    return None


def _label(key: str, value: dict[str, Any], mark: str | None) -> Text:
    sign, style = MARKS.get(mark or "", (" ", ""))
    text = Text()
    text.append(f"{sign} ", style=f"bold {style}" if style else "dim")
    text.append(key, style=f"bold {style}" if style else "bold")
    kind = value.get("k")
    if value.get("c") is not None and kind != "scalar":
        count = value.get("n", len(value["c"]))
        text.append(f"  {value.get('t', '')} ({count})", style="dim")
    else:
        text.append(" = ", style="dim")
        text.append(str(value.get("r", "")), style="strike red" if mark == "removed" else "")
    return text
