"""The score as an expandable tree, with fields changed, added or removed by a step marked."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ..values import diff_trees, join_path

__all__ = ["ScoreTree"]

MARKS = {"changed": ("~", "yellow"), "added": ("+", "green"), "removed": ("-", "red")}
_AUTO_EXPAND_CHILDREN = 8  # top-level containers this small open by themselves; changed ones always do


class ScoreTree(Tree[str]):
    """Shows a value tree (see :mod:`cadence_studio.values`) and its differences from ``before``."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("score", id=id)
        self.show_root = True
        self.guide_depth = 3

    def show(self, value: Any, before: Any = None, *, title: str = "score") -> None:
        """Replace the tree with ``value``; mark what differs from ``before``."""
        self.clear()
        marks = diff_trees(before, value) if before is not None and value is not None else {}
        if value is None:
            self.root.set_label(Text(f"{title}: (nothing yet)", style="dim"))
            return
        self.root.set_label(_label(title, value, marks.get("")))
        self._fill(self.root, value, [], marks, before, depth=0)
        self.root.expand()

    def _fill(
        self,
        node: TreeNode[str],
        value: dict[str, Any],
        path: list[str],
        marks: dict[str, str],
        before: Any,
        depth: int,
    ) -> None:
        children = value.get("c") or []
        seen = set()
        for key, child in children:
            child_keys = [*path, str(key)]
            child_path = join_path(child_keys)
            seen.add(key)
            mark = marks.get(child_path)
            label = _label(str(key), child, mark)
            if child.get("c"):
                branch = node.add(label, data=child_path)
                self._fill(branch, child, child_keys, marks, _child(before, key), depth + 1)
                if mark is not None or (depth < 1 and len(child.get("c") or []) <= _AUTO_EXPAND_CHILDREN):
                    branch.expand()
            else:
                node.add_leaf(label, data=child_path)
        for key, gone in _children(before) or []:
            if key in seen:
                continue
            child_path = join_path([*path, str(key)])
            if marks.get(child_path) == "removed":
                node.add_leaf(_label(str(key), gone, "removed"), data=child_path)
        more = value.get("more")
        if more:
            node.add_leaf(Text(f"… {more} more not shown", style="dim italic"))


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
