"""A ``.sync`` group side by side: what each task changed, the merged result, the conflicts."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ..session import MergeView

__all__ = ["MergePanel"]


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _field_of(tree: Any, name: str) -> Any:
    for key, child in (tree or {}).get("c") or []:
        if key == name:
            return child.get("r")
    return None


class MergePanel(Static):
    """Renders a :class:`MergeView` (or says how to get one)."""

    def show(self, group: str | None, merge: MergeView | None) -> None:
        self.update(self.render_merge(group, merge))

    @staticmethod
    def render_merge(group: str | None, merge: MergeView | None) -> RenderableType:
        if group is None or merge is None:
            return Text(
                "Select a .sync group (or one of its notes) after it ran to see each copy and the merge.",
                style="dim",
            )
        table = Table(title=f"⇉ {group}  ·  {merge.strategy}", expand=True, show_lines=False)
        table.add_column("field", style="bold")
        for task in merge.tasks or [f"task {i}" for i in range(len(merge.changes))]:
            table.add_column(task)
        table.add_column("merged", style="bold")
        fields: list[str] = []
        for changed in merge.changes:
            fields.extend(f for f in changed if f not in fields)
        for name in fields:
            conflict = name in merge.conflicts
            cells = [
                Text(_short(changed[name]), style="red" if conflict else "green")
                if name in changed
                else Text("·", style="dim")
                for changed in merge.changes
            ]
            merged = _field_of(merge.merged, name)
            merged_cell = Text("refused", style="bold red") if merge.error else Text(_short(merged or ""))
            table.add_row(Text(name, style="red" if conflict else ""), *cells, merged_cell)
        if not fields:
            table.add_row(Text("(no task changed anything)", style="dim"), *["" for _ in merge.changes], "")
        parts: list[RenderableType] = [table]
        if merge.conflicts:
            parts.append(Text(f"conflicting fields: {', '.join(merge.conflicts)}", style="bold red"))
        if merge.error:
            parts.append(Text(f"{merge.error.get('type')}: {merge.error.get('message')}", style="red"))
        return Group(*parts)
