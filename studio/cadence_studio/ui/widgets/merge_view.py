"""A ``.sync`` group: what each task changed, the merged result, and where tasks disagreed."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widgets import Static

from ...protocol.session import MergeView

__all__ = ["MergePanel"]


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _field_of(tree: Any, name: str) -> Any:
    for key, child in (tree or {}).get("c") or []:
        if key == name:
            return child.get("r")
    return None


class MergePanel(Static):
    """Renders a :class:`MergeView` field by field (fits a narrow pane), or says how to get one."""

    group: str | None = None

    def show(self, group: str | None, merge: MergeView | None) -> None:
        self.group = group if merge is not None else None
        self.update(self.render_merge(group, merge))

    @staticmethod
    def render_merge(group: str | None, merge: MergeView | None) -> RenderableType:
        if group is None or merge is None:
            return Text(
                "Select a .sync group (or one of its notes) after it ran to see each copy and the merge.",
                style="dim",
            )
        labels = {task: task.rsplit("/", 1)[-1] for task in merge.tasks}
        parts: list[RenderableType] = [
            Text.assemble(("⇉ ", "magenta"), (group, "bold"), (f"  merge: {merge.strategy}", "dim")),
            Text(f"{len(labels)} copies: {', '.join(labels.values())}", style="dim"),
            Text(""),
        ]
        fields: list[str] = []
        for task in merge.tasks:
            fields.extend(f for f in merge.changes.get(task, {}) if f not in fields)
        if not fields:
            parts.append(Text("no task changed anything", style="dim"))
        for name in fields:
            several = name in merge.conflicts
            note = ("  written by several tasks", "yellow") if several else ("", "")
            parts.append(Text.assemble((name, "bold red" if several and merge.error else "bold"), note))
            for task, label in labels.items():
                changed = merge.changes.get(task, {})
                if name in changed:
                    line = Text.assemble(("  ", ""), (f"{label}: ", "cyan"), _short(changed[name]))
                    line.no_wrap, line.overflow = True, "ellipsis"
                    parts.append(line)
            if not merge.error:
                merged = Text.assemble(("  = ", "green"), _short(_field_of(merge.merged, name) or ""))
                merged.no_wrap, merged.overflow = True, "ellipsis"
                parts.append(merged)
        if merge.error:
            parts += [
                Text(""),
                Text(
                    f"merge refused — {merge.error.get('type')}: {merge.error.get('message')}",
                    style="bold red",
                ),
            ]
        return Group(*parts)
