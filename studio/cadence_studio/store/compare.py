"""Two recorded runs side by side: per note, in graph order, each run's status, time and the fields it wrote.

Both runs are replayed from the run history (:meth:`History.replay`), so what is compared is what the
studio showed live: the nodes' states and, from :mod:`~cadence_studio.protocol.field_writes`, the score
fields each note (or a ``.sync`` group's merge, or a ``.child``) changed. A note that ran in one run only
says why not in the other: the other ``.split`` branch was taken, the run ended before it, or the note
is not in that run's cadence (the code changed between the runs).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from ..protocol.field_writes import FieldWrite
from ..protocol.session import NodeState, RunRecord
from .history import History, RunSummary

__all__ = ["NOT_IN_CADENCE", "NOT_RUN", "OTHER_BRANCH", "NoteRow", "RunComparison", "Side", "compare_runs"]

#: Why a node has no state in a run.
NOT_RUN = "not run"
OTHER_BRANCH = "other branch"
NOT_IN_CADENCE = "not in its cadence"
#: The nodes compared (a sequence or a branch lane only holds notes; the cadence is the run's summary).
_KINDS = frozenset({"note", "sync", "split", "child"})
#: A duration is marked as different when one run took at least this many times the other's, and
#: at least ``_SLOWER_BY`` seconds more: a busy machine stretches a note of microseconds to a few
#: milliseconds, which is no difference in the note.
_SLOWER = 2.0
_SLOWER_BY = 0.05


@dataclasses.dataclass(frozen=True)
class Side:
    """One node in one run: how it ended (or why it did not run) and the fields it wrote, old → new."""

    status: str
    duration: float | None = None
    attempts: int = 1
    fell_back: bool = False
    notes: tuple[str, ...] = ()  # timeouts, fallbacks, circuit changes, as the studio words them
    writes: dict[str, FieldWrite] = dataclasses.field(default_factory=dict)
    ran: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "ran": self.ran,
            "duration": self.duration,
            "attempts": self.attempts,
            "fell_back": self.fell_back,
            "notes": list(self.notes),
            "writes": {name: {"old": w.old, "new": w.new, "how": w.how} for name, w in self.writes.items()},
        }


@dataclasses.dataclass(frozen=True)
class NoteRow:
    """One node of either run's graph: its side in each, and what differs ("status", "writes",
    "duration", "resilience")."""

    node_id: str
    kind: str
    depth: int
    a: Side
    b: Side
    differs: tuple[str, ...]

    def field_differs(self, name: str) -> bool:
        """Whether the two runs wrote ``name`` differently (or only one of them wrote it)."""
        mine, theirs = self.a.writes.get(name), self.b.writes.get(name)
        if mine is None or theirs is None:
            return True
        return (mine.old, mine.new) != (theirs.old, theirs.new)

    def as_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "kind": self.kind,
            "depth": self.depth,
            "same": not self.differs,
            "differs": list(self.differs),
            "a": self.a.as_dict(),
            "b": self.b.as_dict(),
        }


@dataclasses.dataclass(frozen=True)
class RunComparison:
    """Runs ``a`` and ``b`` (summaries as the history lists them) and a row per node, in graph order."""

    a: RunSummary
    b: RunSummary
    rows: list[NoteRow]

    @property
    def differences(self) -> int:
        return sum(1 for row in self.rows if row.differs)

    def as_dict(self) -> dict[str, Any]:
        def run(summary: RunSummary) -> dict[str, Any]:
            keep = ("id", "entry", "status", "duration", "started", "error", "parent", "relation")
            return {name: getattr(summary, name) for name in keep}

        return {
            "a": run(self.a),
            "b": run(self.b),
            "differences": self.differences,
            "notes": [row.as_dict() for row in self.rows],
        }


def compare_runs(history: History, a: int, b: int) -> RunComparison:
    """Runs ``a`` and ``b`` of ``history``, side by side.

    Raises:
        HistoryError: either run is not in the history or cannot be read (the message names which).
    """
    summary_a, summary_b = history.get(a), history.get(b)
    return RunComparison(summary_a, summary_b, compare_records(history.replay(a), history.replay(b)))


def compare_records(a: RunRecord, b: RunRecord) -> list[NoteRow]:
    """A row per note (and group, split and child) of either run's graph: ``a``'s graph order, with
    the nodes only ``b``'s graph has after their predecessor in it."""
    nodes_a, nodes_b = dict(_nodes(a.graph)), dict(_nodes(b.graph))
    order = list(nodes_a)
    for index, node in enumerate(nodes_b):
        if node not in nodes_a:
            before = list(nodes_b)[:index]
            where = max((order.index(n) for n in before if n in order), default=-1)
            order.insert(where + 1, node)
    rows = []
    for node in order:
        kind, depth = nodes_a.get(node) or nodes_b[node]
        side_a, side_b = _side(a, node, node in nodes_a), _side(b, node, node in nodes_b)
        rows.append(NoteRow(node, kind, depth, side_a, side_b, _differences(side_a, side_b)))
    return rows


def _nodes(graph: dict[str, Any] | None, depth: int = 0) -> Iterator[tuple[str, tuple[str, int]]]:
    """(node id, (kind, depth)) of the compared nodes of a graph, depth first."""
    if not graph:
        return
    kind = str(graph.get("kind", ""))
    if kind in _KINDS:
        yield str(graph.get("id", "")), (kind, depth)
    for child in graph.get("children") or ():
        yield from _nodes(child, depth + (kind in _KINDS or kind == "branch"))


def _side(run: RunRecord, node: str, in_graph: bool) -> Side:
    if not in_graph:
        return Side(NOT_IN_CADENCE, ran=False)
    state: NodeState | None = run.nodes.get(node)
    if state is None or state.status == "pending":
        skipped = any(
            run.nodes.get(node[:i], NodeState()).status == "skipped"
            for i in range(len(node))
            if node[i] == "/"
        )
        return Side(OTHER_BRANCH if skipped else NOT_RUN, ran=False)
    return Side(
        status=state.status,
        duration=state.duration,
        attempts=len(state.attempts) + 1,
        fell_back=state.fell_back,
        notes=tuple(state.notes),
        writes=run.writes.written_by(node),
    )


def _differences(a: Side, b: Side) -> tuple[str, ...]:
    out = []
    if a.status != b.status:
        out.append("status")
    if {n: (w.old, w.new) for n, w in a.writes.items()} != {n: (w.old, w.new) for n, w in b.writes.items()}:
        out.append("writes")
    if a.duration is not None and b.duration is not None:
        low, high = sorted((a.duration, b.duration))
        if high - low >= _SLOWER_BY and high >= _SLOWER * low:
            out.append("duration")
    if (a.attempts, a.fell_back) != (b.attempts, b.fell_back):
        out.append("resilience")
    return tuple(out)
