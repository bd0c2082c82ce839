"""The graph model every diagram is drawn from: a described cadence as nested clusters and edges.

DiagramNode ids are generated (``n0``, ``n1``, ...) and never derived from names; the helpers here clean
and join the labels both text formats share.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias

from .._labels import badges, format_duration, run_marks

__all__ = [
    "STATUS_COLOURS",
    "Builder",
    "CadenceLike",
    "Describable",
    "DiagramCluster",
    "DiagramEdge",
    "DiagramNode",
    "MeasureShape",
    "Statuses",
    "badge_text",
    "check_choice",
    "clean",
    "described",
    "measure_name",
]


class Describable(Protocol):
    def describe(self) -> dict[str, Any]: ...


CadenceLike: TypeAlias = Describable | Mapping[str, Any]
Statuses: TypeAlias = Mapping[str, Mapping[str, Any]]

# status -> (fill, border); light fills keep black labels readable.
STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "pending": ("#f3f4f6", "#9ca3af"),
    "running": ("#dbeafe", "#2563eb"),
    "paused": ("#fef3c7", "#d97706"),
    "done": ("#dcfce7", "#16a34a"),
    "failed": ("#fee2e2", "#dc2626"),
    "skipped": ("#f9fafb", "#d1d5db"),
}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# -- graph model -------------------------------------------------------------------------------------


class MeasureShape(enum.StrEnum):
    """What a :class:`DiagramNode` stands for (a ``str``: ``MeasureShape.NOTE == "note"``)."""

    START = "start"  #: the cadence's entry (labelled with its name)
    END = "end"  #: the cadence's exit
    NOTE = "note"  #: one note
    FORK = "fork"  #: a ``.sync`` measure starts its tasks
    JOIN = "join"  #: the branches of a ``.sync`` or ``.split`` meet again
    DECISION = "decision"  #: a ``.split`` evaluates its condition


@dataclass(slots=True)
class DiagramNode:
    """One drawn node: ``id`` (generated, ``n0``...), its ``label`` (may hold newlines), ``shape``,
    the run ``status`` it was given (or None) and a ``tooltip`` (where the note's code lives)."""

    id: str
    label: str
    shape: MeasureShape
    status: str | None = None
    tooltip: str | None = None


@dataclass(slots=True)
class DiagramCluster:
    """A boxed group: the whole cadence (id ``root``), a ``.sync``, ``.split``, ``.sequence`` or
    ``.child`` measure; ``items`` are its nodes and nested clusters in drawing order."""

    id: str
    title: str
    status: str | None = None
    items: list[DiagramNode | DiagramCluster] = field(default_factory=list)

    def nodes(self) -> list[DiagramNode]:
        """Every node in this cluster and the clusters inside it, in drawing order."""
        out: list[DiagramNode] = []
        for item in self.items:
            out.extend([item] if isinstance(item, DiagramNode) else item.nodes())
        return out


DiagramEdge: TypeAlias = tuple[str, str, str | None]  # (source id, target id, label)
# Edges still waiting for their target: (source node id, edge label).
_Pending: TypeAlias = list[tuple[str, str | None]]


class Builder:
    """Turns a described cadence into nested clusters and edges, chaining measures by pending edges."""

    def __init__(self, statuses: Statuses | None) -> None:
        self._statuses = statuses or {}
        self._count = 0
        self._edges: list[DiagramEdge] = []

    def build(self, desc: Mapping[str, Any]) -> tuple[DiagramCluster, list[DiagramEdge]]:
        """The root cluster (titled with the cadence and its score type) and every edge."""
        score = f" ({desc['score_type']})" if desc.get("score_type") else ""
        root = DiagramCluster("root", f"{measure_name(desc)}{score}")
        status, extra = self._status(desc)
        start = self._node(root, f"▶ {measure_name(desc)}{extra}", "start", status)
        pending = self._chain(desc.get("children") or [], [(start.id, None)], root)
        self._connect(pending, self._node(root, "end", "end"))
        return root, self._edges

    def _status(self, measure: Mapping[str, Any]) -> tuple[str | None, str]:
        """The measure's known status (or None) and a run line: ``"\\n12 ms ↻2 ↪"`` (or "")."""
        info = self._statuses.get(str(measure.get("id")))
        if not isinstance(info, Mapping):
            return None, ""
        status, duration = info.get("status"), info.get("duration")
        known = status if isinstance(status, str) and status in STATUS_COLOURS else None
        shown = run_marks(info)
        if isinstance(duration, int | float) and not isinstance(duration, bool) and duration >= 0:
            shown.insert(0, format_duration(duration))
        return known, f"\n{' '.join(shown)}" if shown else ""

    def _node(self, parent: DiagramCluster, label: str, shape: str, status: str | None = None) -> DiagramNode:
        node = DiagramNode(f"n{self._count}", label, MeasureShape(shape), status)
        self._count += 1
        parent.items.append(node)
        return node

    def _cluster(self, parent: DiagramCluster, title: str, status: str | None = None) -> DiagramCluster:
        cluster = DiagramCluster(f"s{self._count}", title, status)
        self._count += 1
        parent.items.append(cluster)
        return cluster

    def _connect(self, pending: _Pending, node: DiagramNode) -> _Pending:
        self._edges.extend((source, node.id, label) for source, label in pending)
        return [(node.id, None)]

    def _chain(
        self, measures: list[Mapping[str, Any]], pending: _Pending, parent: DiagramCluster
    ) -> _Pending:
        for measure in measures:
            pending = self._measure(measure, pending, parent)
        return pending

    def _measure(self, measure: Mapping[str, Any], pending: _Pending, parent: DiagramCluster) -> _Pending:
        kind, name = measure.get("kind"), measure_name(measure)
        children: list[Mapping[str, Any]] = measure.get("children") or []
        status, extra = self._status(measure)
        if kind == "note":
            info: Mapping[str, Any] = measure.get("note") or {}
            node = self._node(parent, _join(name, badge_text(info)) + extra, "note", status)
            node.tooltip = _tooltip(info)
            return self._connect(pending, node)
        if kind == "sync":
            cluster = self._cluster(parent, f"{name} · sync")
            strategy = measure.get("merge_strategy")
            label = _join(f"⇉ {name}", f"merge: {strategy}" if strategy else "") + extra
            fork = self._node(cluster, label, "fork", status)
            self._connect(pending, fork)
            ends = [edge for task in children for edge in self._measure(task, [(fork.id, None)], cluster)]
            return self._connect(ends or [(fork.id, None)], self._node(cluster, "", "join"))
        if kind == "split":
            cluster = self._cluster(parent, f"{name} · split")
            condition = (measure.get("condition") or {}).get("name") or "condition"
            parallel = "\n∥ parallel" if measure.get("parallel") else ""
            decision = self._node(cluster, f"{name}\n{condition}?{parallel}{extra}", "decision", status)
            self._connect(pending, decision)
            ends = []
            for branch in children:
                label = "true" if branch.get("value", branch.get("name") == "true") else "false"
                ends += self._chain(branch.get("children") or [], [(decision.id, label)], cluster)
            return self._connect(ends or [(decision.id, None)], self._node(cluster, "", "join"))
        if kind == "child":
            merge = (measure.get("merge") or {}).get("name")
            title = f"{name} ⟶ {measure.get('cadence', '?')}" + (f" · merge: {merge}" if merge else "")
        else:  # sequence, and any future container kind: its children in order, in a labelled cluster.
            title = f"{name} · {kind}"
        cluster = self._cluster(parent, title + extra.replace("\n", " · "), status)
        if not children:  # an empty cluster would vanish (DOT) or float unconnected (Mermaid)
            return self._connect(pending, self._node(cluster, "(empty)", "note"))
        return self._chain(children, pending, cluster)


def check_choice(what: str, value: str, accepted: tuple[str, ...]) -> None:
    if value not in accepted:
        msg = f"unknown {what} {value!r}; use one of {', '.join(accepted)}"
        raise ValueError(msg)


def described(c: CadenceLike) -> Mapping[str, Any]:
    if isinstance(c, Mapping):
        return c
    return c.describe()


def measure_name(measure: Mapping[str, Any]) -> str:
    return str(measure.get("name", "?"))


def _join(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


def badge_text(info: Mapping[str, Any]) -> str:
    return " ".join(badges(info))


def _tooltip(info: Mapping[str, Any]) -> str | None:
    where = ".".join(str(part) for part in (info.get("module"), info.get("qualname")) if part)
    return _join(where, str(info.get("description") or "")) or None


def clean(text: str) -> str:
    """Normalise newlines and drop control characters and lone surrogates that break both tools."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = text.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", text)
