"""What the selected node is: where it is defined, its decorators, and what happened to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widgets import Static

from cadence.diagram import format_duration, run_marks

from ...protocol.session import NodeState

__all__ = ["NoteDetails", "find_node"]


def find_node(tree: dict[str, Any] | None, node_id: str | None) -> dict[str, Any] | None:
    """The describe() node with ``node_id``."""
    if tree is None or node_id is None:
        return None
    stack = [tree]
    while stack:
        node = stack.pop()
        if node.get("id") == node_id:
            return node
        stack.extend(node.get("children", []))
    return None


def _badge(policy: dict[str, Any]) -> str:
    kind = policy.get("kind")
    if kind == "retry":
        attempts, delay, backoff = policy.get("max_attempts"), policy.get("delay"), policy.get("backoff")
        return f"@retry({attempts}, delay={delay}, backoff={backoff!r})"
    if kind == "timeout":
        return f"@timeout({policy.get('seconds')})"
    if kind == "fallback":
        field = policy.get("field")
        return f"@fallback({policy.get('default')}{', field=' + repr(field) if field else ''})"
    if kind == "circuit_breaker":
        return (
            f"@circuit_breaker({policy.get('name')!r}, failure_threshold={policy.get('failure_threshold')})"
        )
    return f"@{kind}"


def _shown_path(file: str) -> str:
    """A source path relative to the folder the studio runs in, when it is inside it."""
    path = Path(file)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return file


class NoteDetails(Static):
    """Renders one node's definition and run state."""

    def show(
        self, node: dict[str, Any] | None, state: NodeState | None, branch: tuple[Any, str] | None
    ) -> None:
        self.update(self.render_node(node, state, branch))

    @staticmethod
    def render_node(
        node: dict[str, Any] | None, state: NodeState | None, branch: tuple[Any, str] | None
    ) -> RenderableType:
        if node is None:
            return Text("Select a note in the graph.", style="dim")
        parts: list[RenderableType] = []
        title = Text()
        title.append(f"{node['name']}", style="bold")
        title.append(f"  {node['kind']}  {node['id']}", style="dim")
        parts.append(title)
        info = node.get("note") or node.get("condition") or node.get("merge")
        if info:
            where = f"{_shown_path(info['file'])}:{info.get('line')}" if info.get("file") else "(no source)"
            parts.append(
                Text(
                    f"{info.get('module')}.{info.get('qualname')}  "
                    f"{'async' if info.get('is_async') else 'sync'}"
                )
            )
            parts.append(Text(where, style="cyan"))
            for policy in info.get("resilience", []):
                parts.append(Text(_badge(policy), style="magenta"))
            if info.get("description"):
                parts.append(Text(info["description"], style="italic"))
        if node["kind"] == "sync":
            parts.append(Text(f"merge strategy: {node.get('merge_strategy')}"))
        if node["kind"] == "child":
            parts.append(Text(f"child cadence: {node.get('cadence')}"))
        if branch is not None:
            parts.append(Text(f"condition value: {branch[0]!r} → took {branch[1]}", style="cyan"))
        if state is not None:
            took = f" in {format_duration(state.duration)}" if state.duration is not None else ""
            marks = "".join(f"  {mark}" for mark in run_marks(state.as_status()))
            parts.append(Text(f"status: {state.status}{took}{marks}", style="bold"))
            if state.skip_reason is not None:
                parts.append(Text(f"skipped: {state.skip_reason or '(no reason given)'}", style="yellow"))
            for attempt in state.attempts:
                parts.append(Text(f"↻ {attempt}", style="yellow"))
            for note in state.notes:
                parts.append(Text(f"! {note}", style="yellow"))
            if state.error:
                parts.append(
                    Text(f"{state.error.get('type')}: {state.error.get('message')}", style="bold red")
                )
                trace = state.error.get("traceback")
                if trace:
                    from rich.syntax import Syntax  # loaded when a traceback is shown

                    parts.append(Syntax(trace, "pytb", theme="ansi_dark", word_wrap=True))
        return Group(*parts)
