"""Mermaid ``flowchart`` text of a cadence."""

from __future__ import annotations

from .model import (
    STATUS_COLOURS,
    Builder,
    CadenceLike,
    DiagramCluster,
    DiagramNode,
    Statuses,
    check_choice,
    clean,
    described,
)

__all__ = ["to_mermaid"]

_MERMAID_DIRECTIONS = ("TD", "TB", "BT", "LR", "RL")
_MERMAID_THEMES = ("default", "neutral", "dark", "forest", "base")

# Mermaid reads '#name;' as an entity, splits on '"', treats '<', '>' and '&' as HTML, '\n' as a line
# break and '%%{' as a directive: each of those characters becomes a numeric entity ('#35;').
_MERMAID_ESCAPES = {char: f"#{ord(char)};" for char in '#"<>&;%`\\'}
_MERMAID_SHAPES = {
    "start": '(["{}"])',
    "end": '(["{}"])',
    "note": '["{}"]',
    "fork": '{{{{"{}"}}}}',
    "join": '(("{}"))',
    "decision": '{{"{}"}}',
}


def _mermaid_text(text: str) -> str:
    escaped = "".join(_MERMAID_ESCAPES.get(char, char) for char in clean(text))
    return escaped.replace("\n", "<br/>") or " "


def to_mermaid(
    c: CadenceLike, *, direction: str = "TD", theme: str | None = None, statuses: Statuses | None = None
) -> str:
    """A Mermaid ``flowchart`` of the cadence, children expanded as subgraphs.

    Args:
        statuses: a run's state by node id, ``{"status": "done", "duration": 0.012, "attempts": 2,
            "fallback": True}`` (every key optional): nodes are coloured by status and get a run
            line, ``12 ms ↻2 ↪`` (the duration, then :func:`run_marks`).

    Raises:
        ValueError: ``direction`` or ``theme`` is not one Mermaid knows.
    """
    check_choice("direction", direction, _MERMAID_DIRECTIONS)
    if theme is not None:
        check_choice("Mermaid theme", theme, _MERMAID_THEMES)
    root, graph_edges = Builder(statuses).build(described(c))
    lines = [f"%%{{init: {{'theme': '{theme}'}}}}%%"] if theme else []
    lines.append(f"flowchart {direction}")
    styling: list[str] = []  # class and style lines go last, after every node exists
    used: set[str] = set()

    def emit(cluster: DiagramCluster, indent: str) -> None:
        for item in cluster.items:
            if isinstance(item, DiagramNode):
                lines.append(
                    f"{indent}{item.id}{_MERMAID_SHAPES[item.shape].format(_mermaid_text(item.label))}"
                )
                if item.status:
                    styling.append(f"class {item.id} {item.status}")
                    used.add(item.status)
            else:
                lines.append(f'{indent}subgraph {item.id}["{_mermaid_text(item.title)}"]')
                emit(item, indent + "  ")
                lines.append(f"{indent}end")
                if item.status:
                    fill, stroke = STATUS_COLOURS[item.status]
                    styling.append(f"style {item.id} fill:{fill},stroke:{stroke},color:#111827")

    emit(root, "  ")
    for source, target, label in graph_edges:
        lines.append(f"  {source} -->|{label}| {target}" if label else f"  {source} --> {target}")
    for status, (fill, stroke) in STATUS_COLOURS.items():
        if status in used:
            dashed = ",stroke-dasharray:4 3" if status == "skipped" else ""
            lines.append(f"  classDef {status} fill:{fill},stroke:{stroke},color:#111827{dashed}")
    lines.extend(f"  {line}" for line in styling)
    return "\n".join(lines) + "\n"
