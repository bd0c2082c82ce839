"""The score as an expandable tree, with fields changed, added or removed by a step marked.

Big values arrive truncated; on the live score (the paused one, or a finished run's result) the
"… N more" rows load the rest from the worker, a page at a time.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ..values import diff_trees, join_path

__all__ = ["Row", "ScoreTree"]

MARKS = {"changed": ("~", "yellow"), "added": ("+", "green"), "removed": ("-", "red")}
_AUTO_EXPAND_CHILDREN = 8  # top-level containers this small open by themselves; changed ones always do


@dataclasses.dataclass(frozen=True)
class Row:
    """What a tree row stands for: a value at ``path``, or the rows after ``more`` not loaded yet."""

    path: tuple[str, ...]
    more: int | None = None


class ScoreTree(Tree[Row]):
    """Shows a value tree (see :mod:`cadence_studio.values`) and its differences from ``before``."""

    class MoreRequested(Message):
        """The user asked for the rest of a truncated value of the live score."""

        def __init__(self, path: list[str], offset: int) -> None:
            super().__init__()
            self.path = path
            self.offset = offset

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("score", id=id)
        self.show_root = True
        self.guide_depth = 3
        self.live = False
        self._shown: tuple[Any, Any, str, bool] | None = None

    def show(self, value: Any, before: Any = None, *, title: str = "score", live: bool = False) -> None:
        """Replace the tree with ``value``; mark what differs from ``before``."""
        last = self._shown
        if last is not None and last[0] is value and last[1] is before and last[2:] == (title, live):
            return  # the same trees again: keep the rows (and what the user opened)
        self._shown = (value, before, title, live)
        self.clear()
        self.live = live
        marks = diff_trees(before, value) if before is not None and value is not None else {}
        if value is None:
            self.root.set_label(Text(f"{title}: (nothing yet)", style="dim"))
            return
        self.root.set_label(_label(title, value, marks.get("")))
        self.root.data = Row(())
        self._fill(self.root, value, [], marks, before, depth=0)
        self.root.expand()

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
                branch = node.add(label, data=Row(tuple(child_keys)), expand=opened)
                self._fill(branch, child, child_keys, marks, _child(before, key), depth + 1)
            elif child.get("deep") and self.live:
                node.add_leaf(
                    label.append("  (enter: load)", style="dim italic"), data=Row(tuple(child_keys), 0)
                )
            else:
                node.add_leaf(label, data=Row(tuple(child_keys)))
        for key, gone in _children(before) or []:
            child_keys = [*path, str(key)]
            if key not in seen and marks.get(join_path(child_keys)) == "removed":
                node.add_leaf(_label(str(key), gone, "removed"), data=Row(tuple(child_keys)))
        more = value.get("more")
        if more:
            shown = offset + len(children)
            if self.live:
                hint = Text(f"… {more} more — enter to load", style="italic cyan")
                node.add_leaf(hint, data=Row(tuple(path), shown))
            else:
                node.add_leaf(Text(f"… {more} more (select the live score to load them)", style="dim italic"))

    def on_tree_node_selected(self, event: Tree.NodeSelected[Row]) -> None:
        row = event.node.data
        if self.live and row is not None and row.more is not None:
            event.stop()
            self.post_message(self.MoreRequested(list(row.path), row.more))

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
