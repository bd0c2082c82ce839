"""Graphviz DOT text of a cadence."""

from __future__ import annotations

import re

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

__all__ = ["to_dot"]

_DOT_RANKDIRS = ("TB", "LR", "BT", "RL")
_DOT_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_FONT = "Helvetica,Arial,sans-serif"
_DOT_SHAPES = {
    "start": 'shape=oval, style="filled,bold"',
    "end": 'shape=oval, style="filled", peripheries=2',
    "note": 'shape=box, style="rounded,filled"',
    "fork": 'shape=hexagon, style="filled"',
    "join": 'shape=point, width=0.12, style="filled", fillcolor="#374151"',
    "decision": 'shape=diamond, style="filled"',
}


def _dot_text(text: str) -> str:
    """A quoted DOT string; '&' too, because Graphviz decodes HTML entities in plain labels."""
    text = clean(text).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
    return '"' + text.replace("\n", "\\n") + '"'


def to_dot(
    c: CadenceLike, *, rankdir: str = "TB", statuses: Statuses | None = None, **graph_attrs: object
) -> str:
    """A Graphviz ``digraph`` of the cadence; sync, split, child and sequence measures are clusters.

    Args:
        statuses: a run's state by node id, as for :func:`to_mermaid`.
        graph_attrs: extra graph attributes, e.g. ``bgcolor="transparent"``.

    Raises:
        ValueError: ``rankdir`` is unknown or an attribute name is not a plain identifier.
    """
    check_choice("rankdir", rankdir, _DOT_RANKDIRS)
    for key in graph_attrs:
        if not _DOT_ID.fullmatch(key):
            msg = f"graph attribute name {key!r} is not a DOT identifier; use letters, digits and '_'"
            raise ValueError(msg)
    root, graph_edges = Builder(statuses).build(described(c))
    attrs = {"rankdir": rankdir, "label": root.title, "labelloc": "t", "fontname": _FONT}
    attrs.update({key: str(value) for key, value in graph_attrs.items()})
    lines = ["digraph cadence {"]
    lines += [f"  {key}={_dot_text(value)};" for key, value in attrs.items()]
    lines.append(f'  node [fontname="{_FONT}", fontsize=11, fillcolor="white"];')
    lines.append(f'  edge [fontname="{_FONT}", fontsize=10];')

    def emit(cluster: DiagramCluster, indent: str) -> None:
        for item in cluster.items:
            if isinstance(item, DiagramNode):
                extra = f", tooltip={_dot_text(item.tooltip)}" if item.tooltip else ""
                if item.status:
                    fill, stroke = STATUS_COLOURS[item.status]
                    extra += f', fillcolor="{fill}", color="{stroke}"'
                    extra += ", penwidth=2" if item.status in ("running", "failed") else ""
                label = _dot_text(item.label) if item.shape != "join" else '""'
                lines.append(f"{indent}{item.id} [label={label}, {_DOT_SHAPES[item.shape]}{extra}];")
            else:
                fill, stroke = STATUS_COLOURS.get(item.status or "", ("", "#9ca3af"))
                style = '"rounded,filled"' if fill else '"rounded,dashed"'
                lines.append(f"{indent}subgraph cluster_{item.id} {{")
                lines.append(f"{indent}  label={_dot_text(item.title)}; labeljust=l; fontsize=11;")
                lines.append(f'{indent}  style={style}; color="{stroke}"; fillcolor="{fill or "white"}";')
                emit(item, indent + "  ")
                lines.append(f"{indent}}}")

    emit(root, "  ")
    for source, target, label in graph_edges:
        lines.append(f"  {source} -> {target}" + (f" [label={_dot_text(label)}];" if label else ";"))
    lines.append("}")
    return "\n".join(lines) + "\n"
